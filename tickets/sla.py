"""SLA policy matching and the moments an SLA clock reaches (pure apart from the policy query).

The terms of the matched policy (targets, warning threshold, escalation
levels and the calendar's hours) are copied onto the ticket when it opens, so
a later policy edit applies only to tickets opened afterwards. A moment is
"X % of a target elapsed in business time, not counting paused time":
``add_business_seconds(calendar, started, X% of target + paused)``.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from customers.choices import CustomerTier
from sla.calendars import BusinessCalendar as CalendarSpec
from sla.calendars import add_business_seconds, business_seconds_between, parse_calendar

if TYPE_CHECKING:
    from sla.models import BusinessCalendar

    from .models import SlaPolicy, Ticket

# A boundary timer always needs a moment; with nothing left to watch it is
# armed far away and cancelled when the task completes.
NOTHING_DUE = timedelta(days=3650)
TARGETS = ("first_response", "resolution")


@dataclass(frozen=True)
class Checkpoint:
    key: str  # unique per ticket: "first_response:warning", "resolution:breach", "level:2"
    at: datetime
    target: str
    kind: str  # "warning" | "breach" | "level"
    level: int | None = None


def match_policy(*, priority: str, customer_tier: str | None) -> SlaPolicy | None:
    """The most specific active policy for a priority and tier; newest wins a tie."""
    from .models import SlaPolicy

    tier = customer_tier or CustomerTier.STANDARD
    candidates = (
        SlaPolicy.objects.filter(priority=priority, is_active=True)
        .filter(Q(customer_tier=tier) | Q(customer_tier__isnull=True))
        .select_related("calendar")
        .order_by("-created_at", "-id")
    )
    best: SlaPolicy | None = None
    for policy in candidates:
        if policy.customer_tier == tier:
            return policy
        best = best or policy
    return best


def calendar_terms(calendar: BusinessCalendar | None) -> dict[str, Any] | None:
    if calendar is None:
        return None
    return {"tz": calendar.timezone, "hours": calendar.hours, "holidays": calendar.holidays}


def terms_for(policy: SlaPolicy, team_calendar: BusinessCalendar | None) -> dict[str, Any]:
    """Snapshot of a policy; the policy's calendar, else the team's, else 24x7."""
    calendar = policy.calendar or team_calendar
    return {
        "policy_id": policy.pk,
        "policy": policy.name,
        "first_response_seconds": policy.first_response_seconds,
        "resolution_seconds": policy.resolution_seconds,
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


def moment(ticket: Ticket, target: str, percent: float) -> datetime:
    """When ``percent`` of ``target`` will have elapsed (pauses excluded)."""
    terms = ticket.sla_terms
    assert ticket.sla_started_at is not None
    budget = math.ceil(terms[f"{target}_seconds"] * percent / 100)
    return add_business_seconds(
        calendar_of(terms), ticket.sla_started_at, budget + ticket.sla_paused_seconds
    )


def refresh_due_times(ticket: Ticket) -> None:
    """Recompute the due fields from the terms, the start and the paused time."""
    if not ticket.sla_terms or ticket.sla_started_at is None:
        ticket.first_response_due = ticket.resolution_due = ticket.sla_due = None
        return
    ticket.first_response_due = moment(ticket, "first_response", 100)
    ticket.resolution_due = moment(ticket, "resolution", 100)
    ticket.sla_due = queue_due(ticket)


def queue_due(ticket: Ticket) -> datetime | None:
    """The due moment that orders the queue: the nearest target not yet met."""
    if ticket.first_responded_at is None and ticket.first_response_due is not None:
        return min(ticket.first_response_due, ticket.resolution_due or ticket.first_response_due)
    if ticket.resolved_at is None:
        return ticket.resolution_due
    return None


def warning_fired(ticket: Ticket) -> bool:
    """The warning of the target due next has fired (and the target is still open)."""
    if ticket.resolved_at is not None:
        return False
    target = "first_response" if ticket.first_responded_at is None else "resolution"
    return f"{target}:warning" in ticket.sla_done


def _target_met(ticket: Ticket, target: str) -> bool:
    if target == "first_response":
        return ticket.first_responded_at is not None or ticket.resolved_at is not None
    return ticket.resolved_at is not None


def pending_checkpoints(ticket: Ticket) -> list[Checkpoint]:
    """Checkpoints not yet handled whose target is still open, earliest first."""
    terms = ticket.sla_terms
    if not terms or ticket.sla_started_at is None or ticket.sla_paused_at is not None:
        return []
    done = set(ticket.sla_done)
    out: list[Checkpoint] = []
    for target in TARGETS:
        if _target_met(ticket, target):
            continue
        for kind, percent in (("warning", terms.get("warning_percent")), ("breach", 100)):
            key = f"{target}:{kind}"
            if percent and key not in done:
                out.append(Checkpoint(key, moment(ticket, target, percent), target, kind))
        for index, level in enumerate(terms.get("escalation", [])):
            key = f"level:{index}"
            if level.get("target") == target and key not in done:
                at = moment(ticket, target, level["at_percent"])
                out.append(Checkpoint(key, at, target, "level", index))
    out.sort(key=lambda c: (c.at, c.level if c.level is not None else -1))
    return out


def next_checkpoint_at(ticket: Ticket) -> datetime:
    pending = pending_checkpoints(ticket)
    return pending[0].at if pending else timezone.now() + NOTHING_DUE


def due_checkpoints(ticket: Ticket, now: datetime) -> list[Checkpoint]:
    return [c for c in pending_checkpoints(ticket) if c.at <= now]


def pause_elapsed(ticket: Ticket, now: datetime) -> int:
    """Business seconds the clock stood still for the current pause."""
    if ticket.sla_paused_at is None:
        return 0
    return business_seconds_between(calendar_of(ticket.sla_terms), ticket.sla_paused_at, now)


def pending_auto_close_at(ticket: Ticket) -> datetime:
    since = ticket.sla_paused_at or timezone.now()
    return since + timedelta(days=settings.KEFU_PENDING_AUTO_CLOSE_DAYS)


def resolved_auto_close_at(ticket: Ticket) -> datetime:
    since = ticket.resolved_at or timezone.now()
    return since + timedelta(days=settings.KEFU_RESOLVED_AUTO_CLOSE_DAYS)


def reopen_window_end(ticket: Ticket) -> datetime:
    since = ticket.closed_at or timezone.now()
    return since + timedelta(days=settings.KEFU_CLOSED_REOPEN_DAYS)
