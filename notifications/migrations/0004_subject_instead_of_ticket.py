# A notification names what it is about by kind and id (a ticket, a complaint …) instead of
# a foreign key to tickets: the platform keeps no link to one process app. Existing
# notifications keep their ticket as ("ticket", id); reversing restores the foreign key.

from django.db import migrations, models

FORWARD = """
UPDATE notifications_notification SET subject_kind = 'ticket', object_id = ticket_id
WHERE ticket_id IS NOT NULL
"""
BACKWARD = """
UPDATE notifications_notification SET ticket_id = object_id
WHERE subject_kind = 'ticket' AND object_id IN (SELECT id FROM tickets_ticket)
"""


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0003_presence_choice"),
        ("tickets", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="notification",
            name="object_id",
            field=models.BigIntegerField(blank=True, null=True, verbose_name="object"),
        ),
        migrations.AddField(
            model_name="notification",
            name="subject_kind",
            field=models.CharField(
                blank=True, default="", max_length=32, verbose_name="subject kind"
            ),
        ),
        migrations.RunSQL(FORWARD, BACKWARD),
        migrations.RemoveField(model_name="notification", name="ticket"),
    ]
