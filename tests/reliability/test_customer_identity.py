"""Whose order is it? A phone or email already on file is never proof of the same
person: the order keeps the contact details typed with it, its emails go there, and
Sales decides at verification whether to file it under an earlier customer."""

import importlib
import threading
import uuid
from decimal import Decimal

import pytest
from django.apps import apps
from django.core import mail
from django.db import connection

from orders import emails, services
from orders.models import Customer, Notification, NotificationKind, Order, Status
from orders.roles import Role
from tests.factories import DELIVERY, ProductFactory, make_user, promise_date
from tests.orders.test_online_order import form_data as online_form_data


@pytest.fixture
def tea(db):
    return ProductFactory(sku="TEA-1", name="西湖龙井 250g", unit_price=Decimal("168.00"))


def form_data(product, **overrides):
    """The online order form as a customer fills it in (one unit, no instructions)."""
    return online_form_data(
        product, special_instructions="", **{f"qty_{product.pk}": "1"}, **overrides
    )


# Another person who types the same phone number.
STRANGER = {
    "name": "Zhang Wei",
    "email": "zhang.wei@example.com",
    "province": "广东省",
    "city": "深圳市",
    "district": "南山区",
    "street": "科技园南路 8 号",
    "postal_code": "518057",
}


def place_online(client, product, **overrides):
    response = client.post("/order/", form_data(product, **overrides), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 302, response.content[:500]
    return Order.objects.select_related("customer").latest("pk")


@pytest.fixture
def sales(client, users):
    client.force_login(users[Role.SALES])
    return client


# ---------------------------------------------------------------- placement


@pytest.mark.django_db
def test_another_person_with_a_known_phone_gets_their_own_customer_and_the_emails(
    client, tea, users
):
    first = place_online(client, tea)
    second = place_online(client, tea, **STRANGER)

    assert Customer.objects.count() == 2
    assert second.customer != first.customer
    assert (second.customer.name, second.customer.email) == ("Zhang Wei", STRANGER["email"])
    assert (second.contact_name, second.contact_phone, second.contact_email) == (
        "Zhang Wei",
        "+8613800138000",
        STRANGER["email"],
    )
    # The earlier customer is untouched.
    first.customer.refresh_from_db()
    assert (first.customer.name, first.customer.email) == ("王小明", "xiaoming@example.cn")

    received = Notification.objects.get(order=second, kind=NotificationKind.ORDER_RECEIVED)
    assert received.to == STRANGER["email"]
    assert emails.deliver(received.pk) is True
    (message,) = mail.outbox
    assert message.to == [STRANGER["email"]]
    assert "Dear Zhang Wei" in message.body
    assert "王小明" not in message.body

    # Later emails (the confirmation, with the status link) go there too.
    services.verify_order(second.pk, by=None, contact=True, address=True, method="phone")
    services.confirm_order(second.pk, by=users[Role.SALES], promised_date=promise_date())
    confirmed = Notification.objects.get(order=second, kind=NotificationKind.ORDER_CONFIRMED)
    assert confirmed.to == STRANGER["email"]
    assert not Notification.objects.filter(order=second, to="xiaoming@example.cn").exists()


@pytest.mark.django_db
def test_the_same_person_twice_is_one_customer(client, tea):
    first = place_online(client, tea)
    # Same phone written differently, email in other case, name with extra spaces.
    second = place_online(
        client, tea, phone="13800138000", email="XiaoMing@Example.cn", name=" 王小明 "
    )
    assert Customer.objects.count() == 1
    assert second.customer == first.customer
    assert second.contact_email == "XiaoMing@Example.cn"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "overrides",
    [
        {"email": "someone.else@example.cn"},  # same phone and name, other email
        {"name": "王小红"},  # same phone and email, other name
        {"phone": "139 1234 5678"},  # same email and name, other phone
    ],
)
def test_a_partial_match_is_a_new_customer(client, tea, overrides):
    first = place_online(client, tea)
    second = place_online(client, tea, **overrides)
    assert Customer.objects.count() == 2
    assert second.customer != first.customer


@pytest.mark.django_db
def test_an_existing_customer_is_never_changed_by_an_order(tea):
    earlier = Customer.objects.create(name="王小明", phone="+8613800138000", email="")
    customer = services.find_or_create_customer(
        name="王小明", phone="+8613800138000", email="new@example.cn"
    )
    earlier.refresh_from_db()
    assert customer != earlier
    assert earlier.email == ""


