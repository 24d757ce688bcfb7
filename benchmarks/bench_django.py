"""Django set-up and measuring helpers shared by pages.py and sweeps.py.

These scripts run the app in this process, against an already loaded database (see
``manage.py load_benchmark_data``), with production-like settings (DEBUG off). Import
this module and call ``setup()`` before importing anything from the apps.
"""

import datetime
import math
import os
import platform
import re
import secrets
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# A Seq Scan on one of these tables is a finding once it holds BIG_NAMED_ROWS rows (the
# acceptance criteria name them); on any other table once it holds BIG_TABLE_ROWS.
BIG_TABLES = ("orders_order", "orders_orderevent", "orders_notification", "logistics_shipment")
BIG_PREFIXES = ("feedback_",)
BIG_NAMED_ROWS = 1_000
BIG_TABLE_ROWS = 100_000


def log(message=""):
    print(message, flush=True)


def setup(database, *, host="127.0.0.1", port=5432, user="postgres", redis_db=9):
    """Configure Django for ``database`` with DEBUG off and set it up."""
    if "bench" not in database:
        sys.exit(f"refusing to run on {database!r}: the database name must contain 'bench'")
    for key in [k for k in os.environ if k.startswith(("DJANGO_", "O2D_"))]:
        del os.environ[key]
    redis = f"redis://127.0.0.1:6379/{redis_db}"
    os.environ.update(
        DJANGO_SETTINGS_MODULE="o2d.settings",
        DATABASE_URL=f"postgres://{user}@{host}:{port}/{database}",
        DEBUG="False",
        SECRET_KEY=secrets.token_urlsafe(48),
        ALLOWED_HOSTS="testserver,127.0.0.1,localhost",
        SECURE_SSL_REDIRECT="False",
        SESSION_COOKIE_SECURE="False",
        CSRF_COOKIE_SECURE="False",
        SECURE_HSTS_SECONDS="0",
        STATIC_MANIFEST="False",  # no collectstatic needed; {% static %} still resolves
        CACHE_URL=redis,
        CELERY_BROKER_URL=redis,  # nothing is queued by these scripts (see sweeps.py)
        CONN_MAX_AGE="60",
        EMAIL_URL="dummymail://",
        O2D_VAR_DIR=str(ROOT / "var" / "bench"),
        LOG_LEVEL="WARNING",
    )
    warnings.filterwarnings("ignore", message="No directory at")  # whitenoise: no collectstatic
    sys.path.insert(0, str(ROOT))
    os.chdir(ROOT)
    import logging

    import django

    django.setup()
    logging.getLogger("django.request").setLevel(logging.ERROR)  # "Bad Request: ..." lines


def add_common_arguments(parser):
    """The options every benchmark on the loaded database takes."""
    parser.add_argument("--database", default="o2d_bench_1m")
    parser.add_argument("--no-migrate", action="store_true", help="skip manage.py migrate")
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument(
        "--quiet-wait", type=int, default=60, help="wait up to S s for the CPU to be quiet"
    )
    parser.add_argument("--pg-host", default="127.0.0.1")
    parser.add_argument("--pg-port", type=int, default=5432)


def start(args, title):
    """Set Django up on ``args.database``, migrate it unless told not to, and print the
    header (waiting for a quiet machine first)."""
    setup(args.database, host=args.pg_host, port=args.pg_port)
    if not args.no_migrate:
        migrate()
    print_header(title, args.database, args.quiet_wait)


def migrate():
    """Apply the migrations others add (indexes) before measuring."""
    from django.core.management import call_command

    log("Running migrate ...")
    call_command("migrate", interactive=False, verbosity=0)


def scalar(sql, params=None):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return row[0] if row else None


def rows(sql, params=None):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def print_header(title, database, quiet_wait=0):
    """Date, machine, PostgreSQL and the size of the loaded history."""
    mem_kb = 0
    try:
        with open("/proc/meminfo") as f:
            mem_kb = int(next(x for x in f if x.startswith("MemTotal:")).split()[1])
    except (OSError, StopIteration, ValueError):
        pass
    log(f"{title} -- {datetime.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}")
    log(
        f"machine: {platform.node()}, {os.cpu_count()} cores, {mem_kb / 1024 / 1024:.1f} GiB RAM,"
        f" Python {platform.python_version()}"
    )
    version = scalar("SHOW server_version")
    counts = {
        name: scalar(f"SELECT count(*) FROM {table}")
        for name, table in (
            ("orders", "orders_order"),
            ("events", "orders_orderevent"),
            ("emails", "orders_notification"),
        )
    }
    size = scalar("SELECT pg_size_pretty(pg_database_size(current_database()))")
    log(
        f"database: {database} (PostgreSQL {version}, {size}): "
        + ", ".join(f"{n:,} {name}" for name, n in counts.items())
    )
    report_load(quiet_wait)
    log()
    return counts


def stats(seconds):
    """(p50, p95, max) in milliseconds, nearest-rank percentiles."""
    ordered = sorted(seconds)

    def rank(fraction):
        index = max(0, min(len(ordered) - 1, math.ceil(fraction * len(ordered)) - 1))
        return ordered[index] * 1000

    return rank(0.50), rank(0.95), ordered[-1] * 1000


# ---------------------------------------------------------------------------
# EXPLAIN


