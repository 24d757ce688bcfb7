"""Real database faults for tests: the PostgreSQL backend serving a connection is
terminated with pg_terminate_backend from a separate administrative connection, as an
operator, a failover or a proxy would cut it. Nothing in Django is replaced."""

import contextlib
import time

import psycopg2
from django.conf import settings
from django.db import connection


def admin_connection():
    """A psycopg2 connection of its own to the server's maintenance database."""
    db = settings.DATABASES["default"]
    admin = psycopg2.connect(
        dbname="postgres",
        user=db["USER"] or "postgres",
        password=db.get("PASSWORD") or None,
        host=db.get("HOST") or "127.0.0.1",
        port=db.get("PORT") or 5432,
    )
    admin.autocommit = True
    return admin


def backend_pid(conn=connection):
    """The server process behind Django's connection (connecting first if needed)."""
    conn.ensure_connection()
    return conn.connection.info.backend_pid


def terminate_backend(pid, timeout=10):
    """Terminate the server process ``pid`` and wait until it is gone, so the next
    statement on its connection fails for certain."""
    with contextlib.closing(admin_connection()) as admin, admin.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
        assert cursor.fetchone()[0], f"no PostgreSQL backend {pid} to terminate"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            cursor.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid])
            if cursor.fetchone() is None:
                return
            time.sleep(0.01)
        raise AssertionError(f"PostgreSQL backend {pid} still alive after {timeout} s")


def set_accepting_connections(accepting: bool):
    """Let the test database refuse (or accept again) new connections, as a database
    that is down would: connecting fails with an OperationalError."""
    name = settings.DATABASES["default"]["NAME"]
    with contextlib.closing(admin_connection()) as admin, admin.cursor() as cursor:
        cursor.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS {str(accepting).lower()}')


@contextlib.contextmanager
def connection_killed_before(match, times=1, then=None):
    """Terminate this thread's database connection just before each of the first
    ``times`` statements whose SQL contains ``match`` (the statement then fails as on
    a dropped connection); ``then`` runs after each kill. Yields the list of killed
    statements."""
    killed = []

    def wrapper(execute, sql, params, many, context):
        if match in sql and len(killed) < times:
            killed.append(sql)
            terminate_backend(context["connection"].connection.info.backend_pid)
            if then is not None:
                then()
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        yield killed
