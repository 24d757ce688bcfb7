"""The survey sweep on a real Celery worker, killed with SIGKILL in the middle of a
sweep: every received order still gets exactly one survey and one email.

The worker is stopped mid-sweep by a row lock the test holds on the second order (the
sweep locks each order before it looks for a survey), so the kill lands after the
first order's survey was committed and before the second's: no hook in the code."""

import os
import re
import signal
from datetime import timedelta
from pathlib import Path

import psycopg2
import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from feedback import services
from feedback.models import Receipt, Survey
from feedback.tasks import send_surveys
from orders import emails
from orders.models import Notification, NotificationKind, Status
from orders.roles import Role
from tests.orders.test_celery import CeleryProcesses, subprocess_database_url, worker_args

from .test_emails_once import task_queue  # noqa: F401  (the fixture)


@pytest.fixture
def needs_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (run with DATABASE_URL=postgres://...)")


def _waiting_on_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0] > 0


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_worker_killed_mid_sweep_then_each_order_gets_one_survey(
    needs_postgresql,
    task_queue,  # noqa: F811  (the fixture imported above)
    tmp_path,
    order_in,
    users,
):
    if not settings.CELERY_BROKER_URL.startswith("redis://"):
        pytest.skip("needs a Redis broker (CELERY_BROKER_URL=redis://...)")
    orders = [order_in(Status.DELIVERED, salesperson=users[Role.SALES]) for _ in range(3)]
    received = timezone.now() - timedelta(days=3, hours=1)
    for minutes, order in enumerate(orders):
        services.confirm_receipt(
            order.pk, how="customer", now=received + timedelta(minutes=minutes)
        )
    assert list(Receipt.objects.order_by("confirmed_at").values_list("order_id", flat=True)) == [
        o.pk for o in orders
    ]
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    procs = CeleryProcesses(tmp_path)
    env = procs.env(
        settings.CELERY_BROKER_URL,
        DJANGO_SETTINGS_MODULE="tests.reliability.worker_settings",
        O2D_TEST_EMAIL_DIR=str(mail_dir),
        O2D_TEST_QUEUE=task_queue,
    )
    # Another session holds the second order's row: the sweep stops there.
    blocker = psycopg2.connect(subprocess_database_url())
    killed_log = ""
    try:
        with blocker.cursor() as cursor:
            cursor.execute("SELECT id FROM orders_order WHERE id = %s FOR UPDATE", [orders[1].pk])
        first = procs.start("killed-worker", worker_args(task_queue), env)
        send_surveys.delay()
        procs.wait_for(
            lambda: Survey.objects.filter(order=orders[0]).exists() and _waiting_on_a_lock(),
            timeout=60,
            what="the sweep to survey the first order and wait on the second",
        )
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
        killed_log = procs.log("killed-worker")
        del procs.procs["killed-worker"]
        blocker.rollback()
        assert list(Survey.objects.values_list("order_id", flat=True)) == [orders[0].pk]

        procs.start("worker", worker_args(task_queue), env)
        send_surveys.delay()  # the next beat tick
        procs.wait_for(
            lambda: (
                Notification.objects.filter(
                    kind=NotificationKind.SURVEY, sent_at__isnull=False
                ).count()
                == 3
            ),
            timeout=60,
            what="the new worker to survey the other orders and send the three emails",
        )
        procs.stop("worker")
    finally:
        blocker.close()
        procs.stop()
        print(f"\n----- killed worker log -----\n{killed_log}")
        for name in procs.procs:
            print(f"\n----- celery {name} log -----\n{procs.log(name)}")

    for order in orders:
        assert Survey.objects.filter(order=order).count() == 1
        assert order.events.filter(code="survey_sent").count() == 1
    notifications = Notification.objects.filter(kind=NotificationKind.SURVEY)
    assert notifications.count() == 3
    sent = re.findall(
        r"^Message-ID: (\S+)$",
        "\n".join(p.read_text() for p in Path(mail_dir).iterdir()),
        flags=re.MULTILINE,
    )
    # The worker also sent the orders' earlier emails; each survey email went once.
    survey_ids = sorted(emails.message_id(n) for n in notifications)
    assert sorted(m for m in sent if m in survey_ids) == survey_ids
