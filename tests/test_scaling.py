"""What docs/scaling.md promises of the settings: media files on a shared S3-compatible
store when several machines run the app, emails and sweeps on queues of their own, and
PgBouncer's transaction pooling. The S3 store is a real local S3 server (moto), the
only stand-in: it is outside the system."""

import json
import os
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import boto3
import pytest
from django.urls import reverse

from feedback.models import ProblemPhoto
from orders.models import Status
from orders.roles import Role
from tests.feedback.conftest import image_bytes, photo

ROOT = Path(__file__).resolve().parent.parent
BUCKET = "o2d-media-test"


def _settings_in_subprocess(env: dict, expression: str):
    """Evaluate ``expression`` on o2d.settings loaded with ``env`` (a fresh process,
    as a web or worker instance starting with that environment would)."""
    code = (
        "import json, django, os; os.environ['DJANGO_SETTINGS_MODULE']='o2d.settings'; "
        "django.setup(); from django.conf import settings; "
        f"from o2d.celery import app; print(json.dumps({expression}))"
    )
    clean = {k: v for k, v in os.environ.items() if not k.startswith("O2D_")}
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={**clean, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


ROUTE = "app.amqp.router.route({}, '%s')['queue'].name"


def test_emails_and_sweeps_go_to_their_own_queues_when_named():
    env = {"O2D_EMAIL_QUEUE": "emails", "O2D_SWEEP_QUEUE": "sweeps"}
    names = ["orders.tasks.send_customer_email", "orders.tasks.sweep_deadlines"]
    queues = _settings_in_subprocess(env, "[" + ", ".join(ROUTE % n for n in names) + "]")
    assert queues == ["emails", "sweeps"]


def test_without_queue_names_every_task_goes_to_the_default_queue():
    names = ["orders.tasks.send_customer_email", "feedback.tasks.auto_confirm_receipts"]
    queues = _settings_in_subprocess({}, "[" + ", ".join(ROUTE % n for n in names) + "]")
    assert queues == ["celery", "celery"]


@pytest.mark.django_db
def test_every_scheduled_task_is_routed_as_a_sweep():
    """A new periodic task must be added to SWEEP_TASKS, or it would run on the email
    workers' queue... or on none when only named queues are consumed."""
    from django.conf import settings
    from django_celery_beat.models import PeriodicTask

    scheduled = set(
        PeriodicTask.objects.exclude(task__startswith="celery.").values_list("task", flat=True)
    )
    assert scheduled and scheduled <= set(settings.SWEEP_TASKS)


def test_pgbouncer_mode_turns_server_side_cursors_off():
    expression = "settings.DATABASES['default']['DISABLE_SERVER_SIDE_CURSORS']"
    assert _settings_in_subprocess({"O2D_PGBOUNCER": "True"}, expression) is True
    assert _settings_in_subprocess({}, expression) is False


def test_an_unknown_media_storage_is_refused():
    code = "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='o2d.settings'; django.setup()"
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "O2D_MEDIA_STORAGE": "ftp"},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0 and "O2D_MEDIA_STORAGE" in result.stderr


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def s3(settings):
    """A local S3 server with an empty bucket, and O2D's media storage pointed at it
    the way O2D_MEDIA_STORAGE=s3 configures it."""
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    credentials = {"aws_access_key_id": "test", "aws_secret_access_key": "test"}
    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", **credentials)
    client.create_bucket(Bucket=BUCKET)
    configured = _settings_in_subprocess(
        {
            "O2D_MEDIA_STORAGE": "s3",
            "O2D_S3_BUCKET": BUCKET,
            "O2D_S3_ENDPOINT_URL": endpoint,
            "O2D_S3_REGION": "us-east-1",
            "O2D_S3_ACCESS_KEY": "test",
            "O2D_S3_SECRET_KEY": "test",
        },
        "settings.STORAGES['default']",
    )
    settings.STORAGES = {**settings.STORAGES, "default": configured}
    try:
        yield client
    finally:
        server.stop()


@pytest.mark.django_db
def test_problem_photos_are_stored_on_s3_and_shown_to_sales_from_there(s3, client, order_in, users):
    order = order_in(Status.DELIVERED, salesperson=users[Role.SALES])
    data = image_bytes()
    response = client.post(
        reverse("feedback:report_problem", args=[order.number, order.public_token]),
        {
            "token": uuid.uuid4().hex,
            "kind": "damaged",
            "details": "两个杯子碎了",
            "photos": [photo(content=data)],
        },
    )
    assert response.status_code == 302
    stored = ProblemPhoto.objects.get(case__order=order)
    keys = [item["Key"] for item in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]
    assert keys == [f"media/{stored.image.name}"]
    assert s3.get_object(Bucket=BUCKET, Key=keys[0])["Body"].read() == data
    client.force_login(users[Role.SALES])
    shown = client.get(reverse("feedback:photo", args=[stored.pk]))
    assert shown.status_code == 200
    assert b"".join(shown.streaming_content) == data


@pytest.mark.django_db
def test_web_sessions_run_without_jit_or_parallel_workers():
    """Short page queries: no JIT compilation, no parallel workers competing with the
    web workers for the cores (O2D_DB_SESSION_OPTIONS)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"
        cursor.execute("SHOW max_parallel_workers_per_gather")
        assert cursor.fetchone()[0] == "0"
        cursor.execute("SHOW random_page_cost")
        assert cursor.fetchone()[0] == "1.1"


def test_the_redis_cache_keeps_one_client_per_pool_and_answers_like_djangos():
    """o2d.cache.RedisCache (chosen for redis:// cache URLs) on a real Redis: the same
    answers as Django's own backend, without building a client for every call."""
    from django.conf import settings

    from o2d.cache import RedisCache

    location = settings.CELERY_BROKER_URL  # the test suite's own Redis database
    cache = RedisCache(location, {"KEY_PREFIX": f"o2d-cache-test-{uuid.uuid4().hex}"})
    try:
        assert cache.add("hits", 1, 60) is True
        assert cache.add("hits", 5, 60) is False
        assert cache.incr("hits") == 2
        cache.set("many", {"a": [1, 2]}, 60)
        assert cache.get("many") == {"a": [1, 2]}
        assert cache.get("missing", "default") == "default"
        assert cache._cache.get_client(write=True) is cache._cache.get_client(write=True)
        cache.delete_many(["hits", "many"])
        assert cache.get("hits") is None
    finally:
        cache.close()


def test_a_redis_cache_url_selects_the_client_keeping_backend():
    backend = _settings_in_subprocess(
        {"CACHE_URL": "redis://127.0.0.1:6379/15"}, "settings.CACHES['default']['BACKEND']"
    )
    assert backend == "o2d.cache.RedisCache"
