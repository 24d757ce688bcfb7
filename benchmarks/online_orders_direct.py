"""The direct phase of the online orders benchmark: the app's writes for the same
orders done directly with psycopg2, one transaction per order."""

import itertools
import json
import random
import secrets
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from harness import CpuMeter, LockSampler, log, pg_params, quiet
from online_orders_http import MOBILE_PREFIXES, PROVINCES, WINDOWS

try:
    import psycopg2
    import psycopg2.extras
except ImportError:  # pragma: no cover - depends on how the script is started
    sys.exit("psycopg2 is missing: run this with the project's venv, .venv/bin/python")

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
    " salesperson_id, contact_name, contact_phone, contact_email, contact_language,"
    " delivery_recipient, delivery_phone, delivery_country,"
    " delivery_province, delivery_city, delivery_district, delivery_street,"
    " delivery_postal_code, requested_date, requested_window, special_instructions,"
    " currency, total, public_token, idempotency_key, contact_verified_at,"
    " address_verified_at, promised_date, callback_requested_at, step_started_at,"
    " step_overdue_at, reviewed_at, partial_agreed_at)"
    " VALUES (%s, 'placed', 'online', %s, %s, NULL, %s, %s, %s, %s, %s, %s, 'CN', %s, %s,"
    " %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, NULL, NULL, NULL, NULL, %s, NULL, NULL, NULL)"
    " RETURNING id"
)
SQL_LINES = (
    "INSERT INTO orders_orderline (order_id, product_id, sku, name, quantity, unit_price,"
    " shipped_quantity) VALUES %s"
)
SQL_TOTAL = "UPDATE orders_order SET total = %s WHERE status = 'placed' AND id = %s"
SQL_EVENT = (
    "INSERT INTO orders_orderevent (order_id, created_at, actor_id, kind, from_status,"
    " to_status, note, code, data, public)"
    " VALUES (%s, %s, NULL, 'transition', '', 'placed', '', '', %s, true)"
)
SQL_NOTIFICATION = (
    'INSERT INTO orders_notification (order_id, kind, key, "to", language, data,'
    " created_at, sent_at, attempts, claimed_until, last_error)"
    " VALUES (%s, 'order_received', '', %s, '', '{}', %s, NULL, 0, NULL, '')"
)
SQL_NUMBER = "UPDATE orders_order SET number = %s WHERE status = 'placed' AND id = %s"


def write_order(cur, info, i, rng, marker, number_last=False):
    """One order's rows, in one transaction (the caller's). ``i`` makes the customer's
    phone and email unique; ``marker`` (the run and the phase) is in the customer's
    email and the order's idempotency key, so the checks find this phase's rows.

    With ``number_last`` (the app's order of writes) the order is inserted with its
    total under a placeholder number and gets its real number in the last UPDATE, so
    the day's counter row stays locked only for the end of the transaction. Without
    it, the number is taken first and the total written by an UPDATE after the lines
    (the app before the fix)."""
    products = info["products"]
    now = datetime.now(UTC)
    day = now.astimezone(info["zone"]).date()
    province, city, district, postal = PROVINCES[i % len(PROVINCES)]
    phone = f"+86{MOBILE_PREFIXES[i % len(MOBILE_PREFIXES)]}{i:08d}"
    email = f"bench-{marker}-{i}@example.com"
    name = f"Bench Customer {i}"
    chosen = rng.sample(products, rng.choice((1, 2)))
    lines = [(p, rng.randint(1, 5)) for p in chosen]
    total = sum((Decimal(p["unit_price"]) * q for p, q in lines), Decimal("0"))

    language = info["language"]
    cur.execute(SQL_CUSTOMER, [name, phone, email, language, now])
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
            email,
            language,
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
            total if number_last else 0,
            secrets.token_urlsafe(24),
            f"{marker}:{i}",
            now,
        ],
    )
    (order_id,) = cur.fetchone()
    psycopg2.extras.execute_values(
        cur,
        SQL_LINES,
        [
            (order_id, p["id"], p["sku"], p["name"], q, Decimal(p["unit_price"]), 0)
            for p, q in lines
        ],
    )
    if not number_last:
        cur.execute(SQL_TOTAL, [total, order_id])
    cur.execute(SQL_EVENT, [order_id, now, json.dumps({"channel": "online"})])
    cur.execute(SQL_NOTIFICATION, [order_id, email, now])
    if number_last:
        cur.execute(SQL_SEQUENCE, [day])
        number = f"{day:%Y%m%d}-{cur.fetchone()[0]:04d}"
        cur.execute(SQL_NUMBER, [number, order_id])


