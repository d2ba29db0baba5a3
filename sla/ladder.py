"""The escalation ladder, fired set-wise: warnings, breaches and escalation levels of every
SLA clock that fell due (docs/sla.md).

A sweep claims up to ``batch`` clocks whose next checkpoint is due (``SELECT … FOR UPDATE
SKIP LOCKED``, so several dispatchers never take the same clock), takes their subjects'
process locks in one statement without waiting (a subject being changed by a person is
left for the next sweep), and applies what fell due: the clocks in one bulk update, the
audit rows and notifications in one insert each, the subjects' changes through their
kind's adapter (one bulk update, one queue event per changed work item). Only a level
that moves the work (reassign) goes through the flow, subject by subject.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from audit.models import AuditEvent
from notifications.services import notify_many
from processes import runtime

from . import clock as clocks
from . import kinds
from .choices import EscalationAction
from .models import SlaClock

logger = logging.getLogger(__name__)

WARN, NOTIFY_SUPERVISOR = EscalationAction.WARN, EscalationAction.NOTIFY_SUPERVISOR
RAISE_PRIORITY, REASSIGN = EscalationAction.RAISE_PRIORITY, EscalationAction.REASSIGN
NOTIFY_MANAGER = EscalationAction.NOTIFY_MANAGER


def due_count(cap: int = 10_000, now: datetime | None = None) -> int:
    now = now or timezone.now()
    return SlaClock.objects.filter(next_at__lte=now)[:cap].values("pk").count()


def oldest_due(now: datetime | None = None) -> datetime | None:
    now = now or timezone.now()
    found: datetime | None = (
        SlaClock.objects.filter(next_at__lte=now)
        .order_by("next_at")
        .values_list("next_at", flat=True)
        .first()
    )
    return found


def fire_batch(batch: int | None = None, now: datetime | None = None) -> tuple[int, int]:
    """Claims up to ``batch`` due clocks and fires what fell due; returns (claimed, fired
    checkpoints). One transaction."""
    size = batch or settings.KEFU_SLA_BATCH
    now = now or timezone.now()
    with transaction.atomic():
        claimed = list(
            SlaClock.objects.select_for_update(skip_locked=True)
            .filter(next_at__lte=now)
            .order_by("next_at", "id")[:size]
        )
        by_kind: dict[str, list[SlaClock]] = defaultdict(list)
        for row in claimed:
            by_kind[row.kind].append(row)
        fired = 0
        for kind, group in by_kind.items():
            fired += _fire_kind(kind, group, now)
    return len(claimed), fired


class _Effects:
    """What a sweep writes besides the clocks, collected to be written set-wise."""

    def __init__(self, kind: str, adapter: kinds.SlaSubjects) -> None:
        self.kind, self.adapter = kind, adapter
        self.audit: list[AuditEvent] = []
        self.notes: list[tuple[list[int], str, dict[str, Any], int]] = []

    def record(self, subject: kinds.Subject, verb: str, **values: Any) -> None:
        self.audit.append(
            AuditEvent(
                subject_kind=self.kind,
                customer_id=subject.customer_id,
                actor=None,
                verb=verb,
                before=values.get("before") or {},
                after={**subject.details, **(values.get("after") or {})},
                **self.adapter.audit_fields(subject),
            )
        )

    def tell(
        self, recipients: list[int], kind: str, data: dict[str, Any], subject: kinds.Subject
    ) -> None:
        if recipients:
            self.notes.append((recipients, kind, {**subject.details, **data}, subject.object_id))


def _fire_kind(kind: str, group: list[SlaClock], now: datetime) -> int:
    adapter = kinds.get(kind)
    if adapter is None:
        logger.error("SLA clocks of kind %r have no registered subjects; left as they are", kind)
        return 0
    try:
        process_kind = getattr(adapter, "process_kind", None) or kind
        locked = runtime.try_lock_many(process_kind, [row.object_id for row in group])
    except runtime.UnknownProcess:
        # A kind without a viewflow process (a privacy request): the clock rows this sweep
        # holds (``FOR UPDATE SKIP LOCKED``) are its only lock.
        locked = {row.object_id for row in group}
    ready = [row for row in group if row.object_id in locked]
    if len(ready) < len(group):
        logger.info("%d %s clock(s) busy; next sweep", len(group) - len(ready), kind)
    if not ready:
        return 0
    subjects = adapter.load([row.object_id for row in ready], {row.object_id: row for row in ready})
    supervisors = adapter.supervisors(list(subjects.values()))
    effects = _Effects(kind, adapter)
    changed_clocks: list[SlaClock] = []
    fired = 0
    for row in ready:
        subject = subjects.get(row.object_id)
        due = clocks.due_checkpoints(row, now)
        if subject is None or not due:
            clocks.refresh(row)  # nothing to do: the next moment is recomputed
            changed_clocks.append(row)
            continue
        subject.previous_assignee_id, subject.previous_team_id = (
            subject.assignee_id,
            subject.team_id,
        )
        for checkpoint in due:
            _apply(row, checkpoint, subject, supervisors.get(subject.object_id, []), effects)
            fired += 1
        clocks.refresh(row)
        changed_clocks.append(row)
    clocks.save_many(changed_clocks)
    AuditEvent.objects.bulk_create(effects.audit)
    notify_many(
        [
            {
                "recipient_ids": recipients,
                "kind": note_kind,
                "data": data,
                "subject_kind": kind,
                "object_id": subject_id,
            }
            for recipients, note_kind, data, subject_id in effects.notes
        ]
    )
    adapter.save([s for s in subjects.values() if s.events or s.changed])
    return fired


def _apply(
    row: SlaClock,
    checkpoint: clocks.Checkpoint,
    subject: kinds.Subject,
    supervisors: list[int],
    effects: _Effects,
) -> None:
    clocks.mark_done(row, checkpoint)
    info = {"target": checkpoint.target, "due": checkpoint.at.isoformat()}
    owner_or_supervisors = [subject.assignee_id] if subject.assignee_id else supervisors
    if checkpoint.kind == "warning":
        effects.record(subject, "sla_warning", after=info)
        effects.tell(
            owner_or_supervisors,
            "sla_warning",
            {"number": subject.number, **info},
            subject,
        )
        subject.events.append("sla_warning")
        return
    if checkpoint.kind == "breach":
        effects.record(subject, "sla_breached", after=info)
        effects.tell(
            [*owner_or_supervisors, *supervisors],
            "sla_breached",
            {"number": subject.number, **info},
            subject,
        )
        subject.events.append("sla_breached")
        return
    assert checkpoint.level is not None
    level = row.terms["escalation"][checkpoint.level]
    action = level.get("action")
    number = checkpoint.level + 1
    before: dict[str, Any] = {"escalation_level": row.escalation_level}
    clocks.raise_level(row, number)
    recipients: list[int] = []
    if action == WARN:
        recipients = owner_or_supervisors
    elif action == NOTIFY_SUPERVISOR:
        recipients = supervisors
    elif action == NOTIFY_MANAGER:
        recipients = _managers()
    elif action == RAISE_PRIORITY:
        before["priority"] = subject.priority
        raised = effects.adapter.raise_priority(subject)
        if raised is not None:
            subject.priority = raised
            subject.changed.add("priority")
        recipients = owner_or_supervisors
    elif action == REASSIGN and level.get("team"):
        # The work moves: the adapter hands it to the team through the flow once the
        # sweep's rows are written (``save``), auto-assigning within the team.
        before.update(team=subject.team_id, assignee=subject.assignee_id)
        team_id = int(level["team"])
        subject.team_id, subject.assignee_id, subject.reassign_to = team_id, None, team_id
        recipients = _team_supervisors(team_id)
    effects.record(
        subject,
        "escalated",
        before=before,
        after={
            **info,
            "level": number,
            "action": action,
            "priority": subject.priority,
            "team": subject.team_id,
            "assignee": subject.assignee_id,
        },
    )
    effects.tell(
        recipients,
        "escalated",
        {"number": subject.number, "level": number, "action": action},
        subject,
    )
    subject.events.append("escalated")


def _managers() -> list[int]:
    """Every active person with the manager role (docs/complaints.md, "Escalation")."""
    from django.contrib.auth import get_user_model

    from org.roles import ROLE_MANAGER

    return list(
        get_user_model()
        .objects.filter(is_active=True, groups__name=ROLE_MANAGER)
        .values_list("id", flat=True)
        .distinct()
    )


def _team_supervisors(team_id: int) -> list[int]:
    from org.models import Team

    team = Team.objects.filter(pk=team_id).first()
    return list(team.supervisors.values_list("id", flat=True)) if team else []
