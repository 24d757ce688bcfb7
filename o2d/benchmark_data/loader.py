"""Fill a PostgreSQL database with a realistic order history, set-based.

``load`` refuses unless DEBUG is on, the database is PostgreSQL and its name contains
"bench"; then, in one transaction, it creates what the orders need (demo staff,
carriers, products, stock rows), drops the loaded tables' keys, indexes and foreign
keys, lets each department's builder insert its rows with INSERT ... SELECT, puts the
keys, indexes and foreign keys back (checked against every row), and moves every
sequence past the loaded ids. ANALYZE follows the commit.
"""

# The SQL is built from integers, SQL literals (quoted by sql.literal) and table
# names from the models; values from outside go in as parameters.
# ruff: noqa: S608

import time

from django.apps import apps
from django.conf import settings
from django.core.management.base import CommandError
from django.core.management.color import no_style
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from . import ddl, feedback, finance, logistics, orders, plan, sales, warehouse
from .context import Context, Service
from .review import insert_review
from .sql import Runner, create_functions

# The order-related tables: emptied by --reset, filled by the builders. Configuration
# (process steps, carriers, products, warehouses, bins, stock rows, users, groups) is kept.
LOADED_MODELS = [
    ("orders", "Customer"),
    ("orders", "Address"),
    ("orders", "Order"),
    ("orders", "OrderLine"),
    ("orders", "OrderEvent"),
    ("orders", "Notification"),
    ("orders", "FollowUp"),
    ("orders", "DeliveryPromise"),
    ("orders", "OrderDocument"),
    ("orders", "DeliveryChangeRequest"),
    ("orders", "OrderSequence"),
    ("warehouse", "StockMovement"),
    ("warehouse", "Reservation"),
    ("warehouse", "Fulfilment"),
    ("warehouse", "Pick"),
    ("warehouse", "Discrepancy"),
    ("warehouse", "Package"),
    ("warehouse", "Review"),
    ("logistics", "Shipment"),
    ("logistics", "ShipmentLine"),
    ("logistics", "TrackingEvent"),
    ("logistics", "DeliveryException"),
    ("feedback", "Receipt"),
    ("feedback", "ProblemCase"),
    ("feedback", "ProblemPhoto"),
    ("finance", "LedgerEntry"),
    ("finance", "Account"),
    ("finance", "Invoice"),
    ("finance", "ClosingRequest"),
    ("finance", "ClosingDocument"),
    ("finance", "ChecklistOverride"),
    ("orders", "StepRun"),
    ("feedback", "Survey"),
    ("feedback", "SurveyAnswer"),
]
STAFF = ["sales", "warehouse", "checker", "logistics", "finance", "manager"]


class BenchmarkDataRefused(CommandError):
    """The database is not one that benchmark data may be written to."""


def loaded_tables() -> list[str]:
    tables = []
    for app_label, name in LOADED_MODELS:
        model = apps.get_model(app_label, name)
        tables.append(model._meta.db_table)
        if name == "Shipment":
            tables.append(model.packages.through._meta.db_table)
    return tables


def check_allowed(*, require_bench_name: bool = True) -> None:
    """Refuse production-like settings, other databases, and names without "bench"."""
    if not settings.DEBUG:
        raise BenchmarkDataRefused(
            "load_benchmark_data refuses to run with DEBUG=False: it writes a million "
            "made-up orders. Use a development settings file and a database named *bench*."
        )
    if connection.vendor != "postgresql":
        raise BenchmarkDataRefused(
            f"load_benchmark_data needs PostgreSQL; this database is {connection.vendor}."
        )
    name = str(connection.settings_dict.get("NAME") or "")
    if require_bench_name and "bench" not in name:
        raise BenchmarkDataRefused(
            f'load_benchmark_data only writes to a database whose name contains "bench" '
            f"(e.g. o2d_bench_1m); this one is {name!r}."
        )


