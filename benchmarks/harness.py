"""The harness shared by the benchmarks: small helpers, CPU and lock meters, the scratch
database, gunicorn and Redis.

Not a package: the benchmark scripts in this directory import it as a sibling module
(``from harness import ...``), which works because Python puts the directory of the
script it runs on sys.path.
"""

import contextlib
import http.client
import json
import math
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

try:
    import psycopg2
except ImportError:  # pragma: no cover - depends on how the script is started
    sys.exit("psycopg2 is missing: run this with the project's venv, .venv/bin/python")

ROOT = Path(__file__).resolve().parent.parent
PYTHON = ROOT / ".venv" / "bin" / "python"
GUNICORN = ROOT / ".venv" / "bin" / "gunicorn"
HOST = "127.0.0.1"

PRODUCTS_SCRIPT = """
import json
from decimal import Decimal
from django.conf import settings
from orders.models import Product
specs = [
    ("BENCH-TEA", "Oolong tea 250 g", Decimal("88.00")),
    ("BENCH-CUP", "Porcelain cup", Decimal("35.50")),
    ("BENCH-POT", "Clay teapot", Decimal("268.00")),
    ("BENCH-SET", "Travel tea set", Decimal("159.90")),
]
rows = []
for sku, name, price in specs[:{count}]:
    p = Product.objects.create(sku=sku, name=name, unit_price=price, active=True)
    rows.append({{"id": p.pk, "sku": p.sku, "name": p.name,
                 "unit_price": str(p.unit_price), "currency": p.currency}})
print("BENCH-JSON " + json.dumps({{"products": rows, "time_zone": settings.TIME_ZONE,
                                   "language": settings.LANGUAGE_CODE}}))
"""


# ---------------------------------------------------------------------------
# Small helpers


def log(message=""):
    print(message, flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def percentile(values, fraction):
    """Nearest-rank percentile of a list of numbers (None when empty)."""
    if not values:
        return None
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, math.ceil(fraction * len(ordered)) - 1))
    return ordered[index]


def ms(seconds):
    return "-" if seconds is None else f"{seconds * 1000:.1f} ms"


def admin_connection(args):
    conn = psycopg2.connect(dbname="postgres", **pg_params(args))
    conn.autocommit = True
    return conn


def pg_params(args):
    return {"host": args.pg_host, "port": args.pg_port, "user": args.pg_user}


def database_url(args):
    return f"postgres://{args.pg_user}@{args.pg_host}:{args.pg_port}/{args.db_name}"


class CpuMeter:
    """CPU seconds used while a phase runs: by the whole machine (/proc/stat), by this
    process (the clients), by the gunicorn workers, by the PostgreSQL backends of the
    benchmark database and by PostgreSQL's background processes (WAL writer etc.).
    What is left is other processes on the machine: a busy neighbour skews the figures.
    """

    TICK = os.sysconf("SC_CLK_TCK")

    def __init__(self, db_name, gunicorn_pid=None):
        self.db_name = db_name
        self.gunicorn_pid = gunicorn_pid

    @staticmethod
    def machine():
        """(busy, steal, total) clock ticks of all CPUs since boot."""
        with open("/proc/stat") as f:
            user, nice, system, idle, iowait, irq, softirq, steal = (
                int(x) for x in f.readline().split()[1:9]
            )
        busy = user + nice + system + irq + softirq
        return busy, steal, busy + idle + iowait + steal

    @staticmethod
    def _stat(pid):
        """ppid, own CPU ticks and the CPU ticks of its exited (reaped) children."""
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[1]), int(fields[11]) + int(fields[12]), int(fields[13]) + int(fields[14])

    def _processes(self):
        """key -> (group, CPU ticks) for the processes this meter tells apart."""
        found = {}
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                ppid, ticks, children = self._stat(pid)
                if self.gunicorn_pid and self.gunicorn_pid in (int(pid), ppid):
                    found[pid] = ("gunicorn", ticks)
                    continue
                with open(f"/proc/{pid}/comm") as f:
                    if f.read().strip() not in ("postgres", "postmaster"):
                        continue
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    cmdline = f.read().replace(b"\0", b" ").decode(errors="replace")
            except (OSError, IndexError, ValueError):
                continue
            if not cmdline.startswith("postgres:"):
                # The postmaster: its children's time is that of the connections that
                # ended meanwhile (all databases; with CONN_MAX_AGE=0, ours).
                found[pid] = ("postgres background", ticks)
                found[f"{pid}-children"] = ("postgres ended connections", children)
            elif f" {self.db_name} " in cmdline:
                found[pid] = ("postgres", ticks)
            elif "(" not in cmdline and "[local]" not in cmdline:
                found[pid] = ("postgres background", ticks)  # no client address
        return found

    def snapshot(self):
        busy, steal, total = self.machine()
        own = os.times()
        return {
            "busy": busy,
            "steal": steal,
            "total": total,
            "clients": own.user + own.system,
            "processes": self._processes(),
        }

    def report(self, before, after, elapsed, orders):
        cores = os.cpu_count() or 1
        busy = (after["busy"] - before["busy"]) / self.TICK
        steal = (after["steal"] - before["steal"]) / self.TICK
        total = (after["total"] - before["total"]) / self.TICK
        parts = {"clients": after["clients"] - before["clients"]}
        for pid, (group, ticks) in after["processes"].items():
            old = before["processes"].get(pid, (group, 0))[1]
            parts[group] = parts.get(group, 0.0) + (ticks - old) / self.TICK
        parts["other processes"] = max(0.0, busy - sum(parts.values()))
        util = 100.0 * busy / total if total else 0.0
        log(
            f"  CPU: {busy:.1f} CPU-s in {elapsed:.1f} s = {util:.0f}% of {cores} cores"
            + (f" (+ {100 * steal / total:.0f}% stolen by the hypervisor)" if steal else "")
        )
        per_order = ", ".join(
            f"{name} {1000 * sec / max(orders, 1):.2f}" for name, sec in parts.items() if sec
        )
        log(f"  CPU ms per order: {per_order}")
        other = parts["other processes"]
        if total and other > 0.15 * total and other > 0.5:
            log(
                f"  WARNING: other processes used {other:.1f} CPU-s "
                f"({100 * other / total:.0f}% of the machine) during "
                "this phase: the rate above is lower than on a quiet machine"
            )
        return parts


