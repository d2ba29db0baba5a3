"""Permission-aware reads shared by views and reports; views never query tickets themselves."""

from __future__ import annotations

import heapq
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db.models import Count, Min, Q, QuerySet
from django.utils.translation import gettext as _
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from core import pagination
from core.errors import Forbidden, NotFound
from org import roles, workload
from org.models import AgentProfile, Team
from org.selectors import agent_rows, assignable_agents

from .choices import QUEUE_STATUSES
from .models import Ticket, TicketEvent, TicketMessage

QUEUE_FIELDS = (
    "id",
    "number",
    "subject",
    "priority",
    "status",
    "assignee_id",
    "team_id",
    "sla_due",
    "first_response_breached",
    "resolution_breached",
    "customer_id",
    "created_at",
    "version",
    "sla_warning",
    "sla_paused_at",
    "escalation_level",
    "escalation_acknowledged",
)


def queue_row(
    values: Mapping[str, Any], *, task_id: int | None, customer_tier: str | None
) -> dict[str, Any]:
    """The one shape of a queue row (API.md), from a ticket's ``QUEUE_FIELDS`` values."""
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
        "due": values["sla_due"],
        "breached": values["first_response_breached"] or values["resolution_breached"],
        "warning": values["sla_warning"],
        "paused": values["sla_paused_at"] is not None,
        "escalation_level": values["escalation_level"],
        "acknowledged": values["escalation_acknowledged"] >= values["escalation_level"] > 0,
        "customer_tier": customer_tier,
        "created": values["created_at"],
        "version": values["version"],
    }


def tickets_visible_to(user: Any) -> QuerySet[Ticket]:
    """Supervisors see every ticket; an agent sees their teams' and their own."""
    qs = Ticket.objects.all()
    if roles.is_supervisor(user):
        return qs
    return qs.filter(Q(team_id__in=roles.team_ids_of(user)) | Q(assignee_id=user.pk))


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


def get_ticket_for(user: Any, ticket_id: int) -> Ticket:
    ticket = tickets_visible_to(user).filter(pk=ticket_id).first()
    if ticket is None:
        raise NotFound(_("Ticket not found."))
    return ticket


def list_messages_for(user: Any, ticket_id: int) -> QuerySet[TicketMessage]:
    ticket = get_ticket_for(user, ticket_id)
    return TicketMessage.objects.filter(ticket=ticket).order_by("created_at", "id")


def list_history_for(user: Any, ticket_id: int) -> QuerySet[TicketEvent]:
    ticket = get_ticket_for(user, ticket_id)
    return TicketEvent.objects.filter(ticket=ticket).order_by("created_at", "id")


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


# --- the queue -------------------------------------------------------------------
@dataclass(frozen=True)
class QueuePage:
    rows: list[dict[str, Any]]
    cursor: str | None


def _sort_key(row: dict[str, Any]) -> tuple[bool, datetime, int]:
    due = row["sla_due"]
    return (due is None, due or datetime.min.replace(tzinfo=UTC), row["id"])


def queue_for(
    user: Any,
    *,
    team_id: int | None = None,
    everything: bool = False,
    cursor: str | None = None,
    limit: int = 50,
) -> QueuePage:
    """Open work, most urgent SLA first: mine plus my teams' unassigned (or a team / all
    for supervisors). Each part is one range scan of a partial index, merged here."""
    position = pagination.decode(cursor) if cursor else None
    open_tickets = Ticket.objects.filter(status__in=QUEUE_STATUSES)
    if everything or team_id is not None:
        if not roles.is_supervisor(user):
            raise NotFound(_("Not found."))
        parts = [open_tickets if team_id is None else open_tickets.filter(team_id=team_id)]
    else:
        teams = roles.team_ids_of(user)
        # One range scan of a partial index per part (an IN list would need a sort).
        parts = [open_tickets.filter(assignee_id=user.pk)]
        parts += [open_tickets.filter(team_id=t, assignee_id__isnull=True) for t in teams]
    fetched = [
        list(
            pagination.ordered(
                pagination.after(part, "sla_due", False, position) if position else part,
                "sla_due",
                False,
            ).values(*QUEUE_FIELDS)[: limit + 1]
        )
        for part in parts
    ]
    merged = list(heapq.merge(*fetched, key=_sort_key))
    page, more = merged[:limit], len(merged) > limit
    tiers = _tiers([r["customer_id"] for r in page])
    tasks = current_task_ids([r["id"] for r in page])
    rows = [
        queue_row(r, task_id=tasks.get(r["id"]), customer_tier=tiers.get(r["customer_id"]))
        for r in page
    ]
    cursor_out = None
    if more and page:
        cursor_out = pagination.encode(pagination.Position(page[-1]["sla_due"], page[-1]["id"]))
    return QueuePage(rows, cursor_out)


def _tiers(customer_ids: list[int | None]) -> dict[int, str]:
    from customers.models import Customer

    ids = {c for c in customer_ids if c is not None}
    if not ids:
        return {}
    return dict(Customer.objects.filter(pk__in=ids).order_by().values_list("id", "tier"))


def open_work_by_assignee(user_ids: list[int] | None) -> dict[int, int]:
    """Open tickets (new or open) per assignee: tickets' part of every agent's load
    (registered with ``org.workload``)."""
    qs = Ticket.objects.filter(status__in=QUEUE_STATUSES, assignee_id__isnull=False)
    if user_ids is not None:
        qs = qs.filter(assignee_id__in=user_ids)
    rows = qs.order_by().values("assignee_id").annotate(n=Count("id"))
    return {r["assignee_id"]: r["n"] for r in rows}


def board_for(user: Any) -> dict[str, Any]:
    """Per-team counters and the load and presence of every agent who can take work
    (``assignable_agents``: the board's assignee menus offer these; supervisors only)."""
    if not roles.is_supervisor(user):
        raise Forbidden(_("Only supervisors may see the board."))
    late = Q(first_response_breached=True) | Q(resolution_breached=True)
    counters = (
        Ticket.objects.filter(status__in=QUEUE_STATUSES)
        .order_by()
        .values("team_id")
        .annotate(
            open=Count("id"),
            unassigned=Count("id", filter=Q(assignee_id__isnull=True)),
            late=Count("id", filter=late),
            near_breach=Count(
                "id",
                filter=~late & Q(sla_warning=True),
            ),
            oldest=Min("created_at"),
        )
    )
    by_team: dict[int | None, dict[str, Any]] = {row["team_id"]: dict(row) for row in counters}
    teams = []
    for team in Team.objects.order_by("name"):
        row = by_team.get(team.pk, {})
        teams.append(
            {
                "id": team.pk,
                "name": team.name,
                "open": row.get("open", 0),
                "unassigned": row.get("unassigned", 0),
                "near_breach": row.get("near_breach", 0),
                "breached": row.get("late", 0),
                "oldest": row.get("oldest"),
            }
        )
    profiles = list(
        AgentProfile.objects.select_related("user")
        .filter(user__in=assignable_agents())
        .order_by("user__username")
    )
    return {"teams": teams, "agents": agent_rows(profiles, workload.load_by_agent())}
