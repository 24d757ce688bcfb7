from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WarehouseConfig(AppConfig):
    name = "warehouse"
    verbose_name = _("Warehouse")

    def ready(self):
        from orders import closing, panels, timeline

        from . import (
            checks,
            receivers,  # noqa: F401  (connects the signal receivers)
        )
        from . import panels as app_panels
        from . import review as review_pack  # noqa: F401  (adds its review pack sections)
        from . import timeline as events

        timeline.register_all(events.EVENTS)
        closing.register(checks.closing_checks, position=30)
        panels.register("staff_order:work", app_panels.work_link, position=20)