def wait_until_quiet(threshold, timeout):
    """Wait (up to ``timeout`` s) until the machine is below ``threshold`` busy over
    one second; returns the last busy fraction."""
    deadline = time.monotonic() + timeout
    while True:
        busy0, _, total0 = CpuMeter.machine()
        time.sleep(1)
        busy1, _, total1 = CpuMeter.machine()
        fraction = (busy1 - busy0) / max(total1 - total0, 1)
        if fraction <= threshold or time.monotonic() >= deadline:
            return fraction
        log(f"  the machine is {100 * fraction:.0f}% busy with other work; waiting ...")


class LockSampler(threading.Thread):
    """Samples pg_stat_activity of the benchmark database every 50 ms: how many
    backends are running a statement and how many of those wait on a lock."""

    def __init__(self, args):
        super().__init__(daemon=True)
        self.args = args
        self.stop_event = threading.Event()
        self.samples = []

    def run(self):
        conn = psycopg2.connect(dbname=self.args.db_name, **pg_params(self.args))
        conn.autocommit = True
        with conn.cursor() as cur:
            while not self.stop_event.wait(0.05):
                cur.execute(
                    "SELECT count(*) FILTER (WHERE state = 'active'),"
                    " count(*) FILTER (WHERE wait_event_type = 'Lock'),"
                    " count(*) FILTER (WHERE state = 'idle in transaction')"
                    " FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                    [self.args.db_name],
                )
                self.samples.append(cur.fetchone())
        conn.close()

    def stop(self):
        self.stop_event.set()
        self.join(5)

    def report(self):
        if not self.samples:
            return
        n = len(self.samples)
        active = sum(s[0] for s in self.samples) / n
        waiting = sum(s[1] for s in self.samples) / n
        idle_tx = sum(s[2] for s in self.samples) / n
        log(
            f"  PostgreSQL sessions (mean of {n} samples): {active:.2f} running a statement, "
            f"{waiting:.2f} of them waiting on a lock, {idle_tx:.2f} idle in transaction"
        )


# ---------------------------------------------------------------------------
# 1. The database


def create_database(args, app_env):
    log(f"Creating database {args.db_name} ...")
    conn = admin_connection(args)
    with conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{args.db_name}" WITH (FORCE)')
        cur.execute(f'CREATE DATABASE "{args.db_name}"')
    conn.close()
    run_manage(app_env, "migrate", "--no-input", "-v", "0")
    out = run_manage(app_env, "shell", "-c", PRODUCTS_SCRIPT.format(count=args.products))
    line = next(x for x in out.splitlines() if x.startswith("BENCH-JSON "))
    info = json.loads(line.removeprefix("BENCH-JSON "))
    log(
        f"  migrated; {len(info['products'])} active products: "
        + ", ".join(p["sku"] for p in info["products"])
    )
    return info


EXISTING_SCRIPT = """
import json
from django.conf import settings
from orders.models import Product
rows = [
    {{"id": p.pk, "sku": p.sku, "name": p.name, "unit_price": str(p.unit_price),
      "currency": p.currency}}
    # One currency: an order's goods must share one.
    for p in Product.objects.filter(active=True, currency="CNY").order_by("pk")[:{count}]
]
print("BENCH-JSON " + json.dumps({{"products": rows, "time_zone": settings.TIME_ZONE,
                                   "language": settings.LANGUAGE_CODE}}))
"""


