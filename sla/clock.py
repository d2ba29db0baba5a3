"""The SLA clock of a subject: the only code that writes ``SlaClock``.

A process starts a clock when its subject opens (``start``), pauses and resumes it while
the customer is waited on, meets its targets (``meet``; ``reopen`` un-meets them), and
stops it when the subject is done (``stop``). The ladder (``sla.ladder``) marks its
checkpoints. Every writer recomputes the derived columns — the queue's ``due``, the
``warning`` and ``breached`` flags and ``next_at``, the moment the dispatcher next looks
at the clock — so they can never disagree with the targets.

A moment is "X % of a target elapsed in business time, not counting paused time":
``add_business_seconds(calendar, started, X% of target + paused)``. The policy's terms
(targets, warning threshold, escalation ladder and the calendar's hours) are copied when
the clock starts, so a later policy edit applies only to clocks started afterwards.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from core import configcache
from core.bulk import update_columns

from .calendars import BusinessCalendar as CalendarSpec
from .calendars import add_business_seconds, business_seconds_between, parse_calendar
from .models import BusinessCalendar, SlaClock, SlaPolicy

# The columns every writer may change (``save`` writes them all: one statement).
CLOCK_FIELDS = [
    "policy",
    "terms",
    "started_at",
    "paused_at",
    "paused_seconds",
    "targets",
    "done",
    "due",
    "warning",
    "breached",
    "escalation_level",
    "acknowledged_level",
    "next_at",
    "stopped_at",
    "updated_at",
]


# The columns a sweep of the ladder changes (``save_many``).
LADDER_FIELDS = [
    "targets",
    "done",
    "due",
    "warning",
    "breached",
    "escalation_level",
    "next_at",
    "updated_at",
]


@dataclass(frozen=True)
class Checkpoint:
    key: str  # unique per clock: "first_response:warning", "resolution:breach", "level:2"
    at: datetime
    target: str
    kind: str  # "warning" | "breach" | "level"
    level: int | None = None


# --- policies and terms ------------------------------------------------------------------
def match_policy(*, kind: str, priority: str, customer_tier: str | None) -> SlaPolicy | None:
    """The most specific active policy of ``kind`` for a priority and tier (a policy without
    a tier matches any); the newest wins a tie."""
    candidates = [
        p
        for p in active_policies(kind)
        if p.priority == priority and p.customer_tier in (customer_tier, None)
    ]
    best: SlaPolicy | None = None
    for policy in candidates:
        if customer_tier is not None and policy.customer_tier == customer_tier:
            return policy
        best = best or policy
    return best


def active_policies(kind: str) -> list[SlaPolicy]:
    """The kind's active policies, newest first, with their calendars: read once per
    configuration change in each process (``core.configcache``)."""
    return configcache.cached(
        f"sla-policies:{kind}",
        lambda: list(
            SlaPolicy.objects.filter(kind=kind, is_active=True)
            .select_related("calendar")
            .order_by("-created_at", "-id")
        ),
    )


def calendar_terms(calendar: BusinessCalendar | None) -> dict[str, Any] | None:
    if calendar is None:
        return None
    return {"tz": calendar.timezone, "hours": calendar.hours, "holidays": calendar.holidays}


def terms_for(
    policy: SlaPolicy, target_order: Iterable[str], fallback: BusinessCalendar | None
) -> dict[str, Any]:
    """Snapshot of a policy: its targets in the kind's order, its warning share, its ladder
    and the policy's calendar, else ``fallback`` (the team's), else 24x7."""
    calendar = policy.calendar or fallback
    targets = [[name, int(policy.targets[name])] for name in target_order if name in policy.targets]
    return {
        "policy_id": policy.pk,
        "policy": policy.name,
        "targets": targets,
        "warning_percent": policy.warning_percent,
        "escalation": list(policy.escalation or []),
        "calendar": calendar_terms(calendar),
    }


@lru_cache(maxsize=256)
def _parse_cached(blob: str) -> CalendarSpec:
    data = json.loads(blob)
    return parse_calendar(data["tz"], data["hours"], data["holidays"])


def calendar_of(terms: dict[str, Any]) -> CalendarSpec | None:
    data = terms.get("calendar")
    if not data:
        return None
    return _parse_cached(json.dumps(data, sort_keys=True))


# --- reading a clock ---------------------------------------------------------------------
def _when(value: str | None) -> datetime | None:
    return parse_datetime(value) if value else None


def target_names(clock: SlaClock) -> list[str]:
    return [name for name, _seconds in clock.terms.get("targets", [])]


def target_due(clock: SlaClock, target: str) -> datetime | None:
    return _when((clock.targets.get(target) or {}).get("due"))


def is_met(clock: SlaClock, target: str) -> bool:
    return bool((clock.targets.get(target) or {}).get("met_at"))


def moment(clock: SlaClock, target: str, percent: float) -> datetime:
    """When ``percent`` of ``target`` will have elapsed (pauses excluded)."""
    assert clock.started_at is not None
    seconds = dict(clock.terms["targets"])[target]
    budget = math.ceil(seconds * percent / 100)
    return add_business_seconds(
        calendar_of(clock.terms), clock.started_at, budget + clock.paused_seconds
    )


def pending_checkpoints(clock: SlaClock) -> list[Checkpoint]:
    """Checkpoints not yet handled whose target is still open, earliest first; none while
    the clock is paused or stopped."""
    terms = clock.terms
    if not terms or clock.started_at is None or clock.paused_at is not None:
        return []
    if clock.stopped_at is not None:
        return []
    done = set(clock.done)
    out: list[Checkpoint] = []
    for target in target_names(clock):
        if is_met(clock, target):
            continue
        for kind, percent in (("warning", terms.get("warning_percent")), ("breach", 100)):
            key = f"{target}:{kind}"
            if percent and key not in done:
                out.append(Checkpoint(key, moment(clock, target, percent), target, kind))
        for index, level in enumerate(terms.get("escalation", [])):
            key = f"level:{index}"
            if level.get("target") == target and key not in done:
                at = moment(clock, target, level["at_percent"])
                out.append(Checkpoint(key, at, target, "level", index))
    out.sort(key=lambda c: (c.at, c.level if c.level is not None else -1))
    return out


def due_checkpoints(clock: SlaClock, now: datetime) -> list[Checkpoint]:
    return [c for c in pending_checkpoints(clock) if c.at <= now]


def ladder(clock: SlaClock) -> list[dict[str, Any]]:
    """Every checkpoint of the clock with its state, in order, for the process chart:
    ``{"key", "target", "kind", "level", "action", "at", "state"}`` where state is
    "done", "pending" or "skipped" (its target was met first)."""
    if not clock.terms or clock.started_at is None:
        return []
    done = set(clock.done)
    out: list[dict[str, Any]] = []
    steps: list[tuple[str, str, float, int | None, str | None]] = []
    for target in target_names(clock):
        if clock.terms.get("warning_percent"):
            steps.append((f"{target}:warning", target, clock.terms["warning_percent"], None, None))
        steps.append((f"{target}:breach", target, 100, None, None))
    for number, level in enumerate(clock.terms.get("escalation", [])):
        steps.append(
            (f"level:{number}", level["target"], level["at_percent"], number, level.get("action"))
        )
    for key, target, percent, index, action in steps:
        if target not in dict(clock.terms["targets"]):
            continue
        if key in done:
            state = "done"
        elif is_met(clock, target):
            state = "skipped"
        else:
            state = "pending"
        kind = "level" if index is not None else key.rsplit(":", 1)[1]
        out.append(
            {
                "key": key,
                "target": target,
                "kind": kind,
                "level": None if index is None else index + 1,
                "action": action,
                "at": moment(clock, target, percent),
                "state": state,
            }
        )
    out.sort(key=lambda step: step["at"])
    return out


# --- writing a clock ---------------------------------------------------------------------
def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def refresh(clock: SlaClock) -> None:
    """Recomputes every derived column from the terms, the start, the paused time and the
    targets' state (in memory; the caller saves)."""
    running = clock.started_at is not None and clock.stopped_at is None and bool(clock.terms)
    unmet: list[datetime] = []
    for target in target_names(clock):
        state = dict(clock.targets.get(target) or {})
        if clock.started_at is not None and clock.paused_at is None:
            state["due"] = _iso(moment(clock, target, 100))
        state.setdefault("met_at", None)
        state.setdefault("breached", False)
        clock.targets[target] = state
        if not state["met_at"] and state.get("due"):
            due = _when(state["due"])
            assert due is not None
            unmet.append(due)
    clock.due = min(unmet) if running and unmet else None
    clock.breached = any(clock.targets[t]["breached"] for t in target_names(clock))
    nearest = next((t for t in target_names(clock) if not is_met(clock, t)), None)
    clock.warning = running and nearest is not None and f"{nearest}:warning" in clock.done
    pending = pending_checkpoints(clock) if running else []
    clock.next_at = pending[0].at if pending else None


