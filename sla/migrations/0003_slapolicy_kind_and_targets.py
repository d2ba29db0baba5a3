# SLA policies are keyed by process kind and keep their targets as data
# ({"first_response": 3600, "resolution": 28800}) instead of two fixed columns.

from django.db import migrations, models


def targets_from_columns(apps, schema_editor):
    policy = apps.get_model("sla", "SlaPolicy")
    db = schema_editor.connection.alias
    for row in policy.objects.using(db).only("first_response_seconds", "resolution_seconds"):
        row.targets = {
            "first_response": row.first_response_seconds,
            "resolution": row.resolution_seconds,
        }
        row.save(update_fields=["targets"])


def columns_from_targets(apps, schema_editor):
    policy = apps.get_model("sla", "SlaPolicy")
    db = schema_editor.connection.alias
    for row in policy.objects.using(db).only("targets"):
        row.first_response_seconds = int(row.targets.get("first_response", 0))
        row.resolution_seconds = int(row.targets.get("resolution", 0))
        row.save(update_fields=["first_response_seconds", "resolution_seconds"])


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
        migrations.RunPython(targets_from_columns, columns_from_targets),
        migrations.RemoveField(model_name="slapolicy", name="first_response_seconds"),
        migrations.RemoveField(model_name="slapolicy", name="resolution_seconds"),
        migrations.AlterField(
            model_name="slapolicy",
            name="priority",
            field=models.CharField(max_length=8, verbose_name="priority"),
        ),
        migrations.RemoveIndex(model_name="slapolicy", name="slapolicy_match_idx"),
        migrations.AddIndex(
            model_name="slapolicy",
            index=models.Index(fields=["kind", "priority", "is_active"], name="slapolicy_kind_match_idx"),
        ),
    ]
