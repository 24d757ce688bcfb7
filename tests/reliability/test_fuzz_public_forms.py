"""No input gives a 500: every public form (online order, order tracking, delivery
change request, receipt, problem report, confirmation link, signing in) is sent hostile
text in each field (see fuzz.py). A 5xx fails; so does a refusal (4xx) that changed a
row, sent an email or stored a file.

Fixtures are built once per test and shared by its examples; each example runs in a
savepoint that is rolled back, so every example starts from the same order.
The fuzzer and the orders several modules use are in conftest.py.
The carriers' webhook is fuzzed in test_webhook_input.py.
"""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orders.links import confirm_token
from orders.models import Channel, DeliveryWindow, Status
from orders.roles import Role

from .fuzz import (
    ABSENT,
    FUTURE,
    PHONE,
    anything,
    field,
    form,
    fuzz_settings,
    hostile_upload,
    photo_upload,
    token,
)

pytestmark = [pytest.mark.django_db, pytest.mark.fuzz]


@pytest.fixture
def online_placed(order_in):
    return order_in(Status.PLACED, channel=Channel.ONLINE)


# ---------------------------------------------------------------------------
# Public forms


def online_order_post(product):
    return form(
        token=field(token()),
        website=field(""),
        name=field("王小明"),
        country=field("CN", "US", "XX"),
        phone=field(PHONE),
        email=field("wang@example.cn"),
        province=field("上海市"),
        city=field("上海市"),
        district=field(""),
        street=field("世纪大道 100 号"),
        postal_code=field("200120"),
        requested_date=field(FUTURE),
        requested_window=field(DeliveryWindow.ANY),
        special_instructions=field(""),
        **{f"qty_{product.pk}": field("2", "100001"), "qty_999999": field(ABSENT, "1")},
    )


@fuzz_settings
@given(data=st.data(), files=st.booleans())
def test_online_order(fuzzer, product, data, files):
    fuzzer.post("/order/", data.draw(online_order_post(product)), files=files)


@fuzz_settings
@given(data=st.data())
def test_track_lookup(fuzzer, confirmed, data):
    post = form(
        number=field(confirmed.number, f" {confirmed.number} ", "２０２６１１２７－００４２"),
        contact=field(confirmed.customer.email, confirmed.customer.phone, "138 0013 8000"),
    )
    fuzzer.post("/track/", data.draw(post))


@fuzz_settings
@given(data=st.data())
def test_delivery_change_request(fuzzer, confirmed, data):
    post = form(
        requested_window=field(DeliveryWindow.EVENING, ""),
        instructions=field("放在前台"),
        province=field(""),
        city=field(""),
        district=field(""),
        street=field("", "人民路 1 号"),
        postal_code=field(""),
        recipient=field(""),
        phone=field("", PHONE),
    )
    fuzzer.post(f"{confirmed.get_public_url()}change/", data.draw(post))


@fuzz_settings
@given(post=anything)
def test_receipt_confirmation(fuzzer, delivered, post):
    url = f"/feedback/status/{delivered.number}/{delivered.public_token}/received/"
    fuzzer.post(url, post)


@fuzz_settings
@given(data=st.data())
def test_problem_report(fuzzer, delivered, data):
    post = form(
        token=field(token()),
        kind=field("damaged", "missing"),
        details=field("盒子压坏了"),
        photos=st.one_of(
            st.just(ABSENT),
            st.lists(st.one_of(photo_upload(), hostile_upload()), max_size=6),
        ),
    )
    url = f"/feedback/status/{delivered.number}/{delivered.public_token}/problem/"
    fuzzer.post(url, data.draw(post), files=True)


@fuzz_settings
@given(data=st.data())
def test_customer_confirmation_link(fuzzer, online_placed, data):
    link = data.draw(
        st.one_of(
            st.just(confirm_token(online_placed)),
            st.from_regex(r"[A-Za-z0-9_\-:.]{10,300}", fullmatch=True),
        )
    )
    fuzzer.post(f"/confirm/{link}/", data.draw(form(answer=field("confirm", "callback"))))


# ---------------------------------------------------------------------------
# Signing in


# Found by this test: a username longer than 255 characters was a 500 (DataError), as
# django-axes stores it in a 255-character column (o2d.views.axes_username cuts it).
@fuzz_settings
@given(data=st.data())
def test_login(fuzzer, users, data):
    post = form(
        username=field(users[Role.SALES].username),
        password=field("pw-for-tests"),
        next=field(ABSENT, "/orders/", "//evil.example/"),
    )
    fuzzer.post("/accounts/login/", data.draw(post))


@fuzz_settings
@given(query=form(next=field("/orders/", "//evil.example/")))
def test_login_page(fuzzer, query):
    fuzzer.get("/accounts/login/", query)
