# SLA policies are keyed by process kind and keep their targets as data
# ({"first_response": 3600, "resolution": 28800}) instead of two fixed columns: the new
# columns here, the data apart (0004), the old columns last (0005).

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("sla", "0002_slapolicy_moves_here"),
    ]

    operations = [
        migrations.AddField(
            model_name="slapolicy",
            name="kind",
            field=models.CharField(default="ticket", max_length=32, verbose_name="process kind"),
        ),
        migrations.AddField(
            model_name="slapolicy",
            name="targets",
            field=models.JSONField(default=dict, verbose_name="targets (s)"),
        ),
        # Nullable while the data moves, so the step back can refill them.
        migrations.AlterField(
            model_name="slapolicy",
            name="first_response_seconds",
            field=models.PositiveIntegerField(null=True, verbose_name="first response target (s)"),
        ),
        migrations.AlterField(
            model_name="slapolicy",
            name="resolution_seconds",
            field=models.PositiveIntegerField(null=True, verbose_name="resolution target (s)"),
        ),
    ]
