"""Benchmark: online orders placed through the public order page, against the same
database writes done directly with psycopg2.

This is a benchmark, not a test: it asserts nothing about speed. It

1. drops and recreates its own PostgreSQL database (default ``o2d_bench``), migrates it
   and creates a few active products;
2. starts gunicorn with production-like settings (DEBUG=False, PostgreSQL, Redis broker
   on db 14, persistent connections) and waits until it answers;
3. runs N concurrent HTTP clients (threads, standard library only), each placing orders
   the way a browser does: GET /order/ (form token + CSRF cookie), then POST; only a
   302 to /order/received/... counts as placed. It then checks in the database that
   the orders, order numbers, lines, events, emails and queued tasks add up;
4. writes the same rows for the same number of orders directly with psycopg2, from the
   same number of threads, one transaction per order, statements in the app's order;
5. prints both rates and their ratio;
6. stops gunicorn, drops the database and flushes Redis db 14.

Run it from the project root with the project's virtualenv:

    .venv/bin/python benchmarks/online_orders.py [--orders 2000] [--clients 8] [--workers 4]

See benchmarks/README.md for the options and how to read the output.
"""

import argparse
import contextlib
import html
import http.client
import itertools
import json
import math
import os
import random
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

try:
    import psycopg2
    import psycopg2.extras
except ImportError:  # pragma: no cover - depends on how the script is started
    sys.exit("psycopg2 is missing: run this with the project's venv, .venv/bin/python")

ROOT = Path(__file__).resolve().parent.parent
PYTHON = ROOT / ".venv" / "bin" / "python"
GUNICORN = ROOT / ".venv" / "bin" / "gunicorn"
HOST = "127.0.0.1"

# Valid Chinese mobile prefixes; each order gets its own number, so its own customer.
MOBILE_PREFIXES = ("138", "139", "150", "186", "131", "177")
PROVINCES = (
    ("广东省", "深圳市", "南山区", "518000"),
    ("上海市", "上海市", "浦东新区", "200120"),
    ("浙江省", "杭州市", "西湖区", "310000"),
    ("北京市", "北京市", "朝阳区", "100020"),
)
WINDOWS = ("any", "morning", "afternoon", "evening")

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
# 3. HTTP clients

INPUT_RE = re.compile(r"<input\b[^>]*>")
ATTR_RE = re.compile(r'\b(name|value)="([^"]*)"')


def form_inputs(page: str) -> dict:
    """name -> value of every <input> on the page (the last one wins)."""
    inputs = {}
    for tag in INPUT_RE.findall(page):
        attrs = dict(ATTR_RE.findall(tag))
        if "name" in attrs:
            inputs[attrs["name"]] = html.unescape(attrs.get("value", ""))
    return inputs


@dataclass
class Tally:
    placed: int = 0
    errors: int = 0
    retries: int = 0
    get_latency: list = field(default_factory=list)
    post_latency: list = field(default_factory=list)
    error_kinds: dict = field(default_factory=dict)
    numbers: list = field(default_factory=list)

    def add_error(self, kind):
        self.errors += 1
        self.error_kinds[kind] = self.error_kinds.get(kind, 0) + 1

    def merge(self, other):
        self.placed += other.placed
        self.errors += other.errors
        self.retries += other.retries
        self.get_latency += other.get_latency
        self.post_latency += other.post_latency
        self.numbers += other.numbers
        for kind, n in other.error_kinds.items():
            self.error_kinds[kind] = self.error_kinds.get(kind, 0) + n


class OrderClient:
    """One customer's browser: one keep-alive connection and its own cookie jar."""

    def __init__(self, port):
        self.port = port
        self.conn = http.client.HTTPConnection(HOST, port, timeout=60)
        self.cookies = {}
        self.retries = 0

    def request(self, method, path, body=None, headers=None, retry=True):
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        try:
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            # The server closed an idle keep-alive connection. Safe to repeat, even the
            # POST: the form token makes submitting idempotent.
            self.conn.close()
            if not retry:
                raise
            self.retries += 1
            return self.request(method, path, body, headers, retry=False)
        content = response.read()
        for header in response.headers.get_all("Set-Cookie") or []:
            jar = SimpleCookie()
            jar.load(header)
            for name, morsel in jar.items():
                self.cookies[name] = morsel.value
        return response, content

    def close(self):
        self.conn.close()


