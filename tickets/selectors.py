"""Permission-aware reads shared by views and reports; views never query tickets themselves."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext as _
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from audit.models import AuditEvent
from core.errors import NotFound
from core.pagination import Page, paginate
from customers.permissions import sees_work_contents
from org import roles

from .models import Ticket, TicketMessage
from .search import TicketFilters, apply_filters

# A ticket's queue row reads the ticket and its SLA clock (``sla_clock__…``).
QUEUE_FIELDS = (
    "id",
    "number",
    "subject",
    "priority",
    "status",
    "assignee_id",
    "team_id",
    "customer_id",
    "created_at",
    "version",
    "sla_clock__due",
    "sla_clock__breached",
    "sla_clock__warning",
    "sla_clock__paused_at",
    "sla_clock__escalation_level",
    "sla_clock__acknowledged_level",
)


def queue_values(ticket: Ticket) -> dict[str, Any]:
    """``QUEUE_FIELDS`` of a ticket in memory (its clock as the ticket holds it)."""
    clock = ticket.clock
    values = {
        field: getattr(ticket, field) for field in QUEUE_FIELDS if not field.startswith("sla_")
    }
    values.update(
        {
            "sla_clock__due": clock.due if clock else None,
            "sla_clock__breached": clock.breached if clock else False,
            "sla_clock__warning": clock.warning if clock else False,
            "sla_clock__paused_at": clock.paused_at if clock else None,
            "sla_clock__escalation_level": clock.escalation_level if clock else 0,
            "sla_clock__acknowledged_level": clock.acknowledged_level if clock else 0,
        }
    )
    return values


def queue_row(
    values: Mapping[str, Any], *, task_id: int | None, customer_tier: str | None
) -> dict[str, Any]:
    """The one shape of a queue row (API.md), from a ticket's ``QUEUE_FIELDS`` values."""
    level = values["sla_clock__escalation_level"] or 0
    return {
        "task_id": task_id,
        "kind": "ticket",
        "object_id": values["id"],
        "number": values["number"],
        "title": values["subject"],
        "priority": values["priority"],
        "status": values["status"],
        "assignee": values["assignee_id"],
        "team": values["team_id"],
        "due": values["sla_clock__due"],
        "breached": bool(values["sla_clock__breached"]),
        "warning": bool(values["sla_clock__warning"]),
        "paused": values["sla_clock__paused_at"] is not None,
        "escalation_level": level,
        "acknowledged": (values["sla_clock__acknowledged_level"] or 0) >= level > 0,
        "customer_tier": customer_tier,
        "created": values["created_at"],
        "version": values["version"],
    }


def tickets_visible_to(user: Any) -> QuerySet[Ticket]:
    """Supervisors see every ticket; an agent sees their teams' and their own; marketing and
    analysts none, even in a team (customers.permissions.sees_work_contents); a role-less
    account (an integration's) keeps the team rule."""
    qs = Ticket.objects.all()
    if roles.roles_of(user) and not sees_work_contents(user):
        return qs.none()
    if roles.is_supervisor(user):
        return qs
    return qs.filter(Q(team_id__in=roles.team_ids_of(user)) | Q(assignee_id=user.pk))


def tickets_matching(user: Any, filters: TicketFilters) -> QuerySet[Ticket]:
    """The tickets ``user`` may see, narrowed by the list's filters (tickets.search)."""
    return apply_filters(tickets_visible_to(user), filters, me=user.pk)


# What a row of the tickets screen reads (never the description or the search terms).
LIST_ROW_FIELDS = (
    "id",
    "number",
    "subject",
    "status",
    "priority",
    "team_id",
    "assignee_id",
    "customer_id",
    "category_id",
    "created_at",
    "sla_clock__due",
    "sla_clock__breached",
    "sla_clock__paused_at",
    "customer__name",
    "category__name",
)


def list_tickets_page(
    user: Any, filters: TicketFilters, *, cursor: str | None, limit: int = 50
) -> Page:
    """One page of the tickets screen: newest first (``-created_at, -id``), by keyset from
    the opaque ``cursor`` (no OFFSET: every page is an index range scan)."""
    qs = tickets_matching(user, filters).select_related("sla_clock", "customer", "category")
    return paginate(
        qs.only(*LIST_ROW_FIELDS), field="created_at", descending=True, cursor=cursor, limit=limit
    )


