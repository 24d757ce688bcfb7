"""The customer's status page: parcels with tracking links, the promised date and the
carrier's estimate, and carrier events on the customer-facing timeline."""

import re
from datetime import date
from types import SimpleNamespace

import pytest

from logistics import selectors
from logistics import services as logistics
from orders.models import Status
from orders.roles import Role


@pytest.fixture
def shipped(order_in):
    return order_in(Status.SHIPPED)


def parcels(html):
    match = re.search(
        r'<section class="card" aria-labelledby="tracking-title" id="tracking">(.*?)</section>',
        html,
        re.S,
    )
    return match.group(1) if match else ""


@pytest.mark.django_db
def test_shipped_order_shows_carrier_tracking_number_link_and_estimate(client, shipped):
    shipment = shipped.shipments.get()
    html = client.get(shipped.get_public_url(), HTTP_ACCEPT_LANGUAGE="en").text
    section = parcels(html)
    assert "Test Express" in section
    assert shipment.tracking_number in section
    assert "Handed to the carrier" in section
    link = re.search(r'<a class="btn btn-secondary track-link" ([^>]*)>(.*?)</a>', section, re.S)
    assert link, section
    assert f'href="{shipment.tracking_link}"' in link.group(1)
    assert 'target="_blank"' in link.group(1)
    assert 'rel="noopener noreferrer"' in link.group(1)
    assert "Track with Test Express" in link.group(2)
    estimate = shipment.estimated_delivery.isoformat()
    assert re.search(rf'<dd id="estimate">{estimate}\b', html)
    assert f'<dd id="promised-date">{shipped.promised_date.isoformat()}' in html


@pytest.mark.django_db
def test_delivered_order_shows_when_and_no_estimate(client, order_in):
    order = order_in(Status.DELIVERED)
    html = client.get(order.get_public_url(), HTTP_ACCEPT_LANGUAGE="en").text
    section = parcels(html)
    assert "Delivered" in section
    assert 'id="estimate"' not in html


@pytest.mark.django_db
def test_orders_not_shipped_have_no_parcel_section(client, order_in):
    order = order_in(Status.PICKED)
    html = client.get(order.get_public_url()).text
    assert 'id="tracking"' not in html
    assert 'id="estimate"' not in html


@pytest.mark.django_db
def test_carrier_events_are_on_the_customer_timeline(client, shipped):
    shipment = shipped.shipments.get()
    logistics.record_event(shipment.pk, type="in_transit", location="杭州转运中心")
    logistics.record_event(shipment.pk, type="out_for_delivery", location="上海浦东")
    html = client.get(shipped.get_public_url(), HTTP_ACCEPT_LANGUAGE="en").text
    timeline = html.split('id="public-timeline"', 1)[1]
    assert "Handed to Test Express, tracking number " + shipment.tracking_number in timeline
    assert "In transit · 杭州转运中心" in timeline
    assert "Out for delivery · 上海浦东" in timeline
    # The parcel's status follows the carrier.
    assert "Out for delivery" in parcels(html)


@pytest.mark.django_db
def test_delivery_problem_shows_only_its_solution_never_the_staff_note(client, shipped, users):
    shipment = shipped.shipments.get()
    _event, _created = logistics.record_event(shipment.pk, type="failed_attempt", location="上海")
    problem = shipment.exceptions.get()
    logistics.resolve_exception(
        problem.pk, by=users[Role.LOGISTICS], resolution="redeliver", note="内部：司机说门禁坏了"
    )
    html = client.get(shipped.get_public_url(), HTTP_ACCEPT_LANGUAGE="en").text
    timeline = html.split('id="public-timeline"', 1)[1]
    assert "Delivery attempt failed · 上海" in timeline  # the carrier's event
    assert "Delivery problem: " not in timeline  # the internal exception record
    assert "Delivery problem solved" in timeline
    assert "门禁" not in html


def test_the_estimate_is_the_latest_parcel_not_yet_delivered():
    def parcel(day, status="in_transit", delivered=None):
        return SimpleNamespace(
            estimated_delivery=date(2026, 12, day), status=status, delivered_at=delivered
        )

    # Newest first, as selectors.public_shipments returns them.
    assert selectors.delivery_estimate([parcel(9), parcel(5)]) == date(2026, 12, 9)
    assert selectors.delivery_estimate(
        [parcel(9, "delivered", delivered=object()), parcel(5)]
    ) == date(2026, 12, 5)
    assert selectors.delivery_estimate([parcel(9, "lost"), parcel(5, "returned")]) is None
    assert selectors.delivery_estimate([]) is None


@pytest.mark.django_db
def test_parcels_show_no_personal_data(client, shipped):
    html = client.get(shipped.get_public_url()).text
    for text in (shipped.delivery_street, shipped.delivery_phone, shipped.customer.email):
        assert text not in html
