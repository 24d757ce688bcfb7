from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = _("Orders")

    def ready(self):
        from django.db.backends.signals import connection_created

        from . import closing, db_dates, timeline  # noqa: F401  (timeline registers orders' wordings)

        closing.register(closing.orders_checks, position=40, conditions=[closing.CHANGE_REQUESTS])

        # Absurd dates already stored are read as the nearest showable ones (see db_dates).
        connection_created.connect(db_dates.install, dispatch_uid="orders.db_dates")