def order_form(inputs, product_ids, index, rng):
    """The POST body of order ``index``: 1-2 products, its own phone and email."""
    number = f"{MOBILE_PREFIXES[index % len(MOBILE_PREFIXES)]}{index:08d}"
    province, city, district, postal = PROVINCES[index % len(PROVINCES)]
    data = {
        "csrfmiddlewaretoken": inputs["csrfmiddlewaretoken"],
        "token": inputs["token"],
        "website": "",
        "name": f"Bench Customer {index}",
        "country": "CN",
        "phone": number,
        "email": f"bench{index}@example.com",
        "province": province,
        "city": city,
        "district": district,
        "street": f"科技园路 {index % 999 + 1} 号",
        "postal_code": postal,
        "requested_date": (date.today() + timedelta(days=3 + index % 10)).isoformat()
        if index % 2
        else "",
        "requested_window": WINDOWS[index % len(WINDOWS)],
        "special_instructions": "请提前电话联系" if index % 3 == 0 else "",
    }
    for product_id in rng.sample(product_ids, rng.choice((1, 2))):
        data[f"qty_{product_id}"] = str(rng.randint(1, 5))
    return data


WARMUP_FIRST_INDEX = 50_000_000  # warm-up customers' phones and emails


def place_one(client, index, product_ids, rng, tally):
    """One customer's order: GET the form, POST it; recorded in ``tally``."""
    try:
        t0 = time.perf_counter()
        response, content = client.request("GET", "/order/")
        tally.get_latency.append(time.perf_counter() - t0)
        if response.status != 200:
            tally.add_error(f"GET {response.status}")
            return
        inputs = form_inputs(content.decode())
        body = urlencode(order_form(inputs, product_ids, index, rng))
        t0 = time.perf_counter()
        response, content = client.request(
            "POST",
            "/order/",
            body=body,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        tally.post_latency.append(time.perf_counter() - t0)
        location = response.headers.get("Location", "")
        if response.status == 302 and location.startswith("/order/received/"):
            tally.placed += 1
            tally.numbers.append(location.split("/")[3])
        else:
            tally.add_error(f"POST {response.status}")
    except (OSError, http.client.HTTPException, KeyError, ValueError) as error:
        tally.add_error(type(error).__name__)


def http_phase(args, port, product_ids, on_start, on_end):
    """Run the clients; returns (timed tally, warm-up tally, elapsed seconds).
    ``on_start()`` and ``on_end()`` are called right before and after the timed part.

    Each client first places ``args.warmup`` orders untimed, so that every gunicorn
    worker has imported everything, loaded its templates and opened its database and
    Redis connections before the clock starts."""
    counter = itertools.count()
    lock = threading.Lock()
    tally = Tally()
    warm = Tally()
    start_barrier = threading.Barrier(args.clients + 1)
    go = threading.Event()
    deadline = None

    def next_index():
        with lock:
            index = next(counter)
        if args.duration:
            return index if time.monotonic() < deadline else None
        return index if index < args.orders else None

    def client_main(number, seed):
        rng = random.Random(seed)
        client = OrderClient(port)
        local = Tally()
        local_warm = Tally()
        for k in range(args.warmup):
            index = WARMUP_FIRST_INDEX + number * args.warmup + k
            place_one(client, index, product_ids, rng, local_warm)
        start_barrier.wait()
        go.wait()
        while (index := next_index()) is not None:
            place_one(client, index, product_ids, rng, local)
        client.close()
        local.retries = client.retries
        with lock:
            tally.merge(local)
            warm.merge(local_warm)

    threads = [
        threading.Thread(target=client_main, args=(i, args.seed + i), daemon=True)
        for i in range(args.clients)
    ]
    for thread in threads:
        thread.start()
    start_barrier.wait()
    on_start()
    started = time.perf_counter()
    if args.duration:
        deadline = time.monotonic() + args.duration
    go.set()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    on_end()
    return tally, warm, elapsed


def verify_http(args, tally, warm, redis_queued_before):
    """Check in the database that every success is one order, with unique gap-free
    numbers, its lines, total, event and email, and that its email task was queued."""
    conn = psycopg2.connect(dbname=args.db_name, **pg_params(args))
    with conn.cursor() as cur:
        cur.execute(
            "SELECT count(*), count(DISTINCT number), count(DISTINCT idempotency_key),"
            " count(*) FILTER (WHERE channel = 'online') FROM orders_order"
        )
        orders, numbers, keys, online = cur.fetchone()
        cur.execute("SELECT coalesce(sum(last), 0) FROM orders_ordersequence")
        (handed_out,) = cur.fetchone()
        cur.execute(
            "SELECT"
            " (SELECT count(*) FROM orders_order o WHERE NOT EXISTS"
            "   (SELECT 1 FROM orders_orderline l WHERE l.order_id = o.id)),"
            " (SELECT count(*) FROM orders_orderevent),"
            " (SELECT count(*) FROM orders_notification),"
            " (SELECT count(*) FROM orders_customer),"
            " (SELECT count(*) FROM orders_order o WHERE total <>"
            "   (SELECT sum(quantity * unit_price) FROM orders_orderline l"
            "    WHERE l.order_id = o.id))"
        )
        no_lines, events, notifications, customers, wrong_totals = cur.fetchone()
    conn.close()
    queued = redis_llen(args) - redis_queued_before
    successes = tally.placed + warm.placed
    ok = successes == orders == numbers == keys == handed_out == online
    ok = ok and orders == events == notifications == customers == queued
    ok = ok and no_lines == 0 and wrong_totals == 0
    ok = ok and len(set(tally.numbers + warm.numbers)) == successes
    log(
        f"  database: {orders} orders, successes {tally.placed} + {warm.placed} warm-up -> "
        f"{'equal' if orders == successes else 'DIFFERENT'}; "
        f"{numbers} distinct order numbers -> "
        f"{'unique' if numbers == orders else 'DUPLICATES'}; "
        f"{handed_out} numbers handed out (no gaps: {handed_out == orders})"
    )
    log(
        f"  {customers} customers, {events} order events, {notifications} customer emails, "
        f"{no_lines} orders without lines, {wrong_totals} wrong totals, "
        f"{queued} email tasks queued in Redis db {args.redis_db}"
    )
    log(f"  check: {'OK' if ok else 'MISMATCH'}")
    return ok


# ---------------------------------------------------------------------------
# 4. The same writes directly with psycopg2

SQL_CUSTOMER = (
    "INSERT INTO orders_customer (name, phone, email, language, created_at)"
    " VALUES (%s, %s, %s, %s, %s) RETURNING id"
)
# get_or_create + UPDATE last = last + 1 + SELECT last in the app; one upsert here.
SQL_SEQUENCE = (
    "INSERT INTO orders_ordersequence (day, last) VALUES (%s, 1)"
    " ON CONFLICT (day) DO UPDATE SET last = orders_ordersequence.last + 1 RETURNING last"
)
SQL_ORDER = (
    "INSERT INTO orders_order (number, status, channel, placed_at, customer_id,"
    " salesperson_id, delivery_recipient, delivery_phone, delivery_country,"
    " delivery_province, delivery_city, delivery_district, delivery_street,"
    " delivery_postal_code, requested_date, requested_window, special_instructions,"
    " currency, total, public_token, idempotency_key, contact_verified_at,"
    " address_verified_at, promised_date, callback_requested_at, step_started_at,"
    " step_overdue_at)"
    " VALUES (%s, 'placed', 'online', %s, %s, NULL, %s, %s, 'CN', %s, %s, %s, %s, %s, %s,"
    " %s, %s, %s, 0, %s, %s, NULL, NULL, NULL, NULL, %s, NULL) RETURNING id"
)
SQL_LINES = (
    "INSERT INTO orders_orderline (order_id, product_id, sku, name, quantity, unit_price) VALUES %s"
)
SQL_TOTAL = "UPDATE orders_order SET total = %s WHERE status = 'placed' AND id = %s"
SQL_EVENT = (
    "INSERT INTO orders_orderevent (order_id, created_at, actor_id, kind, from_status,"
    " to_status, note, code, data, public)"
    " VALUES (%s, %s, NULL, 'transition', '', 'placed', '', '', %s, true)"
)
SQL_NOTIFICATION = (
    'INSERT INTO orders_notification (order_id, kind, "to", created_at, sent_at, attempts,'
    " last_error) VALUES (%s, 'order_received', %s, %s, NULL, 0, '')"
)


SQL_NUMBER_AND_TOTAL = (
    "UPDATE orders_order SET number = %s, total = %s WHERE status = 'placed' AND id = %s"
)


def write_order(cur, info, i, rng, number_last=False):
    """One order's rows, in one transaction (the caller's). ``i`` makes the customer's
    phone and email unique. With ``number_last`` the order is inserted under a
    placeholder number and gets its real number in the last UPDATE, together with its
    total, so the day's counter row stays locked only for the end of the transaction
    (a possible fix for the app; see README)."""
    products = info["products"]
    now = datetime.now(UTC)
    day = now.astimezone(info["zone"]).date()
    province, city, district, postal = PROVINCES[i % len(PROVINCES)]
    phone = f"+86{MOBILE_PREFIXES[i % len(MOBILE_PREFIXES)]}{i:08d}"
    email = f"bench{i}@example.com"
    name = f"Bench Customer {i}"
    chosen = rng.sample(products, rng.choice((1, 2)))
    lines = [(p, rng.randint(1, 5)) for p in chosen]
    total = sum((Decimal(p["unit_price"]) * q for p, q in lines), Decimal("0"))

    cur.execute(SQL_CUSTOMER, [name, phone, email, info["language"], now])
    (customer_id,) = cur.fetchone()
    if number_last:
        number = f"tmp-{secrets.token_hex(8)}"  # 20 characters, unique
    else:
        cur.execute(SQL_SEQUENCE, [day])
        number = f"{day:%Y%m%d}-{cur.fetchone()[0]:04d}"
    cur.execute(
        SQL_ORDER,
        [
            number,
            now,
            customer_id,
            name,
            phone,
            province,
            city,
            district,
            f"科技园路 {i % 999 + 1} 号",
            postal,
            day + timedelta(days=3 + i % 10) if i % 2 else None,
            WINDOWS[i % len(WINDOWS)],
            "请提前电话联系" if i % 3 == 0 else "",
            products[0]["currency"],
            secrets.token_urlsafe(24),
            f"online:{uuid.uuid4().hex}",
            now,
        ],
    )
    (order_id,) = cur.fetchone()
    psycopg2.extras.execute_values(
        cur,
        SQL_LINES,
        [(order_id, p["id"], p["sku"], p["name"], q, Decimal(p["unit_price"])) for p, q in lines],
    )
    if not number_last:
        cur.execute(SQL_TOTAL, [total, order_id])
    cur.execute(SQL_EVENT, [order_id, now, json.dumps({"channel": "online"})])
    cur.execute(SQL_NOTIFICATION, [order_id, email, now])
    if number_last:
        cur.execute(SQL_SEQUENCE, [day])
        number = f"{day:%Y%m%d}-{cur.fetchone()[0]:04d}"
        cur.execute(SQL_NUMBER_AND_TOTAL, [number, total, order_id])


def direct_phase(args, info, orders, measure, number_last=False, first=10_000_000):
    """Place ``orders`` orders with psycopg2 from ``args.clients`` threads, each with
    its own connection: one transaction per order, the app's writes in the app's order
    (customer, then the order number, order, lines, total, event, email).

    ``measure()`` is called when the last order is committed, before the connections
    close (their backends' CPU time disappears with them). Returns
    (placed, errors, elapsed seconds, what measure returned)."""
    counter = itertools.count(first)
    lock = threading.Lock()
    done = []
    errors = []
    start_barrier = threading.Barrier(args.clients + 1)
    end_barrier = threading.Barrier(args.clients + 1)
    close = threading.Event()

    def worker(seed):
        rng = random.Random(seed)
        conn = psycopg2.connect(dbname=args.db_name, **pg_params(args))
        start_barrier.wait()
        placed = 0
        while True:
            with lock:
                i = next(counter)
            if i >= first + orders:
                break
            try:
                with conn, conn.cursor() as cur:
                    write_order(cur, info, i, rng, number_last=number_last)
                placed += 1
            except psycopg2.Error as error:
                with lock:
                    errors.append(type(error).__name__)
        with lock:
            done.append(placed)
        end_barrier.wait()
        close.wait()
        conn.close()

    threads = [
        threading.Thread(target=worker, args=(args.seed + first + i,), daemon=True)
        for i in range(args.clients)
    ]
    for thread in threads:
        thread.start()
    start_barrier.wait()
    started = time.perf_counter()
    end_barrier.wait()
    elapsed = time.perf_counter() - started
    measured = measure()
    close.set()
    for thread in threads:
        thread.join()
    return sum(done), errors, elapsed, measured


def run_direct(args, info, orders, what, expected, number_last=False, first=10_000_000):
    """One direct phase with its report; ``expected`` orders are already in the
    database. Returns (orders per second, whether the database adds up)."""
    log(f"\nDirect psycopg2: {args.clients} threads, {orders} orders, {what} ...")
    quiet(args)
    meter = CpuMeter(args.db_name)
    sampler = LockSampler(args)
    before = meter.snapshot()
    sampler.start()
    placed, errors, elapsed, after = direct_phase(
        args, info, orders, meter.snapshot, number_last=number_last, first=first
    )
    sampler.stop()
    rate = placed / elapsed if elapsed else 0.0
    log(f"  orders placed:    {placed}")
    log(f"  errors:           {len(errors)}{f' ({sorted(set(errors))})' if errors else ''}")
    log(f"  elapsed:          {elapsed:.2f} s")
    log(f"  orders/second:    {rate:.1f}")
    meter.report(before, after, elapsed, placed)
    sampler.report()
    total, numbers, handed_out = verify_totals(args)
    ok = total == expected + placed == numbers == handed_out
    log(
        f"  database: {total} orders in all, {numbers} distinct numbers, "
        f"{handed_out} handed out; check: {'OK' if ok else 'MISMATCH'}"
    )
    return rate, ok


def verify_totals(args):
    conn = psycopg2.connect(dbname=args.db_name, **pg_params(args))
    with conn.cursor() as cur:
        cur.execute(
            "SELECT count(*), count(DISTINCT number) FILTER (WHERE number NOT LIKE 'tmp-%')"
            " FROM orders_order"
        )
        orders, numbers = cur.fetchone()
        cur.execute("SELECT coalesce(sum(last), 0) FROM orders_ordersequence")
        (handed_out,) = cur.fetchone()
    conn.close()
    return orders, numbers, handed_out


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


# ---------------------------------------------------------------------------
# Main


def quiet(args):
    if args.quiet_wait <= 0:
        return
    fraction = wait_until_quiet(0.2, args.quiet_wait)
    if fraction > 0.2:
        log(
            f"  WARNING: other processes keep the machine {100 * fraction:.0f}% busy; "
            "the figures below are lower than on a quiet machine"
        )


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description="Online orders through gunicorn vs the same writes with psycopg2."
    )
    parser.add_argument("--orders", type=int, default=2000, help="orders to place (2000)")
    parser.add_argument(
        "--duration",
        type=float,
        default=None,
        help="run the HTTP phase for this many seconds instead of a fixed number of orders",
    )
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients/threads (8)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (4)")
    parser.add_argument(
        "--worker-class",
        default="sync",
        choices=("sync", "gthread"),
        help="gunicorn worker class (sync: measured fastest here)",
    )
    parser.add_argument("--threads", type=int, default=1, help="threads per gthread worker (1)")
    parser.add_argument(
        "--conn-max-age",
        type=int,
        default=60,
        help="Django's CONN_MAX_AGE for gunicorn (60; 0 opens a connection per request)",
    )
    parser.add_argument(
        "--products", type=int, default=3, choices=(2, 3, 4), help="active products (3)"
    )
    parser.add_argument(
        "--warmup", type=int, default=2, help="untimed orders per client before the clock (2)"
    )
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=30,
        help="before each phase, wait up to this many seconds for other processes to "
        "leave the CPU below 20%% busy (30; 0: do not wait)",
    )
    parser.add_argument(
        "--number-first",
        dest="number_last",
        action="store_true",
        help="also run the direct writes with the order number taken first, as the app "
        "did before it took the number last, to show what the long counter-row lock cost",
    )
    parser.add_argument("--seed", type=int, default=1, help="random seed of the baskets (1)")
    parser.add_argument(
        "--db-name", default="o2d_bench", help="scratch database, dropped first and last"
    )
    parser.add_argument("--pg-host", default="127.0.0.1")
    parser.add_argument("--pg-port", type=int, default=5432)
    parser.add_argument("--pg-user", default="postgres")
    parser.add_argument(
        "--redis-db",
        type=int,
        default=14,
        help="Redis database for the broker and the cache; FLUSHDB'd at the end (14)",
    )
    parser.add_argument("--port", type=int, default=0, help="gunicorn port (a free one)")
    parser.add_argument(
        "--keep-db", action="store_true", help="leave the benchmark database for inspection"
    )
    args = parser.parse_args(argv)
    if args.orders < 1 or args.clients < 1 or args.workers < 1:
        parser.error("--orders, --clients and --workers must be at least 1")
    # The database is dropped: insist on a name that says it is a scratch benchmark one.
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", args.db_name) or "bench" not in args.db_name:
        parser.error("--db-name must be a plain lower-case name containing 'bench'")
    return args


