"""The warehouse's work on an order: hand-off, picking with discrepancies, packing,
the review gate, and the stock following the order's status."""

from decimal import Decimal

import pytest

from orders import services as order_services
from orders.models import EventKind, Order, Status
from orders.roles import Role
from tests.factories import ProductFactory, make_user, place, promise_date, reviewer, ship
from warehouse import services
from warehouse.models import (
    DiscrepancyOutcome,
    Fulfilment,
    MovementKind,
    Pick,
    Review,
    StockItem,
    StockMovement,
)


def confirmed(users, lines):
    order = place(lines=[order_services.LineRequest(p, q) for p, q in lines])
    return order_services.confirm_order(
        order.pk, by=users[Role.SALES], promised_date=promise_date()
    )


def stocked(product, quantity):
    item = services.stock_item_for(product)
    services.receive_goods(item.pk, quantity, by=None, reason="test")
    return item


@pytest.fixture
def picker(users):
    return users[Role.WAREHOUSE]


@pytest.fixture
def tea_order(users):
    tea, cup = ProductFactory(sku="TEA-1"), ProductFactory(sku="CUP-1")
    stocked(tea, 10)
    stocked(cup, 10)
    return confirmed(users, [(tea, 2), (cup, 1)])


def pick_all(order, by):
    for line in order.lines.all():
        services.record_pick(order.pk, by=by, scanned=line.sku, quantity=line.quantity)
    order.refresh_from_db()
    return order


def pack(order, by):
    services.add_package(
        order.pk, by=by, weight_kg=Decimal("2.5"), length_cm=40, width_cm=30, height_cm=20
    )
    services.finish_packing(order.pk, by=by)


# ---------------------------------------------------------------- hand-off


@pytest.mark.django_db
def test_acknowledging_records_who_and_when_and_reserves(tea_order, picker):
    assert services.acknowledge_order(tea_order.pk, by=picker) == []
    fulfilment = Fulfilment.objects.get(order=tea_order)
    assert fulfilment.acknowledged_by == picker
    event = tea_order.events.get(code="acknowledged")
    assert (event.actor, event.created_at) == (picker, fulfilment.acknowledged_at)
    assert event.public  # the customer sees the warehouse took over
    assert StockItem.objects.get(product__sku="TEA-1").reserved == 2
    # A second click (or a second person) changes nothing.
    services.acknowledge_order(tea_order.pk, by=reviewer())
    assert Fulfilment.objects.get(order=tea_order).acknowledged_by == picker
    assert tea_order.events.filter(code="acknowledged").count() == 1
    assert StockItem.objects.get(product__sku="TEA-1").reserved == 2


@pytest.mark.django_db
def test_only_the_warehouse_may_acknowledge(tea_order, users):
    with pytest.raises(order_services.TransitionForbidden):
        services.acknowledge_order(tea_order.pk, by=users[Role.SALES])
    assert not Fulfilment.objects.filter(order=tea_order).exists()


@pytest.mark.django_db
def test_placed_orders_cannot_be_acknowledged(picker):
    order = place()
    with pytest.raises(order_services.TransitionNotAllowed):
        services.acknowledge_order(order.pk, by=picker)


# ---------------------------------------------------------------- picking


@pytest.mark.django_db
def test_picking_every_line_by_sku_makes_the_order_picked(tea_order, picker):
    services.acknowledge_order(tea_order.pk, by=picker)
    services.record_pick(tea_order.pk, by=picker, scanned=" tea-1 ", quantity=1)
    assert Order.objects.get(pk=tea_order.pk).status == Status.CONFIRMED
    services.record_pick(tea_order.pk, by=picker, scanned="TEA-1")
    services.record_pick(tea_order.pk, by=picker, scanned="CUP-1")
    order = Order.objects.get(pk=tea_order.pk)
    assert order.status == Status.PICKED
    assert order.events.filter(kind=EventKind.TRANSITION, to_status=Status.PICKED).get().actor == (
        picker
    )
    assert Pick.objects.filter(order=order).count() == 3


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("scanned", "quantity", "line"),
    [
        ("BAD-9", 1, None),
        ("", 1, None),
        ("TEA-1", 3, None),
        ("TEA-1", 0, None),
        ("CUP-1", 1, "tea"),
    ],
)
def test_wrong_sku_or_quantity_is_refused_and_records_nothing(
    tea_order, picker, scanned, quantity, line
):
    services.acknowledge_order(tea_order.pk, by=picker)
    line_id = tea_order.lines.get(sku="TEA-1").pk if line else None
    with pytest.raises(services.StockError) as refused:
        services.record_pick(
            tea_order.pk, by=picker, scanned=scanned, quantity=quantity, line_id=line_id
        )
    assert str(refused.value.message)
    assert not Pick.objects.exists()


