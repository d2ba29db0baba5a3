# The ticket events now live in audit as AuditEvent (audit 0001): tickets lets go of the
# model in Django's state only; the table stays.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0001_initial"),
        ("tickets", "0006_work_items_of_open_tickets"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[migrations.DeleteModel(name="TicketEvent")],
        ),
    ]
