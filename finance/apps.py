from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FinanceConfig(AppConfig):
    name = "finance"
    verbose_name = _("Finance")

    def ready(self):
        from orders import closing, panels, timeline

        from . import panels as app_panels
        from . import (
            receivers,  # noqa: F401  (connects the signal receivers)
            selectors,
        )
        from . import review as review_pack  # noqa: F401  (adds its review pack sections)
        from . import timeline as events

        timeline.register_all(events.EVENTS)
        closing.register(selectors.closing_checks, position=50, conditions=selectors.CONDITIONS)
        closing.register_gate(selectors.ready_to_close)
        panels.register("staff_order", app_panels.staff_closing, position=30)
        panels.register("staff_order:work", app_panels.work_link, position=40)
        panels.register("staff_order:waiting", app_panels.waiting_on, position=10)
        panels.register("manager_overview", app_panels.escalated_requests, position=10)