@pytest.mark.django_db
def test_picking_needs_acknowledgement_and_reserved_stock(users, picker):
    tea = ProductFactory(sku="TEA-9")
    order = confirmed(users, [(tea, 1)])
    with pytest.raises(services.StockError):
        services.record_pick(order.pk, by=picker, scanned="TEA-9")
    # Released by hand (no reservation): picking asks for a stock check first.
    services.acknowledge_order(order.pk, by=picker)  # no stock: backordered
    order_services.release_backorder(order.pk, by=picker)
    with pytest.raises(services.StockError):
        services.record_pick(order.pk, by=picker, scanned="TEA-9")
    assert not Pick.objects.exists()


@pytest.mark.django_db
def test_damaged_units_are_written_off_and_replaced_from_free_stock(tea_order, picker):
    services.acknowledge_order(tea_order.pk, by=picker)
    line = tea_order.lines.get(sku="TEA-1")
    found = services.report_discrepancy(
        tea_order.pk, by=picker, line_id=line.pk, kind="damaged", quantity=1, note="crushed"
    )
    assert found.outcome == DiscrepancyOutcome.REPLACED
    item = StockItem.objects.get(product__sku="TEA-1")
    assert (item.on_hand, item.reserved) == (9, 2)
    assert (
        StockMovement.objects.filter(stock_item=item, kind=MovementKind.WRITE_OFF)
        .get()
        .on_hand_change
        == -1
    )
    assert Order.objects.get(pk=tea_order.pk).status == Status.CONFIRMED
    event = tea_order.events.get(code="discrepancy")
    assert event.data == {"sku": "TEA-1", "kind": "damaged", "quantity": 1, "outcome": "replaced"}


@pytest.mark.django_db
def test_a_full_length_note_fits_the_write_off(tea_order, picker):
    """Found by fuzzing: the kind's label plus a 300-character note overflowed the stock
    movement's reason (a 500); the movement keeps a shortened reason, the discrepancy
    the whole note."""
    services.acknowledge_order(tea_order.pk, by=picker)
    line = tea_order.lines.get(sku="TEA-1")
    note = "x" * 300
    found = services.report_discrepancy(
        tea_order.pk, by=picker, line_id=line.pk, kind="damaged", quantity=1, note=note
    )
    assert found.note == note
    reason = StockMovement.objects.get(kind=MovementKind.WRITE_OFF).reason
    assert len(reason) == 300
    assert reason.count("x") < len(note)  # shortened, with the truncation mark


@pytest.mark.django_db
def test_units_not_found_with_no_spare_start_the_shortage_loop(users, picker):
    tea, cup = ProductFactory(sku="TEA-2"), ProductFactory(sku="CUP-2")
    stocked(tea, 2)
    stocked(cup, 5)
    order = confirmed(users, [(tea, 2), (cup, 1)])
    services.acknowledge_order(order.pk, by=picker)
    services.record_pick(order.pk, by=picker, scanned="CUP-2")
    line = order.lines.get(sku="TEA-2")
    found = services.report_discrepancy(
        order.pk, by=picker, line_id=line.pk, kind="not_found", quantity=1
    )
    assert found.outcome == DiscrepancyOutcome.BACKORDERED
    order.refresh_from_db()
    assert order.status == Status.BACKORDERED
    tea_item, cup_item = StockItem.objects.get(product=tea), StockItem.objects.get(product=cup)
    # The lost unit is gone; everything else held for the order is back on the shelf.
    assert (tea_item.on_hand, tea_item.reserved) == (1, 0)
    assert (cup_item.on_hand, cup_item.reserved) == (5, 0)
    assert not order.reservations.filter(released_at__isnull=True).exists()
    assert order.events.get(code="shortage").data["lines"] == [
        {"sku": "TEA-2", "wanted": 2, "available": 1}
    ]
    assert order.follow_ups.get().reason == "shortage"
    # Picking starts over in a new round when the stock comes back.
    assert Fulfilment.objects.get(order=order).round == 2
    services.receive_goods(tea_item.pk, 1, by=picker)
    order.refresh_from_db()
    assert order.status == Status.CONFIRMED
    assert StockItem.objects.get(product=tea).reserved == 2
    pick_all(order, picker)
    assert order.status == Status.PICKED


# ---------------------------------------------------------------- packing and review


@pytest.mark.django_db
def test_packing_needs_a_package(tea_order, picker):
    services.acknowledge_order(tea_order.pk, by=picker)
    pick_all(tea_order, picker)
    with pytest.raises(services.StockError):
        services.finish_packing(tea_order.pk, by=picker)
    pack(tea_order, picker)
    assert Fulfilment.objects.get(order=tea_order).packed_by == picker
    with pytest.raises(services.StockError):  # packed already
        services.add_package(
            tea_order.pk, by=picker, weight_kg=Decimal("1"), length_cm=1, width_cm=1, height_cm=1
        )


