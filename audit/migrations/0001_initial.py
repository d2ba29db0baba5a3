# The ticket events become the platform's one audit table (docs/platform.md): the model
# moves to audit as AuditEvent with its table, tickets_ticketevent; tickets 0007 lets go
# of it. Its content type and permissions follow it. audit 0002 then widens the table.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def move_content_type(app_from, model_from, app_to, model_to):
    """Renames the model's content type and its permissions (``add_ticketevent`` →
    ``add_auditevent`` …), so grants survive; on a new database there are none yet."""

    def move(apps, schema_editor):
        db = schema_editor.connection.alias
        content_type = apps.get_model("contenttypes", "ContentType")
        permission = apps.get_model("auth", "Permission")
        found = content_type.objects.using(db).filter(app_label=app_from, model=model_from).first()
        if found is None or content_type.objects.using(db).filter(
            app_label=app_to, model=model_to
        ).exists():
            return
        found.app_label, found.model = app_to, model_to
        found.save(update_fields=["app_label", "model"])
        for perm in permission.objects.using(db).filter(content_type=found):
            perm.codename = perm.codename.replace(model_from, model_to)
            perm.save(update_fields=["codename"])

    return move


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("tickets", "0006_work_items_of_open_tickets"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            # The table stays where it is (db_table); only Django's view of the model moves.
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name="AuditEvent",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("verb", models.CharField(max_length=20, verbose_name="verb")),
                        ("before", models.JSONField(blank=True, default=dict, verbose_name="before")),
                        ("after", models.JSONField(blank=True, default=dict, verbose_name="after")),
                        ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="created at")),
                        ("updated_at", models.DateTimeField(auto_now=True, verbose_name="updated at")),
                        (
                            "actor",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                                verbose_name="actor",
                            ),
                        ),
                        (
                            "ticket",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="events",
                                to="tickets.ticket",
                                verbose_name="ticket",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "ticket event",
                        "verbose_name_plural": "ticket events",
                        "db_table": "tickets_ticketevent",
                        "ordering": ["created_at", "id"],
                        "indexes": [
                            models.Index(fields=["ticket", "created_at"], name="ticketevent_ticket_idx")
                        ],
                    },
                ),
            ],
        ),
        migrations.RunPython(
            move_content_type("tickets", "ticketevent", "audit", "auditevent"),
            move_content_type("audit", "auditevent", "tickets", "ticketevent"),
        ),
    ]
