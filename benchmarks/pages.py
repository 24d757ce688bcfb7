"""Latency and SQL queries of every staff page, fragment and public page on a loaded
database, with checks (exit status 1 when one fails). See README.md, "pages.py".

    .venv/bin/python benchmarks/pages.py --database o2d_bench_1m
    .venv/bin/python benchmarks/pages.py --only "order list" --repeat 50
"""

import argparse
import cProfile
import json
import pstats
import re
import time
from dataclasses import dataclass, field
from datetime import timedelta

import bench_django as bd
from bench_django import log, rows, scalar

STATUS_PAGE_MS = 20  # the public status page
STAFF_PAGE_MS = 150  # every staff page and fragment (and, here, /track/ and /order/)
PICK_LIST_MS = 300  # the batch pick list for 200 waiting orders
EXPORT_MS = 5000  # a month of the ledger as CSV, to its last byte (about 180,000 rows)
LISTED = re.compile(r'href="/orders/(\d{8}-\d{4,6})/"')
PICKED = re.compile(r"<li><strong>(\d{8}-\d{4,6})</strong>")


@dataclass
class Page:
    name: str
    url: object  # a path, or a callable returning one (built just before each request)
    user: str | None  # demo username (role), None for the public
    target_ms: float = STAFF_PAGE_MS
    status: int = 200
    check: object = None  # callable(content: str) -> error message or "" / None
    result: dict = field(default_factory=dict)


# ---------------------------------------------------------------------------
# Real data to ask for


def fixtures():
    """Order numbers, phones, names and tokens taken from the loaded database."""
    from django.utils import timezone

    def one(sql, params=None):
        row = rows(sql, params)
        return row[0] if row else None

    lo, hi = rows("SELECT min(id), max(id) FROM orders_order")[0]
    third = lo + (hi - lo) // 3
    fx = {}
    fx["newest"] = scalar(
        "SELECT number FROM orders_order ORDER BY placed_at DESC, id DESC LIMIT 1"
    )
    fx["number"] = scalar(
        "SELECT number FROM orders_order WHERE id >= %s ORDER BY id LIMIT 1", [third]
    )
    fx["phone"] = scalar(
        "SELECT contact_phone FROM orders_order WHERE id >= %s AND contact_phone LIKE '+86%%'"
        " ORDER BY id LIMIT 1",
        [third + 7],
    )
    fx["name3"] = scalar(
        "SELECT contact_name FROM orders_order WHERE id >= %s AND char_length(contact_name) = 3"
        " ORDER BY id LIMIT 1",
        [third + 13],
    )
    name = scalar(
        "SELECT contact_name FROM orders_order WHERE id >= %s AND char_length(contact_name) >= 3"
        " ORDER BY id LIMIT 1",
        [third + 29],
    )
    fx["prefix2"] = name[:2] if name else None
    fx["open"] = scalar(
        "SELECT number FROM orders_order WHERE status = 'confirmed' ORDER BY placed_at DESC LIMIT 1"
    )
    # A closed order with a long timeline, among the 2,000 orders closed last (orders
    # placed by other benchmarks since the load are open).
    fx["closed"] = scalar(
        "SELECT o.number FROM orders_order o JOIN orders_orderevent e ON e.order_id = o.id"
        " WHERE o.id IN (SELECT id FROM orders_order WHERE status = 'closed'"
        " ORDER BY id DESC LIMIT 2000) GROUP BY o.id ORDER BY count(*) DESC, o.id LIMIT 1"
    )
    fx["closed_events"] = scalar(
        "SELECT count(*) FROM orders_orderevent e JOIN orders_order o ON o.id = e.order_id"
        " WHERE o.number = %s",
        [fx["closed"]],
    )
    to_pick = rows(
        "SELECT o.number FROM orders_order o JOIN warehouse_fulfilment f ON f.order_id = o.id"
        " WHERE o.status = 'confirmed' ORDER BY f.acknowledged_at, o.id LIMIT 200"
    )
    fx["to_pick"] = [r[0] for r in to_pick]
    fx["warehouse"] = fx["to_pick"][0] if fx["to_pick"] else fx["open"]
    fx["shipped"] = scalar(
        "SELECT o.number FROM orders_order o WHERE o.status = 'shipped'"
        " AND EXISTS (SELECT 1 FROM logistics_shipment s WHERE s.order_id = o.id)"
        " ORDER BY o.placed_at DESC LIMIT 1"
    )
    fx["status_page"] = one(
        "SELECT number, public_token FROM orders_order WHERE number = %s", [fx["shipped"]]
    )
    fx["status_closed"] = one(
        "SELECT number, public_token FROM orders_order WHERE number = %s", [fx["closed"]]
    )
    today = timezone.localdate()
    fx["date_from"], fx["date_to"] = today - timedelta(days=37), today - timedelta(days=31)
    # Finance: the request in review that has waited longest (the first the dashboard
    # lists), the requests each hand holds (Sales' queue shows the oldest 25 of each), and
    # last month's ledger for the export.
    fx["closing"] = scalar(
        "SELECT o.number FROM finance_closingrequest r JOIN orders_order o ON o.id = r.order_id"
        " WHERE r.status = 'in_review' ORDER BY r.step_started_at, r.id LIMIT 1"
    )
    fx["with_sales"] = scalar(
        "SELECT count(*) FROM finance_closingrequest WHERE status IN ('open', 'sent_back')"
    )
    fx["with_finance"] = scalar(
        "SELECT count(*) FROM finance_closingrequest WHERE status IN ('submitted', 'in_review')"
    )
    from finance.selectors import ledger_between

    last = today.replace(day=1) - timedelta(days=1)
    fx["month"] = (last.replace(day=1), last)
    fx["month_entries"] = ledger_between(*fx["month"]).count()
    fx["customer"] = one(
        "SELECT c.phone, c.name FROM orders_customer c WHERE c.phone LIKE '+86%%'"
        " AND char_length(c.name) = 3 ORDER BY c.id LIMIT 1 OFFSET 100"
    )
    return fx


