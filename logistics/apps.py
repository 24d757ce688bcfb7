from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LogisticsConfig(AppConfig):
    name = "logistics"
    verbose_name = _("Logistics")

    def ready(self):
        from orders import closing, panels, timeline

        from . import checks
        from . import panels as app_panels
        from . import review as review_pack  # noqa: F401  (adds its review pack sections)
        from . import timeline as events

        timeline.register_all(events.EVENTS)
        closing.register(checks.closing_checks, position=20, conditions=checks.CONDITIONS)
        panels.register("staff_order:work", app_panels.work_link, position=10)
        panels.register("public_status:facts", app_panels.public_estimate, position=10)
        panels.register("public_status", app_panels.public_parcels, position=10)
