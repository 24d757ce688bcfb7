"""Data: the first survey question set (in the three languages), the survey settings
with their defaults, and the survey task on beat's database schedule."""

from django.db import migrations

INTRO = (
    "Thank you for your order. Two minutes of your time help us do better.",
    "感谢您的订购。花两分钟回答，帮助我们做得更好。",
    "感謝您的訂購。花兩分鐘回答，幫助我們做得更好。",
)

# code, step, kind, asked, (English, Simplified, Traditional)
QUESTIONS = [
    (
        "confirmed_as_agreed",
        "confirmation",
        "yes_no",
        "always",
        (
            "Was your order confirmed as agreed?",
            "您的订单是否按约定确认？",
            "您的訂單是否按約定確認？",
        ),
    ),
    (
        "packaging",
        "shipping",
        "scale",
        "always",
        ("How was the packaging?", "包装如何？", "包裝如何？"),
    ),
    (
        "arrived_on_time",
        "tracking",
        "yes_no",
        "always",
        (
            "Did it arrive on the promised day and in the promised window?",
            "货物是否在承诺的日期和时段送达？",
            "貨物是否在承諾的日期和時段送達？",
        ),
    ),
    (
        "problem_handled",
        "receipt",
        "scale",
        "problem",
        (
            "How well was the problem you reported handled?",
            "您报告的问题处理得如何？",
            "您報告的問題處理得如何？",
        ),
    ),
]


def seed(apps, schema_editor):
    QuestionSet = apps.get_model("feedback", "QuestionSet")
    SurveyQuestion = apps.get_model("feedback", "SurveyQuestion")
    SurveySettings = apps.get_model("feedback", "SurveySettings")
    SurveySettings.objects.get_or_create(pk=1)
    if not QuestionSet.objects.exists():
        en, hans, hant = INTRO
        question_set = QuestionSet.objects.create(
            version=1, active=True, intro=en, intro_en=en, intro_zh_hans=hans, intro_zh_hant=hant
        )
        for position, (code, step, kind, asked, (en, hans, hant)) in enumerate(QUESTIONS, 1):
            SurveyQuestion.objects.create(
                question_set=question_set,
                position=position,
                code=code,
                step=step,
                kind=kind,
                ask_when=asked,
                text=en,
                text_en=en,
                text_zh_hans=hans,
                text_zh_hant=hant,
            )
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every_quarter_hour, _ = IntervalSchedule.objects.get_or_create(every=900, period="seconds")
    PeriodicTask.objects.get_or_create(
        name="Surveys: send, remind, escalate follow-ups",
        defaults={
            "task": "feedback.tasks.send_surveys",
            "interval": every_quarter_hour,
            "description": (
                "Sends each received order's customer one satisfaction survey after the time "
                "set in the survey settings, one reminder, and escalates late follow-ups."
            ),
        },
    )


class Migration(migrations.Migration):
    dependencies = [
        ("feedback", "0012_surveys"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
