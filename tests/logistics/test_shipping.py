"""Shipping: carrier choice with a reason, tracking numbers, partial shipments, the
customer's email with the tracking link, and the stock leaving the warehouse."""

import pytest
from django.core import mail

from logistics import services
from logistics.models import Shipment
from orders import emails
from orders import services as order_services
from orders.models import Notification, NotificationKind, Status
from orders.roles import Role
from tests.factories import ProductFactory
from tests.logistics.test_carriers import make_service


def best(order):
    packages = services.unshipped_packages(order)
    return services.carrier_options(order, packages)[0]


@pytest.mark.django_db
def test_shipping_everything_ships_the_order_and_emails_the_tracking_link(ready, users):
    order = ready(packages=2)
    option = best(order)
    shipment = services.ship(order.pk, by=users[Role.LOGISTICS], service_id=option.service.pk)
    order.refresh_from_db()
    assert order.status == Status.SHIPPED
    assert shipment.packages.count() == 2
    assert shipment.carrier.code == "test-express"
    assert services.tracking_numbers.is_valid(shipment.carrier, shipment.tracking_number)
    assert shipment.estimated_delivery == option.arrives
    event = order.events.get(code="shipment")
    assert event.public and event.data["link"] == shipment.tracking_link
    notice = Notification.objects.get(order=order, kind=NotificationKind.ORDER_SHIPPED)
    assert emails.deliver(notice.pk)
    assert shipment.tracking_link in mail.outbox[-1].body
    assert shipment.tracking_number in mail.outbox[-1].body


@pytest.mark.django_db
def test_a_partial_shipment_leaves_the_order_picked_until_every_line_ships(ready, users):
    tea, cup = ProductFactory(), ProductFactory()
    order = ready(
        lines=[order_services.LineRequest(tea, 3), order_services.LineRequest(cup, 1)],
        packages=2,
    )
    tea_line, cup_line = order.lines.get(product=tea), order.lines.get(product=cup)
    first, second = services.unshipped_packages(order)
    service = best(order).service.pk
    by = users[Role.LOGISTICS]
    services.ship(
        order.pk,
        by=by,
        service_id=service,
        package_ids=[first.pk],
        lines={tea_line.pk: 2},
    )
    order.refresh_from_db()
    assert order.status == Status.PICKED
    assert services.shipped_quantities(order) == {tea_line.pk: 2}
    # More than is left is refused, and changes nothing.
    with pytest.raises(services.ShippingError):
        services.ship(
            order.pk,
            by=by,
            service_id=service,
            package_ids=[second.pk],
            lines={tea_line.pk: 2, cup_line.pk: 1},
        )
    assert Shipment.objects.filter(order=order).count() == 1
    services.ship(
        order.pk,
        by=by,
        service_id=service,
        package_ids=[second.pk],
        lines={tea_line.pk: 1, cup_line.pk: 1},
    )
    order.refresh_from_db()
    assert order.status == Status.SHIPPED
    assert Notification.objects.filter(kind=NotificationKind.ORDER_SHIPPED).count() == 2


@pytest.mark.django_db
def test_goods_and_packages_run_out_together(ready, users):
    order = ready(packages=2)
    line = order.lines.get()
    first, second = services.unshipped_packages(order)
    service, by = best(order).service.pk, users[Role.LOGISTICS]
    with pytest.raises(services.ShippingError):  # everything, but one parcel stays behind
        services.ship(order.pk, by=by, service_id=service, package_ids=[first.pk])
    with pytest.raises(services.ShippingError):  # every parcel, but goods stay behind
        services.ship(
            order.pk,
            by=by,
            service_id=service,
            package_ids=[first.pk, second.pk],
            lines={line.pk: 1},
        )
    assert not Shipment.objects.exists()


@pytest.mark.django_db
def test_another_carrier_than_proposed_needs_a_reason(ready, users):
    order = ready()
    other = make_service("slowpost", "economy", days=9, base="3")
    by = users[Role.LOGISTICS]
    proposed = best(order).service
    assert proposed != other
    with pytest.raises(services.ShippingError):
        services.ship(order.pk, by=by, service_id=other.pk)
    assert not Shipment.objects.exists()
    shipment = services.ship(order.pk, by=by, service_id=other.pk, reason="customer asked")
    assert shipment.override_reason == "customer asked"
    assert shipment.proposed_service == proposed


@pytest.mark.django_db
def test_a_service_that_cannot_carry_it_is_refused(ready, users):
    order = ready()
    shanghai_only = make_service("beijing-only", province="北京市")
    with pytest.raises(services.ShippingError):
        services.ship(order.pk, by=users[Role.LOGISTICS], service_id=shanghai_only.pk, reason="x")


@pytest.mark.django_db
@pytest.mark.parametrize("number", ["TE12345", "TE00000000011", "XX79927398713", "TE7992739871"])
def test_bad_tracking_numbers_are_refused(ready, users, number):
    order = ready()
    with pytest.raises(services.ShippingError):
        services.ship(
            order.pk,
            by=users[Role.LOGISTICS],
            service_id=best(order).service.pk,
            tracking_number=number,
        )
    assert not Shipment.objects.exists()


@pytest.mark.django_db
def test_a_tracking_number_is_used_once_per_carrier(ready, users):
    first, second = ready(), ready()
    by = users[Role.LOGISTICS]
    services.ship(
        first.pk, by=by, service_id=best(first).service.pk, tracking_number="TE 7992739871 3"
    )
    with pytest.raises(services.ShippingError):
        services.ship(
            second.pk, by=by, service_id=best(second).service.pk, tracking_number="TE79927398713"
        )
    second.refresh_from_db()
    assert second.status == Status.PICKED


@pytest.mark.django_db
def test_only_logistics_ships_and_only_reviewed_orders(ready, users, order_in):
    order = ready()
    with pytest.raises(order_services.TransitionForbidden):
        services.ship(order.pk, by=users[Role.WAREHOUSE], service_id=best(order).service.pk)
    confirmed = order_in(Status.CONFIRMED)
    with pytest.raises(order_services.TransitionNotAllowed):
        services.ship(confirmed.pk, by=users[Role.LOGISTICS], service_id=1)
