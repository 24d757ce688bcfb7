"""The 24-hour follow-up: created once when confirmation is late, escalated when the
follow-up itself is overdue, closed by the confirmation. Time moves; nothing sleeps."""

import threading
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from orders import services
from orders.models import (
    Channel,
    FollowUp,
    Notification,
    ProcessStep,
    Status,
    StepChannelTarget,
)
from orders.roles import Role
from tests.factories import CustomerFactory, place, promise_date


@pytest.fixture
def t0():
    return timezone.now().replace(microsecond=0)


def placed_at(moment, **kwargs):
    with time_machine.travel(moment, tick=False):
        return place(customer=CustomerFactory(email="kehu@example.cn"), **kwargs)


@pytest.mark.django_db
def test_sweep_creates_one_follow_up_and_one_reminder_after_24_hours(t0, users):
    order = placed_at(t0, salesperson=users[Role.SALES])
    with time_machine.travel(t0 + timedelta(hours=23), tick=False):
        services.mark_overdue_steps()
    assert not FollowUp.objects.exists()
    with time_machine.travel(t0 + timedelta(hours=25), tick=False):
        services.mark_overdue_steps()
        services.mark_overdue_steps()
    follow_up = FollowUp.objects.get()
    assert follow_up.order == order
    assert follow_up.assignee == users[Role.SALES]
    assert follow_up.due_at == t0 + timedelta(hours=25 + 4)
    assert Notification.objects.filter(order=order, kind="confirmation_reminder").count() == 1
    assert order.events.filter(code="follow_up_created").count() == 1


@pytest.mark.django_db
def test_overdue_follow_up_is_escalated_once_and_shown_to_managers(t0, users, client):
    order = placed_at(t0)
    with time_machine.travel(t0 + timedelta(hours=25), tick=False):
        services.mark_overdue_steps()
    with time_machine.travel(t0 + timedelta(hours=28), tick=False):
        assert services.escalate_overdue_follow_ups() == 0
    with time_machine.travel(t0 + timedelta(hours=29, minutes=1), tick=False):
        assert services.escalate_overdue_follow_ups() == 1
        assert services.escalate_overdue_follow_ups() == 0
    assert FollowUp.objects.get().escalated_at is not None
    assert order.events.filter(code="follow_up_escalated").count() == 1
    client.force_login(users[Role.MANAGER])
    html = client.get("/manager/").text
    assert 'id="escalated-table"' in html
    assert order.number in html.split('id="escalated-table"')[1].split("</table>")[0]


@pytest.mark.django_db
def test_confirmation_closes_the_open_follow_ups(t0, users):
    order = placed_at(t0)
    with time_machine.travel(t0 + timedelta(hours=25), tick=False):
        services.mark_overdue_steps()
        services.confirm_order(order.pk, by=users[Role.SALES], promised_date=promise_date())
    assert FollowUp.objects.get().done_at is not None
    with time_machine.travel(t0 + timedelta(hours=40), tick=False):
        assert services.escalate_overdue_follow_ups() == 0


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_sweeps_create_one_follow_up_per_order(t0):
    orders = [placed_at(t0 - timedelta(hours=25)) for _ in range(6)]
    barrier = threading.Barrier(2)
    errors = []

    def sweep():
        try:
            barrier.wait()
            services.mark_overdue_steps()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    for order in orders:
        assert FollowUp.objects.filter(order=order).count() == 1
        assert Notification.objects.filter(order=order, kind="confirmation_reminder").count() == 1


@pytest.mark.django_db
def test_channel_override_of_the_confirmation_target(t0):
    step = ProcessStep.objects.get(code="confirmation")
    StepChannelTarget.objects.create(step=step, channel=Channel.PHONE, target=timedelta(hours=2))
    phone = placed_at(t0, channel=Channel.PHONE)
    online = placed_at(t0, channel=Channel.ONLINE)
    with time_machine.travel(t0 + timedelta(hours=3), tick=False):
        services.mark_overdue_steps()
    assert FollowUp.objects.filter(order=phone).exists()
    assert not FollowUp.objects.filter(order=online).exists()


@pytest.mark.django_db
def test_sales_dashboard_queues(t0, users, client):
    unverified = placed_at(t0, verified=False)
    verified = placed_at(t0)
    silent = placed_at(t0 - timedelta(hours=73), salesperson=users[Role.SALES])
    services.mark_overdue_steps()
    client.force_login(users[Role.SALES])
    html = client.get("/sales/").text

    def section(key):
        return html.split(f'id="{key}"')[1].split("</section>")[0]

    assert unverified.number in section("queue-to_verify")
    assert verified.number not in section("queue-to_verify")
    assert verified.number in section("queue-to_confirm")
    assert silent.number in section("queue-no_answer")
    assert verified.number not in section("queue-no_answer")
    assert silent.number in section("my-follow-ups")


@pytest.mark.django_db
def test_cancelling_tells_the_customer(users):
    order = place(customer=CustomerFactory(email="kehu@example.cn"))
    services.cancel_order(order.pk, by=users[Role.SALES], note="客户多次未接电话")
    assert Notification.objects.filter(order=order, kind="order_cancelled").exists()
    order.refresh_from_db()
    assert order.status == Status.CANCELLED


@pytest.mark.django_db
def test_reminder_and_cancellation_emails_render_in_the_customers_language(t0, users):
    from django.core import mail

    from orders import emails, links

    order = placed_at(t0 - timedelta(hours=25))
    services.mark_overdue_steps()
    reminder = Notification.objects.get(order=order, kind="confirmation_reminder")
    assert emails.deliver(reminder.pk)
    assert links.confirm_url(order) in mail.outbox[-1].body
    assert order.number in mail.outbox[-1].subject
    services.cancel_order(order.pk, by=users[Role.SALES], note="无人接听")
    cancelled = Notification.objects.get(order=order, kind="order_cancelled")
    assert emails.deliver(cancelled.pk)
    message = mail.outbox[-1]
    assert "取消" in message.subject  # the customer's language is zh-hans
    assert "无人接听" not in message.body  # the internal reason stays internal
