import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command

from orders.models import Order, Status
from orders.roles import Role, has_role


@pytest.mark.django_db
def test_seed_demo_gives_a_login_per_role_and_orders_in_every_state(settings):
    settings.DEBUG = True
    call_command("seed_demo")
    for username, role in [
        ("sales", Role.SALES),
        ("warehouse", Role.WAREHOUSE),
        ("logistics", Role.LOGISTICS),
        ("finance", Role.FINANCE),
        ("manager", Role.MANAGER),
    ]:
        user = authenticate(username=username, password="o2d-demo")
        assert user is not None
        assert has_role(user, role)
    assert authenticate(username="admin", password="o2d-demo").is_superuser
    assert 45 <= Order.objects.count() <= 55
    assert set(Order.objects.values_list("status", flat=True)) == set(Status.values)
    # Every order's timeline starts with its placement and records each step.
    for order in Order.objects.all():
        assert order.events.first().to_status == Status.PLACED
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
