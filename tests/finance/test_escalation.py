"""A closing request left waiting past the closing step's target time is escalated to
the managers, once per hand-off: with Sales after receipt or after Finance sent it
back, with Finance after submission. The order page says whose hands it is in."""

import threading
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from finance import selectors
from finance import services as finance
from finance.models import ClosingRequest
from finance.tasks import escalate_closing_requests
from orders.roles import Role
from tests.factories import settle

from .conftest import EN

pytestmark = pytest.mark.django_db


def escalations(order):
    return list(order.events.filter(code="closing_escalated").values_list("data__with", flat=True))


def test_a_request_left_with_sales_is_escalated_once(received):
    target = selectors.closing_target()
    request = ClosingRequest.objects.get(order=received)
    just_before = request.step_started_at + target - timedelta(minutes=1)
    assert finance.escalate_closing_requests(now=just_before) == 0
    late = request.step_started_at + target
    assert finance.escalate_closing_requests(now=late) == 1
    assert finance.escalate_closing_requests(now=late + timedelta(hours=5)) == 0
    request.refresh_from_db()
    assert request.escalated_at == late
    assert escalations(received) == ["sales"]


def test_each_hand_off_starts_a_new_clock_and_a_new_escalation(received, users):
    target = selectors.closing_target()
    start = timezone.now()
    finance.escalate_closing_requests(now=start + target)
    assert escalations(received) == ["sales"]

    settle(received, by=users[Role.FINANCE])
    submitted_at = start + target + timedelta(hours=1)
    finance.submit_request(received.pk, by=users[Role.SALES], now=submitted_at)
    assert ClosingRequest.objects.get(order=received).escalated_at is None
    assert finance.escalate_closing_requests(now=submitted_at + target / 2) == 0
    assert finance.escalate_closing_requests(now=submitted_at + target) == 1

    sent_back_at = submitted_at + target + timedelta(hours=1)
    finance.send_back(
        received.pk, by=users[Role.FINANCE], reason="Payment proof missing", now=sent_back_at
    )
    assert finance.escalate_closing_requests(now=sent_back_at + target) == 1
    assert escalations(received) == ["sales", "finance", "sales"]


def test_an_approved_request_is_never_escalated(in_review, users):
    finance.approve(in_review.pk, by=users[Role.FINANCE])
    far = timezone.now() + timedelta(days=365)
    assert finance.escalate_closing_requests(now=far) == 0
    assert escalations(in_review) == []


@pytest.mark.django_db(transaction=True)
def test_overlapping_sweeps_escalate_each_request_once(received):
    late = timezone.now() + selectors.closing_target() + timedelta(minutes=1)
    results, errors = [], []
    barrier = threading.Barrier(2)

    def sweep():
        try:
            barrier.wait()
            results.append(finance.escalate_closing_requests(now=late))
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sum(results) == 1
    assert escalations(received) == ["sales"]


def test_the_task_is_scheduled_by_beat_and_escalates(received):
    task = PeriodicTask.objects.get(task="finance.tasks.escalate_closing_requests")
    assert task.enabled
    assert (task.interval.every, task.interval.period) == (600, "seconds")
    with time_machine.travel(timezone.now() + selectors.closing_target(), tick=False):
        assert escalate_closing_requests() == 1
    assert escalations(received) == ["sales"]


def test_the_managers_see_escalated_requests_and_the_queues_mark_them(client, received, users):
    with time_machine.travel(timezone.now() + selectors.closing_target(), tick=False):
        finance.escalate_closing_requests()
        client.force_login(users[Role.MANAGER])
        overview = client.get(reverse("manager_dashboard"), **EN).content.decode()
        queue = client.get(reverse("finance:closing_requests"), **EN).content.decode()
    assert "Escalated closing requests" in overview
    assert f'data-order="{received.number}"' in overview
    assert "Escalated" in queue.split(received.number, 1)[1].split("</tr>", 1)[0]
    assert (
        "Closing request late with Sales: escalated to the managers"
        in client.get(received.get_absolute_url(), **EN).content.decode()
    )


@pytest.mark.parametrize(
    ("steps", "expected"),
    [
        ([], "Waiting on Sales: complete and submit the closing request"),
        (["submit"], "Waiting on Finance: acknowledge the closing request"),
        (["submit", "acknowledge"], "Waiting on Finance: review the closing request"),
        (["submit", "send_back"], "Waiting on Sales: Finance sent the closing request back"),
    ],
)
def test_the_order_page_says_whose_hands_the_request_is_in(
    client, received, users, steps, expected
):
    for step in steps:
        if step == "submit":
            finance.submit_request(received.pk, by=users[Role.SALES])
        elif step == "acknowledge":
            finance.acknowledge_request(received.pk, by=users[Role.FINANCE])
        else:
            finance.send_back(received.pk, by=users[Role.FINANCE], reason="Invoice missing")
    client.force_login(users[Role.SALES])
    page = client.get(received.get_absolute_url(), **EN).content.decode()
    line = page.split('id="waiting-on">', 1)[1].split("</p>", 1)[0]
    assert line == expected
