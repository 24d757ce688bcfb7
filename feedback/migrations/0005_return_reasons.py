"""Data: the return reasons the business starts with and their return windows (the
admin edits them). Seven days for a change of mind (China's no-reason return
period for distance sales), longer for goods that were not as sold."""

from django.db import migrations

# code: (days, English, Simplified Chinese, Traditional Chinese)
REASONS = {
    "damaged": (30, "Arrived damaged", "商品破损", "商品破損"),
    "wrong_item": (30, "Wrong item", "发错商品", "發錯商品"),
    "missing_parts": (30, "Missing parts", "缺少配件", "缺少配件"),
    "not_as_described": (15, "Not as described", "与描述不符", "與描述不符"),
    "changed_mind": (7, "Changed my mind", "七天无理由退货", "七天無理由退貨"),
}


def seed(apps, schema_editor):
    ReturnReason = apps.get_model("feedback", "ReturnReason")
    for position, (code, (days, en, hans, hant)) in enumerate(REASONS.items(), start=1):
        ReturnReason.objects.get_or_create(
            code=code,
            defaults={
                "window_days": days,
                "name": en,
                "name_en": en,
                "name_zh_hans": hans,
                "name_zh_hant": hant,
                "position": position * 10,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("feedback", "0004_returns")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
