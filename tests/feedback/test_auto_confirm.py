"""Without an answer, receipt counts as confirmed after the receipt step's target time
(set in the admin), and the timeline says so. The clock is moved, never slept."""

import threading
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.db import IntegrityError, connection, transaction
from django.utils import timezone, translation
from django_celery_beat.models import PeriodicTask

from feedback import services, tasks
from feedback.models import ProblemKind, Receipt, ReceiptMethod
from orders import emails
from orders.models import Notification, NotificationKind, OrderEvent, ProcessStep, Status
from orders.roles import Role
from tests.factories import CustomerFactory

T0 = timezone.make_aware(timezone.datetime(2026, 11, 2, 10, 0))


@pytest.fixture
def delivered_at_t0(order_in, users):
    """Delivered at T0 (the receipt step's seeded target is 72 hours)."""
    with time_machine.travel(T0, tick=False):
        return order_in(Status.DELIVERED, salesperson=users[Role.SALES])


def run_at(moment) -> int:
    with time_machine.travel(moment, tick=False):
        return tasks.auto_confirm_receipts.apply().get()


def auto_event(order):
    return OrderEvent.objects.filter(order=order, code__startswith="receipt_auto_confirmed")


@pytest.mark.django_db
def test_receipt_counts_as_confirmed_once_the_target_time_has_passed(delivered_at_t0):
    assert delivered_at_t0.step_started_at == T0
    assert run_at(T0 + timedelta(hours=71, minutes=59)) == 0
    assert not Receipt.objects.exists()
    assert run_at(T0 + timedelta(hours=72, minutes=1)) == 1
    receipt = Receipt.objects.get(order=delivered_at_t0)
    assert (receipt.how, receipt.by) == (ReceiptMethod.AUTOMATIC, None)
    assert receipt.confirmed_at == T0 + timedelta(hours=72, minutes=1)
    event = auto_event(delivered_at_t0).get()
    assert event.public
    with translation.override("en"):
        assert event.message == "Receipt confirmed automatically after 3 days without an answer"
    # Once only, however often the task runs.
    assert run_at(T0 + timedelta(days=10)) == 0
    assert auto_event(delivered_at_t0).count() == 1


@pytest.mark.django_db
def test_the_number_of_days_is_the_receipt_steps_target_set_in_the_admin(delivered_at_t0):
    ProcessStep.objects.filter(code="receipt").update(target=timedelta(days=5))
    assert run_at(T0 + timedelta(days=4, hours=23)) == 0
    assert run_at(T0 + timedelta(days=5, minutes=1)) == 1
    with translation.override("en"):
        assert "after 5 days" in auto_event(delivered_at_t0).get().message
    with translation.override("zh-hans"):
        assert "5" in auto_event(delivered_at_t0).get().message


@pytest.mark.django_db
def test_without_a_target_the_limit_is_seven_days(delivered_at_t0):
    ProcessStep.objects.filter(code="receipt").update(target=None)
    assert run_at(T0 + timedelta(days=6, hours=23)) == 0
    assert run_at(T0 + timedelta(days=7, minutes=1)) == 1
    assert auto_event(delivered_at_t0).get().data == {"days": "7"}


@pytest.mark.django_db
def test_one_day_is_worded_in_the_singular(delivered_at_t0):
    ProcessStep.objects.filter(code="receipt").update(target=timedelta(days=1))
    assert run_at(T0 + timedelta(days=1, minutes=1)) == 1
    with translation.override("en"):
        assert auto_event(delivered_at_t0).get().message == (
            "Receipt confirmed automatically after 1 day without an answer"
        )


@pytest.mark.django_db
def test_an_open_problem_case_stops_the_automatic_confirmation(delivered_at_t0, users):
    with time_machine.travel(T0 + timedelta(days=1), tick=False):
        case, _ = services.report_problem(
            delivered_at_t0.pk, kind=ProblemKind.DAMAGED, details="碎了", photos=[], key="k1"
        )
    assert run_at(T0 + timedelta(days=30)) == 0
    assert not Receipt.objects.exists()
    # Resolved: the customer gets the full time again, counted from the resolution.
    resolved_at = T0 + timedelta(days=30)
    with time_machine.travel(resolved_at, tick=False):
        services.resolve_case(case.pk, by=users[Role.SALES], resolution="已补发")
    assert run_at(resolved_at + timedelta(hours=71)) == 0
    assert run_at(resolved_at + timedelta(hours=72, minutes=1)) == 1


