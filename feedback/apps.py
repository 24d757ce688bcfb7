from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FeedbackConfig(AppConfig):
    name = "feedback"
    verbose_name = _("Feedback")

    def ready(self):
        from orders import closing, panels, timeline
        from orders.roles import Role

        from . import checks, receivers  # noqa: F401  (receivers connect on import)
        from . import panels as app_panels
        from . import review as review_pack  # noqa: F401  (adds its review pack sections)
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
        panels.register("staff_order", app_panels.staff_survey, position=30)
        for slot, role in (
            ("sales_dashboard", Role.SALES),
            ("warehouse_dashboard", Role.WAREHOUSE),
            ("logistics_dashboard", Role.LOGISTICS),
        ):
            panels.register(slot, app_panels.survey_follow_ups_for(role), position=20)
        panels.register("manager_overview", app_panels.escalated_survey_follow_ups, position=30)
