"""The carriers' webhook: signatures, freshness, duplicates, and what events do."""

import json
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from logistics import services, webhooks
from logistics.models import DeliveryException, Shipment, ShipmentStatus, TrackingEvent
from orders.models import Status
from orders.roles import Role


@pytest.fixture
def shipment(ready, users):
    """Handed to the carrier an hour ago, so events of the last half hour fit."""
    order = ready()
    option = services.carrier_options(order, services.unshipped_packages(order))[0]
    shipment = services.ship(order.pk, by=users[Role.LOGISTICS], service_id=option.service.pk)
    shipment.shipped_at = timezone.now() - timedelta(hours=1)
    Shipment.objects.filter(pk=shipment.pk).update(shipped_at=shipment.shipped_at)
    return shipment


def body_for(shipment, *events):
    now = timezone.now()
    return json.dumps(
        {
            "events": [
                webhooks.event_payload(
                    event_id,
                    shipment.tracking_number,
                    kind,
                    now - timedelta(minutes=30 - i),
                    "上海",
                )
                for i, (event_id, kind) in enumerate(events)
            ]
        }
    ).encode()


def post(client, shipment, body, headers=None, secret=None):
    headers = (
        headers
        if headers is not None
        else webhooks.signed_headers(secret or shipment.carrier.webhook_secret, body)
    )
    return client.post(
        f"/logistics/webhook/{shipment.carrier.code}/",
        body,
        content_type="application/json",
        headers=headers,
    )


@pytest.mark.django_db
def test_a_signed_fresh_event_is_recorded(client, shipment):
    response = post(client, shipment, body_for(shipment, ("e1", "in_transit")))
    assert response.status_code == 200
    assert response.json() == {"accepted": 1, "duplicates": 0, "unknown": [], "invalid": []}
    shipment.refresh_from_db()
    assert shipment.status == ShipmentStatus.IN_TRANSIT
    event = shipment.order.events.get(code="tracking")
    assert event.public and event.data["location"] == "上海"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "tamper",
    ["wrong secret", "changed body", "no signature", "bad timestamp"],
)
def test_a_bad_signature_is_refused(client, shipment, tamper):
    body = body_for(shipment, ("e1", "delivered"))
    headers = webhooks.signed_headers(shipment.carrier.webhook_secret, body)
    if tamper == "wrong secret":
        headers = webhooks.signed_headers("not-the-secret", body)
    elif tamper == "changed body":
        body = body.replace(b"delivered", b"lost")
    elif tamper == "no signature":
        headers = {}
    elif tamper == "bad timestamp":
        headers["X-O2D-Timestamp"] = str(int(headers["X-O2D-Timestamp"]) + 1)
    response = post(client, shipment, body, headers=headers)
    assert response.status_code == 401
    assert not TrackingEvent.objects.exists()
    shipment.order.refresh_from_db()
    assert shipment.order.status == Status.SHIPPED


@pytest.mark.django_db
@pytest.mark.parametrize("age", [-301, 301, 3600])
def test_a_stale_or_future_signature_is_refused(client, shipment, age):
    body = body_for(shipment, ("e1", "delivered"))
    headers = webhooks.signed_headers(shipment.carrier.webhook_secret, body, now=time.time() - age)
    response = post(client, shipment, body, headers=headers)
    assert response.status_code == 400
    assert response.json()["error"] == "stale timestamp"
    assert not TrackingEvent.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"{}",
        b'{"events": []}',
        b'{"events": [{"id": "x"}]}',
        b'{"events": [{"id": "x", "tracking_number": "T", "type": "in_transit", "time": "soon"}]}',
    ],
)
def test_malformed_bodies_are_a_400(client, shipment, body):
    response = post(client, shipment, body)
    assert response.status_code == 400
    assert not TrackingEvent.objects.exists()


@pytest.mark.django_db
def test_unknown_carrier_is_a_404_and_unknown_events_are_reported(client, shipment):
    body = body_for(shipment, ("e1", "in_transit"))
    headers = webhooks.signed_headers(shipment.carrier.webhook_secret, body)
    response = client.post(
        "/logistics/webhook/nobody/", body, content_type="application/json", headers=headers
    )
    assert response.status_code == 404
    wrong = body.replace(shipment.tracking_number.encode(), b"TE00000000000")
    response = post(client, shipment, wrong)
    assert response.json()["unknown"] == ["e1"]
    wrong_type = body.replace(b"in_transit", b"teleported")
    assert post(client, shipment, wrong_type).json()["invalid"] == ["e1"]
    assert not TrackingEvent.objects.exists()


@pytest.mark.django_db
def test_a_thousand_replayed_events_create_no_duplicates(client, shipment):
    kinds = ["in_transit", "in_transit", "delayed", "in_transit", "out_for_delivery"]
    events = [(f"evt-{i}", kind) for i, kind in enumerate(kinds * 2)]  # 10 distinct events
    body = body_for(shipment, *events)
    accepted = duplicates = 0
    for _ in range(100):  # 100 × 10 = 1,000 events posted
        result = post(client, shipment, body).json()
        accepted += result["accepted"]
        duplicates += result["duplicates"]
    assert (accepted, duplicates) == (10, 990)
    assert TrackingEvent.objects.filter(shipment=shipment).count() == 10
    assert shipment.order.events.filter(code="tracking").count() == 10
    # Two "delayed" events, two exceptions — not two hundred.
    assert DeliveryException.objects.count() == 2


@pytest.mark.django_db
def test_delivered_event_delivers_the_order(client, shipment):
    post(client, shipment, body_for(shipment, ("a", "in_transit"), ("b", "delivered")))
    order = shipment.order
    order.refresh_from_db()
    assert order.status == Status.DELIVERED
    transition = order.events.get(to_status=Status.DELIVERED)
    assert transition.actor is None
    shipment.refresh_from_db()
    assert shipment.delivered_at is not None
    # A late "in transit" from the carrier does not undo the delivery.
    post(client, shipment, body_for(shipment, ("c", "in_transit")))
    shipment.refresh_from_db()
    assert shipment.status == ShipmentStatus.DELIVERED


@pytest.mark.django_db
def test_events_from_the_future_are_refused(client, shipment):
    when = timezone.now() + timedelta(hours=1)
    body = json.dumps(
        {"events": [webhooks.event_payload("f1", shipment.tracking_number, "delivered", when)]}
    ).encode()
    response = post(client, shipment, body)
    assert response.status_code == 400
    assert response.json()["error"].startswith("event f1: This time is in the future")
    assert not TrackingEvent.objects.exists()
