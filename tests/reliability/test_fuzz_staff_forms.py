"""No input gives a 500: every staff form (Sales, Warehouse, Logistics, Finance and the
admin transition) is sent hostile text in each field (see fuzz.py), signed in with the
role that uses it. A 5xx fails; so does a refusal (4xx) that changed a row, sent an
email or stored a file.

Fixtures are built once per test and shared by its examples; each example runs in a
savepoint that is rolled back, so every example starts from the same order.
The fuzzer and the orders several modules use are in conftest.py.
"""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orders import services as order_services
from orders.models import Channel, DeliveryWindow, Status
from orders.roles import Role
from tests.factories import carrier, reviewer, stock_for

from .fuzz import ABSENT, FUTURE, PHONE, anything, field, form, fuzz_settings, hostile_upload, token

pytestmark = [pytest.mark.django_db, pytest.mark.fuzz]


# ---------------------------------------------------------------------------
# Orders in the states the forms act on (the ones other modules use: conftest.py)


@pytest.fixture
def shipped(order_in):
    return order_in(Status.SHIPPED)


@pytest.fixture
def unverified(order_in):
    return order_in(Status.PLACED, verified=False)


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
