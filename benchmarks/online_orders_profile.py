"""CPU of one online order in the app (GET /order/ + POST /order/), in-process.

    .venv/bin/python benchmarks/online_orders_profile.py            # N=200, fresh DB
    .venv/bin/python benchmarks/online_orders_profile.py --profile  # + cProfile top 25

Drops and recreates the scratch database ``o2d_bench_profile`` (the name must contain
``bench``), migrates it, creates 3 products, and then places N orders through Django's
test ``Client`` (CSRF enforced, the production settings of the HTTP benchmark: DEBUG
off, Redis cache and broker on db --redis-db, dummy email backend). It prints the
process CPU per GET and per POST, the SQL statements and ``{% include %}``/template
renders of one GET and one POST, and checks that N orders were written. Exit 1 when a
request fails or the check fails.
"""

import argparse
import cProfile
import os
import pstats
import re
import secrets
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import admin_connection, database_url  # noqa: E402


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument(
        "--profile",
        choices=["get", "post", "both"],
        help="print a cProfile top 25 of the GETs, the POSTs or both",
    )
    parser.add_argument(
        "--pyinstrument",
        choices=["get", "post", "both"],
        help="print pyinstrument's call tree instead (pip install pyinstrument; not a "
        "requirement of the project)",
    )
    parser.add_argument("--language", default="", help="Accept-Language (default: none)")
    parser.add_argument("--db-name", default="o2d_bench_profile")
    parser.add_argument("--pg-host", default="127.0.0.1")
    parser.add_argument("--pg-port", type=int, default=5432)
    parser.add_argument("--pg-user", default="postgres")
    parser.add_argument("--redis-db", type=int, default=12)
    parser.add_argument("--keep-db", action="store_true")
    parser.add_argument(
        "--existing",
        action="store_true",
        help="use --db-name as it is (migrated and loaded): no create, migrate or drop; "
        "order its first 3 active products",
    )
    args = parser.parse_args()
    if "bench" not in args.db_name:
        parser.error("--db-name must contain 'bench' (the database is dropped)")
    return args


def setup_environment(args):
    os.environ.update(
        DJANGO_SETTINGS_MODULE="o2d.settings",
        DATABASE_URL=database_url(args),
        DEBUG="False",
        SECRET_KEY=secrets.token_urlsafe(48),
        ALLOWED_HOSTS="testserver",
        SECURE_SSL_REDIRECT="False",
        SESSION_COOKIE_SECURE="False",
        CSRF_COOKIE_SECURE="False",
        SECURE_HSTS_SECONDS="0",
        STATIC_MANIFEST="False",
        CELERY_BROKER_URL=f"redis://127.0.0.1:6379/{args.redis_db}",
        CACHE_URL=f"redis://127.0.0.1:6379/{args.redis_db}",
        EMAIL_URL="dummymail://",
        O2D_ONLINE_ORDER_RATE="1000000/s",
        LOG_LEVEL="WARNING",
        PYTHONWARNINGS="ignore::UserWarning",
    )


def recreate_database(args):
    conn = admin_connection(args)
    with conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{args.db_name}" WITH (FORCE)')
        cur.execute(f'CREATE DATABASE "{args.db_name}"')
    conn.close()


def drop_database(args):
    from django.db import connections

    connections.close_all()
    conn = admin_connection(args)
    with conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{args.db_name}" WITH (FORCE)')
    conn.close()


# In the customers' emails: every run creates its own customers, also in a kept database.
RUN = secrets.token_hex(4)
# As a browser posts the form (the test client's default is multipart).
URLENCODED = "application/x-www-form-urlencoded"
TOKEN = re.compile(r'name="token" value="([0-9a-f]{32})"')
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class Counter:
    """Counts template renders while active: ``{% include %}`` nodes and every
    ``Template.render`` (pages, includes and form widget templates)."""

    def __init__(self):
        from django.template import Template, loader_tags

        self.includes = 0
        self.templates = 0
        self._include = loader_tags.IncludeNode.render
        self._template = Template.render
        counter = self

        def include(node, context):
            counter.includes += 1
            return counter._include(node, context)

        def template(tpl, context):
            counter.templates += 1
            return counter._template(tpl, context)

        loader_tags.IncludeNode.render = include
        Template.render = template

    def stop(self):
        from django.template import Template, loader_tags

        loader_tags.IncludeNode.render = self._include
        Template.render = self._template


def recorder(statements):
    """An execute wrapper that keeps every SQL statement (the test client's requests
    reset ``connection.queries``, so CaptureQueriesContext sees none of them)."""

    def wrapper(execute, sql, params, many, context):
        statements.append(sql)
        return execute(sql, params, many, context)

    return wrapper


def order_data(page, products, i):
    data = {
        "csrfmiddlewaretoken": CSRF.search(page).group(1),
        "token": TOKEN.search(page).group(1),
        "website": "",
        "name": f"Profile Customer {i}",
        "country": "CN",
        "phone": f"138{i:08d}",
        "email": f"profile-{RUN}-{i}@example.com",
        "province": "Zhejiang",
        "city": "Hangzhou",
        "district": "Xihu",
        "street": f"{i} Wensan Road",
        "postal_code": "310000",
        "requested_date": "",
        "requested_window": "any",
        "special_instructions": "Ring twice" if i % 3 == 0 else "",
    }
    for n, product in enumerate(products):
        data[f"qty_{product.pk}"] = str(1 + i % 3) if n == 0 or (i + n) % 2 == 0 else ""
    return data


