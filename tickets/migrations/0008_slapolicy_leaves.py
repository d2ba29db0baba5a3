# SLA policies moved to the platform's sla app with their table (sla 0002).

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("tickets", "0007_ticket_events_leave"),
        ("sla", "0002_slapolicy_moves_here"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.AlterField(
                    model_name="ticket",
                    name="sla_policy",
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, to="sla.slapolicy", verbose_name="SLA policy"),
                ),
                migrations.DeleteModel(name="SlaPolicy"),
            ],
        ),
    ]