def explain(sql, params=None, *, analyze=True):
    """(plan as text, plan as JSON) of one statement; ANALYZE runs it, so callers pass
    only reads or wrap it in a transaction they roll back."""
    from django.db import connection

    options = "ANALYZE, BUFFERS" if analyze else "COSTS"
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN ({options}, FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
        if isinstance(plan, str):
            import json

            plan = json.loads(plan)
        cursor.execute(f"EXPLAIN ({options}) {sql}", params)
        text = "\n".join(row[0] for row in cursor.fetchall())
    return text, plan[0]


def plan_nodes(plan):
    """Every node of a JSON plan (the top one included)."""
    stack = [plan.get("Plan", plan)]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(node.get("Plans", []))


def table_rows(relation):
    """Estimated rows of a table (pg_class.reltuples), 0 when unknown."""
    value = scalar("SELECT reltuples FROM pg_class WHERE relname = %s", [relation])
    return max(int(value or 0), 0)


def is_big(relation, size):
    named = relation in BIG_TABLES or relation.startswith(BIG_PREFIXES)
    return size >= (BIG_NAMED_ROWS if named else BIG_TABLE_ROWS)


def seq_scans_on_big_tables(plan):
    """[(relation, estimated rows)] of each Seq Scan on a big table (see BIG_TABLES)."""
    found = []
    for node in plan_nodes(plan):
        if node.get("Node Type") == "Seq Scan":
            relation = node.get("Relation Name", "?")
            size = table_rows(relation)
            if is_big(relation, size):
                found.append((relation, size))
    return found


def index_scans(plan):
    """Relations read through an index in the plan."""
    kinds = ("Index Scan", "Index Only Scan", "Bitmap Index Scan")
    return sorted(
        {
            f"{node.get('Relation Name') or node.get('Index Name', '?')}"
            for node in plan_nodes(plan)
            if node.get("Node Type") in kinds
        }
    )


def plan_summary(plan):
    """One line: time, top node, scans used, and seq scans on big tables."""
    top = plan["Plan"]
    # The JSON plan is the first of two runs (explain()): a cold cache shows here.
    parts = [f"{plan.get('Execution Time', 0):.1f} ms (1st run)", top["Node Type"]]
    scans = [
        f"{n['Node Type']} on {n.get('Relation Name') or n.get('Index Name')}"
        + (f" using {n['Index Name']}" if n.get("Index Name") and n.get("Relation Name") else "")
        for n in plan_nodes(plan)
        if "Scan" in n["Node Type"] and (n.get("Relation Name") or n.get("Index Name"))
    ]
    parts.append("; ".join(dict.fromkeys(scans)) or "no table scan")
    return " | ".join(parts)


DECLARE = re.compile(r'^\s*DECLARE\s+"?[\w-]+"?\s.*?\bCURSOR\b.*?\bFOR\s+', re.I | re.S)


def select_of(sql):
    """The SELECT of a captured statement (a server-side cursor's DECLARE ... FOR
    SELECT, as QuerySet.iterator() sends it, included), or None for other statements."""
    sql = DECLARE.sub("", sql, count=1)
    return sql if sql.lstrip().upper().startswith(("SELECT", "WITH")) else None


def explain_captured(query, *, indent="      "):
    """Print EXPLAIN ANALYZE of a statement captured by CaptureQueriesContext (SELECTs
    only; the captured text already has its parameters in it)."""
    sql = select_of(query["sql"])
    if sql is None:
        log(f"{indent}(not a SELECT; not explained)")
        return None
    try:
        text, plan = explain(sql)
    except Exception as error:  # a diagnostic must not stop the run
        log(f"{indent}EXPLAIN failed: {error}")
        return None
    log(f"{indent}plan: {plan_summary(plan)}")
    for line in text.splitlines()[:40]:
        log(f"{indent}  {line}")
    return plan


# ---------------------------------------------------------------------------
# Checks


class Checks:
    """Collects failed checks; ``exit()`` prints "checks: OK" or the failures and
    exits with 1 if any failed."""

    def __init__(self):
        self.failed = []

    def check(self, ok, message):
        if not ok:
            self.failed.append(message)
        return ok

    def exit(self):
        log()
        if not self.failed:
            log("checks: OK")
            sys.exit(0)
        log(f"checks: {len(self.failed)} FAILED")
        for message in self.failed:
            log(f"  - {message}")
        sys.exit(1)


def machine_busy(seconds=1.0):
    """Fraction of the machine's CPU busy over ``seconds`` (from /proc/stat)."""

    def sample():
        with open("/proc/stat") as f:
            values = [int(x) for x in f.readline().split()[1:9]]
        busy = sum(values[:3]) + sum(values[5:8])
        return busy, busy + values[3] + values[4]

    busy0, total0 = sample()
    time.sleep(seconds)
    busy1, total1 = sample()
    return (busy1 - busy0) / max(total1 - total0, 1)


def report_load(quiet_wait=0):
    """Wait up to ``quiet_wait`` seconds for the CPU to be below 25% busy, print the load
    and warn when other work competes for the CPU."""
    deadline = time.monotonic() + quiet_wait
    busy = machine_busy()
    while busy > 0.25 and time.monotonic() < deadline:
        log(f"  the machine is {100 * busy:.0f}% busy with other work; waiting ...")
        time.sleep(4)
        busy = machine_busy()
    with open("/proc/loadavg") as f:
        load = " ".join(f.read().split()[:3])
    log(f"load average {load}; CPU {100 * busy:.0f}% busy before the run")
    if busy > 0.25:
        log("WARNING: other processes are using the CPU: the timings below are too high")
    return busy
