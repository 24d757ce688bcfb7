"""No input gives a 500: every public and staff form, and every search, is sent
hostile text in each field (see fuzz.py), signed in with the role that uses it. A 5xx
fails; so does a refusal (4xx) that changed a row, sent an email or stored a file.

Fixtures are built once per test and shared by its examples; each example runs in a
savepoint that is rolled back, so every example starts from the same order.
The carriers' webhook is fuzzed in test_webhook_input.py.
"""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orders import services as order_services
from orders.links import confirm_token
from orders.models import Channel, DeliveryWindow, Status
from orders.roles import Role
from tests.factories import ProductFactory, carrier, make_user, reviewer, stock_for

from .fuzz import (
    ABSENT,
    Fuzzer,
    field,
    form,
    fuzz_settings,
    hostile_text,
    hostile_upload,
    photo_upload,
    token,
)

pytestmark = [pytest.mark.django_db, pytest.mark.fuzz]

FUTURE = "2099-06-30"
PHONE = "+8613800138000"
anything = st.dictionaries(hostile_text(), hostile_text(), max_size=3)


@pytest.fixture
def fuzzer(client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    for name in ("O2D_ONLINE_ORDER_RATE", "O2D_LOOKUP_RATE", "O2D_RECEIPT_RATE"):
        setattr(settings, name, "100000/s")
    return Fuzzer(client, settings.MEDIA_ROOT)


@pytest.fixture
def as_role(client, users):
    """as_role("Sales") signs that role's user in (or the given user)."""

    def sign_in(role):
        user = users[role] if isinstance(role, str) else role
        client.force_login(user)
        return user

    return sign_in


@pytest.fixture
def admin_user(db):
    return make_user(None, username="fuzz-admin", is_superuser=True, is_staff=True)


# ---------------------------------------------------------------------------
# Orders in the states the forms act on


@pytest.fixture
def product(db):
    return ProductFactory()


@pytest.fixture
def placed(order_in):
    return order_in(Status.PLACED)


@pytest.fixture
def confirmed(order_in):
    return order_in(Status.CONFIRMED)


@pytest.fixture
def backordered(order_in):
    return order_in(Status.BACKORDERED)


@pytest.fixture
def shipped(order_in):
    return order_in(Status.SHIPPED)


@pytest.fixture
def delivered(order_in, users):
    return order_in(Status.DELIVERED, salesperson=users[Role.SALES])


@pytest.fixture
def unverified(order_in):
    return order_in(Status.PLACED, verified=False)


@pytest.fixture
def online_placed(order_in):
    return order_in(Status.PLACED, channel=Channel.ONLINE)


@pytest.fixture
def change(confirmed):
    """A customer's delivery change request waiting for Sales."""
    return order_services.request_delivery_change(confirmed.pk, window=DeliveryWindow.EVENING)


@pytest.fixture
def case(delivered):
    """An open problem case on a delivered order."""
    from feedback import services as feedback

    return feedback.report_problem(
        delivered.pk, kind="damaged", details="x", photos=[], key=token()
    )[0]


@pytest.fixture
def exception(shipped):
    """An open delivery exception (the parcel is delayed)."""
    from logistics import services as logistics

    logistics.record_event(shipped.shipments.get().pk, type="delayed")
    return shipped.exceptions.get()


@pytest.fixture
def stock_item(product):
    from warehouse.services import stock_item_for

    return stock_item_for(product)


@pytest.fixture
def acknowledged(confirmed, users):
    """A confirmed order whose stock is reserved, ready to pick."""
    from warehouse import services as warehouse

    stock_for(confirmed, extra=5)
    warehouse.acknowledge_order(confirmed.pk, by=users[Role.WAREHOUSE])
    return confirmed


@pytest.fixture
def restocked(backordered):
    """A backordered order whose goods have arrived."""
    stock_for(backordered)
    return backordered


@pytest.fixture
def picked(confirmed, users):
    from tests.factories import through_warehouse

    return through_warehouse(confirmed, by=users[Role.WAREHOUSE], pack=False, review=False)


@pytest.fixture
def packed(confirmed, users):
    from tests.factories import through_warehouse

    return through_warehouse(confirmed, by=users[Role.WAREHOUSE], review=False)


@pytest.fixture
def reviewed(order_in):
    """Packed, reviewed, and a carrier that can take it."""
    carrier()
    return order_in(Status.PICKED)


# ---------------------------------------------------------------------------
# Field sets shared by several forms


def address(**fields):
    """The delivery address fields of the staff order forms, each fuzzed."""
    valid = {
        "recipient": "王小明",
        "recipient_phone": PHONE,
        "province": "上海市",
        "city": "上海市",
        "district": "浦东新区",
        "street": "世纪大道 100 号",
        "postal_code": "200120",
        "requested_date": FUTURE,
        "requested_window": DeliveryWindow.ANY,
        "special_instructions": "请按门铃",
    }
    return {name: field(value) for name, value in {**valid, **fields}.items()}


def lines(product):
    """A line formset: its management form and its first line, fuzzed."""
    return {
        "lines-TOTAL_FORMS": field("1", "4", "31", "100000"),
        "lines-INITIAL_FORMS": field("0"),
        "lines-MIN_NUM_FORMS": field("0"),
        "lines-MAX_NUM_FORMS": field("1000"),
        "lines-0-product": field(str(product.pk), "999999"),
        "lines-0-quantity": field("2", "100001"),
    }


ACTIONS = ["confirm", "cancel", "backorder", "release_backorder", "close", "hold"]


def action_post(action, expected_status):
    return form(
        action=field(action, *ACTIONS),
        expected_status=field(expected_status, *Status.values),
        note=field("客户电话确认"),
        promised_date=field(FUTURE, ""),
        method=field("phone", "email"),
        agreed=field("下周送货"),
    )


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
# Sales


@fuzz_settings
@given(data=st.data())
def test_phone_and_email_order_intake(fuzzer, as_role, product, data):
    as_role(Role.SALES)
    post = form(
        token=field(token()),
        channel=field(Channel.PHONE, Channel.EMAIL),
        customer_name=field("王小明"),
        customer_phone=field(PHONE),
        customer_email=field("wang@example.cn", ""),
        original_text=field("", "From: wang@example.cn"),
        original_file=st.one_of(st.just(ABSENT), hostile_upload()),
        **address(),
        **lines(product),
    )
    fuzzer.post("/orders/new/", data.draw(post), files=True)


@fuzz_settings
@given(data=st.data())
def test_order_edit(fuzzer, as_role, placed, data):
    as_role(Role.SALES)
    product = placed.lines.first().product
    fuzzer.post(f"/orders/{placed.number}/edit/", data.draw(form(**address(), **lines(product))))


@fuzz_settings
@given(data=st.data())
def test_verification(fuzzer, as_role, unverified, data):
    as_role(Role.SALES)
    post = form(
        contact=field("on"), address=field("on"), method=field("phone", "email"), note=field("")
    )
    fuzzer.post(f"/orders/{unverified.number}/verify/", data.draw(post))


@fuzz_settings
@given(data=st.data())
def test_confirmation(fuzzer, as_role, placed, data):
    as_role(Role.SALES)
    fuzzer.post(f"/orders/{placed.number}/action/", data.draw(action_post("confirm", "placed")))


@fuzz_settings
@given(data=st.data())
def test_comment(fuzzer, as_role, confirmed, data):
    as_role(Role.WAREHOUSE)
    post = form(text=field("货架 A3 缺货"))
    fuzzer.post(f"/orders/{confirmed.number}/comment/", data.draw(post))


@fuzz_settings
@given(data=st.data())
def test_new_delivery_date(fuzzer, as_role, backordered, data):
    as_role(Role.SALES)
    post = form(date=field(FUTURE), method=field("phone", "email"), agreed=field(""))
    fuzzer.post(f"/orders/{backordered.number}/new-date/", data.draw(post))


@fuzz_settings
@given(data=st.data())
def test_partial_delivery(fuzzer, as_role, backordered, data):
    as_role(Role.SALES)
    fuzzer.post(f"/orders/{backordered.number}/partial/", data.draw(form(note=field("先发"))))


@fuzz_settings
@given(data=st.data())
def test_delivery_change_decision(fuzzer, as_role, confirmed, change, data):
    as_role(Role.SALES)
    post = form(decision=field("approve", "refuse"), reason=field("", "快递不送晚上"))
    fuzzer.post(f"/orders/{confirmed.number}/change-requests/{change.pk}/", data.draw(post))


@fuzz_settings
@given(data=st.data())
def test_receipt_by_phone(fuzzer, as_role, delivered, data):
    as_role(Role.SALES)
    post = form(note=field("客户电话确认收货"))
    fuzzer.post(f"/feedback/orders/{delivered.number}/receipt/", data.draw(post))


@fuzz_settings
@given(data=st.data())
def test_problem_case_resolution(fuzzer, as_role, case, data):
    as_role(Role.SALES)
    post = form(resolution=field("已补发"))
    fuzzer.post(f"/feedback/cases/{case.pk}/resolve/", data.draw(post))


# ---------------------------------------------------------------------------
# Warehouse


@fuzz_settings
@given(post=anything)
def test_acknowledge(fuzzer, as_role, confirmed, post):
    as_role(Role.WAREHOUSE)
    fuzzer.post(f"/warehouse/orders/{confirmed.number}/acknowledge/", post)


@fuzz_settings
@given(post=anything)
def test_reserve_after_a_shortage(fuzzer, as_role, restocked, post):
    as_role(Role.WAREHOUSE)
    fuzzer.post(f"/warehouse/orders/{restocked.number}/reserve/", post)


@fuzz_settings
@given(data=st.data())
def test_pick_scan(fuzzer, as_role, acknowledged, data):
    as_role(Role.WAREHOUSE)
    line = acknowledged.lines.first()
    post = form(
        sku=field(line.sku, line.sku.lower(), f" {line.sku} "),
        quantity=field("1", str(line.quantity), "100000"),
        line=field(str(line.pk), "", "999999"),
    )
    fuzzer.post(f"/warehouse/orders/{acknowledged.number}/scan/", data.draw(post))


@fuzz_settings
@given(data=st.data())
def test_pick_discrepancy(fuzzer, as_role, acknowledged, data):
    as_role(Role.WAREHOUSE)
    line = acknowledged.lines.first()
    post = form(
        line=field(str(line.pk), "999999"),
        kind=field("damaged", "not_found"),
        quantity=field("1", "100000"),
        note=field(""),
    )
    fuzzer.post(f"/warehouse/orders/{acknowledged.number}/discrepancy/", data.draw(post))


@fuzz_settings
@given(data=st.data())
def test_pack(fuzzer, as_role, picked, data):
    as_role(Role.WAREHOUSE)
    post = form(
        weight_kg=field("1.5", "0.0005", "1000.001", "1e3"),
        length_cm=field("30", "401"),
        width_cm=field("20", "65536"),
        height_cm=field("10", "-1"),
    )
    fuzzer.post(f"/warehouse/orders/{picked.number}/packages/", data.draw(post))


@fuzz_settings
@given(post=anything)
def test_finish_packing(fuzzer, as_role, picked, post):
    as_role(Role.WAREHOUSE)
    fuzzer.post(f"/warehouse/orders/{picked.number}/packed/", post)


@fuzz_settings
@given(data=st.data())
def test_review(fuzzer, as_role, packed, data):
    as_role(reviewer())
    post = form(result=field("pass", "fail"), notes=field("", "少了一件"))
    fuzzer.post(f"/warehouse/orders/{packed.number}/review/", data.draw(post))


@fuzz_settings
@given(data=st.data())
def test_stock_receipts_and_adjustments(fuzzer, as_role, stock_item, data):
    as_role(Role.WAREHOUSE)
    post = form(
        kind=field("receive", "add", "remove"),
        quantity=field("5", "1000000", "1000001"),
        reason=field("", "盘点"),
    )
    fuzzer.post(f"/warehouse/stock/{stock_item.pk}/", data.draw(post))


# ---------------------------------------------------------------------------
# Logistics and Finance


@fuzz_settings
@given(data=st.data())
def test_shipping(fuzzer, as_role, reviewed, data):
    from logistics import services as logistics

    as_role(Role.LOGISTICS)
    packages = logistics.unshipped_packages(reviewed)
    service = logistics.carrier_options(reviewed, packages)[0].service
    line = reviewed.lines.first()
    post = form(
        service=field(str(service.pk), "999999"),
        packages=field([str(p.pk) for p in packages], "999999"),
        tracking_number=field("", "TE0000000000", "TE1234567897"),
        reason=field(""),
        **{f"line_{line.pk}": field(str(line.quantity), "0", "100001")},
    )
    fuzzer.post(f"/logistics/orders/{reviewed.number}/ship/", data.draw(post))


@fuzz_settings
@given(data=st.data())
def test_manual_tracking_event(fuzzer, as_role, shipped, data):
    as_role(Role.LOGISTICS)
    shipment = shipped.shipments.get()
    post = form(
        type=field("in_transit", "delayed", "delivered", "lost"),
        happened_at=field("", "2026-01-01T10:00"),
        location=field("杭州"),
        description=field(""),
    )
    url = f"/logistics/orders/{shipped.number}/shipments/{shipment.pk}/events/"
    fuzzer.post(url, data.draw(post))


@fuzz_settings
@given(data=st.data())
def test_delivery_exception_resolution(fuzzer, as_role, shipped, exception, data):
    as_role(Role.LOGISTICS)
    post = form(resolution=field("redeliver", "none"), note=field("已联系快递"))
    url = f"/logistics/orders/{shipped.number}/exceptions/{exception.pk}/resolve/"
    fuzzer.post(url, data.draw(post))


@fuzz_settings
@given(data=st.data())
def test_finance_close(fuzzer, as_role, delivered, data):
    as_role(Role.FINANCE)
    post = data.draw(action_post("close", "delivered"))
    fuzzer.post(f"/orders/{delivered.number}/action/", post)


@fuzz_settings
@given(data=st.data())
def test_admin_transition(fuzzer, as_role, admin_user, placed, data):
    as_role(admin_user)
    post = data.draw(action_post("confirm", "placed"))
    fuzzer.post(f"/admin/orders/order/{placed.pk}/transition/", post)


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


# ---------------------------------------------------------------------------
# Searches and filters (query strings)


@fuzz_settings
@given(data=st.data())
def test_order_list_filters(fuzzer, as_role, confirmed, data):
    as_role(Role.SALES)
    query = form(
        q=field("王"),
        status=field("", "placed"),
        channel=field("", "phone"),
        date_from=field("", "2026-01-01"),
        date_to=field("", FUTURE),
        page=field("1", "2", "-1", "last"),
    )
    fuzzer.get("/orders/", data.draw(query))


@fuzz_settings
@given(data=st.data())
def test_customer_lookup(fuzzer, as_role, placed, data):
    as_role(Role.SALES)
    query = form(
        customer_phone=field(placed.customer.phone, "138"),
        customer_email=field(placed.customer.email),
        customer_name=field("王小"),
    )
    fuzzer.get("/customers/lookup/", data.draw(query))


@fuzz_settings
@given(data=st.data())
def test_stock_search(fuzzer, as_role, product, data):
    as_role(Role.WAREHOUSE)
    fuzzer.get("/warehouse/stock/", data.draw(form(q=field(product.sku, "SKU"))))


@fuzz_settings
@given(data=st.data())
def test_batch_pick_list(fuzzer, as_role, acknowledged, data):
    as_role(Role.WAREHOUSE)
    query = form(orders=field(acknowledged.number, f"{acknowledged.number},x"))
    fuzzer.get("/warehouse/pick-list/", data.draw(query))


DASHBOARDS = [
    ("/sales/", Role.SALES),
    ("/manager/", Role.MANAGER),
    ("/warehouse/", Role.WAREHOUSE),
    ("/logistics/", Role.LOGISTICS),
    ("/finance/", Role.FINANCE),
    ("/logistics/problems/", Role.LOGISTICS),
    ("/feedback/", Role.SALES),
    ("/process/", Role.SALES),
]


@fuzz_settings
@given(page=st.sampled_from(DASHBOARDS), query=anything)
def test_dashboards_ignore_their_query(fuzzer, as_role, page, query):
    url, role = page
    as_role(role)
    fuzzer.get(url, query)


ADMIN_LISTS = [
    "/admin/orders/order/",
    "/admin/orders/customer/",
    "/admin/orders/orderevent/",
    "/admin/orders/followup/",
    "/admin/warehouse/stockitem/",
    "/admin/logistics/shipment/",
    "/admin/feedback/problemcase/",
]


@fuzz_settings
@given(url=st.sampled_from(ADMIN_LISTS), data=st.data())
def test_admin_searches(fuzzer, as_role, admin_user, placed, url, data):
    as_role(admin_user)
    fuzzer.get(url, data.draw(form(q=field("王"), p=field("1"), o=field("1"))))


@fuzz_settings
@given(data=st.data())
def test_customer_choice_at_verification(fuzzer, as_role, placed, data):
    as_role(Role.SALES)
    other = placed.customer.pk
    post = form(customer=field("separate", str(other), "²", "١", "0", "9" * 19))
    fuzzer.post(f"/orders/{placed.number}/customer/", data.draw(post))


# ---------------------------------------------------------------------------
# The harness itself


def test_snapshot_sees_inserts_and_updates(placed):
    from orders.models import Order, OrderEvent

    from .fuzz import snapshot

    before = snapshot()
    Order.objects.filter(pk=placed.pk).update(special_instructions="changed")
    after_update = snapshot()
    OrderEvent.objects.create(order=placed, kind="comment", code="comment", note="x")
    after_insert = snapshot()
    table = Order._meta.db_table
    assert before[table] != after_update[table]
    assert after_update[OrderEvent._meta.db_table] != after_insert[OrderEvent._meta.db_table]


def test_fuzzer_sends_bytes_as_given(fuzzer, as_role, placed):
    as_role(Role.SALES)
    response = fuzzer.get("/orders/", {"q": b"\xff\xfe", "status": "\ud800"})
    assert response.status_code == 400  # the status is not a choice; nothing crashed
    assert response.wsgi_request.GET["q"] == "\ufffd\ufffd"


# ---------------------------------------------------------------------------
# The inputs that gave a 500 before, as plain examples


def english(response):
    return response.content.decode()


def test_nul_in_customer_lookup_is_400_with_a_message(client, users):
    client.force_login(users[Role.SALES])
    for query in ("customer_name=a%00b", "customer_email=%40%00", "customer_phone=%00"):
        response = client.get(f"/customers/lookup/?{query}", HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 400
        assert "Null characters are not allowed." in english(response)
        assert 'role="alert"' in english(response)


def test_customer_lookup_still_cuts_overlong_text(client, users, placed):
    client.force_login(users[Role.SALES])
    response = client.get("/customers/lookup/", {"customer_name": placed.customer.name * 100})
    assert response.status_code == 200


def test_nul_in_stock_search_is_400_with_the_page(client, users, stock_item):
    client.force_login(users[Role.WAREHOUSE])
    response = client.get("/warehouse/stock/?q=%00", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    html = english(response)
    assert "<h1>Stock</h1>" in html
    assert "Null characters are not allowed." in html
    assert "Correct the search to see the stock." in html
    assert stock_item.product.sku not in html


def test_stock_search_still_finds_by_sku(client, users, stock_item):
    client.force_login(users[Role.WAREHOUSE])
    response = client.get("/warehouse/stock/", {"q": f"  {stock_item.product.sku}  "})
    assert response.status_code == 200
    assert f'id="stock-{stock_item.pk}"' in english(response)


def test_unreadable_batch_pick_list_is_400_not_every_order(client, users, acknowledged):
    client.force_login(users[Role.WAREHOUSE])
    response = client.get("/warehouse/pick-list/?orders=%00", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    html = english(response)
    assert "This list of order numbers cannot be read:" in html
    assert acknowledged.number not in html


def test_nul_in_partial_delivery_note_is_400_and_records_nothing(client, users, backordered):
    client.force_login(users[Role.SALES])
    response = client.post(
        f"/orders/{backordered.number}/partial/",
        {"note": "a\x00b"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 400
    assert "Null characters are not allowed." in english(response)
    backordered.refresh_from_db()
    assert backordered.partial_agreed_at is None
    assert not backordered.events.filter(code="partial_agreed").exists()


def test_unicode_digits_as_customer_choice_are_refused(client, users, placed):
    client.force_login(users[Role.SALES])
    response = client.post(
        f"/orders/{placed.number}/customer/", {"customer": "²"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 400
    assert "Choose a customer, or keep the order separate." in english(response)


def test_a_forged_line_count_is_refused_without_building_the_lines(client, users, product):
    client.force_login(users[Role.SALES])
    post = {
        "token": token(),
        "channel": "phone",
        "customer_name": "王小明",
        "customer_phone": PHONE,
        "province": "上海市",
        "city": "上海市",
        "street": "世纪大道 100 号",
        "requested_window": "any",
        "lines-TOTAL_FORMS": "100000",
        "lines-INITIAL_FORMS": "0",
        "lines-0-product": str(product.pk),
        "lines-0-quantity": "1",
    }
    response = client.post("/orders/new/", post, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert len(response.context["lines"].forms) == 30
    assert "Please submit at most 30 forms." in english(response)


@pytest.mark.parametrize("url", ["/accounts/login/", "/admin/login/"])
def test_an_overlong_username_is_refused_not_a_500(client, url):
    response = client.post(url, {"username": "x" * 256, "password": "wrong"})
    assert response.status_code < 500
