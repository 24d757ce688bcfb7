from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView
from django.shortcuts import redirect, render

from orders.access import staff_required
from orders.roles import Role, user_roles


class StaffLoginView(LoginView):
    """The staff sign-in. Failed attempts are counted by django-axes (see settings)."""

    redirect_authenticated_user = True


def locked_out(request, original_response=None, credentials=None):
    """What django-axes answers on either sign-in page (staff or admin) once the account
    or the client address has too many failed attempts: the sign-in form again, with
    a translated explanation, as 429."""
    form = AuthenticationForm(request)
    username = (credentials or {}).get("username") or request.POST.get("username", "")
    form.initial["username"] = username[:150]
    context = {
        "form": form,
        "throttled": True,
        "cooloff_minutes": int(settings.AXES_COOLOFF_TIME.total_seconds() // 60),
        "next": request.POST.get("next", "") if request.method == "POST" else "",
    }
    return render(request, "registration/login.html", context, status=429)


def axes_username(request, credentials=None):
    """The account name django-axes counts failures against: what was typed, cut to
    the longest username there can be, so an overlong one is an ordinary failure
    rather than a database error (axes keeps it in a 255-character column)."""
    from django.contrib.auth import get_user_model

    field = settings.AXES_USERNAME_FORM_FIELD
    username = (credentials or {}).get(field) or request.POST.get(field) or ""
    longest = get_user_model()._meta.get_field(get_user_model().USERNAME_FIELD).max_length
    return str(username)[:longest]


# The dashboard each role lands on after signing in, in order of precedence.
ROLE_HOME = [
    (Role.MANAGER, "manager_dashboard"),
    (Role.SALES, "sales_dashboard"),
    (Role.WAREHOUSE, "warehouse:dashboard"),
    (Role.LOGISTICS, "logistics:dashboard"),
    (Role.FINANCE, "finance:dashboard"),
]


@staff_required
def home(request):
    roles = user_roles(request.user)
    for role, url_name in ROLE_HOME:
        if role in roles:
            return redirect(url_name)
    return redirect("order_list")  # pragma: no cover - every staff user has a role
