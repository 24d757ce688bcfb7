from decimal import Decimal

import pytest

from orders import services as order_services
from orders.models import DeliveryWindow, Status
from orders.roles import Role
from tests.factories import (
    DELIVERY,
    ProductFactory,
    carrier,
    place,
    promise_date,
    through_warehouse,
)


@pytest.fixture
def ready(users):
    """ready(lines=..., packages=2, delivery=..., window=...) -> a reviewed order
    waiting for Logistics, with the test carrier in place."""

    def build(lines=None, packages=1, delivery=DELIVERY, window=DeliveryWindow.ANY):
        carrier()
        order = place(
            lines=lines or [order_services.LineRequest(ProductFactory(), 2)],
            delivery=delivery,
            requested_window=window,
        )
        order_services.confirm_order(order.pk, by=users[Role.SALES], promised_date=promise_date())
        order = through_warehouse(order, by=users[Role.WAREHOUSE], review=False, pack=False)
        from warehouse import services as warehouse

        for i in range(packages):
            warehouse.add_package(
                order.pk,
                by=users[Role.WAREHOUSE],
                weight_kg=Decimal("2.000") + i,
                length_cm=30,
                width_cm=20,
                height_cm=10,
            )
        warehouse.finish_packing(order.pk, by=users[Role.WAREHOUSE])
        from tests.factories import reviewer

        warehouse.review_order(order.pk, by=reviewer(), passed=True)
        order.refresh_from_db()
        assert order.status == Status.PICKED and order.reviewed_at
        return order

    return build