def existing_database(args, app_env):
    """The settings and the first active products of a database that is already
    migrated and loaded; nothing is written."""
    log(f"Using the existing database {args.db_name} (not created, migrated or dropped) ...")
    out = run_manage(app_env, "shell", "-c", EXISTING_SCRIPT.format(count=args.products))
    line = next(x for x in out.splitlines() if x.startswith("BENCH-JSON "))
    info = json.loads(line.removeprefix("BENCH-JSON "))
    if not info["products"]:
        raise SystemExit(f"{args.db_name} has no active products to order")
    conn = psycopg2.connect(dbname=args.db_name, **pg_params(args))
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM orders_order")
        (orders,) = cur.fetchone()
    conn.close()
    log(
        f"  {orders} orders already there; ordering {len(info['products'])} active products: "
        + ", ".join(p["sku"] for p in info["products"])
    )
    return info


def drop_database(args):
    conn = admin_connection(args)
    with conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{args.db_name}" WITH (FORCE)')
    conn.close()


def run_manage(app_env, *command):
    result = subprocess.run(
        [str(PYTHON), "manage.py", *command],
        cwd=ROOT,
        env=app_env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        sys.stderr.write(result.stdout + result.stderr)
        raise SystemExit(f"manage.py {command[0]} failed")
    return result.stdout


def app_environment(args, var_dir):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "O2D_"))}
    env.update(
        DATABASE_URL=database_url(args),
        DEBUG="False",
        SECRET_KEY=secrets.token_urlsafe(48),  # 64 characters
        ALLOWED_HOSTS=HOST,
        SECURE_SSL_REDIRECT="False",
        SESSION_COOKIE_SECURE="False",
        CSRF_COOKIE_SECURE="False",
        SECURE_HSTS_SECONDS="0",
        STATIC_MANIFEST="False",
        CELERY_BROKER_URL=f"redis://127.0.0.1:6379/{args.redis_db}",
        CONN_MAX_AGE=str(args.conn_max_age),
        EMAIL_URL="dummymail://",  # the worker sends the emails; it is not running
        O2D_ONLINE_ORDER_RATE="1000000/s",
        O2D_VAR_DIR=str(var_dir),
        LOG_LEVEL="WARNING",
        PYTHONWARNINGS="ignore::UserWarning",  # whitenoise: no collected static files
    )
    # Shared by the workers, as in docker-compose.yml (production refuses a local cache).
    env["CACHE_URL"] = f"redis://127.0.0.1:6379/{args.redis_db}"
    return env


# ---------------------------------------------------------------------------
# 2. gunicorn


def start_gunicorn(args, app_env, port, log_path):
    command = [
        str(GUNICORN),
        "o2d.wsgi",
        "-b",
        f"{HOST}:{port}",
        "-w",
        str(args.workers),
        "--worker-class",
        args.worker_class,
        "--log-level",
        "warning",
    ]
    if args.worker_class == "gthread":
        command += ["--threads", str(args.threads)]
    log(f"Starting gunicorn: {' '.join(command[1:])}")
    log_file = open(log_path, "w")  # noqa: SIM115 - closed with the process
    process = subprocess.Popen(
        command, cwd=ROOT, env=app_env, stdout=log_file, stderr=subprocess.STDOUT
    )
    process.log_file = log_file
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn exited with {process.returncode}; see {log_path}")
        with contextlib.suppress(OSError, http.client.HTTPException):
            conn = http.client.HTTPConnection(HOST, port, timeout=5)
            conn.request("GET", "/healthz")
            response = conn.getresponse()
            response.read()
            conn.close()
            if response.status == 200:
                log(f"  answering on http://{HOST}:{port}/ (pid {process.pid}, log {log_path})")
                return process
        time.sleep(0.2)
    raise SystemExit(f"gunicorn did not answer within 60 s; see {log_path}")


def stop_gunicorn(process):
    if process is None:
        return
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)  # graceful: the workers finish their request
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
    process.log_file.close()


# ---------------------------------------------------------------------------
# Redis


def redis_cli(args, *command):
    if shutil.which("redis-cli") is None:
        return None
    result = subprocess.run(
        ["redis-cli", "-h", "127.0.0.1", "-n", str(args.redis_db), *command],
        capture_output=True,
        text=True,
        check=False,
    )
    return result.stdout.strip()


def redis_llen(args):
    out = redis_cli(args, "LLEN", "celery")
    try:
        return int(out)
    except (TypeError, ValueError):
        return 0


def quiet(args):
    if args.quiet_wait <= 0:
        return
    fraction = wait_until_quiet(0.2, args.quiet_wait)
    if fraction > 0.2:
        log(
            f"  WARNING: other processes keep the machine {100 * fraction:.0f}% busy; "
            "the figures below are lower than on a quiet machine"
        )