class AppMeter:
    """CPU seconds spent inside Django's handler (``BaseHandler.get_response``: the
    middleware and the view), without the test client's work around it."""

    def __init__(self):
        from django.core.handlers.base import BaseHandler

        self.last = 0.0
        original = BaseHandler.get_response
        meter = self

        def get_response(handler, request):
            start = time.process_time()
            try:
                return original(handler, request)
            finally:
                meter.last = time.process_time() - start

        BaseHandler.get_response = get_response


def place(client, products, i, headers, times=None, profiler=None, profile=None, app=None):
    if profiler and profile in ("get", "both"):
        profiler.enable()
    start = time.process_time()
    response = client.get("/order/", headers=headers)
    got = time.process_time()
    if profiler and profile in ("get", "both"):
        profiler.disable()
    app_get = app.last if app else 0.0
    if response.status_code != 200:
        raise SystemExit(f"GET /order/ answered {response.status_code}")
    data = order_data(response.content.decode(), products, i)
    if profiler and profile in ("post", "both"):
        profiler.enable()
    before_post = time.process_time()
    response = client.post("/order/", urlencode(data), URLENCODED, headers=headers)
    end = time.process_time()
    if profiler and profile in ("post", "both"):
        profiler.disable()
    if response.status_code != 302 or "/order/received/" not in response["Location"]:
        raise SystemExit(f"POST /order/ answered {response.status_code}: {response.content[:2000]}")
    if times is not None:
        times[0].append(got - start)
        times[1].append(end - before_post)
        if app:
            times[2].append(app_get)
            times[3].append(app.last)


def main():
    args = parse_args()
    setup_environment(args)
    if args.existing:
        args.keep_db = True
    else:
        recreate_database(args)
    import django

    django.setup()
    from decimal import Decimal

    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from orders.models import Order, Product

    failed = False
    try:
        if args.existing:
            products = list(Product.objects.filter(active=True, currency="CNY").order_by("pk")[:3])
        else:
            call_command("migrate", verbosity=0)
            products = [
                Product.objects.create(sku=sku, name=name, unit_price=Decimal(price), active=True)
                for sku, name, price in [
                    ("BENCH-TEA", "Oolong tea 250 g", "88.00"),
                    ("BENCH-CUP", "Porcelain cup", "35.50"),
                    ("BENCH-POT", "Clay teapot", "268.00"),
                ]
            ]
        orders_before = Order.objects.count()
        headers = {"accept-language": args.language} if args.language else {}
        client = Client(enforce_csrf_checks=True)
        for i in range(args.warmup):
            place(client, products, 10_000_000 + i, headers)

        # One order, counted: SQL statements and templates.
        counter = Counter()
        get_queries, post_queries = [], []
        with connection.execute_wrapper(recorder(get_queries)):
            response = client.get("/order/", headers=headers)
        get_counts = (counter.includes, counter.templates, len(response.content))
        counter.includes = counter.templates = 0
        data = order_data(response.content.decode(), products, 20_000_000)
        with connection.execute_wrapper(recorder(post_queries)):
            client.post("/order/", urlencode(data), URLENCODED, headers=headers)
        post_counts = (counter.includes, counter.templates)
        counter.stop()

        times = ([], [], [], [])
        app = AppMeter()
        profiler = cProfile.Profile(time.process_time) if args.profile else None
        if args.pyinstrument:
            from pyinstrument import Profiler

            profiler = Profiler(interval=0.0002)
            profiler.enable = profiler.start
            profiler.disable = profiler.stop
            args.profile = args.pyinstrument
        wall = time.perf_counter()
        for i in range(args.orders):
            place(client, products, i, headers, times, profiler, args.profile, app)
        wall = time.perf_counter() - wall

        n = args.orders
        get_ms = 1000 * sum(times[0]) / n
        post_ms = 1000 * sum(times[1]) / n
        print(f"orders: {n} (after {args.warmup} warm-up), wall {wall:.1f} s")
        get_median = 1000 * statistics.median(times[0])
        post_median = 1000 * statistics.median(times[1])
        print(f"CPU per GET  /order/: {get_ms:.2f} ms (median {get_median:.2f} ms)")
        print(f"CPU per POST /order/: {post_ms:.2f} ms (median {post_median:.2f} ms)")
        print(
            f"CPU per order (GET + POST): {get_ms + post_ms:.2f} ms "
            f"(medians {get_median + post_median:.2f} ms)"
        )
        app_get, app_post = (1000 * statistics.median(t) for t in times[2:])
        print(
            f"  of which in Django's handler (middleware + view), medians: GET {app_get:.2f} ms"
            f", POST {app_post:.2f} ms, order {app_get + app_post:.2f} ms"
        )
        print(
            f"GET : {len(get_queries)} SQL statements, {get_counts[0]} {{% include %}}s, "
            f"{get_counts[1]} template renders, {get_counts[2]} bytes of HTML"
        )
        print(
            f"POST: {len(post_queries)} SQL statements, {post_counts[0]} {{% include %}}s, "
            f"{post_counts[1]} template renders"
        )
        for sql in post_queries:
            print("   ", sql[:150])
        written = Order.objects.count() - orders_before
        expected = args.warmup + 1 + n
        status = "OK" if written == expected else "FAILED"
        failed = written != expected
        print(f"check: {written} orders in the database, expected {expected}: {status}")
        if args.pyinstrument:
            print("(the CPU figures above include the profiler's overhead)")
            print(profiler.output_text(unicode=False, color=False, show_all=False))
        elif profiler:
            print("(the CPU figures above include the profiler's overhead)")
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
            pstats.Stats(profiler).sort_stats("tottime").print_stats(15)
    finally:
        if not args.keep_db:
            drop_database(args)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
