"""Data: the main warehouse, and the warehouse role's permissions on stock."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

WAREHOUSE_PERMISSIONS = [
    "view_warehouse", "view_bin", "add_bin", "change_bin",
    "view_stockitem", "change_stockitem", "view_stockmovement", "view_reservation",
]


def main_warehouse(apps, schema_editor):
    Warehouse = apps.get_model("warehouse", "Warehouse")
    Warehouse.objects.get_or_create(code="MAIN", defaults={"name": "Main warehouse"})


def permissions(apps, schema_editor):
    app_config = apps.get_app_config("warehouse")
    if getattr(app_config, "models_module", None) is None:
        app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    perms = Permission.objects.filter(
        content_type__app_label="warehouse", codename__in=WAREHOUSE_PERMISSIONS
    )
    for name in ("Warehouse", "Manager"):
        group = Group.objects.filter(name=name).first()
        if group is not None:
            group.permissions.add(*perms)


class Migration(migrations.Migration):
    dependencies = [
        ("warehouse", "0001_initial"),
        ("orders", "0002_roles_and_process"),
    ]

    operations = [
        migrations.RunPython(main_warehouse, migrations.RunPython.noop),
        migrations.RunPython(permissions, migrations.RunPython.noop),
    ]
