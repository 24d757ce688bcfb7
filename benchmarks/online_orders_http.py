"""The HTTP phase of the online orders benchmark: clients that place orders through
the public order page the way a browser does, and the database check afterwards."""

import html
import http.client
import itertools
import random
import re
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from http.cookies import SimpleCookie
from urllib.parse import urlencode

from harness import HOST, log, pg_params, redis_llen

try:
    import psycopg2
except ImportError:  # pragma: no cover - depends on how the script is started
    sys.exit("psycopg2 is missing: run this with the project's venv, .venv/bin/python")

# Valid Chinese mobile prefixes; each order gets its own number, so its own customer.
MOBILE_PREFIXES = ("138", "139", "150", "186", "131", "177")
PROVINCES = (
    ("广东省", "深圳市", "南山区", "518000"),
    ("上海市", "上海市", "浦东新区", "200120"),
    ("浙江省", "杭州市", "西湖区", "310000"),
    ("北京市", "北京市", "朝阳区", "100020"),
)
WINDOWS = ("any", "morning", "afternoon", "evening")


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


def order_form(inputs, product_ids, index, rng, run=""):
    """The POST body of order ``index``: 1-2 products, its own phone and email. The
    email holds the run's id, so that the checks find this run's customers (and only
    them) in a database that already holds orders."""
    number = f"{MOBILE_PREFIXES[index % len(MOBILE_PREFIXES)]}{index:08d}"
    province, city, district, postal = PROVINCES[index % len(PROVINCES)]
    data = {
        "csrfmiddlewaretoken": inputs["csrfmiddlewaretoken"],
        "token": inputs["token"],
        "website": "",
        "name": f"Bench Customer {index}",
        "country": "CN",
        "phone": number,
        "email": f"bench-{run}-{index}@example.com",
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


def place_one(client, index, product_ids, rng, tally, run=""):
    """One customer's order: GET the form, POST it; recorded in ``tally``."""
    try:
        t0 = time.perf_counter()
        response, content = client.request("GET", "/order/")
        tally.get_latency.append(time.perf_counter() - t0)
        if response.status != 200:
            tally.add_error(f"GET {response.status}")
            return
        inputs = form_inputs(content.decode())
        body = urlencode(order_form(inputs, product_ids, index, rng, run))
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
            place_one(client, index, product_ids, rng, local_warm, args.run)
        start_barrier.wait()
        go.wait()
        while (index := next_index()) is not None:
            place_one(client, index, product_ids, rng, local, args.run)
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


def sequence_total(args):
    """All order numbers handed out so far (the sum of the days' counters)."""
    conn = psycopg2.connect(dbname=args.db_name, **pg_params(args))
    with conn.cursor() as cur:
        cur.execute("SELECT coalesce(sum(last), 0) FROM orders_ordersequence")
        (total,) = cur.fetchone()
    conn.close()
    return total


def verify_http(args, tally, warm, redis_queued_before, handed_out_before):
    """Check in the database the orders that this run placed over HTTP, and only them
    (the database may hold a million others): one order per success and none more,
    unique numbers without gaps, each with its lines, right total, one event, one
    email row, one new customer, and its email task queued; no request failed.
    Returns True when everything adds up."""
    numbers = tally.numbers + warm.numbers
    successes = tally.placed + warm.placed
    mine = f"bench-{args.run}-%@example.com"
    conn = psycopg2.connect(dbname=args.db_name, **pg_params(args))
    with conn.cursor() as cur:
        cur.execute(
            "SELECT count(*), count(DISTINCT number),"
            " count(*) FILTER (WHERE channel = 'online' AND status = 'placed'),"
            " count(*) FILTER (WHERE NOT EXISTS"
            "   (SELECT 1 FROM orders_orderline l WHERE l.order_id = o.id)),"
            " count(*) FILTER (WHERE total <> (SELECT sum(quantity * unit_price)"
            "   FROM orders_orderline l WHERE l.order_id = o.id)),"
            " count(*) FILTER (WHERE (SELECT count(*) FROM orders_orderevent e"
            "   WHERE e.order_id = o.id) <> 1),"
            " count(*) FILTER (WHERE (SELECT count(*) FROM orders_notification n"
            "   WHERE n.order_id = o.id AND n.kind = 'order_received') <> 1),"
            " count(DISTINCT customer_id)"
            " FROM orders_order o WHERE number = ANY(%s)",
            [numbers],
        )
        orders, distinct, online, no_lines, wrong_totals, bad_events, bad_emails, customers = (
            cur.fetchone()
        )
        # Every row this run wrote, whether or not its client saw a success.
        cur.execute(
            "SELECT (SELECT count(*) FROM orders_order WHERE contact_email LIKE %s),"
            " (SELECT count(*) FROM orders_customer WHERE email LIKE %s),"
            " (SELECT coalesce(sum(last), 0) FROM orders_ordersequence)",
            [mine, mine],
        )
        written, new_customers, handed_out = cur.fetchone()
    conn.close()
    queued = redis_llen(args) - redis_queued_before
    handed = handed_out - handed_out_before
    checks = {
        "no request failed": tally.errors == 0 and warm.errors == 0,
        "orders written == successes": written == orders == successes,
        "order numbers unique": distinct == len(numbers) == successes,
        "numbers handed out == orders (no gaps)": handed == successes,
        "all online and placed": online == successes,
        "every order has lines": no_lines == 0,
        "every total right": wrong_totals == 0,
        "one event per order": bad_events == 0,
        "one order-received email per order": bad_emails == 0,
        "one new customer per order": customers == new_customers == successes,
        "email tasks queued == orders": queued == successes,
    }
    log(
        f"  database: {written} orders written by this run, successes {tally.placed} + "
        f"{warm.placed} warm-up; {distinct} distinct numbers; {handed} numbers handed out; "
        f"{new_customers} new customers; {no_lines} without lines; {wrong_totals} wrong "
        f"totals; {bad_events}/{bad_emails} orders without exactly one event/email; "
        f"{queued} email tasks queued in Redis db {args.redis_db}"
    )
    return report_checks(checks)


def report_checks(checks):
    failed = [name for name, ok in checks.items() if not ok]
    for name in failed:
        log(f"  FAILED: {name}")
    log(f"  check: {'OK' if not failed else 'FAILED'}")
    return not failed
