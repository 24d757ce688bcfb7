"""Copy what logistics knows into the fields orders and warehouse now own: each order
line's shipped quantity (orders.OrderLine.shipped_quantity) and each shipped package's
carrier and tracking number (warehouse.Package), so neither app reads logistics' tables.
Logistics may depend on orders and warehouse, hence the backfill lives here."""

from django.db import migrations
from django.db.models import OuterRef, Subquery, Sum
from django.db.models.functions import Coalesce


def backfill(apps, schema_editor):
    OrderLine = apps.get_model("orders", "OrderLine")
    Package = apps.get_model("warehouse", "Package")
    Shipment = apps.get_model("logistics", "Shipment")
    ShipmentLine = apps.get_model("logistics", "ShipmentLine")
    ShipmentPackage = Shipment.packages.through

    sent = (
        ShipmentLine.objects.filter(line=OuterRef("pk"))
        .order_by()
        .values("line")
        .annotate(total=Sum("quantity"))
        .values("total")
    )
    OrderLine.objects.filter(pk__in=ShipmentLine.objects.values("line")).update(
        shipped_quantity=Coalesce(Subquery(sent), 0)
    )

    # The label printed the package's latest shipment (Shipment orders by -shipped_at).
    latest = ShipmentPackage.objects.filter(package=OuterRef("pk")).order_by(
        "-shipment__shipped_at", "-shipment__pk"
    )
    Package.objects.filter(pk__in=ShipmentPackage.objects.values("package")).update(
        carrier_name=Subquery(latest.values("shipment__carrier__name")[:1]),
        tracking_number=Subquery(latest.values("shipment__tracking_number")[:1]),
    )


class Migration(migrations.Migration):
    dependencies = [
        ("logistics", "0001_carriers_shipments"),
        ("orders", "0018_line_shipped_quantity"),
        ("warehouse", "0004_package_carrier_and_tracking"),
    ]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
