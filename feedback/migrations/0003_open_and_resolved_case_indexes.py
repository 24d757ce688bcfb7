# Partial indexes for the open cases (Sales' page) and the resolved cases per order
# (the orders awaiting receipt and the hourly automatic confirmation).

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("feedback", "0002_schedule_receipts"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="problemcase",
            index=models.Index(
                condition=models.Q(("status", "open")),
                fields=["opened_at", "id"],
                name="problemcase_open",
            ),
        ),
        migrations.AddIndex(
            model_name="problemcase",
            index=models.Index(
                condition=models.Q(("status", "resolved")),
                fields=["order", "resolved_at"],
                name="problemcase_resolved_by_order",
            ),
        ),
        migrations.AddIndex(
            model_name="problemcase",
            index=models.Index(
                condition=models.Q(("status", "resolved")),
                fields=["-resolved_at", "-id"],
                name="problemcase_recently_resolved",
            ),
        ),
    ]