def save(clock: SlaClock) -> None:
    refresh(clock)
    if clock.pk is None:
        clock.save()
    else:
        clock.save(update_fields=CLOCK_FIELDS)


def start(
    *,
    kind: str,
    object_id: int,
    policy: SlaPolicy | None,
    target_order: Iterable[str],
    fallback_calendar: BusinessCalendar | None,
    at: datetime,
) -> SlaClock:
    """The subject's clock, started at ``at`` under ``policy``'s terms (no policy: a clock
    with no targets, so the subject still has one to read)."""
    clock = SlaClock(kind=kind, object_id=object_id, policy=policy)
    if policy is not None:
        clock.terms = terms_for(policy, target_order, fallback_calendar)
        clock.started_at = at
    save(clock)
    return clock


def restart(*, kind: str, object_id: int, terms: dict[str, Any], at: datetime) -> SlaClock:
    """The subject's clock under ``terms`` written by its kind (no policy row: a privacy
    request's statutory deadline, a complaint's approval), started at ``at``. A subject that
    had a clock of the kind before gets it back as new (its earlier run's state, checkpoints
    and levels cleared: one clock per subject); the caller holds the subject's lock."""
    clock = SlaClock.objects.select_for_update().filter(
        kind=kind, object_id=object_id
    ).first() or SlaClock(kind=kind, object_id=object_id)
    clock.policy = None
    clock.terms = terms
    clock.started_at = at
    clock.paused_at = None
    clock.paused_seconds = 0
    clock.targets = {}
    clock.done = []
    clock.escalation_level = 0
    clock.acknowledged_level = 0
    clock.stopped_at = None
    save(clock)
    return clock


