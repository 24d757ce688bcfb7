"""A return's clocks (orders.ReturnStep, in the admin's process definition): deciding,
sending the goods (with one reminder to the customer), inspection and the refund are
each late on the dashboards once they pass their target. The clock is moved, never
slept; the times are instants, so the tests pass at any hour in Asia/Shanghai."""

import threading
from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from feedback import return_goods, returns
from feedback.models import ReturnRequest
from feedback.return_goods import Counted
from feedback.selectors import open_returns, warehouse_returns
from finance import selectors as finance_selectors
from orders.models import Notification, NotificationKind, ReturnStep, Status
from orders.roles import Role
from orders.services import LineRequest
from tests.factories import ProductFactory, make_user, settle

pytestmark = pytest.mark.django_db

MINUTE = timedelta(minutes=1)


@pytest.fixture
def start():
    """23:30 in Shanghai tomorrow (after the order's delivery), so that a day's target
    crosses midnight."""
    tomorrow = timezone.localtime(timezone.now(), ZoneInfo("Asia/Shanghai")) + timedelta(days=1)
    return tomorrow.replace(hour=23, minute=30, second=0, microsecond=0)


@pytest.fixture
def delivered(order_in, users):
    lines = [LineRequest(ProductFactory(unit_price=Decimal("40.00")), 2)]
    order = order_in(Status.DELIVERED, salesperson=users[Role.SALES], lines=lines)
    settle(order, by=users[Role.FINANCE])
    return order


def target(code):
    return ReturnStep.objects.get(code=code).target


def late_in(lanes, lane, request):
    (item,) = [r for r in lanes[lane] if r.pk == request.pk]
    return item.late


def test_each_step_of_a_return_is_late_past_its_target(delivered, users, start):
    line = delivered.lines.get()
    checker = make_user(Role.WAREHOUSE, username="warehouse-checker")
    with time_machine.travel(start, tick=False) as clock:
        request, _created = returns.request_return(
            delivered.pk, reason_code="damaged", quantities={line.pk: 1}, key="c" * 32
        )
        clock.move_to(start + target("deciding") - MINUTE)
        assert not late_in(open_returns(), "to_decide", request)
        clock.move_to(start + target("deciding") + MINUTE)
        assert late_in(open_returns(), "to_decide", request)

        decided = timezone.now()
        returns.approve_return(request.pk, by=users[Role.SALES], outcome="refund")
        assert not late_in(open_returns(), "awaiting_goods", request)
        assert not late_in(warehouse_returns(), "to_receive", request)
        clock.move_to(decided + target("sending") + MINUTE)
        assert late_in(open_returns(), "awaiting_goods", request)
        assert late_in(warehouse_returns(), "to_receive", request)

        received = timezone.now()
        return_goods.receive(request.pk, by=users[Role.WAREHOUSE], quantities={line.pk: 1})
        assert not late_in(warehouse_returns(), "to_inspect", request)
        clock.move_to(received + target("inspection") + MINUTE)
        assert late_in(warehouse_returns(), "to_inspect", request)

        inspected = timezone.now()
        return_goods.inspect(request.pk, by=checker, counted={line.pk: Counted(restock=1)})
        (account,) = finance_selectors.refunds_due()
        assert not late_in(open_returns(), "refund_due", request) and not account.late
        clock.move_to(inspected + target("refund") + MINUTE)
        (account,) = finance_selectors.refunds_due()
        assert late_in(open_returns(), "refund_due", request) and account.late


def test_the_admin_tunes_a_clock_and_an_empty_target_is_never_late(delivered, users, start):
    line = delivered.lines.get()
    with time_machine.travel(start, tick=False) as clock:
        request, _created = returns.request_return(
            delivered.pk, reason_code="damaged", quantities={line.pk: 1}, key="t" * 32
        )
        clock.move_to(start + timedelta(hours=3))
        assert not late_in(open_returns(), "to_decide", request)
        ReturnStep.objects.filter(code="deciding").update(target=timedelta(hours=2))
        assert late_in(open_returns(), "to_decide", request)
        ReturnStep.objects.filter(code="deciding").update(target=None)
        assert not late_in(open_returns(), "to_decide", request)


def test_the_dashboards_mark_late_returns(client, delivered, users, start):
    line = delivered.lines.get()
    with time_machine.travel(start, tick=False) as clock:
        request, _created = returns.request_return(
            delivered.pk, reason_code="damaged", quantities={line.pk: 1}, key="d" * 32
        )
        client.force_login(users[Role.SALES])
        page = client.get(reverse("sales_dashboard")).text
        item = page[page.index(f'data-return="{request.pk}"') :]
        assert "data-late" not in item[: item.index("</li>")]
        clock.move_to(start + target("deciding") + MINUTE)
        page = client.get(reverse("sales_dashboard")).text
        item = page[page.index(f'data-return="{request.pk}"') :]
        assert "data-late" in item[: item.index("</li>")]


def test_the_customer_is_reminded_once_to_send_the_goods(delivered, users, start):
    line = delivered.lines.get()
    with time_machine.travel(start, tick=False) as clock:
        request, _created = returns.request_return(
            delivered.pk, reason_code="damaged", quantities={line.pk: 1}, key="s" * 32
        )
        returns.approve_return(request.pk, by=users[Role.SALES], outcome="refund")
        reminder = ReturnStep.objects.get(code="sending").reminder_after
        clock.move_to(start + reminder - MINUTE)
        assert return_goods.remind_senders() == 0
        clock.move_to(start + reminder + MINUTE)
        assert return_goods.remind_senders() == 1
        assert return_goods.remind_senders() == 0
        clock.move_to(start + 2 * reminder)
        assert return_goods.remind_senders() == 0
    sent = Notification.objects.filter(order=delivered, kind=NotificationKind.RETURN_SEND_REMINDER)
    assert sent.count() == 1 and sent.get().to == delivered.contact_email
    assert delivered.events.filter(code="return_send_reminder").count() == 1


def test_a_parcel_already_on_its_way_is_not_reminded(delivered, users, start):
    line = delivered.lines.get()
    with time_machine.travel(start, tick=False) as clock:
        request, _created = returns.request_return(
            delivered.pk, reason_code="damaged", quantities={line.pk: 1}, key="w" * 32
        )
        returns.approve_return(request.pk, by=users[Role.SALES], outcome="refund")
        return_goods.send_back(request.pk, tracking="SF1400123456")
        clock.move_to(start + timedelta(days=30))
        assert return_goods.remind_senders() == 0


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_remind_once(delivered, users, start):
    line = delivered.lines.get()
    with time_machine.travel(start, tick=False):
        request, _created = returns.request_return(
            delivered.pk, reason_code="damaged", quantities={line.pk: 1}, key="x" * 32
        )
        returns.approve_return(request.pk, by=users[Role.SALES], outcome="refund")
    later = start + timedelta(days=4)
    barrier = threading.Barrier(2)
    counts = []

    def sweep():
        try:
            barrier.wait()
            counts.append(return_goods.remind_senders(now=later))
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(counts) == [0, 1]
    assert ReturnRequest.objects.get(pk=request.pk).reminded_at == later
    assert Notification.objects.filter(kind=NotificationKind.RETURN_SEND_REMINDER).count() == 1
