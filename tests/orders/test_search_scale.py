"""The staff search, the list's count, the dashboards' live refresh and the sweeps' reads
are built to stay fast at a million orders: each reads through an index (orders 0019,
logistics 0003). These tests check what they find and that PostgreSQL can answer them
from the intended index (the planner is told to avoid sequential scans, so a query
whose expression no index matches shows up as a Seq Scan)."""

import dataclasses
from datetime import datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from orders import emails, selectors, services
from orders.clock import annotate_due_at, steps_by_code
from orders.models import OPEN_STATUSES, FollowUp, Notification, Order, Status
from orders.selectors import search
from tests.factories import DELIVERY, CustomerFactory, place

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def _plan(queryset, *, ordered=False) -> str:
    """The plan with sequential scans discouraged (and, for an ``ordered`` query, sorts
    too; otherwise its ordering is dropped): on a test database's few rows, and whatever
    row counts earlier tests left in the statistics, this shows whether an index *can*
    serve the query, not which one a planner would pick."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"SET LOCAL enable_sort = {'off' if ordered else 'on'}")
    return (queryset if ordered else queryset.order_by()).explain()


def _order(name, phone, **kwargs):
    """An order whose contact and recipient are ``name`` with ``phone``."""
    customer = CustomerFactory(name=name, phone=phone)
    delivery = dataclasses.replace(DELIVERY, recipient=name, phone=phone)
    return place(customer=customer, delivery=delivery, **kwargs)


@pytest.fixture
def three(db):
    return [
        _order("王小明", "+8613800138001"),
        _order("Li Mei", "+8613900139002"),
        _order("王大伟", "+8613700137003"),
    ]


def _found(**filters):
    return set(selectors.order_search(**filters).values_list("number", flat=True))


def test_an_exact_order_number_finds_that_order_only(three):
    assert _found(q=three[1].number) == {three[1].number}
    plan = _plan(selectors.order_search(q=three[1].number))
    assert "orders_order_number_key" in plan or "Index Scan" in plan


def test_a_phone_number_as_people_type_it_finds_its_orders_through_the_btree(three):
    assert _found(q="139 0013 9002") == {three[1].number}
    assert _found(q="+86 139-0013-9002") == {three[1].number}
    plan = _plan(Order.objects.filter(contact_phone="+8613900139002"))
    assert "order_contact_phone" in plan


def test_part_of_a_name_phone_or_number_is_found_through_trigram_indexes(three):
    assert _found(q="王小明") == {three[0].number}
    assert _found(q="王大伟") == {three[2].number}
    assert _found(q="mei") == {three[1].number}
    assert _found(q="00137") == {three[2].number}
    plan = _plan(Order.objects.filter(search._search_filter("王大伟", Order.objects)).order_by())
    for column in ("number", "contact_name", "contact_phone", "delivery_recipient"):
        assert f"order_{column}_trgm" in plan, plan
    assert "Seq Scan" not in plan


def test_a_short_term_matches_the_start_of_a_name_through_the_prefix_index(three):
    assert _found(q="王大") == {three[2].number}
    assert _found(q="王") == {three[0].number, three[2].number}
    assert _found(q="大伟") == set()  # the middle of a name needs three characters
    plan = _plan(Order.objects.filter(search._search_filter("王大", Order.objects)).order_by())
    assert "order_contact_name_prefix" in plan and "Seq Scan" not in plan


def test_date_filters_are_ranges_on_placed_at_in_the_business_zone(db):
    # 23:30 in Shanghai on 1 June is 15:30 UTC: it belongs to 1 June, not 2 June.
    late_evening = timezone.make_aware(datetime(2026, 6, 1, 23, 30))
    with time_machine.travel(late_evening, tick=False):
        order = place()
    day = late_evening.date()
    assert _found(date_from=day, date_to=day) == {order.number}
    assert _found(date_from=day + timedelta(days=1)) == set()
    assert _found(date_to=day - timedelta(days=1)) == set()
    qs = selectors.order_search(date_from=day, date_to=day)
    assert "::date" not in str(qs.query)
    assert "placed_at" in _plan(qs) and "Seq Scan" not in _plan(qs)


def test_the_list_counts_at_most_the_limit_and_says_there_are_more(
    client, users, monkeypatch, django_assert_max_num_queries
):
    for _ in range(4):
        place()
    monkeypatch.setattr(selectors, "SEARCH_COUNT_LIMIT", 3)
    client.force_login(users["Sales"])
    response = client.get(reverse("order_list"), **EN)
    assert response.status_code == 200
    assert "More than 3 orders" in response.content.decode()
    assert "Page 1 of" not in response.content.decode()
    monkeypatch.setattr(selectors, "SEARCH_COUNT_LIMIT", 10)
    response = client.get(reverse("order_list"), **EN)
    assert "4 orders" in response.content.decode()


def test_the_list_shows_the_name_and_phone_typed_with_the_order(client, users):
    customer = CustomerFactory(name="Chen Jing", phone="+8613800138111")
    order = place(customer=customer)
    Order.objects.filter(pk=order.pk).update(
        contact_name="Chen Jingjing", contact_phone="+8613800138222"
    )
    client.force_login(users["Sales"])
    page = client.get(reverse("order_list"), **EN).content.decode()
    assert "Chen Jingjing" in page and "+8613800138222" in page


def _live(client, url, since=""):
    return client.get(url, {"partial": "1", "since": since} if since else {"partial": "1"})


def _version(response) -> str:
    html = response.content.decode()
    start = html.index("since=") + len("since=")
    return html[start : html.index('"', start)]


@pytest.mark.parametrize(
    ("url_name", "role"),
    [
        ("sales_dashboard", "Sales"),
        ("manager_dashboard", "Manager"),
        ("logistics:dashboard", "Logistics"),
        ("warehouse:dashboard", "Warehouse"),
        ("finance:dashboard", "Finance"),
    ],
)
def test_an_idle_dashboard_refresh_answers_204_until_something_changes(
    client, users, url_name, role, django_assert_max_num_queries
):
    order = place()
    client.force_login(users[role])
    url = reverse(url_name)
    with time_machine.travel(timezone.now(), tick=False) as clock:
        first = _live(client, url)
        assert first.status_code == 200
        version = _version(first)
        # Nothing changed: no body, and only the session, the user, the role check
        # and the version's index lookups.
        with django_assert_max_num_queries(6):
            idle = _live(client, url, version)
        assert idle.status_code == 204 and idle.content == b""
        # A change on any order (every change records a timeline event) shows.
        services.add_comment(order.pk, text="called the customer", by=users["Sales"])
        changed = _live(client, url, version)
        assert changed.status_code == 200 and _version(changed) != version
        version = _version(changed)
        assert _live(client, url, version).status_code == 204
        # The clocks move with time: a minute later the section is drawn again.
        clock.shift(timedelta(seconds=61))
        assert _live(client, url, version).status_code == 200


def test_the_overview_counts_open_orders_and_recently_finished_ones(client, users):
    long_ago = timezone.now() - timedelta(days=40)
    with time_machine.travel(long_ago, tick=False):
        old_open = place()
        old_cancelled = place()
        services.perform_action(old_cancelled.pk, "cancel", by=users["Manager"], note="test")
    recent_cancelled = place()
    services.perform_action(recent_cancelled.pk, "cancel", by=users["Manager"], note="test")
    counts = selectors.status_counts()
    assert counts[Status.PLACED] == 1 and old_open.status == Status.PLACED
    assert counts[Status.CANCELLED] == 1
    client.force_login(users["Manager"])
    page = client.get(reverse("manager_dashboard"), **EN).content.decode()
    assert "placed in the last 30 days" in page


def test_the_sweeps_read_their_open_sets_through_partial_indexes(db):
    from logistics.models import DeliveryException, Shipment

    steps = steps_by_code()
    now = timezone.now()
    overdue = annotate_due_at(
        Order.objects.filter(step_overdue_at__isnull=True, status__in=OPEN_STATUSES), steps
    ).filter(due_at__lte=now)
    assert "order_open_not_overdue" in _plan(overdue)
    assert "notification_unsent" in _plan(Notification.objects.filter(pk__in=emails.unsent()))
    follow_ups = FollowUp.objects.filter(
        done_at__isnull=True, escalated_at__isnull=True, due_at__lte=now
    )
    assert "follow_up_open" in _plan(follow_ups)
    # The open sets alone (logistics.services.late_shipments and open_exceptions start
    # from them).
    assert "shipment_not_delivered" in _plan(Shipment.objects.exclude(status="delivered"))
    open_problems = DeliveryException.objects.filter(resolved_at__isnull=True)
    assert "delivery_exception_open" in _plan(open_problems.order_by("opened_at"), ordered=True)


def test_the_customer_lookup_finds_part_of_a_name_through_its_indexes(db):
    from orders.models import Customer

    wang = CustomerFactory(name="王大伟", phone="+8613700137003")
    CustomerFactory(name="李梅", phone="+8613900139002")
    assert selectors.matching_customers(name="大伟a") == []
    assert [c.pk for c in selectors.matching_customers(name="王大伟")] == [wang.pk]
    assert [c.pk for c in selectors.matching_customers(name="王大")] == [wang.pk]
    assert selectors.matching_customers(name="大伟") == []  # two characters: the start only
    assert "customer_name_trgm" in _plan(Customer.objects.filter(name__icontains="王大伟"))
    assert "customer_name_prefix" in _plan(Customer.objects.filter(name__istartswith="王大"))


@pytest.mark.parametrize("sort_limit", [2, 10])
def test_a_search_lists_its_matches_newest_first_however_many_there_are(
    client, users, monkeypatch, sort_limit
):
    """Few matches are sorted by themselves; more than SEARCH_SORT_LIMIT are read from
    the placed_at index: either way the newest come first, and the count stays bounded."""
    start = timezone.now() - timedelta(days=10)
    numbers = []
    for day in range(4):
        with time_machine.travel(start + timedelta(days=day), tick=False):
            numbers.append(_order(f"Zhou Xun {day}", f"+861380013800{day}").number)
    # Read where search_orders reads it; the list view reads SEARCH_COUNT_LIMIT from the package.
    monkeypatch.setattr(search, "SEARCH_SORT_LIMIT", sort_limit)
    monkeypatch.setattr(selectors, "SEARCH_COUNT_LIMIT", 1)
    orders, known = selectors.search_orders(q="zhou xun")
    assert [o.number for o in orders] == numbers[::-1]
    assert known == min(4, sort_limit + 1)
    client.force_login(users["Sales"])
    page = client.get(reverse("order_list"), {"q": "zhou xun"}, **EN).content.decode()
    assert "More than 1 orders" in page
    # The pages stop at the bounded count: the newest two of four here.
    assert page.index(numbers[3]) < page.index(numbers[2]) and numbers[0] not in page
