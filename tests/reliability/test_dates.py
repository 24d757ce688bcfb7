"""No date breaks an order (issue 9, point 2).

Every date and time that enters the system is checked against a sane range for its
meaning (orders.validators), refused with a clear message, a 4xx and nothing written;
and the pages still answer when absurd dates are already stored (orders.db_dates).
"""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone, translation

from logistics import services as logistics
from logistics.models import TrackingEvent
from orders import db_dates, validators
from orders.forms import DeliveryForm, NewDateForm, OnlineOrderForm, TransitionForm
from orders.models import DeliveryPromise, FollowUp, Order, OrderEvent, Status
from orders.roles import Role
from tests.factories import ProductFactory, place
from tests.orders.test_changes import edit_data
from tests.orders.test_online_order import form_data

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
FAR = "Choose a delivery date within the coming year"


def local(moment: datetime) -> str:
    """``moment`` as a browser's datetime-local field sends it (business time zone)."""
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def too_far() -> date:
    return validators.one_year_after(timezone.localdate()) + timedelta(days=1)


# ---------------------------------------------------------------------------
# Pages render whatever is already stored


def store_legacy_event(shipment, when: str):
    """A tracking event dated ``when`` (SQL literal) as the old code stored it: the
    event, its line on the order's timeline, and the delivery time of the shipment.
    The timeline refuses UPDATE, so its row is inserted as a copy."""
    logistics.record_event(shipment.pk, type="delivered", location="上海")
    columns = [
        f.column for f in OrderEvent._meta.concrete_fields if f.column not in ("id", "created_at")
    ]
    names = ", ".join(columns)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE logistics_trackingevent SET happened_at = %s", [when])
        cursor.execute("UPDATE logistics_shipment SET delivered_at = %s", [when])
        cursor.execute(
            f"INSERT INTO orders_orderevent ({names}, created_at) "
            f"SELECT {names}, %s FROM orders_orderevent WHERE code = 'tracking'",
            [when],
        )


@pytest.mark.django_db
@pytest.mark.parametrize(
    "when",
    [
        # 0001-01-01 00:00 entered in Shanghai time (LMT +08:05:43) is 1 BC in UTC:
        # reading it failed with "year -1 is out of range".
        "0001-01-01 00:00:00+08:05:43",
        "9999-12-31 23:59:59+00",  # fine in UTC, out of range in Shanghai time
        "infinity",
    ],
)
def test_pages_answer_200_with_an_absurd_event_date_stored(client, users, order_in, when):
    order = order_in(Status.SHIPPED)
    store_legacy_event(order.shipments.get(), when)
    pages = [
        (Role.SALES, f"/orders/{order.number}/"),
        (Role.WAREHOUSE, f"/warehouse/orders/{order.number}/"),
        (Role.LOGISTICS, f"/logistics/orders/{order.number}/"),
        (Role.LOGISTICS, "/logistics/"),
        (Role.SALES, "/sales/"),
        (None, order.get_public_url()),
    ]
    for role, url in pages:
        client.logout()
        if role:
            client.force_login(users[role])
        assert client.get(url, **EN).status_code == 200, url


@pytest.mark.django_db
def test_absurd_stored_dates_are_read_as_the_nearest_showable_ones():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT '0044-03-15 12:00 BC'::timestamptz, '10000-01-01 00:00+00'::timestamptz,"
            " 'infinity'::timestamptz, '9999-12-31 23:00+00'::timestamptz,"
            " '2026-05-01 10:30+00'::timestamptz, '0100-01-01 BC'::date, 'infinity'::date,"
            " '2026-05-01'::date, NULL::timestamptz"
        )
        row = cursor.fetchone()
    first, last = db_dates.FIRST_READABLE_TIME, db_dates.LAST_READABLE_TIME
    assert row[:4] == (first, last, last, last)
    assert row[4] == datetime(2026, 5, 1, 10, 30, tzinfo=UTC)
    assert row[5:] == (
        db_dates.FIRST_READABLE_DATE,
        db_dates.LAST_READABLE_DATE,
        date(2026, 5, 1),
        None,
    )
    for value in (first, last):
        timezone.localtime(value)  # shown in local time without an OverflowError
        value + timedelta(days=365)


# ---------------------------------------------------------------------------
# The range checks themselves


def test_a_delivery_date_is_from_today_to_one_year_ahead():
    today = date(2026, 2, 28)
    assert validators.check_delivery_date(today, today=today) == today
    assert validators.check_delivery_date(date(2027, 2, 28), today=today)
    for bad in (date(2026, 2, 27), date(2027, 3, 1), date(1, 1, 1), date(9999, 12, 31)):
        with pytest.raises(ValidationError):
            validators.check_delivery_date(bad, today=today)
    # From 29 February, a year ahead is 28 February.
    assert validators.one_year_after(date(2028, 2, 29)) == date(2029, 2, 28)


