"""A ticket's SLA: its two targets, the policy it matches, and the moments of the ticket's
own timers (auto-close, reopen window). The clock itself is the platform's
(``sla.clock``); the ladder acts on tickets through ``services.escalation``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.utils import timezone

from customers.choices import CustomerTier
from sla import clock as clocks
from sla.models import SlaPolicy

from .models import TICKET_TARGETS

if TYPE_CHECKING:
    from .models import Ticket

KIND = "ticket"
# A ticket's targets, in the order they fall due: the first reply, then the resolution.
TARGETS = TICKET_TARGETS


def match_policy(*, priority: str, customer_tier: str | None) -> SlaPolicy | None:
    """The most specific active ticket policy for a priority and tier; newest wins a tie."""
    return clocks.match_policy(
        kind=KIND, priority=priority, customer_tier=customer_tier or CustomerTier.STANDARD
    )


def pending_auto_close_at(ticket: Ticket) -> datetime:
    since = ticket.sla_paused_at or timezone.now()
    return since + timedelta(days=settings.KEFU_PENDING_AUTO_CLOSE_DAYS)


def resolved_auto_close_at(ticket: Ticket) -> datetime:
    since = ticket.resolved_at or timezone.now()
    return since + timedelta(days=settings.KEFU_RESOLVED_AUTO_CLOSE_DAYS)


def reopen_window_end(ticket: Ticket) -> datetime:
    since = ticket.closed_at or timezone.now()
    return since + timedelta(days=settings.KEFU_CLOSED_REOPEN_DAYS)
