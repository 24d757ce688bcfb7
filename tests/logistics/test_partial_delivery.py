"""Part of the order is backordered and the customer agreed: the goods in stock ship
now, the rest follows when it arrives, and the order is shipped only when every line is."""

from decimal import Decimal

import pytest

from logistics import services
from logistics.models import ShipmentLine
from orders import services as order_services
from orders.models import Status
from orders.roles import Role
from tests.factories import ProductFactory, carrier, place, promise_date, reviewer
from warehouse import services as warehouse
from warehouse.models import StockItem


def stock(product, quantity):
    item = warehouse.stock_item_for(product)
    if quantity:
        warehouse.receive_goods(item.pk, quantity, by=None)
    return item


def pick_pack_review(order, picker):
    for line_id, target in warehouse.pick_targets(order).items():
        if target:
            line = order.lines.get(pk=line_id)
            warehouse.record_pick(order.pk, by=picker, scanned=line.sku, quantity=target)
    warehouse.add_package(
        order.pk, by=picker, weight_kg=Decimal("1"), length_cm=20, width_cm=20, height_cm=20
    )
    warehouse.finish_packing(order.pk, by=picker)
    warehouse.review_order(order.pk, by=reviewer(), passed=True)


def ship_all_in_hand(order, by):
    packages = services.unshipped_packages(order)
    best = services.carrier_options(order, packages)[0]
    return services.ship(order.pk, by=by, service_id=best.service.pk)


@pytest.fixture
def split(users):
    """2 TEA (5 in stock) and 3 LAMP (1 in stock): acknowledged, backordered."""
    carrier()
    tea, lamp = ProductFactory(sku="TEA-P"), ProductFactory(sku="LAMP-P")
    stock(tea, 5)
    stock(lamp, 1)
    order = place(lines=[order_services.LineRequest(tea, 2), order_services.LineRequest(lamp, 3)])
    order_services.confirm_order(order.pk, by=users[Role.SALES], promised_date=promise_date())
    warehouse.acknowledge_order(order.pk, by=users[Role.WAREHOUSE])
    order.refresh_from_db()
    assert order.status == Status.BACKORDERED
    return order, tea, lamp


@pytest.mark.django_db(transaction=True)  # the agreement is served after commit
def test_the_available_part_ships_now_and_the_rest_later(split, users):
    order, tea, lamp = split
    picker, logistics = users[Role.WAREHOUSE], users[Role.LOGISTICS]
    order_services.agree_partial_delivery(order.pk, by=users[Role.SALES], note="客户同意分批")
    order.refresh_from_db()
    assert order.status == Status.CONFIRMED  # what is here goes to picking at once
    tea_line, lamp_line = order.lines.get(product=tea), order.lines.get(product=lamp)
    assert warehouse.pick_targets(order) == {tea_line.pk: 2, lamp_line.pk: 1}

    pick_pack_review(order, picker)
    first = ship_all_in_hand(order, logistics)
    order.refresh_from_db()
    assert order.status == Status.BACKORDERED  # the rest waits; not shipped yet
    assert {(r.line_id, r.quantity) for r in first.lines.all()} == {
        (tea_line.pk, 2),
        (lamp_line.pk, 1),
    }
    lamp_item = StockItem.objects.get(product=lamp)
    assert (lamp_item.on_hand, lamp_item.reserved) == (0, 0)
    assert StockItem.objects.get(product=tea).on_hand == 3
    # orders keeps what has shipped per line; warehouse reads only that.
    tea_line.refresh_from_db()
    lamp_line.refresh_from_db()
    assert (tea_line.shipped_quantity, lamp_line.shipped_quantity) == (2, 1)
    assert warehouse.unshipped_quantities(order) == {tea_line.pk: 0, lamp_line.pk: 2}
    first_packages = list(first.packages.all())
    assert {(p.carrier_name, p.tracking_number) for p in first_packages} == {
        (first.carrier.name, first.tracking_number)
    }

    warehouse.receive_goods(lamp_item.pk, 2, by=picker)  # the rest arrives
    order.refresh_from_db()
    assert order.status == Status.CONFIRMED
    assert warehouse.pick_targets(order) == {tea_line.pk: 0, lamp_line.pk: 2}
    pick_pack_review(order, picker)
    ship_all_in_hand(order, logistics)
    order.refresh_from_db()
    assert order.status == Status.SHIPPED
    shipped = {
        line.pk: sum(r.quantity for r in ShipmentLine.objects.filter(line=line))
        for line in order.lines.all()
    }
    assert shipped == {tea_line.pk: 2, lamp_line.pk: 3}
    assert dict(order.lines.values_list("pk", "shipped_quantity")) == shipped
    assert warehouse.unshipped_quantities(order) == {tea_line.pk: 0, lamp_line.pk: 0}
    assert order.shipments.count() == 2
    lamp_item.refresh_from_db()
    assert (lamp_item.on_hand, lamp_item.reserved) == (0, 0)


@pytest.mark.django_db
def test_without_the_customers_agreement_nothing_ships_in_part(split, users):
    order, *_ = split
    # The backorder holds nothing: no goods in hand, nothing to pick or ship.
    assert not order.reservations.filter(released_at__isnull=True).exists()
    with pytest.raises(order_services.TransitionNotAllowed):
        order_services.await_rest(order.pk, by=users[Role.LOGISTICS])


@pytest.mark.django_db
def test_only_sales_records_the_agreement_and_only_for_a_backorder(split, users, client):
    order, *_ = split
    with pytest.raises(order_services.TransitionForbidden):
        order_services.agree_partial_delivery(order.pk, by=users[Role.WAREHOUSE])
    client.force_login(users[Role.WAREHOUSE])
    assert client.post(f"/orders/{order.number}/partial/").status_code == 403
    order.refresh_from_db()
    assert order.partial_agreed_at is None
    client.force_login(users[Role.SALES])
    response = client.post(f"/orders/{order.number}/partial/", {"note": "ok"})
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.partial_agreed_at is not None
    assert order.events.get(code="partial_agreed").public
    # Twice is once.
    client.post(f"/orders/{order.number}/partial/", {"note": "again"})
    assert order.events.filter(code="partial_agreed").count() == 1


@pytest.mark.django_db
def test_agreement_on_an_order_that_is_not_backordered_is_a_409(users, order_in, client):
    order = order_in(Status.CONFIRMED)
    client.force_login(users[Role.SALES])
    assert client.post(f"/orders/{order.number}/partial/").status_code == 409
