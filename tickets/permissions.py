"""Who may see and do what with a ticket: visibility by team (``org.roles``), work by the
assignee, supervisors over all."""

from __future__ import annotations

from typing import Any

from org.roles import is_supervisor, team_ids_of


def can_see(user: Any, ticket: Any) -> bool:
    if is_supervisor(user):
        return True
    return ticket.assignee_id == user.pk or ticket.team_id in team_ids_of(user)


def can_work(user: Any, ticket: Any) -> bool:
    """The assignee works the ticket; supervisors may act on anyone's."""
    return is_supervisor(user) or (ticket.assignee_id is not None and ticket.assignee_id == user.pk)


def may_act_on(user: Any, ticket: Any) -> bool:
    """Work actions: the assignee, a supervisor, or a member of the team on an unassigned one."""
    if can_work(user, ticket):
        return True
    return ticket.assignee_id is None and ticket.team_id in team_ids_of(user)


def available_actions(user: Any, ticket: Any, *, now: Any = None) -> list[str]:
    """The actions this user may take on the ticket in its state: what a screen offers.
    The services decide for real (and answer 403/409); this only avoids offering dead ends."""
    from django.utils import timezone

    from . import sla
    from .choices import TicketStatus

    status = ticket.status
    working = status in (TicketStatus.NEW, TicketStatus.OPEN)
    worker = may_act_on(user, ticket)
    actions: list[str] = []
    if (
        working
        and ticket.assignee_id is None
        and (is_supervisor(user) or ticket.team_id in team_ids_of(user))
    ):
        actions.append("claim")
    if working and worker:
        actions += ["hold", "resolve"]
    if status == TicketStatus.PENDING_CUSTOMER and worker:
        actions.append("resume")
    if status != TicketStatus.CLOSED and worker:
        actions.append("close")
    if status == TicketStatus.RESOLVED or (
        status == TicketStatus.CLOSED
        and ticket.closed_at is not None
        and (now or timezone.now()) < sla.reopen_window_end(ticket)
    ):
        actions.append("reopen")
    if is_supervisor(user) and status != TicketStatus.CLOSED:
        actions.append("priority")
        if ticket.escalation_level > ticket.escalation_acknowledged:
            actions.append("acknowledge")
    return actions
