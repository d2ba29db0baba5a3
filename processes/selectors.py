"""Reading the work queue: one table, one range scan of an index per part of a queue."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import Count, Min, OuterRef, Q, Subquery
from django.utils.translation import gettext as _

from core import pagination
from core.errors import Forbidden, NotFound
from customers.permissions import sees_work_contents
from org import roles, workload
from org.models import AgentProfile, Team
from org.selectors import agent_rows, assignable_agents

from .models import WorkItem
from .queue import COLUMNS as WRITTEN

# The row's keys (API.md) and the column each is read from: the id (for the cursor), the
# object, and what the funnel writes (``queue.COLUMNS``).
ROW = {"id": "id", "kind": "kind", "object_id": "object_id", **WRITTEN}
COLUMNS = tuple(ROW.values())
KEYS = tuple(ROW)[1:]  # a row's keys, in order, without the id
DUE = COLUMNS.index("due")


@dataclass(frozen=True)
class QueuePage:
    rows: list[dict[str, Any]]
    cursor: str | None


def require_queue(user: Any) -> None:
    """The queue holds ticket and complaint titles: the service roles only, never marketing
    or analysts (``customers.permissions.sees_work_contents``, docs/customers-roles.md)."""
    if roles.roles_of(user) and not sees_work_contents(user):
        raise Forbidden(_("Only administrators, managers, supervisors and agents see the queue."))


def _parts(user: Any, team_id: int | None, everything: bool) -> list[list[tuple[str, Any]]]:
    """Each part of the queue as its conditions (column, value; None: IS NULL)."""
    if everything or team_id is not None:
        if not roles.is_supervisor(user):
            raise NotFound(_("Not found."))
        return [[] if team_id is None else [("team_id", team_id)]]
    # Mine, plus each of my teams' unassigned: one range scan each (an IN list would sort).
    parts: list[list[tuple[str, Any]]] = [[("assignee_id", user.pk)]]
    parts += [[("team_id", t), ("assignee_id", None)] for t in roles.team_ids_of(user)]
    return parts


def _converters() -> list[tuple[int, Any, list[Any]]]:
    """What the ORM would apply to each column read: nothing on PostgreSQL; SQLite's times
    and booleans come back as text and integers."""
    fields = {f.attname: f for f in WorkItem._meta.concrete_fields}
    out = []
    for i, column in enumerate(COLUMNS):
        col = fields[column].get_col(WorkItem._meta.db_table)
        found = connection.ops.get_db_converters(col) + fields[column].get_db_converters(connection)
        if found:
            out.append((i, col, found))
    return out


def _converted(values: tuple[Any, ...], converters: list[tuple[int, Any, list[Any]]]) -> list[Any]:
    out = list(values)
    for i, col, found in converters:
        for converter in found:
            out[i] = converter(out[i], col, connection)
    return out


def _statement(
    parts: list[list[tuple[str, Any]]], position: pagination.Position | None, limit: int
) -> tuple[str, list[Any]]:
    """The page as one statement: each part a range scan of its index cut at ``limit``, the
    parts glued with UNION ALL and cut again in due order (PostgreSQL and SQLite alike)."""
    qn = connection.ops.quote_name
    columns = ", ".join(qn(c) for c in COLUMNS)
    table = qn(WorkItem._meta.db_table)
    due, pk = qn("due"), qn("id")
    order = f"ORDER BY {due} ASC NULLS LAST, {pk} ASC LIMIT %s"
    selects, params = [], []
    for part in parts:
        where, values = [], []
        for column, value in part:
            if value is None:
                where.append(f"{qn(column)} IS NULL")
            else:
                where.append(f"{qn(column)} = %s")
                values.append(value)
        if position is not None and position.value is None:
            where.append(f"{due} IS NULL AND {pk} > %s")
            values.append(position.pk)
        elif position is not None:
            value = WorkItem._meta.get_field("due").get_db_prep_value(position.value, connection)
            where.append(f"({due} > %s OR ({due} = %s AND {pk} > %s) OR {due} IS NULL)")
            values += [value, value, position.pk]
        sql = f"SELECT {columns} FROM {table}"  # noqa: S608 (model's names; values bound)
        if where:
            sql += " WHERE " + " AND ".join(where)
        selects.append(f"{sql} {order}")
        params += [*values, limit]
    if len(selects) == 1:
        return selects[0], params
    union = " UNION ALL ".join(
        f"SELECT * FROM ({s}) AS part{i}"  # noqa: S608 (built above; values bound)
        for i, s in enumerate(selects)
    )
    return f"{union} {order}", [*params, limit]


def queue_for(
    user: Any,
    *,
    team_id: int | None = None,
    everything: bool = False,
    cursor: str | None = None,
    limit: int = 50,
) -> QueuePage:
    """Open work of every kind, most urgent SLA first: mine plus my teams' unassigned (or a
    team / all for supervisors). One statement: the driver and the ORM cost more per
    statement than PostgreSQL does to read these few rows."""
    require_queue(user)
    position = pagination.decode(cursor) if cursor else None
    if position is not None:
        pagination.check(WorkItem, "due", position)
    sql, params = _statement(_parts(user, team_id, everything), position, limit + 1)
    with connection.cursor() as db:
        db.execute(sql, params)
        fetched = db.fetchall()
    if connection.vendor != "postgresql" and (converters := _converters()):
        fetched = [_converted(values, converters) for values in fetched]
    page, more = fetched[:limit], len(fetched) > limit
    rows = [dict(zip(KEYS, values[1:], strict=True)) for values in page]
    cursor_out = None
    if more and page:
        cursor_out = pagination.encode(pagination.Position(page[-1][DUE], page[-1][0]))
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
