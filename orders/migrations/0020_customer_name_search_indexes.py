# The customer lookup on the phone-order form finds customers by part of their name
# (orders.selectors.matching_customers): a trigram index for three characters or more,
# a prefix index for shorter terms. PostgreSQL only, like the order search's in 0019.

from django.db import migrations

INDEXES = {
    "customer_name_trgm": "USING gin (UPPER(name::text) gin_trgm_ops)",
    "customer_name_prefix": "(UPPER(name::text) text_pattern_ops)",
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name, definition in INDEXES.items():
            schema_editor.execute(
                f"CREATE INDEX IF NOT EXISTS {name} ON orders_customer {definition}"
            )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name in INDEXES:
            schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("orders", "0019_search_and_open_set_indexes")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
