"""The warehouse's part: bins and stock, the pick-pack-review flow of the demo orders
that got past picking, and a stock count that leaves two products low."""

from datetime import timedelta
from decimal import Decimal

from orders.models import Status

from .clock import clock_at


def stock(products):
    """Bins and stock for every product; two run low to show the alert."""
    from warehouse.models import Bin, StockItem
    from warehouse.services import main_warehouse

    warehouse = main_warehouse()
    for i, product in enumerate(products):
        bin_, _created = Bin.objects.get_or_create(
            warehouse=warehouse, code=f"{'ABC'[i % 3]}-{i // 3 + 1:02d}-{i % 4 + 1}"
        )
        StockItem.objects.get_or_create(
            warehouse=warehouse,
            product=product,
            defaults={
                "bin": bin_,
                "on_hand": 200,
                "low_stock_threshold": 10,
            },
        )


def low_stock(products, users):
    """A stock count found two products short: they show on the low-stock alert."""
    from warehouse.services import adjust_stock, stock_item_for

    for product in (products[3], products[11]):
        item = stock_item_for(product)
        adjust_stock(
            item.pk,
            item.reserved + 4 - item.on_hand,
            by=users["warehouse"],
            reason="盘点差异 / stock count",
        )


def warehouse_work(order, users, status, at, rng):
    """The warehouse's real flow for demo orders that got past picking: some wait
    to be packed, some for review, the rest are reviewed (by a second person)."""
    from warehouse import services as warehouse

    warehouse.acknowledge_order(order.pk, by=users["warehouse"])
    for line in order.lines.all():
        warehouse.record_pick(
            order.pk, by=users["warehouse"], scanned=line.sku, quantity=line.quantity
        )
    stage = rng.random()
    if status == Status.PICKED and stage < 0.35:
        return  # waits to be packed
    warehouse.add_package(
        order.pk,
        by=users["warehouse"],
        weight_kg=Decimal(rng.randint(500, 9000)) / 1000,
        length_cm=rng.choice([20, 30, 40]),
        width_cm=rng.choice([15, 20, 30]),
        height_cm=rng.choice([10, 15, 20]),
    )
    warehouse.finish_packing(order.pk, by=users["warehouse"])
    if status == Status.PICKED and stage < 0.7:
        return  # waits for review
    with clock_at(at + timedelta(minutes=25)):
        warehouse.review_order(order.pk, by=users["checker"], passed=True)
