"""Inputs found by review that must never reach the database as a 500."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction

from orders import services
from orders.models import ProcessStep, Status
from orders.roles import Role
from tests.factories import ProductFactory, place


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        "/status/%00/x/",
        "/status/20261127-0001/%00%00%00%00%00%00%00%00%00%00%00%00%00%00%00%00/",
        "/orders/%00/",
        "/orders/abc/",
        "/order/received/%00/%00/",
    ],
)
def test_malformed_numbers_and_secrets_are_404(client, users, url):
    client.force_login(users[Role.MANAGER])
    assert client.get(url).status_code == 404


@pytest.mark.django_db
def test_nul_in_action_post_is_400(client, users, order_in):
    order = order_in(Status.CONFIRMED)
    client.force_login(users[Role.WAREHOUSE])
    response = client.post(
        f"/orders/{order.number}/action/",
        {"action": "backorder", "expected_status": "confirmed", "note": "a\x00b"},
    )
    assert response.status_code == 400


@pytest.mark.django_db
@pytest.mark.parametrize("target", [timedelta(0), timedelta(days=400)])
def test_database_refuses_a_step_target_out_of_range(target):
    with pytest.raises(IntegrityError), transaction.atomic():
        ProcessStep.objects.filter(code="confirmation").update(target=target)


@pytest.mark.django_db
def test_lines_in_two_currencies_are_refused():
    yuan = ProductFactory(currency="CNY")
    dollar = ProductFactory(currency="USD")
    with pytest.raises(services.OrderActionError):
        place(lines=[services.LineRequest(yuan, 1), services.LineRequest(dollar, 1)])


@pytest.mark.django_db
def test_admin_cannot_edit_order_fields_outside_the_services(client, order_in):
    from tests.factories import make_user

    admin = make_user(None, username="root2", is_superuser=True, is_staff=True)
    order = order_in(Status.PLACED)
    client.force_login(admin)
    url = f"/admin/orders/order/{order.pk}/change/"
    client.post(url, {"delivery_city": "北京市", "channel": "email"})
    order.refresh_from_db()
    assert order.delivery_city == "上海市"
    assert order.channel == "phone"
