"""The access matrix of every staff page: anonymous -> login, wrong role -> 403."""

import pytest
from django.urls import reverse

from orders.models import Status
from orders.roles import Role
from tests.factories import make_user

EVERY_STAFF = set(Role.values)
PAGES = [
    ("/sales/", {Role.SALES}),
    ("/sales/?partial=1", {Role.SALES}),
    ("/warehouse/", {Role.WAREHOUSE}),
    ("/warehouse/?partial=1", {Role.WAREHOUSE}),
    ("/logistics/", {Role.LOGISTICS}),
    ("/finance/", {Role.FINANCE}),
    ("/manager/", {Role.MANAGER}),
    ("/manager/?partial=1", {Role.MANAGER}),
    ("/orders/", EVERY_STAFF),
    ("/orders/new/", {Role.SALES}),
    ("/orders/{number}/", EVERY_STAFF),
    ("/process/", EVERY_STAFF),
]
VISITORS = [*Role.values, "no role"]


@pytest.fixture
def order(order_in):
    return order_in(Status.CONFIRMED)


@pytest.mark.django_db
@pytest.mark.parametrize(("url", "allowed"), PAGES)
@pytest.mark.parametrize("visitor", VISITORS)
def test_page_access(client, url, allowed, visitor, order):
    url = url.format(number=order.number)
    role = None if visitor == "no role" else visitor
    client.force_login(make_user(role))
    response = client.get(url)
    if role in allowed or role == Role.MANAGER:
        assert response.status_code == 200
    else:
        assert response.status_code == 403
        assert 'id="forbidden"' in response.text


@pytest.mark.django_db
@pytest.mark.parametrize(("url", "allowed"), PAGES)
def test_anonymous_is_sent_to_login(client, url, allowed, order):
    url = url.format(number=order.number)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login") + "?next=")


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["action", "comment"])
def test_posts_need_a_staff_login(client, path, order):
    url = f"/orders/{order.number}/{path}/"
    assert client.post(url, {"action": "pick"}).status_code == 302
    client.force_login(make_user(None))
    assert client.post(url, {"action": "pick"}).status_code == 403
    order.refresh_from_db()
    assert order.status == Status.CONFIRMED


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "dashboard"),
    [
        (Role.SALES, "/sales/"),
        (Role.WAREHOUSE, "/warehouse/"),
        (Role.LOGISTICS, "/logistics/"),
        (Role.FINANCE, "/finance/"),
        (Role.MANAGER, "/manager/"),
    ],
)
def test_home_sends_each_role_to_its_dashboard(client, role, dashboard):
    client.force_login(make_user(role))
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == dashboard


@pytest.mark.django_db
def test_navigation_shows_only_the_pages_of_the_users_role(client):
    client.force_login(make_user(Role.WAREHOUSE))
    html = client.get("/warehouse/").text
    assert 'href="/warehouse/"' in html
    assert 'href="/sales/"' not in html
    assert 'href="/manager/"' not in html