def main(argv=None):
    args = parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="o2d-bench-"))
    app_env = app_environment(args, workdir / "var")
    gunicorn = None
    rates = {}
    try:
        info = create_database(args, app_env)
        info["zone"] = ZoneInfo(info["time_zone"])
        product_ids = [p["id"] for p in info["products"]]
        port = args.port or free_port()
        gunicorn = start_gunicorn(args, app_env, port, workdir / "gunicorn.log")
        queued_before = redis_llen(args)

        what = f"{args.duration:g} s" if args.duration else f"{args.orders} orders"
        log(f"\nHTTP: {args.clients} clients, {what}, each GET /order/ then POST /order/ ...")
        quiet(args)
        meter = CpuMeter(args.db_name, gunicorn.pid)
        sampler = LockSampler(args)
        snapshots = []

        def on_start():
            snapshots.append(meter.snapshot())
            sampler.start()

        def on_end():
            sampler.stop()
            snapshots.append(meter.snapshot())

        tally, warm, elapsed = http_phase(args, port, product_ids, on_start, on_end)
        before, after = snapshots
        rate = tally.placed / elapsed if elapsed else 0.0
        rates["http"] = rate
        kinds = ", ".join(f"{k}: {n}" for k, n in sorted(tally.error_kinds.items()))
        log(
            f"  warm-up:          {warm.placed} orders placed, {warm.errors} errors "
            f"({args.warmup} per client, not timed)"
        )
        log(f"  orders placed:    {tally.placed}")
        log(f"  errors:           {tally.errors}{f' ({kinds})' if kinds else ''}")
        log(f"  reconnects:       {tally.retries}")
        log(f"  elapsed:          {elapsed:.2f} s")
        log(f"  orders/second:    {rate:.1f}")
        log(
            f"  POST latency:     p50 {ms(percentile(tally.post_latency, 0.50))}, "
            f"p95 {ms(percentile(tally.post_latency, 0.95))}, "
            f"max {ms(max(tally.post_latency, default=None))}"
        )
        log(
            f"  GET latency:      p50 {ms(percentile(tally.get_latency, 0.50))}, "
            f"p95 {ms(percentile(tally.get_latency, 0.95))}"
        )
        meter.report(before, after, elapsed, tally.placed)
        sampler.report()
        http_ok = verify_http(args, tally, warm, queued_before)
        server_log = (workdir / "gunicorn.log").read_text(errors="replace").splitlines()
        if server_log:
            log(f"  gunicorn log: {len(server_log)} lines; the last ones:")
            for line in server_log[-5:]:
                log(f"    {line[:200]}")

        # The direct writes run with gunicorn stopped, so the two phases do not share
        # the CPU with an idle server; the database keeps the HTTP phase's rows.
        stop_gunicorn(gunicorn)
        orders = tally.placed or args.orders
        in_db = tally.placed + warm.placed
        # The app takes the order number last (orders/services.py), so the direct
        # writes do too; --number-first also measures the old order of writes.
        rates["direct"], direct_ok = run_direct(
            args, info, orders, "one transaction each", expected=in_db, number_last=True
        )
        if args.number_last:
            rates["number_last"], last_ok = run_direct(
                args,
                info,
                orders,
                "order number taken first (the app before the fix)",
                expected=in_db + orders,
                number_last=False,
                first=20_000_000,
            )
            direct_ok = direct_ok and last_ok

        ratio = rates["direct"] / rates["http"] if rates["http"] else float("inf")
        label_http = (
            f"HTTP (gunicorn, {args.workers} {args.worker_class} workers, {args.clients} clients):"
        )
        label_direct = f"direct psycopg2 ({args.clients} threads):"
        width = max(len(label_http), len(label_direct)) + 1
        log("")
        log(f"{label_http:<{width}}{rates['http']:8.1f} orders/s")
        log(f"{label_direct:<{width}}{rates['direct']:8.1f} orders/s   ratio {ratio:.1f}x")
        if args.number_last:
            log(f"(direct psycopg2, order number taken first: {rates['number_last']:.1f} orders/s)")
        return 0 if http_ok and direct_ok else 1
    finally:
        stop_gunicorn(gunicorn)
        if args.keep_db:
            log(f"\nKept database {args.db_name} ({database_url(args)}).")
        else:
            with contextlib.suppress(psycopg2.Error):
                drop_database(args)
        redis_cli(args, "FLUSHDB")
        if gunicorn is not None and gunicorn.returncode not in (0, None, -signal.SIGTERM):
            log(f"gunicorn exited with {gunicorn.returncode}; its log: {workdir / 'gunicorn.log'}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
