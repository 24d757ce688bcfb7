"""The carrier simulator posts real signed HTTP requests to the running server."""

import pytest
from django.core.management import call_command

from logistics import services
from logistics.models import DeliveryException, TrackingEvent
from orders.models import Status
from orders.roles import Role

pytestmark = pytest.mark.django_db(transaction=True)


def shipped(ready, users):
    order = ready()
    best = services.carrier_options(order, services.unshipped_packages(order))[0]
    return services.ship(order.pk, by=users[Role.LOGISTICS], service_id=best.service.pk)


def test_normal_scenario_delivers_the_order_end_to_end(live_server, ready, users, capsys):
    shipment = shipped(ready, users)
    call_command("simulate_carrier", shipment.tracking_number, url=live_server.url, repeat=3)
    out = capsys.readouterr().out
    assert "sent 12, accepted 4, duplicates 8" in out
    assert TrackingEvent.objects.filter(shipment=shipment).count() == 4
    shipment.order.refresh_from_db()
    assert shipment.order.status == Status.DELIVERED


def test_lost_scenario_opens_an_exception(live_server, ready, users):
    shipment = shipped(ready, users)
    call_command("simulate_carrier", shipment.tracking_number, url=live_server.url, scenario="lost")
    assert DeliveryException.objects.get().type == "lost"
    shipment.order.refresh_from_db()
    assert shipment.order.status == Status.SHIPPED


def test_simulator_refuses_a_server_that_is_not_there(ready, users):
    from django.core.management.base import CommandError

    shipment = shipped(ready, users)
    with pytest.raises(CommandError):
        call_command("simulate_carrier", shipment.tracking_number, url="http://127.0.0.1:9")
