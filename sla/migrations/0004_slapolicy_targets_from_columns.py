# A policy's two target columns copied into its ``targets`` (and back on the way down).

from django.db import migrations


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
        ("sla", "0003_slapolicy_kind_and_targets"),
    ]

    operations = [
        migrations.RunPython(targets_from_columns, columns_from_targets),
    ]
