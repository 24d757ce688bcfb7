# Indexes for the warehouse's part of the process review pack (warehouse/review.py): the
# fulfilments acknowledged in a period, the picks of a new picking round and the failed
# reviews of a period, read without a scan of the whole table (see benchmarks/README.md,
# "review_pack.py"). PostgreSQL only, created here and not in the models: the demo's
# SQLite reads a few rows and needs none of them.

from django.db import migrations

INDEXES = {
    "fulfilment_acknowledged": "warehouse_fulfilment (acknowledged_at)",
    "pick_repicked": "warehouse_pick (created_at) WHERE round > 1",
    "review_failed": "warehouse_review (created_at) WHERE NOT passed",
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
        ("warehouse", "0006_return_movements"),
    ]

    operations = [
        migrations.RunPython(create_indexes, drop_indexes, elidable=False),
    ]
