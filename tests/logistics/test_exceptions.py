"""Delivery exceptions: opened by problem events, owned, due, told to the customer,
seen by Sales, resolved on the timeline."""

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from logistics import services
from logistics.models import DeliveryException
from orders import emails
from orders import services as order_services
from orders.models import Notification, NotificationKind
from orders.roles import Role


@pytest.fixture
def shipment(ready, users):
    order = ready()
    option = services.carrier_options(order, services.unshipped_packages(order))[0]
    return services.ship(order.pk, by=users[Role.LOGISTICS], service_id=option.service.pk)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "kind", ["delayed", "failed_attempt", "lost", "damaged", "address_problem"]
)
def test_problem_events_open_an_exception_and_tell_the_customer_at_once(shipment, users, kind):
    before = timezone.now()
    services.record_event(shipment.pk, type=kind, location="杭州")
    problem = DeliveryException.objects.get()
    assert problem.type == kind
    assert problem.owner == users[Role.LOGISTICS]  # whoever shipped it
    assert before + timedelta(hours=4) <= problem.due_at <= timezone.now() + timedelta(hours=4)
    notice = Notification.objects.get(kind=NotificationKind.DELIVERY_PROBLEM)
    assert emails.deliver(notice.pk)
    body = mail.outbox[-1].body
    assert shipment.tracking_number in body
    # The email says what happens next, in words written for that problem.
    from django.template.loader import render_to_string
    from django.utils import translation

    with translation.override(shipment.order.customer.language):
        next_steps = render_to_string(
            "emails/_delivery_next_steps.txt", {"data": {"next": kind}}
        ).strip()
    assert next_steps and next_steps in body


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["in_transit", "out_for_delivery", "returned"])
def test_normal_events_open_no_exception(shipment, kind):
    services.record_event(shipment.pk, type=kind)
    assert not DeliveryException.objects.exists()
    assert not Notification.objects.filter(kind=NotificationKind.DELIVERY_PROBLEM).exists()


@pytest.mark.django_db
def test_resolving_is_recorded_on_the_timeline_once(shipment, users):
    services.record_event(shipment.pk, type="lost")
    problem = DeliveryException.objects.get()
    sales = users[Role.SALES]  # Sales talks to the customer and may resolve it too
    with pytest.raises(services.ShippingError):
        services.resolve_exception(problem.pk, by=sales, resolution="reship", note="  ")
    with pytest.raises(services.ShippingError):
        services.resolve_exception(problem.pk, by=sales, resolution="magic", note="x")
    with pytest.raises(order_services.TransitionForbidden):
        services.resolve_exception(
            problem.pk, by=users[Role.WAREHOUSE], resolution="reship", note="x"
        )
    services.resolve_exception(problem.pk, by=sales, resolution="reship", note="已补发")
    problem.refresh_from_db()
    assert (problem.resolution, problem.resolved_by) == ("reship", sales)
    event = shipment.order.events.get(code="exception_resolved")
    assert event.public and event.actor == sales and event.note == "已补发"
    with pytest.raises(order_services.OrderChanged):
        services.resolve_exception(problem.pk, by=sales, resolution="refund", note="again")


@pytest.mark.django_db
def test_open_exceptions_by_age_on_the_dashboards(shipment, users, client):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        services.record_event(shipment.pk, type="delayed", location="A")
    with time_machine.travel(start + timedelta(hours=1), tick=False):
        services.record_event(shipment.pk, type="address_problem", location="B")
    with time_machine.travel(start + timedelta(hours=4, minutes=30), tick=False):
        client.force_login(users[Role.LOGISTICS])
        html = client.get("/logistics/?partial=1", HTTP_ACCEPT_LANGUAGE="en").text
        section = html.split('id="open-exceptions"')[1].split("</section>")[0]
        assert section.index("Delayed") < section.index("Address problem")  # oldest first
        assert section.count("Overdue") == 1  # the first is past its 4 h, the second not
        client.force_login(users[Role.SALES])
        html = client.get("/logistics/problems/", HTTP_ACCEPT_LANGUAGE="en").text
        assert shipment.order.number in html
    assert client.get("/logistics/").status_code == 403  # Sales sees problems, not the queue
