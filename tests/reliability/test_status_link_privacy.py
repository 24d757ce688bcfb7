"""The thank-you page is reachable with the status link's number and secret (printed
in the label's QR code, sent by email). Only the browser session that placed the
order sees its full details there; anyone else sees what the status page shows."""

from decimal import Decimal

import pytest
from django.test import Client

from orders.models import Order
from tests.factories import CustomerFactory, ProductFactory, place
from tests.orders.test_online_order import form_data

FULL_NAME = "王小明"
EMAIL = "xiaoming@example.cn"
STREET = "文三路 259 号"


@pytest.fixture
def tea(db):
    return ProductFactory(sku="TEA-1", name="西湖龙井 250g", unit_price=Decimal("168.00"))


def order_online(client, product):
    data = form_data(product, name=FULL_NAME, email=EMAIL, street=STREET)
    del data["special_instructions"]
    response = client.post(
        "/order/",
        {**data, f"qty_{product.pk}": "1"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 302
    return Order.objects.latest("pk"), response["Location"]


def received_url(order):
    return f"/order/received/{order.number}/{order.public_token}/"


def assert_no_personal_details(html, *details):
    for detail in details:
        assert detail not in html, detail


@pytest.mark.django_db
def test_the_session_that_placed_the_order_sees_its_details(client, tea):
    order, location = order_online(client, tea)
    assert location == received_url(order)
    html = client.get(location, HTTP_ACCEPT_LANGUAGE="en").text
    for detail in (FULL_NAME, EMAIL, STREET):
        assert detail in html


@pytest.mark.django_db
def test_a_stranger_with_the_link_sees_no_personal_details(client, tea):
    order, location = order_online(client, tea)
    response = Client().get(location, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    html = response.text
    assert_no_personal_details(html, FULL_NAME, EMAIL, STREET, "+8613800138000", "310012")
    # What the status page shows: a masked first name, the city, the goods.
    assert "王**" in html
    assert "杭州市" in html
    assert order.number in html
    assert "西湖龙井 250g" in html
    assert response["Cache-Control"] == "private, no-store"


@pytest.mark.django_db
def test_a_status_link_turned_into_a_thank_you_link_shows_no_more(client, tea):
    order, _location = order_online(client, tea)
    status_html = Client().get(order.get_public_url(), HTTP_ACCEPT_LANGUAGE="en").text
    thanks_html = (
        Client()
        .get(
            order.get_public_url().replace("/status/", "/order/received/"),
            HTTP_ACCEPT_LANGUAGE="en",
        )
        .text
    )
    for html in (status_html, thanks_html):
        assert_no_personal_details(html, FULL_NAME, EMAIL, STREET)


@pytest.mark.django_db
def test_a_phone_order_is_hidden_from_a_stranger(client, users):
    customer = CustomerFactory(name="陈美玲", email="meiling@example.cn")
    order = place(customer=customer, channel="phone", by=users["Sales"])
    response = client.get(received_url(order), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert_no_personal_details(
        response.text,
        "陈美玲",
        "meiling@example.cn",
        customer.phone,
        order.delivery_recipient,
        order.delivery_street,
        order.delivery_phone,
    )


@pytest.mark.django_db
def test_placing_one_order_does_not_open_anothers_details(client, tea, users):
    other = place(customer=CustomerFactory(name="陈美玲"), channel="phone", by=users["Sales"])
    order_online(client, tea)  # this session placed an order of its own
    html = client.get(received_url(other), HTTP_ACCEPT_LANGUAGE="en").text
    assert_no_personal_details(html, "陈美玲", other.delivery_street)


@pytest.mark.django_db
def test_a_wrong_secret_is_still_404(client, tea):
    order, _location = order_online(client, tea)
    assert client.get(f"/order/received/{order.number}/{'x' * 32}/").status_code == 404