@pytest.mark.django_db
def test_review_gate_refuses_the_picker(tea_order, picker):
    services.acknowledge_order(tea_order.pk, by=picker)
    pick_all(tea_order, picker)
    pack(tea_order, picker)
    with pytest.raises(order_services.TransitionForbidden):
        services.review_order(tea_order.pk, by=picker, passed=True)
    assert not Review.objects.exists()
    assert Order.objects.get(pk=tea_order.pk).reviewed_at is None


@pytest.mark.django_db
def test_a_manager_who_picked_may_not_review_either(tea_order, users):
    manager = users[Role.MANAGER]
    services.acknowledge_order(tea_order.pk, by=manager)
    pick_all(tea_order, manager)
    pack(tea_order, manager)
    with pytest.raises(order_services.TransitionForbidden):
        services.review_order(tea_order.pk, by=manager, passed=True)


@pytest.mark.django_db
def test_failed_review_sends_the_order_back_to_picking_with_the_reason(tea_order, picker, users):
    services.acknowledge_order(tea_order.pk, by=picker)
    pick_all(tea_order, picker)
    pack(tea_order, picker)
    checker = reviewer()
    with pytest.raises(services.StockError):
        services.review_order(tea_order.pk, by=checker, passed=False, notes="  ")
    services.review_order(tea_order.pk, by=checker, passed=False, notes="CUP-1 is blue, not white")
    order = Order.objects.get(pk=tea_order.pk)
    assert order.status == Status.CONFIRMED
    back = order.events.filter(kind=EventKind.TRANSITION).latest("created_at", "pk")
    assert (back.from_status, back.to_status, back.note) == (
        Status.PICKED,
        Status.CONFIRMED,
        "CUP-1 is blue, not white",
    )
    fulfilment = Fulfilment.objects.get(order=order)
    assert (fulfilment.round, fulfilment.packed_at) == (2, None)
    # The stock stays reserved; the new round is picked again, by someone else this time.
    assert StockItem.objects.get(product__sku="TEA-1").reserved == 2
    other = make_user(Role.WAREHOUSE, username="second-picker")
    pick_all(order, other)
    pack(order, other)
    # The first picker did not pick this round, so may now review it.
    services.review_order(order.pk, by=picker, passed=True)
    order.refresh_from_db()
    assert order.reviewed_at is not None
    assert [r.passed for r in Review.objects.filter(order=order)] == [False, True]


@pytest.mark.django_db
def test_passed_review_lets_logistics_ship_and_the_goods_leave_the_stock(tea_order, picker, users):
    services.acknowledge_order(tea_order.pk, by=picker)
    pick_all(tea_order, picker)
    pack(tea_order, picker)
    services.review_order(tea_order.pk, by=reviewer(), passed=True)
    ship(tea_order, by=users[Role.LOGISTICS])
    item = StockItem.objects.get(product__sku="TEA-1")
    assert (item.on_hand, item.reserved) == (8, 0)
    assert (
        StockMovement.objects.filter(stock_item=item, kind=MovementKind.SHIPMENT)
        .get()
        .on_hand_change
        == -2
    )
    assert not tea_order.reservations.filter(released_at__isnull=True).exists()


@pytest.mark.django_db
def test_cancelling_a_reserved_order_puts_the_stock_back(tea_order, picker, users):
    services.acknowledge_order(tea_order.pk, by=picker)
    order_services.cancel_order(tea_order.pk, by=users[Role.SALES], note="customer cancelled")
    item = StockItem.objects.get(product__sku="TEA-1")
    assert (item.on_hand, item.reserved) == (10, 0)
    assert StockMovement.objects.filter(stock_item=item, kind=MovementKind.RELEASE).count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_pickers_scanning_the_last_unit_at_once_record_it_once(users):
    import threading

    from django.db import connection

    lamp = ProductFactory(sku="LAMP-3")
    stocked(lamp, 5)
    order = confirmed(users, [(lamp, 1)])
    services.acknowledge_order(order.pk, by=users[Role.WAREHOUSE])
    pickers = [users[Role.WAREHOUSE], reviewer()]
    barrier, results = threading.Barrier(2), []

    def scan(picker):
        try:
            barrier.wait()
            services.record_pick(order.pk, by=picker, scanned="LAMP-3")
            results.append("ok")
        except order_services.OrderActionError as error:  # "picked already"
            results.append(str(error.message))
        finally:
            connection.close()

    threads = [threading.Thread(target=scan, args=(p,)) for p in pickers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 2 and results.count("ok") == 1
    assert Pick.objects.filter(order=order).count() == 1
    order.refresh_from_db()
    assert order.status == Status.PICKED
    assert order.events.filter(to_status=Status.PICKED).count() == 1
