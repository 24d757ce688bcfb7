"""/track/: a customer who lost the status link finds the order by number plus email
or phone. Unknown orders and wrong contacts get the same answer; attempts are rate
limited per client address; the form is CSRF protected."""

import re

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from orders.models import Status
from orders.services import DeliveryDetails
from tests.factories import CustomerFactory, place

URL = "/track/"


@pytest.fixture
def order(db):
    customer = CustomerFactory(email="Mei.Lin@Example.CN", phone="+8613800138123")
    return place(
        customer=customer,
        delivery=DeliveryDetails(
            recipient="林美",
            phone="+8613900139456",
            province="上海市",
            city="上海市",
            district="浦东新区",
            street="世纪大道 100 号",
        ),
    )


def lookup(client, number, contact, **extra):
    return client.post(URL, {"number": number, "contact": contact}, **extra)


def test_the_lookup_url_is_named():
    assert reverse("public_lookup") == URL


@pytest.mark.django_db
def test_form_is_shown_without_personal_data_and_not_indexed(client):
    response = client.get(URL, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    html = response.text
    assert "Find your order" in html
    assert 'name="csrfmiddlewaretoken"' in html
    assert '<label for="id_number">' in html and '<label for="id_contact">' in html
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert "no-store" in response["Cache-Control"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "contact",
    [
        "mei.lin@example.cn",  # email, any case
        "  MEI.LIN@EXAMPLE.CN ",
        "138 0013 8123",  # the customer's phone, national format
        "+86 138-0013-8123",
        "13900139456",  # the delivery phone
    ],
)
def test_matching_contact_redirects_to_the_status_page(client, order, contact):
    response = lookup(client, order.number, contact)
    assert response.status_code == 303
    assert response["Location"] == order.get_public_url()
    assert client.get(response["Location"]).status_code == 200


@pytest.mark.django_db
def test_number_typed_with_spaces_or_full_width_digits_is_found(client, order):
    spaced = order.number.replace("-", " - ")
    full_width = order.number.translate(str.maketrans("0123456789-", "０１２３４５６７８９－"))
    for number in (spaced, full_width):
        response = lookup(client, number, "13800138123")
        assert response.status_code == 303, number
        assert response["Location"] == order.get_public_url()


def normalized(response, *typed):
    """The page with what changes between any two renders taken out: the CSRF token
    (masked differently each time) and what the customer typed (echoed in the form)."""
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "CSRF", response.text)
    html = re.sub(r'"X-CSRFToken": "[^"]+"', "CSRF", html)
    for text in typed:
        html = html.replace(text, "TYPED")
    return html


@pytest.mark.django_db
def test_unknown_order_and_wrong_contact_get_the_same_answer(client, order):
    unknown_number = order.number[:-4] + ("0001" if order.number[-4:] != "0001" else "0002")
    unknown = lookup(client, unknown_number, "mei.lin@example.cn", HTTP_ACCEPT_LANGUAGE="en")
    wrong = lookup(client, order.number, "someone.else@example.cn", HTTP_ACCEPT_LANGUAGE="en")
    wrong_phone = lookup(client, order.number, "13700137000", HTTP_ACCEPT_LANGUAGE="en")
    assert unknown.status_code == wrong.status_code == wrong_phone.status_code == 404
    assert "We found no order with this number" in unknown.text
    assert normalized(unknown, unknown_number, "mei.lin@example.cn") == normalized(
        wrong, order.number, "someone.else@example.cn"
    )
    assert normalized(wrong, order.number, "someone.else@example.cn") == normalized(
        wrong_phone, order.number, "13700137000"
    )
    for response in (unknown, wrong, wrong_phone):
        assert "林美" not in response.text and "上海" not in response.text
        assert order.public_token not in response.text


@pytest.mark.django_db
def test_unknown_order_and_wrong_contact_do_the_same_work(client, order):
    unknown_number = order.number[:-4] + ("0001" if order.number[-4:] != "0001" else "0002")
    client.get(URL)  # sessions, CSRF cookie: out of the way before counting
    with CaptureQueriesContext(connection) as unknown:
        lookup(client, unknown_number, "mei.lin@example.cn")
    with CaptureQueriesContext(connection) as wrong:
        lookup(client, order.number, "other@example.cn")
    assert len(unknown.captured_queries) == len(wrong.captured_queries)
    shapes = [
        [re.sub(r"'[^']*'", "?", q["sql"]) for q in run.captured_queries]
        for run in (unknown, wrong)
    ]
    assert shapes[0] == shapes[1]


@pytest.mark.django_db
def test_a_customer_without_email_is_not_found_by_an_empty_or_made_up_one(client):
    customer = CustomerFactory(email="")
    order = place(customer=customer)
    assert lookup(client, order.number, "@").status_code == 404
    assert lookup(client, order.number, "nobody@example.cn").status_code == 404
    assert lookup(client, order.number, customer.phone).status_code == 303


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("number", "contact", "field"),
    [
        ("", "mei.lin@example.cn", "number"),
        ("12345", "mei.lin@example.cn", "number"),
        ("20261127-0001'; DROP TABLE", "x@example.cn", "number"),
        ("20261127-0001", "", "contact"),
        ("20261127-0001", "x" * 201, "contact"),
    ],
)
def test_incomplete_input_is_a_400_with_a_field_message(client, number, contact, field):
    response = lookup(client, number, contact, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert response.context["form"].errors[field]
    assert 'class="errorlist"' in response.text


@pytest.mark.django_db
def test_lookups_are_rate_limited_per_client_address(client, order, settings):
    settings.O2D_LOOKUP_RATE = "2/m"
    assert lookup(client, order.number, "wrong@example.cn").status_code == 404
    assert lookup(client, order.number, "wrong2@example.cn").status_code == 404
    # Past the limit even the right answer is refused, with a translated message.
    blocked = lookup(client, order.number, "mei.lin@example.cn", HTTP_ACCEPT_LANGUAGE="en")
    assert blocked.status_code == 429
    assert "Too many attempts" in blocked.text
    # Reading the form is not limited; another address is not limited.
    assert client.get(URL).status_code == 200
    other = lookup(client, order.number, "mei.lin@example.cn", REMOTE_ADDR="10.0.0.9")
    assert other.status_code == 303


@pytest.mark.django_db
def test_the_limit_lifts_when_its_window_has_passed(client, order, settings):
    settings.O2D_LOOKUP_RATE = "2/10m"
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        lookup(client, order.number, "wrong@example.cn")
        lookup(client, order.number, "wrong@example.cn")
        assert lookup(client, order.number, "mei.lin@example.cn").status_code == 429
        # django-ratelimit counts in fixed windows of the rate's length.
        clock.shift(60 * 10)
        assert lookup(client, order.number, "mei.lin@example.cn").status_code == 303


@pytest.mark.django_db
def test_pages_with_forms_let_browsers_send_their_origin(client, order):
    """With "Referrer-Policy: no-referrer" a browser posts with "Origin: null" and the
    CSRF check refuses every form; "same-origin" still hides the secret link from
    other sites (the carriers' tracking pages)."""
    for url in (URL, order.get_public_url()):
        assert client.get(url)["Referrer-Policy"] == "same-origin", url


@pytest.mark.django_db
def test_csrf_is_enforced(order):
    response = lookup(Client(enforce_csrf_checks=True), order.number, "mei.lin@example.cn")
    assert response.status_code == 403


@pytest.mark.django_db
def test_the_status_page_links_to_the_lookup(client, order_in):
    order = order_in(Status.CONFIRMED)
    assert f'href="{URL}"' in client.get(order.get_public_url()).text
