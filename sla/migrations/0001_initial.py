# Business calendars move from tickets to the platform's sla app with their table
# (docs/platform.md); tickets 0005 lets go of them.

from django.db import migrations, models


def move_content_types(app_from, app_to, names):
    """Moves the models' content types (and with them their permissions and admin log
    entries) to the new app; on a new database there are none yet."""

    def move(apps, schema_editor):
        content_type = apps.get_model("contenttypes", "ContentType")
        db = schema_editor.connection.alias
        content_type.objects.using(db).filter(app_label=app_from, model__in=names).exclude(
            model__in=content_type.objects.using(db)
            .filter(app_label=app_to)
            .values_list("model", flat=True)
        ).update(app_label=app_to)

    return move


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("tickets", "0004_agent_profiles_for_agents"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            # The table stays where it is (db_table); only Django's view of the model moves.
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name="BusinessCalendar",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("name", models.CharField(max_length=100, unique=True, verbose_name="name")),
                        ("timezone", models.CharField(default="UTC", max_length=64, verbose_name="time zone")),
                        ("hours", models.JSONField(default=dict, verbose_name="business hours")),
                        ("holidays", models.JSONField(blank=True, default=list, verbose_name="holidays")),
                        ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="created at")),
                        ("updated_at", models.DateTimeField(auto_now=True, verbose_name="updated at")),
                    ],
                    options={
                        "verbose_name": "business calendar",
                        "verbose_name_plural": "business calendars",
                        "db_table": "tickets_businesscalendar",
                        "ordering": ["name"],
                    },
                ),
            ],
        ),
        migrations.RunPython(
            move_content_types("tickets", "sla", ("businesscalendar",)),
            move_content_types("sla", "tickets", ("businesscalendar",)),
        ),
    ]
