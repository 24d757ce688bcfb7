# A partial index on the fulfilments not packed yet: the orders waiting to be picked or
# packed, which the batch pick list and the warehouse dashboard read.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("warehouse", "0004_package_carrier_and_tracking"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="fulfilment",
            index=models.Index(
                condition=models.Q(("packed_at__isnull", True)),
                fields=["acknowledged_at", "order"],
                name="fulfilment_unpacked",
            ),
        ),
    ]
