"""Sign-in that cannot be brute-forced and cannot lock out an office (django-axes).

Both sign-in pages count failed attempts only, per account and per client address;
a lockout is refused with 429 even for the right password, shows in the admin, and
ends when an admin deletes it or the cool-off passes."""

from datetime import timedelta

import pytest
import time_machine
from axes.models import AccessAttempt
from django.conf import settings
from django.utils import timezone

from orders.roles import Role
from tests.factories import make_user

PASSWORD = "pw-for-tests"
LIMIT = settings.AXES_FAILURE_LIMIT


def sign_in(client, url, username, password, ip="203.0.113.7", **headers):
    return client.post(
        url,
        {"username": username, "password": password},
        REMOTE_ADDR=ip,
        HTTP_ACCEPT_LANGUAGE="en",
        **headers,
    )


def signed_in(response):
    return response.status_code == 302


@pytest.fixture
def staff(db):
    return make_user(Role.SALES, username="mei")


@pytest.fixture
def admin_user(db):
    return make_user(None, username="root", is_staff=True, is_superuser=True)


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/accounts/login/", "/admin/login/"])
def test_repeated_wrong_passwords_lock_the_account_out(client, staff, admin_user, url):
    user = admin_user if url.startswith("/admin/") else staff
    for _ in range(LIMIT - 1):
        response = sign_in(client, url, user.username, "wrong")
        assert response.status_code == 200
    response = sign_in(client, url, user.username, "wrong")
    assert response.status_code == 429
    # The right password no longer helps, and says why in the page's language.
    response = sign_in(client, url, user.username, PASSWORD)
    assert response.status_code == 429
    assert "Too many failed sign-in attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_one_wrong_password_from_many_addresses_locks_the_account(client, staff):
    for n in range(LIMIT):
        sign_in(client, "/accounts/login/", staff.username, "wrong", ip=f"198.51.100.{n + 1}")
    response = sign_in(client, "/accounts/login/", staff.username, PASSWORD, ip="192.0.2.200")
    assert response.status_code == 429
    # Another account from a fresh address is not affected.
    other = make_user(Role.WAREHOUSE, username="li")
    response = sign_in(client, "/accounts/login/", other.username, PASSWORD, ip="192.0.2.201")
    assert signed_in(response)


@pytest.mark.django_db
def test_many_accounts_guessed_from_one_address_lock_the_address(client, staff):
    for n in range(LIMIT):
        sign_in(client, "/accounts/login/", f"guess{n}", "wrong")
    response = sign_in(client, "/accounts/login/", staff.username, PASSWORD)
    assert response.status_code == 429
    # The same account from another address still signs in.
    assert signed_in(sign_in(client, "/accounts/login/", staff.username, PASSWORD, ip="192.0.2.9"))


@pytest.mark.django_db
def test_successful_sign_ins_never_count(client, db):
    """An office behind one address signs in all day: only failures count."""
    people = [make_user(Role.SALES, username=f"clerk{n}") for n in range(5)]
    for _ in range(6):
        for person in people:
            assert signed_in(sign_in(client, "/accounts/login/", person.username, PASSWORD))
            client.post("/accounts/logout/")
    assert not AccessAttempt.objects.filter(failures_since_start__gt=0).exists()


@pytest.mark.django_db
def test_a_few_typos_in_the_office_do_not_lock_anyone_out(client, db):
    people = [make_user(Role.SALES, username=f"clerk{n}") for n in range(LIMIT - 1)]
    for person in people:
        sign_in(client, "/accounts/login/", person.username, "typo")
        assert signed_in(sign_in(client, "/accounts/login/", person.username, PASSWORD))
        client.post("/accounts/logout/")


@pytest.mark.django_db
def test_forwarded_for_is_ignored_without_a_trusted_proxy(client, staff):
    """A client cannot dodge the address limit by inventing X-Forwarded-For."""
    for n in range(LIMIT):
        sign_in(
            client, "/accounts/login/", f"guess{n}", "wrong", HTTP_X_FORWARDED_FOR=f"10.9.9.{n}"
        )
    assert sign_in(client, "/accounts/login/", staff.username, PASSWORD).status_code == 429


@pytest.mark.django_db
def test_behind_our_proxy_the_last_forwarded_address_counts(client, staff, settings):
    settings.AXES_CLIENT_IP_CALLABLE = "o2d.proxy.client_ip"
    for n in range(LIMIT):
        sign_in(
            client,
            "/accounts/login/",
            f"guess{n}",
            "wrong",
            ip="10.0.0.2",  # the proxy
            HTTP_X_FORWARDED_FOR=f"forged, 198.51.100.{n}",
        )
    # Ten different clients behind the proxy: none of them, nor the proxy, is locked.
    response = sign_in(
        client,
        "/accounts/login/",
        staff.username,
        PASSWORD,
        ip="10.0.0.2",
        HTTP_X_FORWARDED_FOR="198.51.100.200",
    )
    assert signed_in(response)


@pytest.mark.django_db
def test_lockout_is_listed_and_reset_in_the_admin(client, staff, admin_user):
    for _ in range(LIMIT):
        sign_in(client, "/accounts/login/", staff.username, "wrong", ip="198.51.100.1")
    assert sign_in(client, "/accounts/login/", staff.username, PASSWORD).status_code == 429

    admin = client.__class__()
    admin.force_login(admin_user)
    listing = admin.get("/admin/axes/accessattempt/", HTTP_ACCEPT_LANGUAGE="en")
    assert listing.status_code == 200
    assert staff.username in listing.content.decode()
    attempt = AccessAttempt.objects.get(username=staff.username)
    response = admin.post(f"/admin/axes/accessattempt/{attempt.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert signed_in(sign_in(client, "/accounts/login/", staff.username, PASSWORD))


@pytest.mark.django_db
def test_lockout_ends_after_the_cool_off(client, staff):
    for _ in range(LIMIT):
        sign_in(client, "/accounts/login/", staff.username, "wrong")
    assert sign_in(client, "/accounts/login/", staff.username, PASSWORD).status_code == 429
    later = timezone.now() + settings.AXES_COOLOFF_TIME + timedelta(seconds=1)
    with time_machine.travel(later):
        assert signed_in(sign_in(client, "/accounts/login/", staff.username, PASSWORD))


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/accounts/login/", "/admin/login/"])
def test_an_overlong_username_is_an_ordinary_failure(client, url):
    """Longer than any account (and than axes' 255-character column): counted, not a 500."""
    for _ in range(LIMIT - 1):
        assert sign_in(client, url, "x" * 256, "wrong").status_code == 200
    assert sign_in(client, url, "x" * 256, "wrong").status_code == 429
    assert AccessAttempt.objects.get().username == "x" * 150