@pytest.mark.django_db
def test_orders_placed_before_the_change_keep_their_customers_contact_details(tea):
    customer = Customer.objects.create(
        name="李雷", phone="+8613912345678", email="lilei@example.cn", language="en"
    )
    order = services.place_order(
        customer=customer,
        channel="phone",
        lines=[services.LineRequest(tea, 1)],
        delivery=DELIVERY,
    )
    # As the migration finds an order placed before the contact fields existed.
    Order.objects.filter(pk=order.pk).update(
        contact_name="", contact_phone="", contact_email="", contact_language=""
    )
    migration = importlib.import_module("orders.migrations.0016_backfill_order_contacts")
    migration.copy_contact_from_customer(apps, None)
    order.refresh_from_db()
    assert (
        order.contact_name,
        order.contact_phone,
        order.contact_email,
        order.contact_language,
    ) == ("李雷", "+8613912345678", "lilei@example.cn", "en")


# ---------------------------------------------------------------- Sales decides


@pytest.fixture
def two_people(client, tea):
    """王小明's earlier order, then a stranger's order with the same phone number."""
    first = place_online(client, tea)
    second = place_online(client, tea, **STRANGER)
    return first, second


@pytest.mark.django_db
def test_sales_sees_the_possible_match_beside_the_orders_details(client, two_people, users):
    first, second = two_people
    client.force_login(users[Role.SALES])
    html = client.get(second.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en").text
    assert 'id="customer-matches"' in html
    assert f'data-customer="{first.customer.pk}"' in html
    assert "xiaoming@example.cn" in html  # the earlier customer's email, for comparison
    assert STRANGER["email"] in html  # this order's own
    assert 'name="customer" value="separate"' in html


@pytest.mark.django_db
def test_no_match_panel_without_a_match(client, tea, users):
    order = place_online(client, tea)
    client.force_login(users[Role.SALES])
    assert 'id="customer-matches"' not in client.get(order.get_absolute_url()).text


@pytest.mark.django_db
def test_sales_files_the_order_under_the_earlier_customer(client, two_people, users):
    first, second = two_people
    sales_user = users[Role.SALES]
    client.force_login(sales_user)
    response = client.post(
        f"/orders/{second.number}/customer/",
        {"customer": first.customer.pk},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 302
    own_customer = second.customer
    second.refresh_from_db()
    assert second.customer == first.customer
    # The order's own contact details, where its emails go, are unchanged.
    assert (second.contact_name, second.contact_email) == ("Zhang Wei", STRANGER["email"])
    event = second.events.get(code="customer_linked")
    assert event.actor == sales_user
    assert event.data == {
        "customer": first.customer.pk,
        "name": "王小明",
        "previous": own_customer.pk,
    }
    assert not event.public
    # No customer row was merged or changed; both still exist as they were.
    own_customer.refresh_from_db()
    assert own_customer.email == STRANGER["email"]
    first.customer.refresh_from_db()
    assert first.customer.email == "xiaoming@example.cn"
    # Later emails still go to the address typed with the order.
    services.cancel_order(second.pk, by=sales_user, note="duplicate")
    cancelled = Notification.objects.get(order=second, kind=NotificationKind.ORDER_CANCELLED)
    assert cancelled.to == STRANGER["email"]
    html = client.get(second.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en").text
    assert "Filed under the existing customer 王小明" in html


@pytest.mark.django_db
def test_linking_can_be_undone_by_choosing_the_orders_own_customer(two_people, users):
    first, second = two_people
    own = second.customer
    services.link_order_to_customer(second.pk, first.customer.pk, by=users[Role.SALES])
    services.link_order_to_customer(second.pk, own.pk, by=users[Role.SALES])
    second.refresh_from_db()
    assert second.customer == own
    assert second.events.filter(code="customer_linked").count() == 2


@pytest.mark.django_db
def test_sales_keeps_the_order_separate(client, two_people, users):
    _first, second = two_people
    own = second.customer
    client.force_login(users[Role.SALES])
    response = client.post(f"/orders/{second.number}/customer/", {"customer": "separate"})
    assert response.status_code == 302
    second.refresh_from_db()
    assert second.customer == own
    assert second.events.get(code="customer_kept_separate").actor == users[Role.SALES]


@pytest.mark.django_db
def test_only_a_possible_match_can_be_chosen(client, two_people, users):
    _first, second = two_people
    unrelated = Customer.objects.create(name="陈美玲", phone="+8613900000002", email="c@x.cn")
    client.force_login(users[Role.SALES])
    for choice in (unrelated.pk, 10**12, "x", ""):
        response = client.post(f"/orders/{second.number}/customer/", {"customer": choice})
        assert response.status_code == 400, choice
    second.refresh_from_db()
    assert second.customer.email == STRANGER["email"]
    assert not second.events.filter(code__in=["customer_linked", "customer_kept_separate"])


@pytest.mark.django_db
def test_other_roles_may_not_choose_the_customer(client, two_people, users):
    first, second = two_people
    client.force_login(users[Role.WAREHOUSE])
    response = client.post(f"/orders/{second.number}/customer/", {"customer": first.customer.pk})
    assert response.status_code == 403
    with pytest.raises(services.TransitionForbidden):
        services.link_order_to_customer(second.pk, first.customer.pk, by=users[Role.WAREHOUSE])
    second.refresh_from_db()
    assert second.customer != first.customer


@pytest.mark.django_db
def test_the_customer_is_chosen_before_confirmation_only(two_people, users):
    first, second = two_people
    sales_user = users[Role.SALES]
    services.verify_order(second.pk, by=sales_user, contact=True, address=True, method="phone")
    services.confirm_order(second.pk, by=sales_user, promised_date=promise_date())
    with pytest.raises(services.TransitionNotAllowed):
        services.link_order_to_customer(second.pk, first.customer.pk, by=sales_user)
    with pytest.raises(services.TransitionNotAllowed):
        services.keep_order_separate(second.pk, by=sales_user)
    second.refresh_from_db()
    assert second.status == Status.CONFIRMED
    assert second.customer != first.customer


@pytest.mark.django_db
def test_status_lookup_uses_the_orders_own_contact(client, two_people):
    first, second = two_people
    services.link_order_to_customer(
        second.pk, first.customer.pk, by=make_user(Role.SALES, username="s2")
    )
    found = client.post("/track/", {"number": second.number, "contact": STRANGER["email"]})
    assert found.status_code == 303
    assert found["Location"] == second.get_public_url()
    # The earlier customer's email does not open the stranger's order.
    refused = client.post("/track/", {"number": second.number, "contact": "xiaoming@example.cn"})
    assert refused.status_code == 404


# ---------------------------------------------------------------- concurrency


@pytest.mark.django_db(transaction=True)
def test_concurrent_first_orders_from_one_new_person_create_one_customer(tea):
    if connection.vendor != "postgresql":
        pytest.skip("measures PostgreSQL's locking")
    rounds, parallel = 20, 4
    errors = []

    def submit(barrier, phone):
        try:
            barrier.wait()
            services.submit_order(
                contact=services.ContactDetails(
                    name="赵六", phone=phone, email="zhao@example.cn", language="zh-hans"
                ),
                idempotency_key=f"online:{uuid.uuid4().hex}",
                channel="online",
                lines=[services.LineRequest(tea, 1)],
                delivery=DELIVERY,
            )
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    for n in range(rounds):
        phone = f"+86139000{n:05d}"
        barrier = threading.Barrier(parallel)
        threads = [threading.Thread(target=submit, args=(barrier, phone)) for _ in range(parallel)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert Customer.objects.filter(phone=phone).count() == 1, f"round {n}"
        # Different idempotency keys: still separate orders.
        assert Order.objects.filter(contact_phone=phone).count() == parallel


# ---------------------------------------------------------------- the admin


@pytest.mark.django_db
def test_admin_shows_and_searches_the_orders_contact(client, two_people):
    _first, second = two_people
    client.force_login(make_user(None, username="root", is_superuser=True, is_staff=True))
    found = client.get("/admin/orders/order/", {"q": STRANGER["email"]})
    assert found.status_code == 200
    assert second.number in found.text
    page = client.get(f"/admin/orders/order/{second.pk}/change/")
    assert page.status_code == 200
    assert STRANGER["email"] in page.text
