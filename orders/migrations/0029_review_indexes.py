# Indexes for the process review pack (orders/review/pack.py): the step runs over
# target in the order of how much (the pack's 50 worst runs of a period are the first
# entries of the period, not a sort of all its runs over target), and for the rework the
# delivery promises made in a period and whether an order had an earlier promise. Each
# saves a scan of the whole table (see benchmarks/README.md, "review_pack.py").
# PostgreSQL only, created here and not in the models: the demo's SQLite reads a few
# rows and needs none of them.

from django.db import migrations

INDEXES = {
    # The expression and the order of ``pack._worst``'s ORDER BY.
    "step_run_worst": "orders_steprun ((seconds - target_seconds) DESC, ended_at, id) "
    "WHERE breached AND target_seconds IS NOT NULL",
    "delivery_promise_created": "orders_deliverypromise (created_at)",
    "delivery_promise_order_created": "orders_deliverypromise (order_id, created_at)",
}


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name, target in INDEXES.items():
            schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {target}")


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name in INDEXES:
            schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0028_backfill_step_runs_and_schedule_packs"),
    ]

    operations = [
        migrations.RunPython(create_indexes, drop_indexes, elidable=False),
    ]