def load(
    *,
    orders_count: int = 1_000_000,
    days: int = 730,
    seed: int = 2026,
    reset: bool = False,
    log=print,
    require_bench_name: bool = True,
) -> dict[str, int]:
    """Load ``orders_count`` orders over ``days`` days ending now. Returns the rows
    inserted per table. Raises BenchmarkDataRefused (nothing written) when the guards
    refuse, or when orders exist and ``reset`` is not set."""
    check_allowed(require_bench_name=require_bench_name)
    if orders_count < 1 or days < 1:
        raise CommandError("--orders and --days must be at least 1.")
    order_model = apps.get_model("orders", "Order")
    started = time.monotonic()
    with transaction.atomic(), connection.cursor() as cursor:
        run = Runner(cursor, log)
        if order_model.objects.exists():
            if not reset:
                raise BenchmarkDataRefused(
                    "This database has orders already. Run again with --reset to empty the "
                    "order-related tables first (configuration rows are kept)."
                )
            _reset(run)
        _tune_session(cursor)
        ctx = _context(cursor, orders_count, days, seed)
        create_functions(cursor, seed)
        log(f"Loading {orders_count:,} orders over {days} days (seed {seed})...")
        tables = loaded_tables()
        # The day counters are few, and their upsert needs their key.
        saved = ddl.snapshot(cursor, [t for t in tables if t != "orders_ordersequence"])
        # The ORM's inserts above (staff, carriers) left deferred checks pending;
        # run them now, as ALTER TABLE refuses tables with pending trigger events.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        ddl.drop(cursor, saved)
        _build(run, ctx)
        log("Creating keys, indexes and foreign keys again...")
        restore_started = time.monotonic()
        ddl.restore(run, saved)
        log(f"  keys, indexes, foreign keys: {time.monotonic() - restore_started:.1f} s")
        _reset_sequences(cursor)
        _drop_working_tables(cursor)
    log(f"Committed after {time.monotonic() - started:.1f} s; vacuuming and analyzing...")
    with connection.cursor() as cursor:
        analyze_started = time.monotonic()
        # VACUUM too, as autovacuum would have done over two years of history: it sets
        # the visibility map, without which no count is answered from an index alone.
        # Inside a caller's transaction (the tests) neither runs: VACUUM cannot, and
        # ANALYZE's row estimates outlive a rollback and would mislead later plans.
        if not connection.in_atomic_block:
            for table in [*tables, "orders_product", "warehouse_stockitem", "warehouse_bin"]:
                cursor.execute(f"VACUUM (ANALYZE) {table}")
        log(f"  VACUUM (ANALYZE): {time.monotonic() - analyze_started:.1f} s")
    return run.inserted


def _build(run, ctx: Context) -> None:
    """Every department's rows, in the order their references need."""
    plan.build_plan(run, ctx)
    orders.overdue_steps(run, ctx)
    orders.insert_customers(run, ctx)
    orders.ensure_products(run, ctx)
    warehouse.ensure_stock(run, ctx)
    orders.insert_orders(run, ctx)
    orders.insert_events(run, ctx)
    orders.insert_notifications(run, ctx)
    sales.insert_promises_and_follow_ups(run, ctx)
    sales.insert_change_requests(run, ctx)
    logistics.plan_shipments(run, ctx)
    warehouse.insert_fulfilment(run, ctx)
    warehouse.set_stock_levels(run, ctx)
    logistics.insert_shipments(run, ctx)
    feedback.plan_feedback(run, ctx)
    feedback.insert_feedback(run, ctx)
    finance.plan_finance(run, ctx)
    finance.insert_finance(run, ctx)
    insert_review(run, ctx)


def _reset(run) -> None:
    """Empty the order-related tables (and whatever references them); stock rows keep
    their goods but nothing is reserved any more."""
    tables = ", ".join(loaded_tables())
    run("TRUNCATE order-related tables", f"TRUNCATE {tables} CASCADE")
    run("stock: nothing reserved", "UPDATE warehouse_stockitem SET reserved = 0")


