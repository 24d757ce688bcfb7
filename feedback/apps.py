from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FeedbackConfig(AppConfig):
    name = "feedback"
    verbose_name = _("Feedback")

    def ready(self):
        from orders import closing, panels, timeline

        from . import checks, receivers  # noqa: F401  (receivers connect on import)
        from . import panels as app_panels
        from . import timeline as events

        timeline.register_all(events.EVENTS)
        closing.register(checks.closing_checks, position=10, conditions=checks.CONDITIONS)
        panels.register("staff_order", app_panels.staff_receipt, position=20)
        panels.register("public_status", app_panels.public_receipt, position=20)
        panels.register("public_status", app_panels.public_returns, position=25)
        panels.register("staff_order", app_panels.staff_returns, position=25)
        panels.register("sales_dashboard", app_panels.sales_returns, position=10)
        panels.register("warehouse_dashboard", app_panels.warehouse_returns, position=10)
        panels.register("logistics_dashboard", app_panels.logistics_pickups, position=10)