@pytest.mark.django_db
def test_orders_already_confirmed_or_not_delivered_are_left_alone(order_in, users):
    with time_machine.travel(T0, tick=False):
        confirmed = order_in(Status.DELIVERED)
        services.confirm_receipt(confirmed.pk, how=ReceiptMethod.CUSTOMER)
        shipped = order_in(Status.SHIPPED)
        closed = order_in(Status.CLOSED)
    assert run_at(T0 + timedelta(days=30)) == 0
    assert Receipt.objects.get(order=confirmed).how == ReceiptMethod.CUSTOMER
    for order in (shipped, closed):
        assert not auto_event(order).exists()


@pytest.mark.django_db
def test_the_receipt_is_one_row_per_order_in_the_database(delivered):
    Receipt.objects.create(order=delivered, how=ReceiptMethod.CUSTOMER)
    with pytest.raises(IntegrityError), transaction.atomic():
        Receipt.objects.create(order=delivered, how=ReceiptMethod.AUTOMATIC)


@pytest.mark.django_db(transaction=True)
def test_concurrent_runs_and_answers_confirm_once(order_in, users):
    with time_machine.travel(T0, tick=False):
        order = order_in(Status.DELIVERED)
    now = T0 + timedelta(days=4)
    barrier = threading.Barrier(8)
    results, errors = [], []

    def work(index):
        try:
            barrier.wait()
            if index % 2:
                results.append(services.auto_confirm_receipts(now=now))
            else:
                _receipt, created = services.confirm_receipt(
                    order.pk, how=ReceiptMethod.AUTOMATIC, now=now
                )
                results.append(int(created))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sum(results) == 1
    assert Receipt.objects.filter(order=order).count() == 1
    assert auto_event(order).count() == 1


@pytest.mark.django_db
def test_the_task_is_scheduled_every_hour_by_beat():
    task = PeriodicTask.objects.get(task="feedback.tasks.auto_confirm_receipts")
    assert task.enabled
    assert (task.interval.every, task.interval.period) == (3600, "seconds")


@pytest.mark.django_db
def test_the_customer_is_reminded_once_before_receipt_counts_as_confirmed(delivered_at_t0):
    # The receipt step is "due soon" at 75 % of its 72 hours: after 54 hours.
    assert run_at(T0 + timedelta(hours=53)) == 0
    assert not Notification.objects.filter(kind=NotificationKind.RECEIPT_REMINDER).exists()
    run_at(T0 + timedelta(hours=54, minutes=1))
    run_at(T0 + timedelta(hours=60))
    reminder = Notification.objects.get(
        order=delivered_at_t0, kind=NotificationKind.RECEIPT_REMINDER
    )
    assert OrderEvent.objects.filter(order=delivered_at_t0, code="receipt_reminder").count() == 1
    assert not OrderEvent.objects.get(code="receipt_reminder").public
    assert emails.deliver(reminder.pk)
    message = mail.outbox[-1]
    assert message.to == [delivered_at_t0.customer.email]
    assert delivered_at_t0.number in message.subject
    assert delivered_at_t0.get_public_url() in message.body
    assert "2026-11-05" in message.body  # the date receipt counts as confirmed


@pytest.mark.django_db
def test_no_reminder_without_an_email_or_after_an_answer(order_in):
    with time_machine.travel(T0, tick=False):
        no_email = order_in(Status.DELIVERED, customer=CustomerFactory(email=""))
        answered = order_in(Status.DELIVERED)
        services.confirm_receipt(answered.pk, how=ReceiptMethod.CUSTOMER)
    run_at(T0 + timedelta(hours=60))
    assert not Notification.objects.filter(kind=NotificationKind.RECEIPT_REMINDER).exists()
    assert not OrderEvent.objects.filter(code="receipt_reminder").exists()
    assert no_email.status == answered.status == Status.DELIVERED
