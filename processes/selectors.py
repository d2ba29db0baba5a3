"""Reading the work queue: one table, one range scan of an index per part of a queue."""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db.models import Count, Min, OuterRef, Q, QuerySet, Subquery
from django.utils.translation import gettext as _

from core import pagination
from core.errors import Forbidden, NotFound
from org import roles, workload
from org.models import AgentProfile, Team
from org.selectors import agent_rows, assignable_agents

from .models import WorkItem
from .queue import COLUMNS as WRITTEN

# The row's keys (API.md) and the column each is read from: the id (for the cursor), the
# object, and what the funnel writes (``queue.COLUMNS``).
ROW = {"id": "id", "kind": "kind", "object_id": "object_id", **WRITTEN}
COLUMNS = tuple(ROW.values())


@dataclass(frozen=True)
class QueuePage:
    rows: list[dict[str, Any]]
    cursor: str | None


def _sort_key(values: dict[str, Any]) -> tuple[bool, datetime, int]:
    due = values["due"]
    return (due is None, due or datetime.min.replace(tzinfo=UTC), values["id"])


def _parts(user: Any, team_id: int | None, everything: bool) -> list[QuerySet[WorkItem]]:
    items = WorkItem.objects.all()
    if everything or team_id is not None:
        if not roles.is_supervisor(user):
            raise NotFound(_("Not found."))
        return [items if team_id is None else items.filter(team_id=team_id)]
    # Mine, plus each of my teams' unassigned: one range scan each (an IN list would sort).
    parts = [items.filter(assignee_id=user.pk)]
    parts += [items.filter(team_id=t, assignee_id__isnull=True) for t in roles.team_ids_of(user)]
    return parts


def queue_for(
    user: Any,
    *,
    team_id: int | None = None,
    everything: bool = False,
    cursor: str | None = None,
    limit: int = 50,
) -> QueuePage:
    """Open work of every kind, most urgent SLA first: mine plus my teams' unassigned (or a
    team / all for supervisors)."""
    position = pagination.decode(cursor) if cursor else None
    fetched = [
        list(
            pagination.ordered(
                pagination.after(part, "due", False, position) if position else part,
                "due",
                False,
            ).values(*COLUMNS)[: limit + 1]
        )
        for part in _parts(user, team_id, everything)
    ]
    merged = list(heapq.merge(*fetched, key=_sort_key))
    page, more = merged[:limit], len(merged) > limit
    rows = [{key: values[column] for key, column in ROW.items() if key != "id"} for values in page]
    cursor_out = None
    if more and page:
        cursor_out = pagination.encode(pagination.Position(page[-1]["due"], page[-1]["id"]))
    return QueuePage(rows, cursor_out)


def open_work_by_assignee(user_ids: list[int] | None) -> dict[int, int]:
    """Open work items per assignee, every kind: the agent's load (``org.workload``)."""
    items = WorkItem.objects.filter(assignee_id__isnull=False)
    if user_ids is not None:
        items = items.filter(assignee_id__in=user_ids)
    rows = items.order_by().values("assignee_id").annotate(n=Count("id"))
    return {r["assignee_id"]: r["n"] for r in rows}


def open_work_of_outer_user() -> Any:
    """``open_work_by_assignee`` of the user of the outer query, as a subquery (an
    annotation of a query of users: ``org.workload.load_expression``)."""
    return Subquery(
        WorkItem.objects.filter(assignee_id=OuterRef("pk"))
        .order_by()
        .values("assignee_id")
        .annotate(n=Count("id"))
        .values("n")
    )


def board_for(user: Any) -> dict[str, Any]:
    """Per-team counters over the open work of every kind, and the load and presence of
    every agent who can take work (``assignable_agents``: the board's assignee menus offer
    these; supervisors only)."""
    if not roles.is_supervisor(user):
        raise Forbidden(_("Only supervisors may see the board."))
    counters = (
        WorkItem.objects.order_by()
        .values("team_id")
        .annotate(
            open=Count("id"),
            unassigned=Count("id", filter=Q(assignee_id__isnull=True)),
            late=Count("id", filter=Q(breached=True)),
            near_breach=Count("id", filter=Q(breached=False, warning=True)),
            oldest=Min("created"),
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
