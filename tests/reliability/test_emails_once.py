"""Customer emails are sent once, and a stuck one goes out a couple of minutes late,
not ten: through a database connection that drops between the SMTP send and the
bookkeeping, a worker killed mid-send (a real Celery worker and SIGKILL), and a
re-queue that must leave a send in flight alone. Only SMTP is replaced (Django's test
and file backends); the database faults are real (pg_terminate_backend)."""

import os
import re
import signal
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.db import connection
from django.db.models import F
from django.template import TemplateDoesNotExist
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from orders import emails
from orders.models import Notification
from orders.tasks import requeue_unsent_emails, send_customer_email, sweep_deadlines
from tests.factories import place
from tests.orders.test_celery import CeleryProcesses, worker_args

from .dbfaults import connection_killed_before

REQUEUE_AFTER = timedelta(seconds=settings.O2D_EMAIL_REQUEUE_AFTER_SECONDS)
BOOKING = 'UPDATE "orders_notification" SET "sent_at"'


@pytest.fixture
def eager_tasks():
    """Tasks run in this process as they are queued (retries included), so nothing
    reaches a broker."""
    from o2d.celery import app

    saved = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager, app.conf.task_eager_propagates = True, False
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = saved


@pytest.fixture
def needs_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (run with DATABASE_URL=postgres://...)")


@pytest.fixture
def no_booking_pauses(monkeypatch):
    monkeypatch.setattr(emails, "BOOKING_RETRY_DELAYS", (0, 0, 0))


def placed_email():
    """An order's order-received email, recorded and not sent (in a test transaction
    the on-commit queueing never runs: as when the broker was down)."""
    order = place()
    return Notification.objects.get(order=order, kind="order_received")


def sent_message_ids():
    return [message.extra_headers["Message-ID"] for message in mail.outbox]


# ------------------------------------------------------------------ Message-ID


@pytest.mark.django_db
def test_message_id_is_stable_and_names_the_notification(settings):
    settings.DEFAULT_FROM_EMAIL = "O2D Shop <orders@shop.example>"
    first, second = placed_email(), placed_email()
    once = emails.render_notification(first).message()["Message-ID"]
    again = emails.render_notification(Notification.objects.get(pk=first.pk)).message()[
        "Message-ID"
    ]
    assert once == again == emails.message_id(first)
    assert re.fullmatch(rf"<o2d-notification-{first.pk}\.[0-9a-f]{{20}}@shop\.example>", once)
    assert emails.message_id(second) != once


@pytest.mark.django_db
def test_message_id_falls_back_to_the_site_domain(settings):
    settings.DEFAULT_FROM_EMAIL = "webmaster"
    settings.SITE_URL = "https://o2d.example.cn/"
    assert emails.message_id(placed_email()).endswith("@o2d.example.cn>")


@pytest.mark.django_db
def test_the_sent_email_carries_its_message_id():
    notification = placed_email()
    assert emails.deliver(notification.pk)
    (message,) = mail.outbox
    assert message.message()["Message-ID"] == emails.message_id(notification)


# --------------------------------------------- the connection drops after the send


@pytest.mark.django_db(transaction=True)
def test_connection_dropped_after_the_send_books_the_email_once(
    settings, eager_tasks, needs_postgresql
):
    """The order's email is sent by its task as the placement commits; right after the
    SMTP server accepted it the database connection is killed. The bookkeeping
    reconnects and records it, and the sweep later sends nothing again."""
    settings.EMAIL_BACKEND = "tests.reliability.email_backends.DropsDatabaseAfterSend"
    from .email_backends import DropsDatabaseAfterSend

    DropsDatabaseAfterSend.drops = 1
    order = place()
    assert DropsDatabaseAfterSend.drops == 0, "the connection was not dropped"
    notification = Notification.objects.get(order=order)
    assert notification.sent_at is not None
    assert notification.attempts == 1
    assert notification.claimed_until is None
    assert len(mail.outbox) == 1

    with time_machine.travel(timezone.now() + timedelta(minutes=15)):
        sweep_deadlines.apply()
    assert len(mail.outbox) == 1


@pytest.mark.django_db(transaction=True)
def test_bookkeeping_that_keeps_failing_is_retried_without_sending_again(
    settings, eager_tasks, needs_postgresql, no_booking_pauses
):
    """Every bookkeeping try of the worker finds its connection killed: the task gives
    the send time to its retry, which only records it."""
    tries = 1 + len(emails.BOOKING_RETRY_DELAYS)
    with connection_killed_before(BOOKING, times=tries + 1) as killed:
        order = place()  # its email is sent by its task as the placement commits
    assert len(killed) == tries + 1
    notification = Notification.objects.get(order=order)
    assert notification.sent_at is not None
    assert notification.attempts == 1
    assert len(mail.outbox) == 1

    with time_machine.travel(timezone.now() + timedelta(minutes=15)):
        requeue_unsent_emails.apply()
    assert len(mail.outbox) == 1


# ------------------------------------------------------- re-queue and the lease


@pytest.mark.django_db
def test_stuck_email_is_requeued_after_two_minutes(eager_tasks):
    notification = placed_email()
    start = timezone.now()
    with time_machine.travel(start + REQUEUE_AFTER - timedelta(seconds=10)):
        assert requeue_unsent_emails() == 0
    assert mail.outbox == []
    with time_machine.travel(start + REQUEUE_AFTER + timedelta(seconds=10)):
        assert requeue_unsent_emails() == 1
    assert sent_message_ids() == [emails.message_id(notification)]
    with time_machine.travel(start + REQUEUE_AFTER * 3):
        assert requeue_unsent_emails() == 0
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_requeue_leaves_an_email_being_sent_alone(eager_tasks, settings, monkeypatch):
    """While a worker is in the middle of sending an old email, the sweep runs: it must
    not queue that email again."""
    from .email_backends import CallsBackWhileSending

    notification = placed_email()
    requeued = []
    monkeypatch.setattr(
        CallsBackWhileSending, "callback", lambda: requeued.append(requeue_unsent_emails())
    )
    settings.EMAIL_BACKEND = "tests.reliability.email_backends.CallsBackWhileSending"
    with time_machine.travel(timezone.now() + REQUEUE_AFTER * 3):
        assert emails.deliver(notification.pk)
    assert requeued == [0]
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_claim_of_a_dead_worker_is_taken_over_after_its_lease(eager_tasks, settings):
    """A worker dies during the SMTP conversation: its claim stops others until the
    lease runs out, then the email is re-queued and sent once."""
    from .email_backends import WorkerDies

    notification = placed_email()
    start = timezone.now() + REQUEUE_AFTER * 2
    settings.EMAIL_BACKEND = "tests.reliability.email_backends.DiesBeforeSending"
    with time_machine.travel(start, tick=False), pytest.raises(WorkerDies):
        emails.deliver(notification.pk)
    notification.refresh_from_db()
    assert notification.attempts == 1
    assert notification.claimed_until == start + emails.CLAIM_LEASE

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    with time_machine.travel(start + emails.CLAIM_LEASE - timedelta(seconds=5)):
        assert requeue_unsent_emails() == 0
        assert emails.deliver(notification.pk) is False  # a redelivered task waits too
    assert mail.outbox == []
    with time_machine.travel(start + emails.CLAIM_LEASE + timedelta(seconds=5)):
        assert requeue_unsent_emails() == 1
    assert sent_message_ids() == [emails.message_id(notification)]
    notification.refresh_from_db()
    assert notification.sent_at is not None
    assert notification.attempts == 2


@pytest.mark.django_db
def test_a_send_cut_off_after_the_server_accepted_it_is_resent_with_the_same_id(
    eager_tasks, settings
):
    """The one case SMTP leaves open: the worker dies after the server accepted the
    mail and before anything could be recorded. The email goes out again once the
    lease ran out, with the same Message-ID, so mail systems can recognise it."""
    from .email_backends import WorkerDies

    notification = placed_email()
    start = timezone.now() + REQUEUE_AFTER * 2
    settings.EMAIL_BACKEND = "tests.reliability.email_backends.DiesAfterSending"
    with time_machine.travel(start), pytest.raises(WorkerDies):
        emails.deliver(notification.pk)
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    with time_machine.travel(start + emails.CLAIM_LEASE + timedelta(seconds=5)):
        assert requeue_unsent_emails() == 1
    assert sent_message_ids() == [emails.message_id(notification)] * 2


@pytest.mark.django_db
def test_smtp_error_holds_the_claim_until_the_retry_is_due(settings):
    """After a failed send the email is not re-queued while its retry waits (the sweep
    would otherwise spend an attempt every minute of an SMTP outage)."""
    notification = placed_email()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2
    start = timezone.now() + REQUEUE_AFTER * 2
    with time_machine.travel(start, tick=False):
        with pytest.raises(OSError):
            emails.deliver(notification.pk)
        assert emails.next_attempt_in(notification.pk) == emails.retry_delay(1) == 30
    with time_machine.travel(start + timedelta(seconds=25)):
        assert list(emails.unsent()) == []
    with time_machine.travel(start + timedelta(seconds=31)):
        assert list(emails.unsent()) == [notification.pk]


@pytest.mark.django_db
def test_an_email_that_cannot_be_rendered_counts_its_attempts():
    """A fault in the email itself (here: no template for its kind) is not re-queued
    every minute for ever: each try counts, and waits for its retry like an SMTP
    error."""
    order = placed_email().order
    broken = Notification.objects.create(order=order, kind="no_such_kind", to="a@example.cn")
    start = timezone.now() + REQUEUE_AFTER * 2
    with time_machine.travel(start, tick=False), pytest.raises(TemplateDoesNotExist):
        emails.deliver(broken.pk)
    broken.refresh_from_db()
    assert broken.attempts == 1
    assert "TemplateDoesNotExist" in broken.last_error
    assert broken.claimed_until == start + timedelta(seconds=emails.retry_delay(1))
    with time_machine.travel(start + timedelta(seconds=10)):
        assert broken.pk not in emails.unsent()


# ------------------------------------------------------------------ configuration


@pytest.mark.django_db
def test_tasks_are_configured_to_survive_a_lost_worker():
    for task in (send_customer_email, requeue_unsent_emails, sweep_deadlines):
        assert task.acks_late and task.reject_on_worker_lost, task.name
    assert send_customer_email.time_limit < emails.CLAIM_LEASE.total_seconds()
    # The sweep that re-queues stuck emails runs every minute.
    sweep = PeriodicTask.objects.get(task="orders.tasks.sweep_deadlines")
    assert sweep.enabled
    assert sweep.interval.every * {"seconds": 1, "minutes": 60}[sweep.interval.period] <= 60
    if settings.CELERY_BROKER_URL.startswith("redis"):
        timeout = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
        longest = max(send_customer_email.time_limit, emails.RETRY_DELAY_MAX)
        assert longest < timeout < 3600


# ------------------------------------------- a real worker killed in the middle


@pytest.fixture
def task_queue():
    """A queue of this test only; the test process routes its tasks to it. Its Redis
    keys (and a killed worker's unacknowledged message) are removed afterwards."""
    import uuid

    import redis

    from o2d.celery import app

    name = f"o2d-test-{uuid.uuid4().hex[:12]}"
    saved = app.conf.task_default_queue
    app.conf.task_default_queue = name
    yield name
    app.conf.task_default_queue = saved
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    try:
        keys = list(client.scan_iter(match=f"*{name}*"))
        if keys:
            client.delete(*keys)
        for tag, payload in client.hscan_iter("unacked"):
            if name.encode() in payload:
                client.hdel("unacked", tag)
                client.zrem("unacked_index", tag)
    finally:
        client.close()


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_worker_killed_mid_send_then_every_email_is_delivered_once(
    needs_postgresql, task_queue, tmp_path
):
    """Five orders queue their emails; a real worker sends the first and is killed with
    SIGKILL in the middle of the second. A new worker sends the other three; once the
    killed worker's claim ran out, the re-queue hands the second to it. Every email is
    in the mailbox exactly once."""
    if not settings.CELERY_BROKER_URL.startswith("redis://"):
        pytest.skip("needs a Redis broker (CELERY_BROKER_URL=redis://...)")
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    hang_file = tmp_path / "hanging"
    procs = CeleryProcesses(tmp_path)
    env = procs.env(
        settings.CELERY_BROKER_URL,
        DJANGO_SETTINGS_MODULE="tests.reliability.worker_settings",
        O2D_TEST_EMAIL_DIR=str(mail_dir),
        O2D_TEST_QUEUE=task_queue,
    )
    killed_log = ""
    try:
        orders = [place() for _ in range(5)]  # each queues its email as it commits
        notifications = list(Notification.objects.filter(order__in=orders).order_by("pk"))
        assert len(notifications) == 5
        ids = {emails.message_id(n): n.pk for n in notifications}

        first = procs.start(
            "killed-worker",
            worker_args(task_queue),
            {**env, "O2D_TEST_HANG_ON_SEND": "2", "O2D_TEST_HANG_FILE": str(hang_file)},
        )
        procs.wait_for(hang_file.exists, timeout=60, what="the second send to start")
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
        killed_log = procs.log("killed-worker")
        del procs.procs["killed-worker"]
        hung = Notification.objects.get(pk=ids[hang_file.read_text()])
        assert hung.sent_at is None and hung.attempts == 1
        assert hung.claimed_until > timezone.now()
        assert Notification.objects.filter(pk__in=ids.values(), sent_at__isnull=False).count() == 1

        procs.start("worker", worker_args(task_queue), env)
        procs.wait_for(
            lambda: Notification.objects.filter(sent_at__isnull=False).count() == 4,
            timeout=60,
            what="the new worker to send the three queued emails",
        )
        hung.refresh_from_db()
        assert hung.sent_at is None, "the claim of the killed worker was taken over early"
        # The worker's clock cannot be moved: move the email's instead, by the re-queue
        # delay and the lease, as if that much time had passed.
        Notification.objects.filter(pk=hung.pk).update(
            created_at=F("created_at") - REQUEUE_AFTER,
            claimed_until=F("claimed_until") - emails.CLAIM_LEASE,
        )
        requeue_unsent_emails.delay()  # run by the worker, as beat's sweep would
        procs.wait_for(
            lambda: Notification.objects.filter(sent_at__isnull=False).count() == 5,
            timeout=60,
            what="the re-queued email to be sent",
        )
        procs.stop("worker")
    finally:
        procs.stop()
        print(f"\n----- killed worker log -----\n{killed_log}")
        for name in procs.procs:
            print(f"\n----- celery {name} log -----\n{procs.log(name)}")

    sent = re.findall(
        r"^Message-ID: (\S+)$",
        "\n".join(p.read_text() for p in Path(mail_dir).iterdir()),
        flags=re.MULTILINE,
    )
    assert sorted(sent) == sorted(ids)
    hung.refresh_from_db()
    assert hung.attempts == 2
