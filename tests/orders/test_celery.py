"""The deadline sweep through real Celery processes: a worker on Redis runs the task,
beat schedules it from the database on both brokers (filesystem and Redis), and two
overlapping sweeps still mark each late order once.

Worker and beat run as subprocesses against the pytest test database, so these tests
are transactional: the rows they look at must be committed. Each test consumes its own
uniquely named queue, so a worker of another test run on the same Redis database can
neither steal its messages nor hand it foreign ones.
"""

import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
import time_machine
from django.conf import settings
from django.db import connection
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from orders import services
from orders.models import Order, OrderEvent
from orders.tasks import sweep_deadlines
from tests.factories import place

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]

BASE_DIR = Path(settings.BASE_DIR)
CELERY = str(Path(sys.executable).parent / "celery")
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/15"
# The confirmation step's target is 24 hours: an order placed 25 hours ago is late.
LATE_BY = timedelta(hours=25)
SUCCEEDED = re.compile(r"Task orders\.tasks\.sweep_deadlines\[[^\]]+\] succeeded")


@pytest.fixture(autouse=True)
def _needs_postgresql():
    # The worker and beat processes must reach the test database over the network,
    # and the overlapping sweeps test PostgreSQL's row locking (production's database).
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (run with DATABASE_URL=postgres://...)")


def redis_url():
    url = os.environ.get("CELERY_BROKER_URL", "")
    return url if url.startswith("redis://") else DEFAULT_REDIS_URL


def subprocess_database_url():
    """The URL of the pytest test database (settings hold its name during the test)."""
    db = settings.DATABASES["default"]
    credentials = quote(db["USER"] or "postgres", safe="")
    if db.get("PASSWORD"):
        credentials += ":" + quote(db["PASSWORD"], safe="")
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{credentials}@{host}:{port}/{quote(db['NAME'], safe='')}"


def place_late_order():
    """An order whose confirmation step started 25 hours ago (its clock moved, not slept)."""
    with time_machine.travel(timezone.now() - LATE_BY):
        order = place()
    assert timezone.now() - order.step_started_at >= LATE_BY
    return order


def overdue_events(order):
    return OrderEvent.objects.filter(order=order, code="step_overdue", kind="system")


def sweeps_succeeded(log_text):
    return len(SUCCEEDED.findall(log_text))


class CeleryProcesses:
    """Starts celery subprocesses with their output in log files; stops them all."""

    def __init__(self, tmp_path):
        self.tmp_path = tmp_path
        self.procs = {}

    def env(self, broker_url, **extra):
        return {
            **os.environ,
            "DATABASE_URL": subprocess_database_url(),
            "CELERY_BROKER_URL": broker_url,
            "O2D_VAR_DIR": str(self.tmp_path / "var"),
            "PYTHONPATH": os.pathsep.join(
                p for p in (str(BASE_DIR), os.environ.get("PYTHONPATH")) if p
            ),
            "PYTHONUNBUFFERED": "1",
            **extra,
        }

    def start(self, name, args, env, cwd=BASE_DIR):
        log_path = self.tmp_path / f"{name}.log"
        log = log_path.open("wb")
        try:
            proc = subprocess.Popen(
                [CELERY, "-A", "o2d", *args],
                cwd=cwd,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        finally:
            log.close()
        self.procs[name] = (proc, log_path)
        return proc

    def log(self, name):
        return self.procs[name][1].read_text(errors="replace")

    def check_alive(self):
        for name, (proc, _) in self.procs.items():
            if proc.poll() is not None:
                pytest.fail(f"celery {name} exited early (code {proc.returncode})")

    def stop(self, *names, timeout=15):
        """SIGTERM (warm shutdown: beat writes its run counts), SIGKILL if it hangs."""
        names = names or tuple(self.procs)
        for name in names:
            proc = self.procs[name][0]
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for name in names:
            proc = self.procs[name][0]
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)

    def wait_for(self, predicate, timeout, what):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return
            self.check_alive()
            time.sleep(0.25)
        pytest.fail(f"timed out after {timeout} s waiting for {what}")


@pytest.fixture
def celery_procs(transactional_db, tmp_path):
    """Celery subprocesses, stopped before the database is flushed. Their logs are
    printed at teardown; pytest shows them when the test failed."""
    procs = CeleryProcesses(tmp_path)
    try:
        yield procs
    finally:
        procs.stop()
        for name in procs.procs:
            print(f"\n----- celery {name} log -----\n{procs.log(name)}")


@pytest.fixture
def queue_name():
    """A queue of this test only; its Redis keys are removed afterwards."""
    name = f"o2d-test-{uuid.uuid4().hex[:12]}"
    yield name
    import redis

    client = redis.Redis.from_url(redis_url())
    try:
        keys = list(client.scan_iter(match=f"*{name}*"))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


def worker_args(queue):
    return [
        "worker",
        "--pool=solo",
        "--concurrency=1",
        "-l",
        "info",
        "-Q",
        queue,
        "-n",
        f"{queue}@%h",
        # No chatter with other workers that may share the broker.
        "--without-mingle",
        "--without-gossip",
        "--without-heartbeat",
    ]


def test_worker_on_redis_runs_the_sweep(celery_procs, queue_name):
    """A real worker consuming Redis executes sweep_deadlines: the late order gets one
    step_overdue event, the on-time order none."""
    late = place_late_order()
    on_time = place()
    url = redis_url()
    celery_procs.start("worker", worker_args(queue_name), celery_procs.env(url))

    from o2d.celery import app

    with app.connection_for_write(url) as conn:
        sweep_deadlines.apply_async(connection=conn, queue=queue_name)

    celery_procs.wait_for(
        lambda: overdue_events(late).exists(), timeout=30, what="the worker's step_overdue event"
    )
    celery_procs.wait_for(
        lambda: sweeps_succeeded(celery_procs.log("worker")) >= 1,
        timeout=10,
        what="the worker to log the finished task",
    )
    assert overdue_events(late).count() == 1
    assert not overdue_events(on_time).exists()
    late.refresh_from_db()
    on_time.refresh_from_db()
    assert late.step_overdue_at is not None
    assert on_time.step_overdue_at is None
    assert "deadline sweep: 1 order(s) newly late" in celery_procs.log("worker")


@pytest.mark.parametrize("broker", ["filesystem", "redis"])
def test_beat_schedules_the_sweep(broker, celery_procs, queue_name, tmp_path):
    """Beat, reading the schedule from the database, sends the sweep every second; the
    worker runs it several times, and the late order is still marked exactly once."""
    every_second, _ = IntervalSchedule.objects.get_or_create(
        every=1, period=IntervalSchedule.SECONDS
    )
    sweep = PeriodicTask.objects.get(name="Deadline sweep")
    assert sweep.task == "orders.tasks.sweep_deadlines"
    assert sweep.enabled
    sweep.interval = every_second
    sweep.queue = queue_name  # the schedule row routes the sweep to this test's worker
    sweep.save()

    if broker == "filesystem":
        url = "filesystem://"
        # The broker folders live under O2D_VAR_DIR (tmp_path/var). kombu keeps its
        # exchange tables in a "control" folder relative to the working directory
        # (settings do not set control_folder), so run from tmp_path to keep it private.
        cwd = tmp_path
    else:
        url = redis_url()
        cwd = BASE_DIR
    env = celery_procs.env(url)
    celery_procs.start("worker", worker_args(queue_name), env, cwd=cwd)
    celery_procs.start(
        "beat",
        [
            "beat",
            "-S",
            "django_celery_beat.schedulers:DatabaseScheduler",
            "-s",
            str(tmp_path / "celerybeat-schedule"),
            "--pidfile=",
            "--max-interval",
            "1",
            "-l",
            "info",
        ],
        env,
        cwd=cwd,
    )
    late = place_late_order()
    on_time = place()

    celery_procs.wait_for(
        lambda: overdue_events(late).exists(), timeout=45, what="beat's sweep to mark the order"
    )
    # Let the sweep run a few more times over the already marked order.
    celery_procs.wait_for(
        lambda: sweeps_succeeded(celery_procs.log("worker")) >= 3,
        timeout=20,
        what="three sweeps run by the worker",
    )
    celery_procs.stop("beat")  # beat writes its run count on shutdown
    celery_procs.stop("worker")

    sweep.refresh_from_db()
    assert sweep.total_run_count >= 3, "beat did not record its runs of the sweep"
    assert sweep.last_run_at is not None
    assert overdue_events(late).count() == 1
    assert not overdue_events(on_time).exists()
    assert "Sending due task Deadline sweep (orders.tasks.sweep_deadlines)" in celery_procs.log(
        "beat"
    )


def test_concurrent_sweeps_mark_each_late_order_once():
    """Two sweeps in parallel threads (two database connections): the conditional
    claim lets exactly one of them mark and record each late order."""
    late = [place_late_order() for _ in range(8)]
    on_time = place()
    start = threading.Barrier(2)
    counts, errors = [], []

    def sweep():
        try:
            start.wait(timeout=10)
            counts.append(services.mark_overdue_steps())
        except Exception as exc:  # reported by the main thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads)
    assert not errors, errors
    assert len(counts) == 2
    assert sum(counts) == len(late)
    for order in late:
        assert overdue_events(order).count() == 1
    assert not overdue_events(on_time).exists()
    assert Order.objects.filter(step_overdue_at__isnull=False).count() == len(late)
