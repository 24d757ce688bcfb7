"""Benchmark: stock reservations per second with many concurrent workers (PostgreSQL).

Not a test: it measures and prints. It creates a scratch database, places and confirms
``--orders`` orders for a few products, gives the products less stock than the orders
want, then reserves all orders from ``--workers`` threads at once through
``warehouse.services.reserve_order``. It prints reservations per second, how many
orders were reserved or backordered, the errors, and the oversell count (units
reserved beyond what was on hand), which must be 0.

    .venv/bin/python benchmarks/reservations.py --orders 2000 --workers 16
"""

import argparse
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))


def psql(sql: str, admin_url: str):
    subprocess.run(["psql", admin_url, "-q", "-c", sql], check=True, capture_output=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=16)
    parser.add_argument("--products", type=int, default=5)
    parser.add_argument("--stock", type=int, default=300, help="units on hand per product")
    parser.add_argument("--db-name", default="o2d_bench_reservations")
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args()
    if "bench" not in args.db_name:
        parser.error("--db-name must contain 'bench' (it is dropped)")

    admin_url = f"postgres://postgres@{args.host}:5432/postgres"
    psql(f'DROP DATABASE IF EXISTS "{args.db_name}"', admin_url)
    psql(f'CREATE DATABASE "{args.db_name}"', admin_url)
    os.environ["DATABASE_URL"] = f"postgres://postgres@{args.host}:5432/{args.db_name}"
    os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/14")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "o2d.settings")
    try:
        return run(args)
    finally:
        from django.db import connections

        connections.close_all()
        psql(f'DROP DATABASE IF EXISTS "{args.db_name}"', admin_url)


def run(args) -> int:
    import django

    django.setup()
    from datetime import timedelta
    from decimal import Decimal

    from django.core.management import call_command
    from django.db import connection, transaction
    from django.db.models import Sum
    from django.utils import timezone

    from orders import services as order_services
    from orders.models import Customer, Order, Product, Status
    from warehouse import services
    from warehouse.models import StockItem

    call_command("migrate", verbosity=0)
    products = [
        Product.objects.create(sku=f"B-{i}", name=f"Bench {i}", unit_price=Decimal("9.90"))
        for i in range(args.products)
    ]
    for product in products:
        item = services.stock_item_for(product)
        services.receive_goods(item.pk, args.stock, by=None, reason="benchmark")
    customer = Customer.objects.create(name="Bench", phone="+8613800000000")
    delivery = order_services.DeliveryDetails(
        recipient="Bench", phone="+8613800000000", province="上海市", city="上海市", street="1"
    )
    promised = timezone.localdate() + timedelta(days=3)
    print(f"Placing and confirming {args.orders} orders ...", flush=True)
    ids = []
    for i in range(args.orders):
        # Two products per order, so reservations lock several rows, in varying pairs.
        first, second = products[i % len(products)], products[(i * 7 + 1) % len(products)]
        lines = [order_services.LineRequest(first, 1 + i % 3)]
        if second != first:
            lines.append(order_services.LineRequest(second, 1))
        with transaction.atomic():
            order = order_services.place_order(
                customer=customer, channel="phone", lines=lines, delivery=delivery
            )
            order_services.verify_order(
                order.pk, by=None, contact=True, address=True, method="phone"
            )
            order_services.confirm_order(order.pk, by=None, promised_date=promised)
        ids.append(order.pk)
    connection.close()

    wanted = sum(line.quantity for o in Order.objects.all() for line in o.lines.all())
    on_hand = args.stock * args.products
    print(f"{args.orders} orders want {wanted} units; {on_hand} units on hand.", flush=True)

    errors, done = [], []
    lock = threading.Lock()
    barrier = threading.Barrier(args.workers)

    def worker(chunk):
        try:
            barrier.wait()
            for order_id in chunk:
                try:
                    services.reserve_order(order_id, by=None)
                except Exception as exc:
                    with lock:
                        errors.append(repr(exc))
                with lock:
                    done.append(order_id)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=worker, args=(ids[i :: args.workers],)) for i in range(args.workers)
    ]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start

    totals = StockItem.objects.aggregate(on_hand=Sum("on_hand"), reserved=Sum("reserved"))
    oversold = sum(max(0, item.reserved - item.on_hand) for item in StockItem.objects.all())
    reserved_orders = Order.objects.filter(status=Status.CONFIRMED).count()
    backordered = Order.objects.filter(status=Status.BACKORDERED).count()
    print(f"workers:           {args.workers}")
    print(f"orders handled:    {len(done)} in {elapsed:.2f} s")
    print(f"reservations/s:    {len(done) / elapsed:.1f}")
    print(f"reserved orders:   {reserved_orders}, backordered: {backordered}")
    print(f"units reserved:    {totals['reserved']} of {totals['on_hand']} on hand")
    print(f"errors:            {len(errors)}{' ' + errors[0] if errors else ''}")
    print(f"oversold units:    {oversold}")
    return 0 if oversold == 0 and not errors else 1


if __name__ == "__main__":
    sys.exit(main())
