"""Freight terms (one row: charge the carrier's price, unless included or free from an
amount) and the escalation of closing requests left waiting, with its beat schedule."""

import django.core.validators
from decimal import Decimal
from django.db import migrations, models


def terms_and_schedule(apps, schema_editor):
    apps.get_model("finance", "FreightTerms").objects.get_or_create(pk=1)
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every_ten_minutes, _ = IntervalSchedule.objects.get_or_create(every=600, period="seconds")
    PeriodicTask.objects.get_or_create(
        name="Closing requests: escalate the late ones",
        defaults={
            "task": "finance.tasks.escalate_closing_requests",
            "interval": every_ten_minutes,
            "description": (
                "Tells the managers, once per hand-off, of a closing request that has "
                "waited with Sales or Finance past the closing step's target time."
            ),
        },
    )


class Migration(migrations.Migration):
    dependencies = [
        ("finance", "0002_payment_methods_and_invoice_types"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        migrations.AddField(
            model_name="closingrequest",
            name="escalated_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="escalated"),
        ),
        migrations.CreateModel(
            name="FreightTerms",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "charge_customer",
                    models.BooleanField(
                        default=True,
                        help_text="Untick when prices include delivery: shipments then add no charge.",
                        verbose_name="charge freight to the customer",
                    ),
                ),
                (
                    "free_from",
                    models.DecimalField(
                        blank=True,
                        decimal_places=2,
                        help_text="Orders whose goods reach this amount ship free. Empty: none ships free.",
                        max_digits=14,
                        null=True,
                        validators=[django.core.validators.MinValueValidator(Decimal("0.01"))],
                        verbose_name="free freight from (CNY)",
                    ),
                ),
            ],
            options={
                "verbose_name": "freight terms",
                "verbose_name_plural": "freight terms",
                "constraints": [
                    models.CheckConstraint(condition=models.Q(("id", 1)), name="one_freight_terms"),
                    models.CheckConstraint(
                        condition=models.Q(
                            ("free_from__isnull", True), ("free_from__gt", 0), _connector="OR"
                        ),
                        name="freight_free_from_positive",
                    ),
                ],
            },
        ),
        migrations.RunPython(terms_and_schedule, migrations.RunPython.noop),
    ]