def _tune_session(cursor) -> None:
    """Settings for this transaction only: nothing unsafe, no server setting changed."""
    try:
        with transaction.atomic():
            # Only possible before the session's first temporary table.
            cursor.execute("SET LOCAL temp_buffers = '1GB'")
    except DatabaseError:
        pass
    for setting in (
        "SET LOCAL synchronous_commit = off",
        "SET LOCAL work_mem = '512MB'",
        "SET LOCAL maintenance_work_mem = '2GB'",
        "SET LOCAL max_parallel_maintenance_workers = 2",
        "SET LOCAL jit = off",
    ):
        cursor.execute(setting)


def _context(cursor, orders_count: int, days: int, seed: int) -> Context:
    """Demo staff and carriers (created as seed_demo creates them, if missing), the main
    warehouse, the carrier services orders may ship with, step targets, id bases."""
    from o2d.demo import logins
    from o2d.demo import logistics as demo_logistics

    users = logins.users()
    carrier_model = apps.get_model("logistics", "Carrier")
    if not carrier_model.objects.filter(active=True).exists():
        demo_logistics.carriers()
    from warehouse.services import main_warehouse

    steps = {step.code: step for step in apps.get_model("orders", "ProcessStep").objects.all()}
    ctx = Context(
        orders=orders_count,
        days=days,
        seed=seed,
        now=timezone.now().replace(microsecond=0),
        time_zone=settings.TIME_ZONE,
        staff={name: users[name].pk for name in STAFF},
        services=_services(),
        warehouse_id=main_warehouse().pk,
        targets={code: step.target for code, step in steps.items()},
        follow_up_within={code: step.follow_up_within for code, step in steps.items()},
    )
    for table in [*loaded_tables(), "orders_product"]:
        if table == "orders_ordersequence" or table == "warehouse_fulfilment":
            continue
        cursor.execute(f"SELECT coalesce(max(id), 0) FROM {table}")
        ctx.bases[table] = cursor.fetchone()[0]
    return ctx


def _services() -> list[Service]:
    """Active services with an "everywhere" rule (any active ones if none has one)."""
    service_model = apps.get_model("logistics", "CarrierService")
    active = service_model.objects.filter(active=True, carrier__active=True).select_related(
        "carrier"
    )
    everywhere = active.filter(rules__active=True, rules__province="").distinct()
    chosen = list(everywhere.order_by("pk")) or list(active.order_by("pk"))
    if not chosen:
        raise CommandError("No active carrier service: add one in the admin first.")
    return [
        Service(
            id=s.pk,
            carrier_id=s.carrier_id,
            carrier_name=s.carrier.name,
            transit_days=s.transit_days,
            honours_time_window=s.honours_time_window,
            tracking_url=s.carrier.tracking_url,
            tracking_prefix=s.carrier.tracking_prefix,
            tracking_digits=s.carrier.tracking_digits,
            tracking_suffix=s.carrier.tracking_suffix,
            check_digit=s.carrier.check_digit,
        )
        for s in chosen
    ]


def _reset_sequences(cursor) -> None:
    """Every table's id sequence continues after its highest id, so the app's own
    inserts never collide with loaded rows."""
    for sql in connection.ops.sequence_reset_sql(no_style(), apps.get_models()):
        cursor.execute(sql)


def _drop_working_tables(cursor) -> None:
    cursor.execute(
        "SELECT c.relname FROM pg_class c WHERE c.relnamespace = pg_my_temp_schema() "
        "AND c.relkind = 'r' AND c.relname LIKE 'bench\\_%'"
    )
    for (name,) in cursor.fetchall():
        cursor.execute(f"DROP TABLE pg_temp.{name}")
    cursor.execute("DROP FUNCTION IF EXISTS pg_temp.bench_rnd(bigint, integer)")