def test_a_tracking_time_is_between_the_hand_over_and_now_give_or_take_the_tolerance():
    now = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
    shipped = now - timedelta(hours=5)
    slack = validators.CLOCK_TOLERANCE
    assert slack == timedelta(minutes=10)
    ok = [now, now + slack - timedelta(minutes=1), shipped, shipped - slack + timedelta(minutes=1)]
    for value in ok:
        validators.check_tracking_time(value, shipped_at=shipped, now=now)
    bad = [
        now + slack + timedelta(minutes=1),
        shipped - slack - timedelta(minutes=1),
        datetime(1, 1, 1, tzinfo=UTC),
        datetime(9999, 12, 31, 23, 59, tzinfo=UTC),
        timezone.make_aware(datetime(1, 1, 1)),  # no UTC equivalent
    ]
    for value in bad:
        with pytest.raises(ValidationError):
            validators.check_tracking_time(value, shipped_at=shipped, now=now)
    with pytest.raises(ValidationError):  # without a shipment: not before the year 2000
        validators.check_tracking_time(datetime(1999, 12, 31, tzinfo=UTC), now=now)


# ---------------------------------------------------------------------------
# Logistics: a tracking event entered by hand


@pytest.fixture
def shipped(order_in):
    """A shipment handed to the carrier two hours ago."""
    order = order_in(Status.SHIPPED)
    shipment = order.shipments.get()
    type(shipment).objects.filter(pk=shipment.pk).update(
        shipped_at=timezone.now() - timedelta(hours=2)
    )
    shipment.refresh_from_db()
    return shipment


def post_event(client, shipment, happened_at):
    url = f"/logistics/orders/{shipment.order.number}/shipments/{shipment.pk}/events/"
    data = {"type": "in_transit", "happened_at": happened_at, "location": "测试站"}
    return client.post(url, data, **EN)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "happened_at, message",
    [
        ("0001-01-01T00:00", "This date is too far in the past"),
        ("9999-12-31T23:59", "This time is in the future"),
        ("in an hour", "This time is in the future"),
        ("before the hand-over", "before the shipment was handed to the carrier"),
        ("2026-02-30T10:00", "Enter a valid date/time."),
        ("2026-01-01T25:00", "Enter a valid date/time."),
        ("10000-01-01T00:00", "Enter a valid date/time."),
    ],
)
def test_tracking_event_form_refuses_impossible_times(client, users, shipped, happened_at, message):
    if happened_at == "in an hour":
        happened_at = local(timezone.now() + timedelta(hours=1))
    elif happened_at == "before the hand-over":
        happened_at = local(shipped.shipped_at - timedelta(hours=1))
    client.force_login(users[Role.LOGISTICS])
    response = post_event(client, shipped, happened_at)
    assert response.status_code == 400
    assert message in response.text
    assert not TrackingEvent.objects.filter(location="测试站").exists()
    page = client.get(f"/logistics/orders/{shipped.order.number}/", **EN)
    assert page.status_code == 200


@pytest.mark.django_db
def test_tracking_event_form_takes_a_time_since_the_hand_over(client, users, shipped):
    client.force_login(users[Role.LOGISTICS])
    when = timezone.now() - timedelta(hours=1)
    response = post_event(client, shipped, local(when))
    assert response.status_code == 302
    event = TrackingEvent.objects.get(location="测试站")
    assert abs(event.happened_at - when) < timedelta(minutes=1)


@pytest.mark.django_db
def test_the_service_refuses_a_time_no_event_can_have(shipped):
    for when in (datetime(1, 1, 1, tzinfo=UTC), timezone.now() + timedelta(days=1)):
        with pytest.raises(logistics.ShippingError):
            logistics.record_event(shipped.pk, type="in_transit", happened_at=when)
    assert not TrackingEvent.objects.exists()


# ---------------------------------------------------------------------------
# Sales and customers: delivery dates


@pytest.mark.django_db
@pytest.mark.parametrize("requested", ["too far", "9999-12-31", "0001-01-01"])
def test_online_order_refuses_a_delivery_date_outside_the_coming_year(client, requested):
    product = ProductFactory()
    if requested == "too far":
        requested = too_far().isoformat()
    response = client.post("/order/", form_data(product, requested_date=requested), **EN)
    assert response.status_code == 400
    assert not Order.objects.exists()
    assert FAR in response.text or "cannot be in the past" in response.text


@pytest.mark.django_db
def test_online_order_takes_a_delivery_date_a_year_ahead(client):
    product = ProductFactory()
    last = validators.one_year_after(timezone.localdate()).isoformat()
    response = client.post("/order/", form_data(product, requested_date=last))
    assert response.status_code == 302
    assert Order.objects.get().requested_date.isoformat() == last


