"""Whatever a correctly signed carrier sends, the webhook never answers 5xx (issue 9,
point 5): a body it cannot take is a 400 with a JSON error, and nothing is written."""

import json
import time
from datetime import UTC, datetime, timedelta
from datetime import timezone as fixed_zone

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from logistics import webhooks
from logistics.models import EventType, Shipment, TrackingEvent
from orders.models import Notification, OrderEvent, Status
from orders.validators import CLOCK_TOLERANCE


@pytest.fixture
def shipment(order_in):
    """Handed to the carrier an hour ago."""
    shipment = order_in(Status.SHIPPED).shipments.get()
    shipment.shipped_at = timezone.now() - timedelta(hours=1)
    Shipment.objects.filter(pk=shipment.pk).update(shipped_at=shipment.shipped_at)
    return shipment


def tracking_event(shipment, **fields):
    """One valid event (ten minutes ago), with ``fields`` replaced."""
    when = timezone.now() - timedelta(minutes=10)
    data = webhooks.event_payload("e1", shipment.tracking_number, "in_transit", when, "上海")
    data.update(fields)
    return data


def body_of(*events) -> bytes:
    return json.dumps({"events": list(events)}).encode()


def post(client, shipment, body: bytes, headers=None):
    headers = headers or webhooks.signed_headers(shipment.carrier.webhook_secret, body)
    return client.post(
        f"/logistics/webhook/{shipment.carrier.code}/",
        body,
        content_type="application/json",
        headers=headers,
    )


def written():
    return (TrackingEvent.objects.count(), OrderEvent.objects.count(), Notification.objects.count())


def assert_refused(response, status=400, says=""):
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"] == "application/json"
    assert says in response.json()["error"]
    assert not TrackingEvent.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "when, says",
    [
        ("2026-02-30T10:00:00+08:00", "bad time"),
        ("2026-01-01T25:00:00", "bad time"),
        ("2026-01-01T10:61:00", "bad time"),
        ("2026-01-01T10:00:00+25:00", "bad time"),
        ("0001-01-01T00:00:00", "too far in the past"),
        ("0001-01-01T00:00:00+14:00", "too far in the past"),
        ("1999-12-31T23:59:59+00:00", "too far in the past"),
        ("9999-12-31T23:59:59", "in the future"),
        ("9999-12-31T23:59:59-12:00", "in the future"),
        ("next tuesday", "bad time"),
    ],
)
def test_impossible_times_are_a_400(client, shipment, when, says):
    response = post(client, shipment, body_of(tracking_event(shipment, time=when)))
    assert_refused(response, says=says)


@pytest.mark.django_db
def test_an_event_before_the_hand_over_is_a_400(client, shipment):
    when = shipment.shipped_at - CLOCK_TOLERANCE - timedelta(minutes=1)
    response = post(client, shipment, body_of(tracking_event(shipment, time=when.isoformat())))
    assert_refused(response, says="before the shipment was handed to the carrier")


@pytest.mark.django_db
def test_the_future_tolerance_is_a_few_minutes(client, shipment):
    soon = timezone.now() + CLOCK_TOLERANCE - timedelta(minutes=2)
    later = timezone.now() + CLOCK_TOLERANCE + timedelta(minutes=2)
    refused = post(
        client, shipment, body_of(tracking_event(shipment, id="late", time=later.isoformat()))
    )
    assert_refused(refused, says="in the future")
    accepted = post(
        client, shipment, body_of(tracking_event(shipment, id="soon", time=soon.isoformat()))
    )
    assert accepted.status_code == 200 and accepted.json()["accepted"] == 1


@pytest.mark.django_db
def test_one_bad_event_refuses_the_whole_body(client, shipment):
    good = tracking_event(shipment, id="good")
    bad = tracking_event(shipment, id="bad", time="2026-02-30T10:00:00")
    response = post(client, shipment, body_of(good, bad))
    assert_refused(response, says="event bad")
    assert written()[0] == 0


@pytest.mark.django_db
@pytest.mark.parametrize("field", ["id", "location", "description", "tracking_number", "type"])
@pytest.mark.parametrize("text, says", [("a\x00b", "NUL"), ("a\ud800b", "lone surrogate")])
def test_nul_and_lone_surrogates_are_a_400(client, shipment, field, text, says):
    before = written()
    response = post(client, shipment, body_of(tracking_event(shipment, **{field: text})))
    assert_refused(response, says=says)
    assert written() == before


@pytest.mark.django_db
@pytest.mark.parametrize("location", [{"city": "上海"}, ["上海"], 42, True])
def test_a_location_that_is_not_text_is_a_400(client, shipment, location):
    response = post(client, shipment, body_of(tracking_event(shipment, location=location)))
    assert_refused(response, says="location must be a string")


@pytest.mark.django_db
def test_json_nested_100000_deep_is_a_400(client, shipment):
    body = b'{"events": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    assert_refused(post(client, shipment, body), says="nested too deeply")


