# Data migration: every ticket event gets its ticket's customer (audit_customer_idx serves a
# customer's whole history). Reversing keeps the column as it is.

from django.db import migrations

FILL = """
UPDATE tickets_ticketevent SET customer_id = (
    SELECT t.customer_id FROM tickets_ticket t WHERE t.id = tickets_ticketevent.ticket_id
)
WHERE customer_id IS NULL AND ticket_id IS NOT NULL
"""


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_widen_for_every_subject")]

    operations = [migrations.RunSQL(FILL, migrations.RunSQL.noop)]
