"""``manage.py refresh_ticket_search [--contact ID] [--customer ID] [--batch N]``: recomputes
the tickets' search terms (tickets.search), a batch at a time, and says how many changed.

Migration 0017 gives existing tickets their terms once; run this after a change of the
term rules, or for one contact's or customer's tickets. Safe to run while Kefu serves
(each batch is its own short transaction) and to run again (unchanged rows are skipped).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from tickets import search
from tickets.models import Ticket


class Command(BaseCommand):
    help = "Recompute the tickets' search terms (all, or one contact's or customer's)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--contact", type=int, help="only this contact's tickets")
        parser.add_argument("--customer", type=int, help="only this customer's tickets")
        parser.add_argument("--batch", type=int, default=search.REFRESH_BATCH)

    def handle(self, *args: Any, **options: Any) -> None:
        ids = None
        if options["contact"] is not None or options["customer"] is not None:
            tickets = Ticket.objects.all()
            if options["contact"] is not None:
                tickets = tickets.filter(contact_id=options["contact"])
            if options["customer"] is not None:
                tickets = tickets.filter(customer_id=options["customer"])
            ids = list(tickets.values_list("pk", flat=True))
        changed = search.refresh_terms(ids, batch=max(1, options["batch"]))
        self.stdout.write(f"Search terms rewritten: {changed} ticket(s).")
