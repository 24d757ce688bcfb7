"""Access checks for staff pages: one decorator per role, one mixin for class views.

Anonymous visitors are sent to the login page; a signed-in user without the role
gets 403.
"""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied

from .roles import Role, has_role, is_staff_member


def _check(request, roles):
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    allowed = has_role(request.user, *roles) if roles else is_staff_member(request.user)
    if not allowed:
        raise PermissionDenied
    return None


def role_required(*roles):
    """Allow users holding one of ``roles`` (a Manager holds all); no roles: any staff role."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            return _check(request, roles) or view(request, *args, **kwargs)

        return wrapper

    return decorator


staff_required = role_required()
sales_required = role_required(Role.SALES)
manager_required = role_required(Role.MANAGER)


class RoleRequiredMixin:
    """Class-based views: set ``roles``; empty means any staff role."""

    roles: tuple = ()

    def dispatch(self, request, *args, **kwargs):
        return _check(request, self.roles) or super().dispatch(request, *args, **kwargs)
