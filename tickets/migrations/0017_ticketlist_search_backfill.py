"""Gives the tickets that exist their search terms (tickets.search.ticket_terms), a
thousand at a time; ``manage.py refresh_ticket_search`` does the same on demand."""

from django.db import migrations

BATCH = 1000


def backfill(apps, schema_editor):
    from tickets.search import ticket_terms

    Ticket = apps.get_model("tickets", "Ticket")
    last = 0
    while True:
        rows = list(
            Ticket.objects.filter(pk__gt=last)
            .order_by("pk")
            .values(
                "pk",
                "number",
                "subject",
                "description",
                "contact__name",
                "contact__email",
                "customer__name",
            )[:BATCH]
        )
        if not rows:
            return
        tickets = [
            Ticket(
                pk=row["pk"],
                search_terms=ticket_terms(
                    number=row["number"],
                    subject=row["subject"],
                    description=row["description"],
                    contact_name=row["contact__name"] or "",
                    contact_email=row["contact__email"] or "",
                    customer_name=row["customer__name"] or "",
                ),
            )
            for row in rows
        ]
        Ticket.objects.bulk_update(tickets, ["search_terms"])
        last = rows[-1]["pk"]


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0016_ticketlist_search"),
        ("customers", "0001_initial"),
    ]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop, elidable=True)]
