"""The text search's column (tickets.search) and its indexes.

``search_terms`` holds the terms a ticket is found by; on PostgreSQL a GIN index
(``jsonb_path_ops``: it answers ``@>`` and is about a third of the default opclass's size)
serves the containment a search asks. SQLite (the embedded mode) has no GIN: no index there.
Existing rows get their terms from the next migration (0017), in batches.
"""

from django.db import migrations, models

GIN = "ticket_search_terms_gin"


def create_gin(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {GIN} ON tickets_ticket "
            "USING gin (search_terms jsonb_path_ops)"
        )


def drop_gin(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {GIN}")


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0015_helpdesk_web_form_uses"),
    ]

    operations = [
        migrations.AddField(
            model_name="ticket",
            name="search_terms",
            field=models.JSONField(
                blank=True, default=list, editable=False, verbose_name="search terms"
            ),
        ),
        migrations.AddIndex(
            model_name="ticket",
            index=models.Index(fields=["-created_at", "-id"], name="ticket_created_idx"),
        ),
        migrations.RunPython(create_gin, drop_gin, elidable=False),
    ]