def direct_phase(args, info, orders, measure, marker, number_last=False, first=10_000_000):
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
                    write_order(cur, info, i, rng, marker, number_last=number_last)
                placed += 1
            except psycopg2.Error as error:
                with lock:
                    errors.append(f"{type(error).__name__}: {str(error).splitlines()[0]}")
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


def run_direct(args, info, orders, what, label, number_last=False, first=10_000_000):
    """One direct phase with its report and its checks. Returns (orders per second,
    whether every order was written and adds up)."""
    from online_orders_http import report_checks, sequence_total

    log(f"\nDirect psycopg2: {args.clients} threads, {orders} orders, {what} ...")
    marker = f"{args.run}-{label}"
    quiet(args)
    handed_out_before = sequence_total(args)
    meter = CpuMeter(args.db_name)
    sampler = LockSampler(args)
    before = meter.snapshot()
    sampler.start()
    placed, errors, elapsed, after = direct_phase(
        args, info, orders, meter.snapshot, marker, number_last=number_last, first=first
    )
    sampler.stop()
    rate = placed / elapsed if elapsed else 0.0
    log(f"  orders placed:    {placed}")
    log(f"  errors:           {len(errors)}")
    for error, count in sorted(Counter(errors).items()):
        log(f"    {count} x {error[:200]}")
    log(f"  elapsed:          {elapsed:.2f} s")
    log(f"  orders/second:    {rate:.1f}")
    meter.report(before, after, elapsed, placed)
    sampler.report()
    ok = verify_direct(args, marker, orders, placed, errors, handed_out_before, report_checks)
    return rate, ok


def verify_direct(args, marker, asked, placed, errors, handed_out_before, report_checks):
    """Check the rows this phase wrote (found by ``marker``), and only them."""
    conn = psycopg2.connect(dbname=args.db_name, **pg_params(args))
    with conn.cursor() as cur:
        cur.execute(
            "SELECT count(*), count(DISTINCT number) FILTER (WHERE number NOT LIKE 'tmp-%%'),"
            " count(*) FILTER (WHERE NOT EXISTS"
            "   (SELECT 1 FROM orders_orderline l WHERE l.order_id = o.id)),"
            " count(*) FILTER (WHERE total <> (SELECT sum(quantity * unit_price)"
            "   FROM orders_orderline l WHERE l.order_id = o.id)),"
            " count(*) FILTER (WHERE (SELECT count(*) FROM orders_orderevent e"
            "   WHERE e.order_id = o.id) <> 1),"
            " count(*) FILTER (WHERE (SELECT count(*) FROM orders_notification n"
            "   WHERE n.order_id = o.id) <> 1)"
            " FROM orders_order o WHERE idempotency_key LIKE %s",
            [f"{marker}:%"],
        )
        orders, numbers, no_lines, wrong_totals, bad_events, bad_emails = cur.fetchone()
        cur.execute(
            "SELECT (SELECT count(*) FROM orders_customer WHERE email LIKE %s),"
            " (SELECT coalesce(sum(last), 0) FROM orders_ordersequence)",
            [f"bench-{marker}-%@example.com"],
        )
        customers, handed_out = cur.fetchone()
    conn.close()
    handed = handed_out - handed_out_before
    checks = {
        "no write failed": not errors,
        "every order asked for was placed": placed == asked,
        "orders written == successes": orders == placed,
        "order numbers unique and final": numbers == placed,
        "numbers handed out == orders (no gaps)": handed == placed,
        "every order has lines": no_lines == 0,
        "every total right": wrong_totals == 0,
        "one event and one email per order": bad_events == bad_emails == 0,
        "one customer per order": customers == placed,
    }
    log(
        f"  database: {orders} orders written by this phase, {numbers} distinct final "
        f"numbers, {handed} handed out, {customers} customers, {no_lines} without lines, "
        f"{wrong_totals} wrong totals"
    )
    return report_checks(checks)
