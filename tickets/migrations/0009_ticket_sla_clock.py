# A ticket's SLA clock moves from 14 columns on the ticket to the platform's SlaClock
# (docs/sla.md): the link first (0009), the data apart (0010), the old columns last (0011).

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("tickets", "0008_slapolicy_leaves"),
        ("sla", "0006_slaclock"),
    ]

    operations = [
        migrations.AddField(
            model_name="ticket",
            name="sla_clock",
            field=models.OneToOneField(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="sla.slaclock",
                verbose_name="SLA clock",
            ),
        ),
    ]
