# The policies' old target columns leave; a priority may name any kind's level.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("sla", "0004_slapolicy_targets_from_columns"),
    ]

    operations = [
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
            index=models.Index(
                fields=["kind", "priority", "is_active"], name="slapolicy_kind_match_idx"
            ),
        ),
    ]