def national(phone):
    """A stored +86 number as Sales types it."""
    return phone[3:] if phone and phone.startswith("+86") else phone


# ---------------------------------------------------------------------------
# What each page must show


def listed(content):
    return list(dict.fromkeys(LISTED.findall(content)))


def orders_where(numbers, check):
    """Error unless every order of ``numbers`` passes ``check(order)``, and there is one."""
    from orders.models import Order

    if not numbers:
        return "no order listed"
    bad = [o.number for o in Order.objects.filter(number__in=numbers) if not check(o)]
    return f"{len(bad)} listed order(s) do not match, e.g. {bad[:3]}" if bad else ""


def contains(*texts):
    def check(content):
        missing = [t for t in texts if t not in content]
        return f"does not show {missing}" if missing else ""

    return check


def pages(fx):
    from django.utils import timezone

    from finance.views import FinanceDashboard
    from logistics.views import LogisticsDashboard
    from orders.views.dashboards import ManagerDashboard, SalesDashboard
    from warehouse.views import WarehouseDashboard

    result = []
    for label, path, user, view in (
        ("Sales", "/sales/", "sales", SalesDashboard),
        ("Warehouse", "/warehouse/", "warehouse", WarehouseDashboard),
        ("Logistics", "/logistics/", "logistics", LogisticsDashboard),
        ("Finance", "/finance/", "finance", FinanceDashboard),
        ("Manager", "/manager/", "manager", ManagerDashboard),
    ):
        queues = contains(f'id="{view.live_id}"')
        result += [
            Page(f"{label} dashboard", path, user, check=queues),
            Page(f"{label} fragment", path + "?partial=1", user, check=queues),
            Page(
                f"{label} fragment idle",
                lambda path=path, view=view: f"{path}?partial=1&since={view().version()}",
                user,
                status=204,
            ),
        ]

    def newest_first(content):
        """The first row is the newest order known before measuring, or newer (orders
        placed meanwhile, by whoever else uses the database, come first)."""
        from orders.models import Order

        numbers = listed(content)
        first = Order.objects.filter(number__in=numbers[:1]).values_list("placed_at", flat=True)
        newest = Order.objects.get(number=fx["newest"]).placed_at
        if first and first[0] >= newest:
            return ""
        return f"first row {numbers[:1]} is older than {fx['newest']}"

    def in_range(order):
        return fx["date_from"] <= timezone.localdate(order.placed_at) <= fx["date_to"]

    phone, name3, prefix2 = fx["phone"], fx["name3"], fx["prefix2"]

    def has_name_part(order):
        fields = (order.number, order.contact_name, order.contact_phone)
        fields += (order.delivery_recipient, order.delivery_phone)
        return any(name3.lower() in (value or "").lower() for value in fields)

    def starts(order):
        names = (order.contact_name or "", order.delivery_recipient or "")
        return any(n.lower().startswith(prefix2.lower()) for n in names)

    dates = f"date_from={fx['date_from']}&date_to={fx['date_to']}"
    result += [
        Page("order list", "/orders/", "sales", check=newest_first),
        Page(
            "order list status=confirmed",
            "/orders/?status=confirmed",
            "sales",
            check=lambda c: orders_where(listed(c), lambda o: o.status == "confirmed"),
        ),
        Page(
            "order list date range",
            f"/orders/?{dates}",
            "sales",
            check=lambda c: orders_where(listed(c), in_range),
        ),
        Page(
            "order list search number",
            f"/orders/?q={fx['number']}",
            "sales",
            check=lambda c: "" if listed(c) == [fx["number"]] else f"listed {listed(c)[:3]}",
        ),
        Page(
            "order list search phone",
            f"/orders/?q={national(phone)}",
            "sales",
            check=lambda c: orders_where(
                listed(c), lambda o: phone in (o.contact_phone, o.delivery_phone)
            ),
        ),
        Page(
            "order list search name (3 chars)",
            f"/orders/?q={name3}",
            "sales",
            check=lambda c: orders_where(listed(c), has_name_part),
        ),
        Page(
            "order list search name (2-char prefix)",
            f"/orders/?q={prefix2}",
            "sales",
            check=lambda c: orders_where(listed(c), starts),
        ),
        Page("order detail (open)", f"/orders/{fx['open']}/", "sales", check=contains(fx["open"])),
        Page(
            f"order detail (closed, {fx['closed_events']} events)",
            f"/orders/{fx['closed']}/",
            "sales",
            check=contains(fx["closed"]),
        ),
        Page(
            "warehouse order page",
            f"/warehouse/orders/{fx['warehouse']}/",
            "warehouse",
            check=contains(fx["warehouse"]),
        ),
    ]

    def pick_count(expected):
        def check(content):
            shown = len(set(PICKED.findall(content)))
            fx.setdefault("pick_counts", {})[expected] = shown
            if shown == 0:
                return "no order on the pick list"
            if expected and shown != expected:
                return f"shows {shown} orders, not {expected}"
            return ""

        return check

    from warehouse.forms import BatchPickForm

    # The form's field caps what fits: 200 numbers may not (each is 13-15 characters).
    room = BatchPickForm.base_fields["orders"].max_length or 10**6
    fitting = []
    for number in fx["to_pick"]:
        if len(" ".join([*fitting, number])) > room:
            break
        fitting.append(number)
    result += [
        Page(
            f"batch pick list ({len(fx['to_pick'])} numbers)",
            "/warehouse/pick-list/?orders=" + "+".join(fx["to_pick"]),
            "warehouse",
            target_ms=PICK_LIST_MS,
            check=pick_count(len(fx["to_pick"])),
        ),
    ]
    if len(fitting) < len(fx["to_pick"]):
        result.append(
            Page(
                f"batch pick list ({len(fitting)} numbers, all the form takes)",
                "/warehouse/pick-list/?orders=" + "+".join(fitting),
                "warehouse",
                target_ms=PICK_LIST_MS,
                check=pick_count(len(fitting)),
            )
        )
    result += [
        Page(
            "batch pick list (all waiting)",
            "/warehouse/pick-list/",
            "warehouse",
            target_ms=PICK_LIST_MS,
            check=pick_count(0),
        ),
        Page("stock page", "/warehouse/stock/", "warehouse", check=contains("<table")),
        Page(
            "logistics order page",
            f"/logistics/orders/{fx['shipped']}/",
            "logistics",
            check=contains(fx["shipped"]),
        ),
        Page("problems", "/logistics/problems/", "logistics"),
        Page("feedback cases", "/feedback/", "sales"),
        Page("process page", "/process/", "manager"),
    ]
    if fx["closing"]:
        result.append(
            Page(
                "closing request page (in review)",
                f"/finance/orders/{fx['closing']}/",
                "finance",
                check=contains(fx["closing"], 'id="ledger"'),
            )
        )

    def queue_rows(content):
        # Each hand's oldest 25 (finance.selectors.QUEUE_ROWS), headed by its count.
        shown = content.count('<tr data-order="')
        expected = min(fx["with_sales"], 25) + min(fx["with_finance"], 25)
        if not shown or shown != expected:
            return f"shows {shown} requests, not {expected}"
        counts = [
            f'<span class="muted">({fx[hand]})</span>' for hand in ("with_sales", "with_finance")
        ]
        return "" if all(c in content for c in counts) else "the queues' counts are not shown"

    def ledger_csv(content):
        lines = content.splitlines()
        if not lines or not lines[0].startswith("entry,order,recorded_at,"):
            return "no CSV header"
        rows = len(lines) - 1
        return "" if rows == fx["month_entries"] > 0 else f"{rows} rows, not {fx['month_entries']}"

    start, end = fx["month"]
    result += [
        Page("closing requests (Sales' queue)", "/finance/requests/", "sales", check=queue_rows),
        Page(
            f"ledger CSV export ({start:%Y-%m}, {fx['month_entries']:,} entries)",
            f"/finance/export/ledger.csv?start={start}&end={end}",
            "finance",
            target_ms=EXPORT_MS,
            check=ledger_csv,
        ),
    ]
    if fx["customer"]:
        cphone, cname = fx["customer"]
        result += [
            Page(
                "customer lookup (phone)",
                f"/customers/lookup/?customer_phone={national(cphone)}&customer_email=&customer_name=",
                "sales",
                check=contains(cname),
            ),
            Page(
                "customer lookup (name)",
                f"/customers/lookup/?customer_phone=&customer_email=&customer_name={cname}",
                "sales",
                check=contains(cname),
            ),
        ]
    for label, pair in (("shipped", fx["status_page"]), ("closed", fx["status_closed"])):
        if pair:
            result.append(
                Page(
                    f"public status page ({label})",
                    f"/status/{pair[0]}/{pair[1]}/",
                    None,
                    target_ms=STATUS_PAGE_MS,
                    check=contains(pair[0]),
                )
            )
    result += [
        Page("public /track/ GET", "/track/", None, check=contains("<form")),
        Page("public /order/ GET", "/order/", None, check=contains("csrfmiddlewaretoken")),
    ]
    return result


