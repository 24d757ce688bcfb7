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
