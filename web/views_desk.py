"""The agent's intake screen: a new ticket for a caller on the phone (docs/ui.md, "New ticket").

The page is rendered here; its module (static/web/new_ticket.js) searches contacts through
``GET /api/contacts/`` and opens the ticket through ``POST /api/tickets/`` with an
``Idempotency-Key``, so the screen's ticket is opened exactly as any intake's (routing, SLA,
assignment) and the browser keeps no write path of its own."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from customers import selectors as customer_selectors
from customers.permissions import sees_work_contents
from tickets.choices import Channel, Priority
from tickets.models import Category

from .views import _page_config, _render

DEFAULT_PRIORITY = Priority.P3
DEFAULT_CHANNEL = Channel.PHONE


def may_open_tickets(user: Any) -> bool:
    """The service roles: administrators, managers, supervisors and agents (never marketing
    or analysts, docs/customers-roles.md)."""
    return sees_work_contents(user)


@login_required
def new_ticket(request: HttpRequest) -> HttpResponse:
    if not may_open_tickets(request.user):
        raise PermissionDenied(_("Only agents, supervisors and administrators open tickets."))
    config = _page_config(
        request,
        page="new_ticket",
        search_limit=customer_selectors.SEARCH_LIMIT,
        search_max=customer_selectors.SEARCH_MAX_LENGTH,
    )
    return _render(
        request,
        "web/new_ticket.html",
        config,
        categories=list(Category.objects.order_by("name").values_list("code", "name")),
        priorities=Priority.choices,
        default_priority=DEFAULT_PRIORITY,
        channels=Channel.choices,
        default_channel=DEFAULT_CHANNEL,
        intake_strings=intake_strings(),
    )


def intake_strings() -> dict[str, str]:
    """The texts new_ticket.js shows, in the reader's language."""
    return {
        "searching": _("Searching…"),
        "found": _("%(count)s contacts found. Use ↑ ↓ and Enter to choose."),
        "found_one": _("1 contact found. Press Enter to choose it."),
        "found_max": _("The first %(count)s contacts found; type more to narrow them."),
        "none_found": _("No contact found."),
        "create_from": _("New contact with “%(text)s”"),
        "no_customer": _("No customer"),
        "customers_found": _("%(count)s customers found."),
        "no_customer_found": _("No customer found."),
        "search_failed": _("The search failed: %(detail)s"),
        "opening": _("Opening the ticket…"),
        "opened_elsewhere": _(
            "Ticket %(number)s is open. It went to a team you do not see, so it is not shown here."
        ),
        "fix_errors": _("The ticket was not opened. Correct what is marked below."),
        "key_reused": _(
            "This form was already sent with other values, and a ticket may have been "
            "opened from it. Check the queue; sending again opens a new ticket."
        ),
        "network_error": _(
            "The server could not be reached. Send again: the ticket is opened only once."
        ),
        "subject_required": _("Write a subject."),
        "contact_required": _("Choose a contact, or enter a new one."),
        "email_required": _("A new contact needs an email address."),
        "error": _("Something went wrong (%(status)s)."),
        "email_maybe_known": _(
            "If a contact already has this address, the ticket opens on that contact."
        ),
    }
