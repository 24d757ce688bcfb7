import pytest
from django.contrib import auth
from django.core.management import CommandError, call_command

from orders.models import Order, Status
from orders.roles import Role, has_role


def signed_in_user(client, username):
    """Signs in through the staff sign-in page, as a person would."""
    client.logout()
    response = client.post("/accounts/login/", {"username": username, "password": "o2d-demo"})
    assert response.status_code == 302, username
    return auth.get_user(client)


@pytest.mark.django_db
def test_seed_demo_gives_a_login_per_role_and_orders_in_every_state(client, settings):
    settings.DEBUG = True
    call_command("seed_demo")
    for username, role in [
        ("sales", Role.SALES),
        ("warehouse", Role.WAREHOUSE),
        ("logistics", Role.LOGISTICS),
        ("finance", Role.FINANCE),
        ("manager", Role.MANAGER),
    ]:
        assert has_role(signed_in_user(client, username), role)
    assert signed_in_user(client, "admin").is_superuser
    assert 45 <= Order.objects.count() <= 55
    assert set(Order.objects.values_list("status", flat=True)) == set(Status.values)
    # Every order's timeline starts with its placement and records each step.
    for order in Order.objects.all():
        assert order.events.first().to_status == Status.PLACED
    # A return waits for Sales and an approved exchange has its RMA number.
    from feedback.models import ReturnRequest

    assert sorted(ReturnRequest.objects.values_list("status", flat=True)) == [
        "approved",
        "requested",
    ]
    assert ReturnRequest.objects.get(status="approved").rma_number.startswith("R")
    # Running it again adds no orders.
    count = Order.objects.count()
    call_command("seed_demo")
    assert Order.objects.count() == count


@pytest.mark.django_db
def test_seed_demo_refuses_production_settings(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError):
        call_command("seed_demo")
    assert not Order.objects.exists()
