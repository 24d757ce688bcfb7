"""Changes before confirmation: lines, quantities, address and dates, each on the timeline."""

from datetime import timedelta

import pytest
from django.utils import timezone

from orders import services
from orders.models import Status
from orders.roles import Role
from tests.factories import ProductFactory, place, promise_date


def edit_data(order, **overrides):
    lines = list(order.lines.all())
    data = {
        "recipient": order.delivery_recipient,
        "recipient_phone": order.delivery_phone,
        "province": order.delivery_province,
        "city": order.delivery_city,
        "district": order.delivery_district,
        "street": order.delivery_street,
        "postal_code": order.delivery_postal_code,
        "requested_date": "",
        "requested_window": order.requested_window,
        "special_instructions": order.special_instructions,
        "lines-TOTAL_FORMS": "3",
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "30",
        "lines-0-product": str(lines[0].product_id),
        "lines-0-quantity": str(lines[0].quantity),
        "lines-1-product": "",
        "lines-1-quantity": "",
        "lines-2-product": "",
        "lines-2-quantity": "",
    }
    data.update(overrides)
    return data


@pytest.mark.django_db
def test_sales_changes_quantity_address_and_adds_a_line(client, users):
    order = place()
    extra = ProductFactory(sku="CUP-9", unit_price="10.00")
    old_street = order.delivery_street
    client.force_login(users[Role.SALES])
    assert client.get(f"/orders/{order.number}/edit/").status_code == 200
    new_date = (timezone.localdate() + timedelta(days=6)).isoformat()
    response = client.post(
        f"/orders/{order.number}/edit/",
        edit_data(
            order,
            **{
                "lines-0-quantity": "5",
                "lines-1-product": str(extra.pk),
                "lines-1-quantity": "1",
                "street": "新地址 1 号",
                "requested_date": new_date,
            },
        ),
    )
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.delivery_street == "新地址 1 号"
    assert [(line.sku, line.quantity) for line in order.lines.all()][1] == ("CUP-9", 1)
    assert str(order.total) == "72.50"  # 5 x 12.50 + 1 x 10.00
    event = order.events.get(code="changed")
    changes = {(c["field"], c["old"], c["new"]) for c in event.data["changes"]}
    assert ("delivery_street", old_street, "新地址 1 号") in changes
    assert ("requested_date", "", new_date) in changes
    assert ("line", "2", "5") in changes
    assert ("line", "0", "1") in changes
    page = client.get(order.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en").text
    assert "<del>" + old_street + "</del>" in page


@pytest.mark.django_db
def test_removing_a_line_is_recorded(users):
    first, second = ProductFactory(), ProductFactory()
    order = place(lines=[services.LineRequest(first, 1), services.LineRequest(second, 2)])
    services.change_order(
        order.pk, by=users[Role.SALES], lines=[services.LineRequest(first, 1)], fields={}
    )
    assert list(order.lines.values_list("sku", flat=True)) == [first.sku]
    event = order.events.get(code="changed")
    assert event.data["changes"] == [{"field": "line", "label": second.sku, "old": "2", "new": "0"}]


@pytest.mark.django_db
def test_no_change_writes_nothing(users):
    order = place()
    line = order.lines.get()
    services.change_order(
        order.pk,
        by=users[Role.SALES],
        lines=[services.LineRequest(line.product, line.quantity)],
        fields={"delivery_city": order.delivery_city},
    )
    assert not order.events.filter(code="changed").exists()


@pytest.mark.django_db
def test_changes_are_refused_after_confirmation(client, users):
    order = place()
    services.confirm_order(order.pk, by=users[Role.SALES], promised_date=promise_date())
    line = order.lines.get()
    with pytest.raises(services.TransitionNotAllowed):
        services.change_order(
            order.pk, by=users[Role.SALES], lines=[services.LineRequest(line.product, 9)], fields={}
        )
    client.force_login(users[Role.SALES])
    response = client.post(f"/orders/{order.number}/edit/", edit_data(order))
    assert response.status_code == 302  # back to the order with a message
    order.refresh_from_db()
    assert order.status == Status.CONFIRMED
    assert order.lines.get().quantity == line.quantity


@pytest.mark.django_db
@pytest.mark.parametrize(
    "overrides",
    [
        {"lines-0-quantity": "0"},
        {"lines-0-quantity": "-3"},
        {"lines-0-quantity": "lots"},
        {"lines-0-product": ""},
        {"street": ""},
        {"recipient_phone": "123"},
    ],
)
def test_bad_changes_are_400_and_change_nothing(client, users, overrides):
    order = place()
    client.force_login(users[Role.SALES])
    response = client.post(f"/orders/{order.number}/edit/", edit_data(order, **overrides))
    assert response.status_code == 400
    assert not order.events.filter(code="changed").exists()


@pytest.mark.django_db
def test_warehouse_cannot_change_orders(client, users):
    order = place()
    client.force_login(users[Role.WAREHOUSE])
    assert client.get(f"/orders/{order.number}/edit/").status_code == 403
    with pytest.raises(services.TransitionForbidden):
        services.change_order(
            order.pk,
            by=users[Role.WAREHOUSE],
            lines=[services.LineRequest(order.lines.get().product, 1)],
            fields={},
        )
