"""``manage.py load_demo_complaints``: the demo's complaints (``_demo``); ``load_demo`` runs it
after the service desk and passes the demo ticket a customer escalates
(``--from-ticket ID:NUMBER:ASSIGNEE``), so the ticket app never imports this one. A second run
finds the ``manager`` user and changes nothing."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from ... import services
from ._demo import MARKER_USERNAME, DemoComplaints, summary


def parse_ticket(value: str) -> services.FromTicket | None:
    if not value:
        return None
    ticket_id, number, assignee = ([*value.split(":"), "", ""])[:3]
    return services.FromTicket(
        ticket_id=int(ticket_id), number=number, assignee_id=int(assignee) if assignee else None
    )


class Command(BaseCommand):
    help = "Load demo complaints: a manager, a complaints team and ~25 complaints (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--from-ticket",
            default="",
            help="ID:NUMBER:ASSIGNEE_ID of the demo ticket one complaint is escalated from",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if get_user_model().objects.filter(username=MARKER_USERNAME).exists():
            self.stdout.write("demo complaints already loaded")
            return
        with transaction.atomic():
            counts = DemoComplaints(self.stdout).load(
                from_ticket=parse_ticket(options["from_ticket"])
            )
        self.stdout.write(self.style.SUCCESS(summary(counts)))
