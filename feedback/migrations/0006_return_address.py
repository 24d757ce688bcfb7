"""The return address printed on return labels (one row, edited in the admin), seeded
with the demo warehouse's."""

from django.db import migrations, models


def seed(apps, schema_editor):
    apps.get_model("feedback", "ReturnAddress").objects.get_or_create(
        pk=1,
        defaults={
            "recipient": "O2D 退货仓 Returns",
            "phone": "+862150000000",
            "province": "上海市",
            "city": "上海市",
            "district": "浦东新区",
            "street": "富特北路 100 号 3 号库",
            "postal_code": "200131",
        },
    )


class Migration(migrations.Migration):
    dependencies = [
        ("feedback", "0005_return_reasons"),
    ]

    operations = [
        migrations.CreateModel(
            name="ReturnAddress",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("recipient", models.CharField(max_length=100, verbose_name="recipient")),
                ("phone", models.CharField(max_length=30, verbose_name="phone")),
                ("province", models.CharField(max_length=60, verbose_name="province")),
                ("city", models.CharField(max_length=60, verbose_name="city")),
                ("district", models.CharField(blank=True, max_length=60, verbose_name="district")),
                ("street", models.CharField(max_length=200, verbose_name="street address")),
                (
                    "postal_code",
                    models.CharField(blank=True, max_length=10, verbose_name="postal code"),
                ),
            ],
            options={
                "verbose_name": "return address",
                "verbose_name_plural": "return address",
                "constraints": [
                    models.CheckConstraint(condition=models.Q(("id", 1)), name="one_return_address")
                ],
            },
        ),
        migrations.RunPython(seed, migrations.RunPython.noop),
    ]