def can_see_customer(user: Any, customer_id: int) -> bool:
    """Who may see a customer (and so its contacts, their addresses and phones, its tier):
    supervisors, and an agent who sees one of the customer's tickets (docs/tickets.md)."""
    if roles.is_supervisor(user):
        return True
    return tickets_visible_to(user).filter(customer_id=customer_id).exists()


def can_see_contact(user: Any, contact: Any) -> bool:
    """A customer's contact is seen with its customer; a walk-in contact (no customer) with
    one of its own tickets."""
    if contact.customer_id is not None:
        return can_see_customer(user, contact.customer_id)
    if roles.is_supervisor(user):
        return True
    return tickets_visible_to(user).filter(contact_id=contact.pk).exists()


def contacts_visible_q(user: Any) -> Q | None:
    """``can_see_contact`` for a list: the contacts ``user`` may see as a condition on
    ``customers.Contact`` (None: every contact), for the platform's contact search.

    Written for a probe per contact that does not grow with the customer's tickets: a
    ticket of the customer in one of the user's teams is one lookup of
    ``ticket_customer_team_idx``; the customers of the user's own tickets are read once."""
    if roles.is_supervisor(user):
        return None
    teams = roles.team_ids_of(user)
    mine = Q(assignee_id=user.pk)
    customer_seen = Q(customer_id__in=Ticket.objects.filter(mine).values("customer_id"))
    if teams:
        mine |= Q(team_id__in=teams)
        team_ticket = Ticket.objects.filter(customer_id=OuterRef("customer_id"), team_id__in=teams)
        customer_seen |= Q(Exists(team_ticket))
    walk_in_seen = Exists(Ticket.objects.filter(mine, contact_id=OuterRef("pk")))
    return (Q(customer__isnull=False) & customer_seen) | (
        Q(customer__isnull=True) & Q(walk_in_seen)
    )


def customers_seen_q(user: Any) -> Q | None:
    """The customers an agent's tickets show, as a condition on ``customers.Customer`` (the
    platform's customer visibility asks it, ``customers.registry``)."""
    if roles.is_supervisor(user):
        return None  # the platform's own rule lets supervisors see every customer
    teams = roles.team_ids_of(user)
    mine = Q(assignee_id=user.pk)
    if teams:
        mine |= Q(team_id__in=teams)
    return Q(Exists(Ticket.objects.filter(mine, customer_id=OuterRef("pk"))))


def walk_in_contacts_seen_q(user: Any) -> Q | None:
    """Walk-in contacts (no customer) of an agent's tickets, as a condition on
    ``customers.Contact``."""
    if roles.is_supervisor(user):
        return None
    teams = roles.team_ids_of(user)
    mine = Q(assignee_id=user.pk)
    if teams:
        mine |= Q(team_id__in=teams)
    return Q(customer__isnull=True) & Q(
        Exists(Ticket.objects.filter(mine, contact_id=OuterRef("pk")))
    )


def can_see_ticket(user: Any, ticket_id: int) -> bool:
    """Tickets' visibility rule, as the platform asks it (``processes.visibility``)."""
    return tickets_visible_to(user).filter(pk=ticket_id).exists()


def visible_ticket_ids(user: Any, ticket_ids: list[int]) -> set[int]:
    """``can_see_ticket`` for a page of tickets, in one query."""
    return set(tickets_visible_to(user).filter(pk__in=ticket_ids).values_list("pk", flat=True))


def get_ticket_for(user: Any, ticket_id: int) -> Ticket:
    ticket = tickets_visible_to(user).select_related("sla_clock").filter(pk=ticket_id).first()
    if ticket is None:
        raise NotFound(_("Ticket not found."))
    return ticket


def list_messages_for(user: Any, ticket_id: int) -> QuerySet[TicketMessage]:
    ticket = get_ticket_for(user, ticket_id)
    return TicketMessage.objects.filter(ticket=ticket).order_by("created_at", "id")


def list_history_for(user: Any, ticket_id: int) -> QuerySet[AuditEvent]:
    ticket = get_ticket_for(user, ticket_id)
    return AuditEvent.objects.filter(ticket=ticket).order_by("created_at", "id")


def current_task_ids(ticket_ids: list[int]) -> dict[int, int]:
    """The open human task of each ticket, in one query."""
    if not ticket_ids:
        return {}
    rows = Task.objects.filter(
        process__ticketprocess__ticket_id__in=ticket_ids,
        flow_task_type="HUMAN",
        status__in=(STATUS.NEW, STATUS.ASSIGNED),
    ).values_list("process__ticketprocess__ticket_id", "pk")
    return dict(rows.order_by())