@pytest.mark.django_db
def test_a_400_digit_timestamp_is_a_400(client, shipment):
    body = body_of(tracking_event(shipment))
    timestamp = "9" * 400
    headers = {
        "X-O2D-Timestamp": timestamp,
        "X-O2D-Signature": webhooks.sign(shipment.carrier.webhook_secret, timestamp, body),
    }
    assert_refused(post(client, shipment, body, headers), says="bad timestamp")


@pytest.mark.django_db
def test_non_ascii_digits_and_signatures_are_refused_not_a_500(client, shipment):
    body = body_of(tracking_event(shipment))
    secret = shipment.carrier.webhook_secret
    superscript = {"X-O2D-Timestamp": "²³", "X-O2D-Signature": webhooks.sign(secret, "²³", body)}
    assert_refused(post(client, shipment, body, superscript), says="bad timestamp")
    headers = webhooks.signed_headers(secret, body)
    headers["X-O2D-Signature"] = "sha256=é"
    assert_refused(post(client, shipment, body, headers), status=401, says="bad signature")


@pytest.mark.django_db
def test_a_body_over_the_upload_limit_is_a_413(client, shipment, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = body_of(*[tracking_event(shipment, id=f"e{i}") for i in range(20)])
    assert_refused(post(client, shipment, body), status=413, says="too large")


# ---------------------------------------------------------------------------
# Property: arbitrary signed payloads never make a 5xx, and a 4xx writes nothing

ANY_CHARACTER = st.characters(codec=None, exclude_categories=())  # NUL and surrogates too
TEXT = st.text(ANY_CHARACTER, max_size=20)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | TEXT,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(TEXT, children, max_size=3),
    max_leaves=8,
)
OFFSETS = st.integers(-1439, 1439).map(lambda m: fixed_zone(timedelta(minutes=m)))


def seconds_from_now(low, high):
    """Times as seconds from now: hypothesis needs the same choices from run to run,
    not the same clock."""
    return st.integers(low, high).map(lambda s: datetime.now(UTC) + timedelta(seconds=s))


# Between the hand-over (an hour ago) and now: the times a carrier should send.
PLAUSIBLE = seconds_from_now(-55 * 60, 5 * 60).map(datetime.isoformat)
# Anything else a time field may hold.
IMPLAUSIBLE = st.one_of(
    seconds_from_now(-3 * 3600, 3600).map(datetime.isoformat),
    st.datetimes(timezones=st.none() | OFFSETS).map(datetime.isoformat),
    st.tuples(
        st.integers(0, 10_000), st.integers(0, 13), st.integers(0, 32), st.integers(0, 99)
    ).map(lambda t: f"{t[0]:04d}-{t[1]:02d}-{t[2]:02d}T{t[3]:02d}:00:00"),
    TEXT,
    JSON,
)


def payloads(tracking_number):
    """Mostly lists of events, plausible or not in any field, sometimes any JSON."""
    kinds = st.sampled_from(EventType.values)
    plausible = st.fixed_dictionaries(
        {
            "id": st.text("abcdef0123456789-", min_size=1, max_size=8),
            "tracking_number": st.just(tracking_number),
            "type": kinds,
            "time": PLAUSIBLE,
            "location": st.text(st.characters(exclude_categories=("Cc", "Cs")), max_size=10),
        }
    )
    anything = st.fixed_dictionaries(
        {},
        optional={
            "id": TEXT | JSON,
            "tracking_number": st.just(tracking_number) | TEXT,
            "type": kinds | TEXT,
            "time": PLAUSIBLE | IMPLAUSIBLE,
            "location": st.none() | TEXT | JSON,
            "description": st.none() | TEXT | JSON,
        },
    )
    events = st.lists(plausible, min_size=1, max_size=4) | st.lists(
        st.one_of(plausible, anything, JSON), max_size=4
    )
    return st.one_of(*[st.fixed_dictionaries({"events": events})] * 4, JSON)


@pytest.mark.django_db
@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_signed_payloads_never_make_a_5xx_and_a_refusal_writes_nothing(client, shipment, data):
    if data.draw(st.integers(0, 9), label="kind of body") == 0:
        body = data.draw(st.binary(max_size=200), label="bytes")
    else:
        body = json.dumps(data.draw(payloads(shipment.tracking_number), label="payload")).encode()
    now = str(int(time.time()))
    latin1 = st.text(st.characters(max_codepoint=0xFF, exclude_categories=()))
    stamp = data.draw(st.one_of(*[st.just(now)] * 8, latin1), label="timestamp")
    headers = {
        "X-O2D-Timestamp": stamp,
        "X-O2D-Signature": webhooks.sign(shipment.carrier.webhook_secret, stamp, body),
    }
    before = written()
    response = post(client, shipment, body, headers)
    event(f"status {response.status_code}")  # see --hypothesis-show-statistics
    assert response.status_code < 500
    if response.status_code >= 400:
        assert "error" in response.json()
        assert written() == before
