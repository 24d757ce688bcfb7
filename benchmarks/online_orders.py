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

The harness (database, gunicorn, meters, Redis) is in harness.py, the HTTP phase in
online_orders_http.py and the direct psycopg2 phase in online_orders_direct.py.
"""

import argparse
import contextlib
import re
import secrets
import shutil
import signal
import sys
import tempfile
from pathlib import Path
from zoneinfo import ZoneInfo

from harness import (
    CpuMeter,
    LockSampler,
    app_environment,
    create_database,
    database_url,
    drop_database,
    existing_database,
    free_port,
    log,
    ms,
    percentile,
    quiet,
    redis_cli,
    redis_llen,
    start_gunicorn,
    stop_gunicorn,
)
from online_orders_direct import run_direct
from online_orders_http import http_phase, sequence_total, verify_http

try:
    import psycopg2
except ImportError:  # pragma: no cover - depends on how the script is started
    sys.exit("psycopg2 is missing: run this with the project's venv, .venv/bin/python")


# ---------------------------------------------------------------------------
# Main


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
        "--db-name",
        "--database",
        dest="db_name",
        default="o2d_bench",
        help="the database (o2d_bench): a scratch one, dropped first and last, unless "
        "--existing is given",
    )
    parser.add_argument(
        "--existing",
        action="store_true",
        help="run against the database as it is (migrated and loaded, e.g. a million "
        "orders): do not create, migrate or drop it, order its active products, and "
        "check only the orders this run placed. Nothing else may place orders meanwhile "
        "(the check counts the order numbers handed out)",
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
        "--keep-db",
        action="store_true",
        help="do not drop the database at the end (with --existing it is never dropped)",
    )
    args = parser.parse_args(argv)
    if args.orders < 1 or args.clients < 1 or args.workers < 1:
        parser.error("--orders, --clients and --workers must be at least 1")
    # The database is dropped: insist on a name that says it is a scratch benchmark one.
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", args.db_name) or "bench" not in args.db_name:
        parser.error("--db-name must be a plain lower-case name containing 'bench'")
    if args.existing:
        args.keep_db = True
    # Marks this run's customers and orders, so the checks count them and only them.
    args.run = secrets.token_hex(4)
    return args


def main(argv=None):
    args = parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="o2d-bench-"))
    app_env = app_environment(args, workdir / "var")
    gunicorn = None
    rates = {}
    try:
        setup = existing_database if args.existing else create_database
        info = setup(args, app_env)
        info["zone"] = ZoneInfo(info["time_zone"])
        product_ids = [p["id"] for p in info["products"]]
        port = args.port or free_port()
        gunicorn = start_gunicorn(args, app_env, port, workdir / "gunicorn.log")
        queued_before = redis_llen(args)
        handed_out_before = sequence_total(args)

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
        http_ok = verify_http(args, tally, warm, queued_before, handed_out_before)
        server_log = (workdir / "gunicorn.log").read_text(errors="replace").splitlines()
        if server_log:
            log(f"  gunicorn log: {len(server_log)} lines; the last ones:")
            for line in server_log[-5:]:
                log(f"    {line[:200]}")

        # The direct writes run with gunicorn stopped, so the two phases do not share
        # the CPU with an idle server; the database keeps the HTTP phase's rows.
        stop_gunicorn(gunicorn)
        orders = tally.placed or args.orders
        # The app takes the order number last (orders/services/placement.py), so the
        # direct writes do too; --number-first also measures the old order of writes.
        rates["direct"], direct_ok = run_direct(
            args, info, orders, "one transaction each", "direct", number_last=True
        )
        if args.number_last:
            rates["number_last"], last_ok = run_direct(
                args,
                info,
                orders,
                "order number taken first (the app before the fix)",
                "number-first",
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
        verdict = {True: "OK", False: "FAILED"}
        log(f"checks: HTTP {verdict[http_ok]}, direct {verdict[direct_ok]}")
        return 0 if http_ok and direct_ok else 1
    finally:
        stop_gunicorn(gunicorn)
        if args.keep_db:
            log(f"\nKept database {args.db_name} ({database_url(args)}); this run's rows")
            log(f"  have 'bench-{args.run}-' in their customers' emails.")
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
