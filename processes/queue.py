"""The one funnel of the work queue: write an object's work item in the caller's
transaction and tell every screen that shows it once that transaction commits.

Process apps call ``publish_work_item`` from their services after every change that a
queue row shows (docs/platform.md); nothing else writes ``WorkItem``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
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


# When one change carries several events (a sweep of the SLA ladder fired a warning and an
# escalation level of one object), its one queue event names the most significant.
EVENT_RANK = ("updated", "sla_warning", "sla_breached", "assigned", "escalated")


def most_significant(events: Iterable[str]) -> str:
    """The event of ``events`` that its one push names (``updated`` when none)."""
    return max(
        events, key=lambda e: EVENT_RANK.index(e) if e in EVENT_RANK else -1, default="updated"
    )


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def event_row(row: Mapping[str, Any]) -> QueueRow:
    """``row`` with its times as ISO 8601 text, fit for the channel layer."""
    return cast(QueueRow, {key: _iso(value) for key, value in row.items()})


def keep_work_item(row: Mapping[str, Any], *, waiting: bool) -> None:
    """Writes (``waiting``) or removes the object's work item, one statement, no event:
    ``publish_work_item``'s first half, and the repair of a queue that drifted."""
    keep_work_items([(row, waiting)])


def keep_work_items(rows: Sequence[tuple[Mapping[str, Any], bool]]) -> None:
    """``keep_work_item`` for many objects: the waiting ones written in one statement, the
    others removed in one per kind."""
    keep = [row for row, waiting in rows if waiting]
    if keep:
        WorkItem.objects.bulk_create(
            [
                WorkItem(
                    kind=row["kind"],
                    object_id=row["object_id"],
                    **{column: row[key] for key, column in COLUMNS.items()},
                )
                for row in keep
            ],
            update_conflicts=True,
            unique_fields=["kind", "object_id"],
            update_fields=list(COLUMNS.values()),
        )
    gone: dict[str, list[int]] = {}
    for row, waiting in rows:
        if not waiting:
            gone.setdefault(row["kind"], []).append(row["object_id"])
    for kind, object_ids in gone.items():
        WorkItem.objects.filter(kind=kind, object_id__in=object_ids).delete()


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
    send_event_on_commit(
        _groups(row, previous_assignee_id, previous_team_id, extra_groups), payload
    )
    return payload


def _groups(
    row: Mapping[str, Any],
    previous_assignee_id: int | None,
    previous_team_id: int | None,
    extra: Iterable[str] = (),
) -> set[str]:
    """Whose screens show the row: the supervisors, the assignee and team, and the previous
    ones (their screens drop it)."""
    groups = {SUPERVISORS_GROUP, *extra}
    for user_id in (row["assignee"], previous_assignee_id):
        if user_id:
            groups.add(agent_group(user_id))
    for team_id in (row["team"], previous_team_id):
        if team_id:
            groups.add(team_group(team_id))
    return groups


def publish_work_items(batch: Sequence[tuple[EventName, Mapping[str, Any], bool]]) -> None:
    """``publish_work_item`` for many objects whose assignee and team stay (a sweep of the
    SLA ladder): ``(event, row, waiting)`` each; the work items kept in one statement, one
    event per object after commit."""
    keep_work_items([(row, waiting) for _event, row, waiting in batch])
    for event, row, _waiting in batch:
        send_work_item_event(event, row)
