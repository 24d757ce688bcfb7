"""Existing orders keep emailing whom they emailed before: their contact details are
copied from the customer they are filed under."""

from django.db import migrations
from django.db.models import OuterRef, Subquery


def copy_contact_from_customer(apps, schema_editor):
    Customer = apps.get_model("orders", "Customer")
    Order = apps.get_model("orders", "Order")
    customer = Customer.objects.filter(pk=OuterRef("customer_id"))
    # One UPDATE for all orders (a subquery per column), however many there are.
    Order.objects.filter(contact_name="", contact_phone="", contact_email="").update(
        contact_name=Subquery(customer.values("name")[:1]),
        contact_phone=Subquery(customer.values("phone")[:1]),
        contact_email=Subquery(customer.values("email")[:1]),
        contact_language=Subquery(customer.values("language")[:1]),
    )


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0015_order_contact_details"),
    ]

    operations = [
        migrations.RunPython(copy_contact_from_customer, migrations.RunPython.noop),
    ]
