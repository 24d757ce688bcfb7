"""Stock reservation: all or nothing, never oversold, never deadlocked."""

import threading
from datetime import timedelta

import pytest
from django.db import IntegrityError, connection, transaction

from orders import services as order_services
from orders.models import Order, Status
from orders.roles import Role
from tests.factories import ProductFactory, place, promise_date
from warehouse import services
from warehouse.models import Reservation, StockItem, StockMovement


def confirmed_order(sales, lines):
    order = place(lines=[order_services.LineRequest(p, q) for p, q in lines])
    return order_services.confirm_order(order.pk, by=sales, promised_date=promise_date())


def stocked(product, quantity, by=None):
    item = services.stock_item_for(product)
    if quantity:
        services.receive_goods(item.pk, quantity, by=by, reason="test")
    return item


@pytest.mark.django_db
def test_reservation_holds_every_line(users):
    tea, cup = ProductFactory(), ProductFactory()
    stocked(tea, 10)
    stocked(cup, 5)
    order = confirmed_order(users[Role.SALES], [(tea, 3), (cup, 5)])
    assert services.reserve_order(order.pk, by=users[Role.WAREHOUSE]) == []
    assert StockItem.objects.get(product=tea).reserved == 3
    assert StockItem.objects.get(product=cup).reserved == 5
    assert Reservation.objects.filter(order=order).count() == 2
    assert order.events.filter(code="reserved").count() == 1
    # Running it twice changes nothing.
    assert services.reserve_order(order.pk, by=users[Role.WAREHOUSE]) == []
    assert StockItem.objects.get(product=tea).reserved == 3


@pytest.mark.django_db
def test_partial_shortage_backorders_and_reserves_nothing(users):
    tea, cup = ProductFactory(sku="TEA-1"), ProductFactory(sku="CUP-1")
    stocked(tea, 10)
    stocked(cup, 2)
    order = confirmed_order(users[Role.SALES], [(tea, 3), (cup, 5)])
    shortages = services.reserve_order(order.pk, by=users[Role.WAREHOUSE])
    assert [(s.sku, s.wanted, s.available, s.missing) for s in shortages] == [("CUP-1", 5, 2, 3)]
    order.refresh_from_db()
    assert order.status == Status.BACKORDERED
    assert StockItem.objects.get(product=tea).reserved == 0
    assert StockItem.objects.get(product=cup).reserved == 0
    event = order.events.get(code="shortage")
    assert event.data["lines"] == [{"sku": "CUP-1", "wanted": 5, "available": 2}]
    transition = order.events.get(to_status=Status.BACKORDERED)
    assert "CUP-1" in transition.note


@pytest.mark.django_db
def test_only_confirmed_orders_are_reserved(users, order_in):
    order = order_in(Status.PLACED)
    with pytest.raises(services.StockError):
        services.reserve_order(order.pk, by=users[Role.WAREHOUSE])


@pytest.mark.django_db
@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE warehouse_stockitem SET on_hand = -1 WHERE id = %s",
        "UPDATE warehouse_stockitem SET reserved = on_hand + 1 WHERE id = %s",
        "UPDATE warehouse_stockitem SET reserved = -1 WHERE id = %s",
    ],
)
def test_database_refuses_negative_or_oversold_stock(sql):
    item = stocked(ProductFactory(), 5)
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, [item.pk])
    item.refresh_from_db()
    assert (item.on_hand, item.reserved) == (5, 0)


@pytest.mark.django_db
def test_adjustment_needs_a_reason_and_cannot_go_below_reserved(users):
    tea = ProductFactory()
    item = stocked(tea, 5)
    order = confirmed_order(users[Role.SALES], [(tea, 4)])
    services.reserve_order(order.pk, by=users[Role.WAREHOUSE])
    with pytest.raises(services.StockError):
        services.adjust_stock(item.pk, -1, by=users[Role.WAREHOUSE], reason="")
    with pytest.raises(services.StockError):
        services.adjust_stock(item.pk, -2, by=users[Role.WAREHOUSE], reason="damaged")
    services.adjust_stock(item.pk, -1, by=users[Role.WAREHOUSE], reason="damaged")
    item.refresh_from_db()
    assert (item.on_hand, item.reserved) == (4, 4)
    assert StockMovement.objects.filter(stock_item=item, kind="adjustment").count() == 1


@pytest.mark.django_db(transaction=True)
def test_200_concurrent_reservations_against_10_units(users):
    tea = ProductFactory()
    stocked(tea, 10)
    orders = [confirmed_order(users[Role.SALES], [(tea, 1)]) for _ in range(200)]
    warehouse_user = users[Role.WAREHOUSE]
    results, errors = [], []
    lock = threading.Lock()
    barrier = threading.Barrier(20)

    def worker(chunk):
        try:
            barrier.wait()
            for order in chunk:
                shortages = services.reserve_order(order.pk, by=warehouse_user)
                with lock:
                    results.append(bool(shortages))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(orders[i::20],)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []  # no deadlock, no error other than a clear shortage
    assert len(results) == 200
    item = StockItem.objects.get(product=tea)
    assert (item.on_hand, item.reserved) == (10, 10)
    assert results.count(False) == 10
    assert Reservation.objects.count() == 10
    assert Order.objects.filter(status=Status.BACKORDERED).count() == 190
    assert Order.objects.filter(status=Status.CONFIRMED).count() == 10


@pytest.mark.django_db
def test_received_goods_serve_backorders_oldest_first(users):
    import time_machine
    from django.utils import timezone

    tea = ProductFactory()
    item = stocked(tea, 0)
    now = timezone.now()
    waiting = []
    for hours_ago, quantity in [(5, 3), (4, 2), (3, 4), (2, 1)]:
        with time_machine.travel(now - timedelta(hours=hours_ago), tick=False):
            order = confirmed_order(users[Role.SALES], [(tea, quantity)])
        services.reserve_order(order.pk, by=users[Role.WAREHOUSE])
        waiting.append(order)
    assert {o.status for o in Order.objects.all()} == {Status.BACKORDERED}

    # 6 units: the oldest (3) and the second (2) are served; the third (4) does not fit,
    # but the youngest (1) still does.
    services.receive_goods(item.pk, 6, by=users[Role.WAREHOUSE], reason="PO-1")
    statuses = [Order.objects.get(pk=o.pk).status for o in waiting]
    assert statuses == [Status.CONFIRMED, Status.CONFIRMED, Status.BACKORDERED, Status.CONFIRMED]
    item.refresh_from_db()
    assert (item.on_hand, item.reserved) == (6, 6)
    served = waiting[0]
    assert served.events.filter(from_status=Status.BACKORDERED, to_status=Status.CONFIRMED).exists()
    assert served.reservations.get().quantity == 3