def pause(clock: SlaClock, at: datetime | None = None) -> None:
    """The clock stands still (the subject waits on the customer); idempotent."""
    if clock.paused_at is None:
        clock.paused_at = at or timezone.now()
    save(clock)


def resume(clock: SlaClock, at: datetime | None = None) -> None:
    """Runs again: the business time it stood still is banked and every due moment moves."""
    if clock.paused_at is not None:
        now = at or timezone.now()
        clock.paused_seconds += business_seconds_between(
            calendar_of(clock.terms), clock.paused_at, now
        )
        clock.paused_at = None
    clock.stopped_at = None
    save(clock)


def meet(clock: SlaClock, targets: Iterable[str], at: datetime) -> list[str]:
    """Marks ``targets`` met at ``at`` (those not met yet); a target met after its due moment
    is breached even if its checkpoint has not fired yet. Returns the targets met now."""
    met: list[str] = []
    for target in targets:
        state = clock.targets.get(target)
        if state is None or state.get("met_at"):
            continue
        state["met_at"] = _iso(at)
        due = _when(state.get("due"))
        if due is not None and at > due:
            state["breached"] = True
        met.append(target)
    save(clock)
    return met


def reopen(clock: SlaClock, targets: Iterable[str], at: datetime | None = None) -> None:
    """``targets`` are open again (a reopened subject) and the clock runs."""
    for target in targets:
        state = clock.targets.get(target)
        if state is not None:
            state["met_at"] = None
    resume(clock, at)


def stop(clock: SlaClock, at: datetime | None = None) -> None:
    """The subject is done: the clock stops (and stands still) until ``resume``/``reopen``."""
    now = at or timezone.now()
    if clock.paused_at is None:
        clock.paused_at = now
    clock.stopped_at = now
    save(clock)


def acknowledge(clock: SlaClock) -> int:
    """A supervisor saw the current escalation level; returns the level acknowledged."""
    clock.acknowledged_level = clock.escalation_level
    save(clock)
    return clock.acknowledged_level


def mark_done(clock: SlaClock, checkpoint: Checkpoint) -> None:
    """The ladder handled ``checkpoint`` (in memory; ``save_many`` writes the sweep's)."""
    clock.done = [*clock.done, checkpoint.key]
    if checkpoint.kind == "breach":
        clock.targets[checkpoint.target]["breached"] = True


def raise_level(clock: SlaClock, level: int) -> None:
    clock.escalation_level = max(clock.escalation_level, level)


def save_many(rows: list[SlaClock]) -> None:
    """Writes a sweep's clocks in one statement, their derived columns recomputed."""
    if not rows:
        return
    now = timezone.now()
    for row in rows:
        refresh(row)
        row.updated_at = now
    update_columns(rows, LADDER_FIELDS)
