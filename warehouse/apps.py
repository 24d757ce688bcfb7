from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WarehouseConfig(AppConfig):
    name = "warehouse"
    verbose_name = _("Warehouse")

    def ready(self):
        from orders import panels, timeline

        from . import panels as app_panels
        from . import receivers  # noqa: F401  (connects the signal receivers)
        from . import timeline as events

        timeline.register_all(events.EVENTS)
        panels.register("staff_order:work", app_panels.work_link, position=20)
