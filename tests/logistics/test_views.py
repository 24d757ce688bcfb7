"""The logistics pages: roles, the ship form and its answers to bad input."""

import pytest

from logistics import services
from logistics.models import Shipment, TrackingEvent
from orders.models import Status
from orders.roles import Role


@pytest.fixture
def lc(client, users):
    client.force_login(users[Role.LOGISTICS])
    return client


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.WAREHOUSE, Role.FINANCE, Role.SALES])
def test_only_logistics_ships(client, users, ready, role):
    order = ready()
    client.force_login(users[role])
    assert client.get("/logistics/").status_code == 403
    response = client.post(f"/logistics/orders/{order.number}/ship/", {"service": 1})
    assert response.status_code == 403
    assert not Shipment.objects.exists()


@pytest.mark.django_db
def test_anonymous_is_sent_to_login(client, ready):
    order = ready()
    for url in ("/logistics/", f"/logistics/orders/{order.number}/", "/logistics/problems/"):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.django_db
def test_dashboard_and_page_propose_the_carrier_and_ship(lc, ready):
    order = ready(packages=2)
    html = lc.get("/logistics/?partial=1").text
    assert order.number in html.split('id="queue-to_ship"')[1].split("</section>")[0]
    page = lc.get(f"/logistics/orders/{order.number}/", HTTP_ACCEPT_LANGUAGE="en").text
    assert 'id="carrier-options"' in page and "Proposed" in page
    best = services.carrier_options(order, services.unshipped_packages(order))[0]
    packages = [p.pk for p in services.unshipped_packages(order)]
    data = {"service": best.service.pk, "packages": packages}
    data.update({f"line_{line.pk}": line.quantity for line in order.lines.all()})
    response = lc.post(f"/logistics/orders/{order.number}/ship/", data)
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == Status.SHIPPED
    html = lc.get("/logistics/?partial=1").text
    assert order.number in html.split('id="queue-in_transit"')[1].split("</section>")[0]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "change",
    [
        {"service": "abc"},
        {"service": 999999},
        {"packages": []},
        {"packages": [999999]},
        {"tracking_number": "TE123"},
        {"line": -1},
        {"line": 99},
    ],
)
def test_bad_ship_forms_are_a_400_and_ship_nothing(lc, ready, change):
    order = ready()
    best = services.carrier_options(order, services.unshipped_packages(order))[0]
    data = {
        "service": best.service.pk,
        "packages": [p.pk for p in services.unshipped_packages(order)],
    }
    data.update({f"line_{line.pk}": line.quantity for line in order.lines.all()})
    if "line" in change:
        data.update({f"line_{line.pk}": change["line"] for line in order.lines.all()})
    else:
        data.update(change)
    response = lc.post(f"/logistics/orders/{order.number}/ship/", data)
    assert response.status_code == 400
    assert "errorlist" in response.text or 'class="error"' in response.text
    assert not Shipment.objects.exists()


@pytest.mark.django_db
def test_logistics_records_a_tracking_event_by_hand(lc, ready, users):
    order = ready()
    best = services.carrier_options(order, services.unshipped_packages(order))[0]
    shipment = services.ship(order.pk, by=users[Role.LOGISTICS], service_id=best.service.pk)
    url = f"/logistics/orders/{order.number}/shipments/{shipment.pk}/events/"
    assert lc.post(url, {"type": "teleported"}).status_code == 400
    assert lc.post(url, {"type": "delivered", "location": "门卫室"}).status_code == 302
    event = TrackingEvent.objects.get()
    assert (event.entered_by, event.location) == (users[Role.LOGISTICS], "门卫室")
    order.refresh_from_db()
    assert order.status == Status.DELIVERED


@pytest.mark.django_db
def test_labels_name_the_carrier_and_tracking_number_once_shipped(lc, ready, users):
    import subprocess

    order = ready()
    best = services.carrier_options(order, services.unshipped_packages(order))[0]
    shipment = services.ship(order.pk, by=users[Role.LOGISTICS], service_id=best.service.pk)
    response = lc.get(f"/warehouse/orders/{order.number}/labels.pdf")
    assert response.status_code == 200
    text = subprocess.run(
        ["pdftotext", "-", "-"], input=response.content, capture_output=True, check=True
    ).stdout.decode()
    assert shipment.tracking_number in text and shipment.carrier.name in text