@pytest.mark.django_db
@pytest.mark.parametrize("requested", ["9999-12-31", "0001-01-01"])
def test_order_edit_refuses_an_absurd_requested_date(client, users, requested):
    order = place()
    client.force_login(users[Role.SALES])
    response = client.post(
        f"/orders/{order.number}/edit/", edit_data(order, requested_date=requested), **EN
    )
    assert response.status_code == 400
    assert FAR in response.text or "cannot be in the past" in response.text
    order.refresh_from_db()
    assert order.requested_date is None
    assert not order.events.filter(code="changed").exists()


def test_an_unchanged_requested_date_may_stay_even_once_passed():
    old = timezone.localdate() - timedelta(days=3)
    data = {"province": "上海市", "city": "上海市", "street": "路 1 号", "requested_window": "any"}
    form = DeliveryForm(
        {**data, "requested_date": old.isoformat()}, initial={"requested_date": old}
    )
    assert form.is_valid(), form.errors
    form = DeliveryForm({**data, "requested_date": old.isoformat()})
    assert not form.is_valid()


@pytest.mark.django_db
def test_confirmation_refuses_a_promised_date_beyond_a_year(client, users):
    order = place()
    client.force_login(users[Role.SALES])
    data = {"action": "confirm", "expected_status": "placed", "promised_date": "9999-12-31"}
    response = client.post(f"/orders/{order.number}/action/", data, **EN)
    assert response.status_code == 400
    assert FAR in response.text
    order.refresh_from_db()
    assert order.status == Status.PLACED and order.promised_date is None
    assert not DeliveryPromise.objects.exists()


@pytest.mark.django_db
def test_admin_confirmation_refuses_a_promised_date_beyond_a_year(admin_client):
    order = place()
    data = {"action": "confirm", "expected_status": "placed", "promised_date": "9999-12-31"}
    url = f"/admin/orders/order/{order.pk}/transition/"
    response = admin_client.post(url, data, follow=True, **EN)
    assert FAR in response.text
    order.refresh_from_db()
    assert order.status == Status.PLACED and not DeliveryPromise.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("new_date", ["9999-12-31", "0001-01-01", "too far"])
def test_new_delivery_date_outside_the_coming_year_is_refused(client, users, order_in, new_date):
    order = order_in(Status.CONFIRMED)
    promises = DeliveryPromise.objects.count()
    if new_date == "too far":
        new_date = too_far().isoformat()
    client.force_login(users[Role.SALES])
    data = {"date": new_date, "method": "phone"}
    response = client.post(f"/orders/{order.number}/new-date/", data, **EN)
    assert response.status_code == 400
    assert FAR in response.text or "cannot be in the past" in response.text
    assert DeliveryPromise.objects.count() == promises


def test_every_delivery_date_form_uses_the_same_range():
    far = too_far().isoformat()
    forms = [
        NewDateForm({"date": far, "method": "phone"}),
        TransitionForm({"action": "confirm", "expected_status": "placed", "promised_date": far}),
        OnlineOrderForm({"requested_date": far}, products=[]),
        DeliveryForm({"requested_date": far}),
    ]
    for form in forms:
        with translation.override("en"):
            form.is_valid()
            errors = form.errors.get("date") or form.errors.get("promised_date")
            errors = errors or form.errors.get("requested_date")
            assert errors and any("coming year" in str(e) for e in errors), type(form).__name__


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["date_from=0001-01-01", "date_to=9999-12-31"])
def test_order_search_refuses_absurd_dates(client, users, query):
    client.force_login(users[Role.SALES])
    response = client.get(f"/orders/?{query}", **EN)
    assert response.status_code == 400
    assert "Enter a date between 2000-01-01 and" in response.text
    assert client.get("/orders/?date_from=2026-01-01", **EN).status_code == 200


# ---------------------------------------------------------------------------
# Admin: a follow-up's due time


@pytest.mark.django_db
@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
def test_admin_refuses_an_absurd_follow_up_due_time(admin_client, day):
    order = place()
    due = timezone.now() + timedelta(hours=4)
    follow_up = FollowUp.objects.create(
        order=order, step="confirmation", step_started_at=order.placed_at, due_at=due
    )
    url = f"/admin/orders/followup/{follow_up.pk}/change/"
    response = admin_client.post(url, {"assignee": "", "due_at_0": day, "due_at_1": "00:00"}, **EN)
    assert response.status_code == 200  # the admin shows its form again
    assert "Choose a time between now and one year from now." in response.text
    follow_up.refresh_from_db()
    assert follow_up.due_at == due
