"""Data: the step runs of the orders already in the database, from their timelines
(two transitions in a row make one run, judged against today's targets), and the
daily task that produces last week's and last month's review packs."""

from django.db import migrations

STEP_FOR_STATUS = {
    "placed": "confirmation",
    "confirmed": "processing",
    "backordered": "processing",
    "picked": "shipping",
    "shipped": "tracking",
    "delivered": "closing",
}
BATCH = 2000


def backfill(apps, schema_editor):
    Order = apps.get_model("orders", "Order")
    OrderEvent = apps.get_model("orders", "OrderEvent")
    ProcessStep = apps.get_model("orders", "ProcessStep")
    StepChannelTarget = apps.get_model("orders", "StepChannelTarget")
    StepRun = apps.get_model("orders", "StepRun")
    steps = {step.code: step for step in ProcessStep.objects.all()}
    overrides = {(o.step_id, o.channel): o.target for o in StepChannelTarget.objects.all()}
    channels = dict(Order.objects.values_list("pk", "channel"))
    events = (
        OrderEvent.objects.filter(kind="transition")
        .order_by("order_id", "created_at", "pk")
        .values_list("order_id", "created_at", "from_status", "to_status", "actor_id")
        .iterator(chunk_size=BATCH)
    )
    runs, previous = [], None
    for order_id, at, _from, to, actor_id in events:
        if previous is not None and previous[0] == order_id and previous[2] in STEP_FOR_STATUS:
            step = steps.get(STEP_FOR_STATUS[previous[2]])
            if step is not None and at >= previous[1]:
                channel = channels.get(order_id, "")
                target = overrides.get((step.pk, channel), step.target)
                seconds = int((at - previous[1]).total_seconds())
                limit = int(target.total_seconds()) if target is not None else None
                runs.append(
                    StepRun(
                        order_id=order_id,
                        step=step.code,
                        status=previous[2],
                        to_status=to,
                        channel=channel,
                        role=step.role,
                        by_id=actor_id,
                        started_at=previous[1],
                        ended_at=at,
                        seconds=seconds,
                        target_seconds=limit,
                        breached=limit is not None and seconds >= limit,
                    )
                )
        previous = (order_id, at, to)
        if len(runs) >= BATCH:
            StepRun.objects.bulk_create(runs, ignore_conflicts=True)
            runs = []
    StepRun.objects.bulk_create(runs, ignore_conflicts=True)


def schedule_packs(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    morning, _ = CrontabSchedule.objects.get_or_create(
        minute="30",
        hour="7",
        day_of_week="*",
        day_of_month="*",
        month_of_year="*",
        timezone="Asia/Shanghai",
    )
    PeriodicTask.objects.get_or_create(
        name="Process review: last week's and last month's packs",
        defaults={
            "task": "orders.tasks.send_review_packs",
            "crontab": morning,
            "description": (
                "Every morning: produces the review pack of the week or month that has "
                "just ended, once, and emails it to the managers."
            ),
        },
    )


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0027_process_review"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        migrations.RunPython(backfill, migrations.RunPython.noop),
        migrations.RunPython(schedule_packs, migrations.RunPython.noop),
    ]
