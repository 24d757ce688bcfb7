"""Data: the hourly receipt task (reminders and automatic confirmation), on beat's
database schedule, beside the orders' deadline sweep."""

from django.db import migrations


def schedule_receipts(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every_hour, _ = IntervalSchedule.objects.get_or_create(every=3600, period="seconds")
    PeriodicTask.objects.get_or_create(
        name="Receipts: reminders and automatic confirmation",
        defaults={
            "task": "feedback.tasks.auto_confirm_receipts",
            "interval": every_hour,
            "description": (
                "Reminds customers to confirm receipt, and counts receipt as confirmed for "
                "delivered orders without an answer after the receipt step's target time."
            ),
        },
    )


class Migration(migrations.Migration):
    dependencies = [
        ("feedback", "0001_receipts_and_problem_cases"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(schedule_receipts, migrations.RunPython.noop)]
