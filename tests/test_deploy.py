"""Production configuration: Django's deployment checks, the refusal to start without a
SECRET_KEY or a shared cache, and the docker-compose stack. No database is used.

The settings run in a fresh interpreter with a clean environment, so neither this test
run's variables (bin/test's DATABASE_URL...) nor a developer's .env reach them."""

import secrets
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parent.parent
DOCKER_COMPOSE = "/usr/bin/docker-compose"

# manage.py with django-environ's read_env() switched off: o2d/settings.py reads
# BASE_DIR/.env, and a local .env must not decide what these tests see.
RUN_MANAGE = (
    "import runpy, sys, environ\n"
    "environ.Env.read_env = classmethod(lambda cls, *args, **kwargs: None)\n"
    "sys.argv = ['manage.py', *sys.argv[1:]]\n"
    "runpy.run_path('manage.py', run_name='__main__')\n"
)


def production_env(tmp_path, **overrides):
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "LANG": "C.UTF-8",
        "DJANGO_SETTINGS_MODULE": "o2d.settings",
        "DEBUG": "False",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "o2d.example.com",
        "CSRF_TRUSTED_ORIGINS": "https://o2d.example.com",
        "SITE_URL": "https://o2d.example.com",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
        "CACHE_URL": "redis://127.0.0.1:6379/1",
        "O2D_VAR_DIR": str(tmp_path / "var"),
        "STATIC_ROOT": str(tmp_path / "static"),
    }
    env.update(overrides)
    return {key: value for key, value in env.items() if value is not None}


def manage(env, *args):
    return subprocess.run(
        [sys.executable, "-c", RUN_MANAGE, *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("behind_tls_proxy", ["True", "False"])
def test_check_deploy_reports_no_issues(tmp_path, behind_tls_proxy):
    env = production_env(tmp_path, BEHIND_TLS_PROXY=behind_tls_proxy)
    result = manage(env, "check", "--deploy", "--fail-level", "WARNING")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    # Nothing may be silenced to get there either.
    assert "no issues (0 silenced)" in output


def test_production_without_secret_key_refuses_to_start(tmp_path):
    env = production_env(tmp_path, SECRET_KEY=None)
    assert "SECRET_KEY" not in env
    result = manage(env, "check", "--deploy")
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "SECRET_KEY" in result.stderr


def test_production_without_cache_url_refuses_to_start(tmp_path):
    env = production_env(tmp_path, CACHE_URL=None)
    assert "CACHE_URL" not in env
    result = manage(env, "check", "--deploy")
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "CACHE_URL" in result.stderr


@pytest.mark.parametrize("cache_url", ["locmemcache://", "locmemcache://o2d", "dummycache://"])
def test_production_refuses_a_cache_of_one_process(tmp_path, cache_url):
    # Rate limits counted in one gunicorn worker's memory are no limits.
    result = manage(production_env(tmp_path, CACHE_URL=cache_url), "check", "--deploy")
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "CACHE_URL must name a cache shared by all processes" in result.stderr


def test_development_defaults_to_a_local_memory_cache(tmp_path):
    env = production_env(tmp_path, DEBUG="True", CACHE_URL=None)
    result = manage(
        env,
        "shell",
        "-c",
        "from django.conf import settings; print(settings.CACHES['default']['BACKEND'])",
    )
    assert result.returncode == 0, result.stderr
    assert "django.core.cache.backends.locmem.LocMemCache" in result.stdout.splitlines()


def dockerfile_build_env():
    """The variables the Dockerfile exports for its build-time manage.py commands."""
    text = (BASE_DIR / "Dockerfile").read_text()
    block = text.split("RUN export ", 1)[1].split("&&", 1)[0]
    return dict(item.split("=", 1) for item in block.replace("\\", " ").split())


def test_dockerfile_build_step_settings_load(tmp_path):
    # The image build runs compilemessages and collectstatic with DEBUG=False: every
    # variable production requires must be given a placeholder there.
    build_env = dockerfile_build_env()
    assert build_env["DEBUG"] == "False"
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "LANG": "C.UTF-8",
        **build_env,
        "O2D_VAR_DIR": str(tmp_path / "build"),
        "STATIC_ROOT": str(tmp_path / "static"),
    }
    result = manage(env, "collectstatic", "--noinput", "--dry-run", "-v0")
    assert result.returncode == 0, result.stderr


def compose(directory, *args):
    return subprocess.run(
        [DOCKER_COMPOSE, "-f", "docker-compose.yml", *args],
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=60,
    )


def service_blocks(config_yaml):
    """Map each service of `docker-compose config` output to its lines. The output is
    normalised YAML (two-space indents), so no YAML parser is needed."""
    blocks, current, in_services = {}, None, False
    for line in config_yaml.splitlines():
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip(" "))
        if indent == 0:
            in_services, current = line.rstrip() == "services:", None
        elif in_services and indent == 2 and line.rstrip().endswith(":"):
            current = line.strip()[:-1]
            blocks[current] = []
        elif in_services and current:
            blocks[current].append(line)
    return blocks


@pytest.mark.skipif(not Path(DOCKER_COMPOSE).exists(), reason="docker-compose is not installed")
def test_docker_compose_file_is_valid_on_a_clean_clone(tmp_path):
    # A clean clone has no .env: validate a copy of the file in an empty directory.
    shutil.copy(BASE_DIR / "docker-compose.yml", tmp_path)
    shutil.copy(BASE_DIR / "Dockerfile", tmp_path)

    result = compose(tmp_path, "config", "-q")
    assert result.returncode == 0, result.stderr

    result = compose(tmp_path, "config", "--services")
    assert result.returncode == 0, result.stderr
    services = set(result.stdout.split())
    assert {"db", "redis", "migrate", "web", "worker", "beat"} <= services

    result = compose(tmp_path, "config")
    assert result.returncode == 0, result.stderr
    blocks = service_blocks(result.stdout)
    assert blocks.keys() == services
    for name in ("db", "redis", "web", "worker"):
        assert "    healthcheck:" in blocks[name], f"{name} has no healthcheck"
    for name in ("web", "worker", "beat"):
        text = "\n".join(blocks[name])
        assert "condition: service_completed_successfully" in text, name
        assert "restart: unless-stopped" in text, name
    assert "condition: service_healthy" in "\n".join(blocks["migrate"])
    # Without a .env, production settings still get the shared cache they require.
    for name in ("migrate", "web", "worker", "beat"):
        assert "      CACHE_URL: redis://redis:6379/1" in blocks[name], name
