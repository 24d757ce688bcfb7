"""Response headers and what the proxy may serve: a Content-Security-Policy on every
page, no server banner from gunicorn, and uploaded files only through the app."""

import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from orders.models import Status
from orders.roles import Role

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def csp(response):
    return {
        part.split()[0]: part.split()[1:]
        for part in response["Content-Security-Policy"].split(";")
        if part.strip()
    }


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "url"),
    [
        (None, "/accounts/login/"),
        (None, "/track/"),
        (None, "/order/"),
        (None, "/no-such-page/"),
        (Role.SALES, "/orders/"),
        (Role.WAREHOUSE, "/warehouse/"),
        (Role.LOGISTICS, "/logistics/"),
        (Role.MANAGER, "/process/"),
    ],
)
def test_every_page_has_a_strict_content_security_policy(client, users, role, url):
    if role:
        client.force_login(users[role])
    response = client.get(url)
    policy = csp(response)
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]


@pytest.mark.django_db
def test_pages_carry_no_inline_style_or_script(client, users, order_in):
    """What the policy refuses must not be on the pages: the browser tests also fail on
    any CSP violation reported in Chromium's console (tests/conftest.py)."""
    order = order_in(Status.CONFIRMED)
    client.force_login(users[Role.MANAGER])
    pages = (
        f"/orders/{order.number}/",
        "/orders/",
        "/",
        order.get_public_url(),
        f"/warehouse/orders/{order.number}/pick-list/",
        "/warehouse/pick-list/",
    )
    for url in pages:
        response = client.get(url, follow=True)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert ' style="' not in html, url
        assert "<style" not in html, url
        assert "<script>" not in html, url
        assert not re.search(r"\son[a-z]+=", html), url


@pytest.mark.django_db
def test_the_admin_order_page_has_no_inline_style(client, order_in):
    from tests.factories import make_user

    order = order_in(Status.PLACED)
    client.force_login(make_user(None, username="root", is_staff=True, is_superuser=True))
    html = client.get(f"/admin/orders/order/{order.pk}/change/").content.decode()
    assert 'id="fsm-actions"' in html
    assert ' style="' not in html


@pytest.mark.django_db
def test_media_files_are_not_served_by_url(client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    (tmp_path / "cases").mkdir()
    (tmp_path / "cases" / "photo.png").write_bytes(b"\x89PNG")
    assert client.get("/media/cases/photo.png").status_code == 404


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_gunicorn_does_not_announce_itself(tmp_path):
    port = free_port()
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "o2d.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "O2D_VAR_DIR": str(tmp_path / "var"),
    }
    gunicorn = Path(sys.executable).with_name("gunicorn")
    proc = subprocess.Popen(
        [gunicorn, "-c", "python:o2d.gunicorn_conf", "--bind", f"127.0.0.1:{port}", "o2d.wsgi"],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    headers = r.headers
                break
            except (urllib.error.URLError, ConnectionError):
                assert proc.poll() is None, "gunicorn exited"
                assert time.monotonic() < deadline, "gunicorn did not answer"
                time.sleep(0.2)
    finally:
        proc.terminate()
        proc.wait(timeout=15)
    assert "Server" not in headers
    assert "Content-Security-Policy" in headers
    assert headers["X-Content-Type-Options"] == "nosniff"


def test_only_the_app_mounts_the_media_volume():
    """The compose file gives the media volume to O2D's own services only, never to a
    proxy or any other image, and says how large an upload the proxy must allow."""
    text = (BASE_DIR / "docker-compose.yml").read_text()
    assert "client_max_body_size 30m" in text
    from tests.test_deploy import DOCKER_COMPOSE, compose, service_blocks

    if not Path(DOCKER_COMPOSE).exists():
        pytest.skip("docker-compose is not installed")
    result = compose(BASE_DIR, "config")
    assert result.returncode == 0, result.stderr
    mounting = set()
    for name, lines in service_blocks(result.stdout).items():
        block = "\n".join(lines)
        if "/var/lib/o2d/media" in block:
            mounting.add(name)
            assert "image: o2d:latest" in block, f"{name} mounts the media volume"
    assert mounting == {"migrate", "web", "worker", "mailer", "beat"}