# ---------------------------------------------------------------------------
# Measuring


def measure(page, client, repeat, warmup, profiler=None):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def url():
        return page.url() if callable(page.url) else page.url

    def get(path):
        """The response and its whole body: a streamed one (the CSV exports) does its
        work while it is read, so it is read here, inside the timing."""
        response = client.get(path)
        if response.streaming:
            return response, b"".join(response.streaming_content)
        return response, response.content

    for _ in range(warmup):
        get(url())
    timings, cpu, statuses = [], [], set()
    for _ in range(repeat):
        path = url()
        started, cpu_started = time.perf_counter(), time.process_time()
        if profiler:
            profiler.enable()
        response, _body = get(path)
        if profiler:
            profiler.disable()
        timings.append(time.perf_counter() - started)
        cpu.append(time.process_time() - cpu_started)
        statuses.add(response.status_code)
    with CaptureQueriesContext(connection) as captured:
        response, body = get(url())
    p50, p95, worst = bd.stats(timings)
    content = body.decode(errors="replace")
    page.result = {
        "p50": p50,
        "p95": p95,
        "max": worst,
        "cpu_ms": bd.stats(cpu)[0],
        "queries": len(captured.captured_queries),
        "status": response.status_code,
        "statuses": sorted(statuses),
        "sql_ms": sum(float(q["time"]) for q in captured.captured_queries) * 1000,
    }
    page.slowest = sorted(captured.captured_queries, key=lambda q: -float(q["time"]))[:3]
    page.content = content


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    bd.add_common_arguments(parser)
    parser.add_argument("--repeat", type=int, default=30, help="timed requests per page")
    parser.add_argument("--warmup", type=int, default=3, help="untimed requests per page first")
    parser.add_argument("--only", default="", help="only pages whose name contains this")
    parser.add_argument(
        "--profile",
        type=int,
        default=0,
        metavar="N",
        help="profile the timed requests (cProfile; the latencies then include its "
        "overhead) and print the N functions with the most time, with and without callees",
    )
    args = parser.parse_args()

    bd.start(args, "pages.py")
    from django.contrib.auth import get_user_model
    from django.test import Client

    checks = bd.Checks()
    started = time.monotonic()
    fx = fixtures()
    log(
        f"fixtures ({time.monotonic() - started:.1f} s): "
        + ", ".join(f"{k}={v}" for k, v in fx.items() if k not in ("to_pick",))
        + f", {len(fx['to_pick'])} orders waiting to be picked (first 200)"
    )
    selected = [p for p in pages(fx) if args.only.lower() in p.name.lower()]
    users = {
        u.username: u
        for u in get_user_model().objects.filter(username__in={p.user for p in selected})
    }
    clients = {}
    profiler = cProfile.Profile() if args.profile else None
    log()
    header = (
        f"{'page':<44} {'HTTP':>4} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}"
        f" {'CPU ms':>7} {'SQL':>4} {'SQL ms':>7} {'target':>6}"
    )
    log(header)
    log("-" * len(header))
    for page in selected:
        if page.user not in clients:
            # A page that fails answers 500 and is reported as failed (the run goes on).
            client = Client(raise_request_exception=False)
            if page.user:
                if page.user not in users:
                    checks.check(False, f"{page.name}: no user {page.user!r} in the database")
                    continue
                client.force_login(users[page.user])
            clients[page.user] = client
        measure(page, clients[page.user], args.repeat, args.warmup, profiler)
        r = page.result
        problems = []
        if r["status"] != page.status or r["statuses"] != [page.status]:
            problems.append(f"HTTP {r['statuses']}, expected {page.status}")
        elif page.check and (error := page.check(page.content)):
            problems.append(error)
        if r["p95"] > page.target_ms:
            problems.append(f"p95 {r['p95']:.1f} ms > {page.target_ms:.0f} ms")
        for problem in problems:
            checks.check(False, f"{page.name}: {problem}")
        r["failed"] = problems
        log(
            f"{page.name[:44]:<44} {r['status']:>4} {r['p50']:>8.1f} {r['p95']:>8.1f}"
            f" {r['max']:>8.1f} {r['cpu_ms']:>7.1f} {r['queries']:>4} {r['sql_ms']:>7.1f}"
            f" {page.target_ms:>6.0f}" + ("  FAIL" if problems else "")
        )
    for counted, shown in fx.get("pick_counts", {}).items():
        log(
            f"batch pick list: {shown} orders shown"
            + (f" (asked for {counted})" if counted else " (every waiting order)")
        )

    slow = [p for p in selected if p.result and p.result["p95"] > p.target_ms]
    if slow:
        log("\nSlowest queries of the pages over target (one request, EXPLAIN ANALYZE):")
    for page in slow:
        log(
            f"\n  {page.name}: p95 {page.result['p95']:.1f} ms, {page.result['queries']} queries,"
            f" {page.result['sql_ms']:.1f} ms in SQL"
        )
        for query in page.slowest[:2]:
            log(f"    {float(query['time']) * 1000:.1f} ms: {query['sql'][:400]}")
            bd.explain_captured(query)
    if profiler:
        for order in ("cumulative", "tottime"):
            log(f"\ncProfile of the timed requests, top {args.profile} by {order}:")
            pstats.Stats(profiler).sort_stats(order).print_stats(args.profile)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({p.name: p.result for p in selected if p.result}, f, indent=1)
    checks.exit()


if __name__ == "__main__":
    main()
