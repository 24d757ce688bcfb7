# The indexes that keep the staff's pages, dashboards and the sweeps fast at a million
# orders (see docs/scaling.md). The search indexes below are PostgreSQL's own (pg_trgm
# GIN, pattern btree) and are created here only: the demo's SQLite needs none of them.

from django.conf import settings
from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations, models

# What the staff search box compares (orders.selectors.order_search): Django's
# icontains/istartswith read UPPER("column"::text), so the indexes hold that expression.
TRIGRAM_COLUMNS = [
    "number",
    "contact_name",
    "contact_phone",
    "delivery_recipient",
    "delivery_phone",
]
PREFIX_COLUMNS = ["contact_name", "delivery_recipient"]


def _search_indexes():
    create, drop = [], []
    for column in TRIGRAM_COLUMNS:
        name = f"order_{column}_trgm"
        create.append(
            f"CREATE INDEX IF NOT EXISTS {name} ON orders_order "
            f"USING gin (UPPER({column}::text) gin_trgm_ops)"
        )
        drop.append(f"DROP INDEX IF EXISTS {name}")
    for column in PREFIX_COLUMNS:
        name = f"order_{column}_prefix"
        create.append(
            f"CREATE INDEX IF NOT EXISTS {name} ON orders_order "
            f"(UPPER({column}::text) text_pattern_ops)"
        )
        drop.append(f"DROP INDEX IF EXISTS {name}")
    return create, drop


def create_search_indexes(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in _search_indexes()[0]:
            schema_editor.execute(sql)


def drop_search_indexes(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in _search_indexes()[1]:
            schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0018_line_shipped_quantity"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        TrigramExtension(),
        migrations.RunPython(create_search_indexes, drop_search_indexes, elidable=False),
        migrations.AddIndex(
            model_name="deliverychangerequest",
            index=models.Index(
                condition=models.Q(("status", "pending")),
                fields=["created_at"],
                name="change_request_pending",
            ),
        ),
        migrations.AddIndex(
            model_name="followup",
            index=models.Index(
                condition=models.Q(("done_at__isnull", True)),
                fields=["due_at"],
                name="follow_up_open",
            ),
        ),
        migrations.AddIndex(
            model_name="notification",
            index=models.Index(
                condition=models.Q(("sent_at__isnull", True)),
                fields=["created_at"],
                name="notification_unsent",
            ),
        ),
        migrations.AddIndex(
            model_name="order",
            index=models.Index(fields=["status", "placed_at"], name="order_status_placed"),
        ),
        migrations.AddIndex(
            model_name="order",
            index=models.Index(fields=["contact_phone"], name="order_contact_phone"),
        ),
        migrations.AddIndex(
            model_name="order",
            index=models.Index(fields=["delivery_phone"], name="order_delivery_phone"),
        ),
        migrations.AddIndex(
            model_name="order",
            index=models.Index(
                condition=models.Q(
                    (
                        "status__in",
                        ["placed", "confirmed", "backordered", "picked", "shipped", "delivered"],
                    ),
                    ("step_overdue_at__isnull", True),
                ),
                fields=["status", "step_started_at"],
                name="order_open_not_overdue",
            ),
        ),
    ]
