"""Typed payloads of every real-time event (API.md, "Live updates")."""

from __future__ import annotations

from typing import Literal, TypedDict

EventName = Literal[
    "created", "updated", "assigned", "escalated", "sla_warning", "sla_breached", "closed"
]
EVENT_NAMES: tuple[EventName, ...] = (
    "created",
    "updated",
    "assigned",
    "escalated",
    "sla_warning",
    "sla_breached",
    "closed",
)


class QueueRow(TypedDict):
    task_id: int | None
    kind: Literal["ticket", "complaint", "care", "campaign"]
    object_id: int
    number: str
    title: str
    priority: str
    status: str
    assignee: int | None
    team: int | None
    due: str | None
    breached: bool
    warning: bool
    paused: bool
    escalation_level: int
    acknowledged: bool
    customer_tier: str | None
    created: str
    version: int


class QueueEvent(TypedDict):
    type: Literal["queue.event"]
    event: EventName
    object: QueueRow
    version: int
    at: str
