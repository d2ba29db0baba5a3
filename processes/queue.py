"""The one funnel of the work queue: write an object's work item in the caller's
transaction and tell every screen that shows it once that transaction commits.

Process apps call ``publish_work_item`` from their services after every change that a
queue row shows (docs/platform.md); nothing else writes ``WorkItem``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, cast

from django.utils import timezone

from notifications.realtime import SUPERVISORS_GROUP, agent_group, send_event_on_commit, team_group
from notifications.schema import EventName, QueueEvent, QueueRow

from .models import WorkItem

# The queue row's keys (API.md) and the WorkItem column each is kept in.
COLUMNS = {
    "task_id": "task_id",
    "number": "number",
    "title": "title",
    "priority": "priority",
    "status": "status",
    "assignee": "assignee_id",
    "team": "team_id",
    "due": "due",
    "breached": "breached",
    "warning": "warning",
    "paused": "paused",
    "escalation_level": "escalation_level",
    "acknowledged": "acknowledged",
    "customer_tier": "customer_tier",
    "created": "created",
    "version": "version",
}


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def event_row(row: Mapping[str, Any]) -> QueueRow:
    """``row`` with its times as ISO 8601 text, fit for the channel layer."""
    return cast(QueueRow, {key: _iso(value) for key, value in row.items()})


def keep_work_item(row: Mapping[str, Any], *, waiting: bool) -> None:
    """Writes (``waiting``) or removes the object's work item, one statement, no event:
    ``publish_work_item``'s first half, and the repair of a queue that drifted."""
    if waiting:
        values = {column: row[key] for key, column in COLUMNS.items()}
        WorkItem.objects.bulk_create(
            [WorkItem(kind=row["kind"], object_id=row["object_id"], **values)],
            update_conflicts=True,
            unique_fields=["kind", "object_id"],
            update_fields=list(values),
        )
    else:
        WorkItem.objects.filter(kind=row["kind"], object_id=row["object_id"]).delete()


def publish_work_item(
    event: EventName,
    row: Mapping[str, Any],
    *,
    waiting: bool,
    previous_assignee_id: int | None = None,
    previous_team_id: int | None = None,
    extra_groups: Iterable[str] = (),
) -> QueueEvent:
    """Keeps the object's work item (``waiting``: it waits on a person; otherwise it leaves
    the queue) and sends ``event`` after commit to the supervisors, the assignee and team
    (and the previous ones, whose screens drop it). ``row`` is the queue row (API.md) with
    times as datetimes."""
    keep_work_item(row, waiting=waiting)
    return send_work_item_event(
        event,
        row,
        previous_assignee_id=previous_assignee_id,
        previous_team_id=previous_team_id,
        extra_groups=extra_groups,
    )


def send_work_item_event(
    event: EventName,
    row: Mapping[str, Any],
    *,
    previous_assignee_id: int | None = None,
    previous_team_id: int | None = None,
    extra_groups: Iterable[str] = (),
) -> QueueEvent:
    """``publish_work_item``'s second half: the event alone, for a change whose work item a
    later publish of the same transaction writes (a process app's intake: its flow steps
    announce themselves, the work item is written once when the object is whole)."""
    payload: QueueEvent = {
        "type": "queue.event",
        "event": event,
        "object": event_row(row),
        "version": int(row["version"]),
        "at": timezone.now().isoformat(),
    }
    groups = {SUPERVISORS_GROUP, *extra_groups}
    for user_id in (row["assignee"], previous_assignee_id):
        if user_id:
            groups.add(agent_group(user_id))
    for team_id in (row["team"], previous_team_id):
        if team_id:
            groups.add(team_group(team_id))
    send_event_on_commit(groups, payload)
    return payload
