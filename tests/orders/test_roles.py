import pytest
from django.contrib.auth.models import Group

from orders.roles import Role, has_role, is_staff_member
from tests.factories import make_user


@pytest.mark.django_db
def test_data_migration_creates_one_group_per_role_with_its_permissions():
    perms = {
        g.name: {p.codename for p in g.permissions.all()}
        for g in Group.objects.prefetch_related("permissions")
    }
    assert set(perms) >= set(Role.values)
    assert {"confirm_order", "cancel_order"} <= perms["Sales"]
    assert {"pick_order", "backorder_order"} <= perms["Warehouse"]
    assert {"ship_order", "deliver_order"} <= perms["Logistics"]
    assert "close_order" in perms["Finance"]
    assert not perms["Warehouse"] & {"confirm_order", "ship_order", "close_order"}
    assert not perms["Finance"] & {"confirm_order", "pick_order", "ship_order"}
    union = perms["Sales"] | perms["Warehouse"] | perms["Logistics"] | perms["Finance"]
    assert union <= perms["Manager"]


@pytest.mark.django_db
def test_manager_holds_every_role_and_a_plain_user_none():
    manager = make_user(Role.MANAGER)
    nobody = make_user(None)
    assert all(has_role(manager, role) for role in Role.values)
    assert not is_staff_member(nobody)
    assert not has_role(nobody, Role.SALES)
    assert has_role(make_user(Role.SALES), Role.SALES)
    assert not has_role(make_user(Role.SALES), Role.WAREHOUSE)
