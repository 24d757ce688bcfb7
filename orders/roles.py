"""The staff roles. Each role is a Django group of the same name, created with its
permissions by the data migration orders/0002_roles_and_process."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    SALES = "Sales", _("Sales")
    WAREHOUSE = "Warehouse", _("Warehouse")
    LOGISTICS = "Logistics", _("Logistics")
    FINANCE = "Finance", _("Finance")
    MANAGER = "Manager", _("Manager")


def user_roles(user) -> set[str]:
    """The role names a user holds; superusers hold every role."""
    if not user.is_authenticated or not user.is_active:
        return set()
    if user.is_superuser:
        return set(Role.values)
    cached = getattr(user, "_o2d_roles", None)
    if cached is None:
        cached = set(user.groups.filter(name__in=Role.values).values_list("name", flat=True))
        user._o2d_roles = cached
    return cached


def has_role(user, *roles: str) -> bool:
    """True when the user holds one of ``roles``; a Manager holds every role."""
    held = user_roles(user)
    return bool(held & ({Role.MANAGER, *roles}))


def is_staff_member(user) -> bool:
    """True for anyone with at least one O2D role (the staff pages are theirs)."""
    return bool(user_roles(user))
