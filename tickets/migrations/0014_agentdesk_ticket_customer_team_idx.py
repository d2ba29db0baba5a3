"""Who sees a customer: a ticket of it in one of the reader's teams, found in one lookup
(tickets.selectors.contacts_visible_q, the new-ticket screen's contact search)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("tickets", "0013_conversation")]

    operations = [
        migrations.AddIndex(
            model_name="ticket",
            index=models.Index(fields=["customer", "team"], name="ticket_customer_team_idx"),
        ),
    ]
