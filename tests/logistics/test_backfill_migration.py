"""The data migration that copies shipped quantities and packages' carrier and tracking
number out of logistics' shipments, for rows written before orders and warehouse kept them."""

from importlib import import_module

import pytest
from django.apps import apps

from logistics import services
from orders.models import OrderLine
from orders.roles import Role
from warehouse.models import Package

migration = import_module(
    "logistics.migrations.0002_backfill_shipped_quantities_and_package_tracking"
)


@pytest.mark.django_db
def test_backfill_restores_shipped_quantities_and_label_details(ready, users):
    order = ready(packages=2)
    unshipped = ready()
    best = services.carrier_options(order, services.unshipped_packages(order))[0]
    shipment = services.ship(order.pk, by=users[Role.LOGISTICS], service_id=best.service.pk)
    # Rows as the old code left them: nothing on the line or the packages.
    OrderLine.objects.update(shipped_quantity=0)
    Package.objects.update(carrier_name="", tracking_number="")

    migration.backfill(apps, None)

    for line in order.lines.all():
        assert line.shipped_quantity == line.quantity
    assert set(unshipped.lines.values_list("shipped_quantity", flat=True)) == {0}
    assert {(p.carrier_name, p.tracking_number) for p in Package.objects.filter(order=order)} == {
        (shipment.carrier.name, shipment.tracking_number)
    }
    assert Package.objects.filter(order=order).count() == 2
    assert set(
        Package.objects.filter(order=unshipped).values_list("tracking_number", flat=True)
    ) == {""}
