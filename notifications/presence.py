"""Agents' presence, kept live from their WebSocket connections.

Every socket is a ``Connection`` row refreshed by the client's heartbeat. An
agent is online while at least one live socket says so, away while every live
socket says away, and offline without one. ``AgentProfile.presence`` (which
auto-assignment reads) follows, and supervisors' screens are told on commit.
A socket that stops sending heartbeats (a laptop lid closed, a dropped network
that never sent a close frame) is removed by ``sweep_dead_connections``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from tickets.choices import Presence
from tickets.models import AgentProfile

from .models import Connection
from .realtime import SUPERVISORS_GROUP, presence_message, send_event_on_commit


def heartbeat_seconds() -> int:
    return int(settings.KEFU_WS_HEARTBEAT)


def dead_after() -> timedelta:
    """A socket silent for three heartbeats is dead."""
    return timedelta(seconds=3 * heartbeat_seconds())


@dataclass(frozen=True)
class Opened:
    presence: str


def connection_opened(*, user_id: int, channel_name: str) -> Opened:
    """Records a new socket. A new tab of an agent who chose "away" stays away."""
    with transaction.atomic():
        current = (
            AgentProfile.objects.filter(user_id=user_id).values_list("presence", flat=True).first()
        )
        others = Connection.objects.filter(user_id=user_id).exists()
        status = (
            Connection.Status.AWAY
            if others and current == Presence.AWAY
            else Connection.Status.ONLINE
        )
        Connection.objects.update_or_create(
            channel_name=channel_name,
            defaults={"user_id": user_id, "status": status, "last_seen": timezone.now()},
        )
        return Opened(_recompute(user_id))


def connection_closed(*, channel_name: str) -> None:
    with transaction.atomic():
        user_id = (
            Connection.objects.filter(channel_name=channel_name)
            .values_list("user_id", flat=True)
            .first()
        )
        if user_id is None:
            return
        Connection.objects.filter(channel_name=channel_name).delete()
        _recompute(user_id)


def heartbeat(*, channel_name: str) -> None:
    """Refreshes a socket's ``last_seen``; writes at most once per half heartbeat."""
    now = timezone.now()
    Connection.objects.filter(
        channel_name=channel_name,
        last_seen__lt=now - timedelta(seconds=heartbeat_seconds() / 2),
    ).update(last_seen=now)


def set_status(*, user_id: int, status: str) -> str:
    """The agent says they are online or away (every tab follows)."""
    if status not in Connection.Status.values:
        raise ValueError(status)
    with transaction.atomic():
        Connection.objects.filter(user_id=user_id).update(status=status, last_seen=timezone.now())
        return _recompute(user_id)


def sweep_dead_connections(now: Any = None) -> int:
    """Removes sockets whose heartbeat stopped and recomputes their agents' presence."""
    now = now or timezone.now()
    with transaction.atomic():
        stale = Connection.objects.select_for_update(skip_locked=True).filter(
            last_seen__lt=now - dead_after()
        )
        rows = list(stale.values_list("pk", "user_id"))
        if not rows:
            return 0
        Connection.objects.filter(pk__in=[pk for pk, _ in rows]).delete()
        for user_id in sorted({uid for _, uid in rows}):
            _recompute(user_id)
        return len(rows)


def _recompute(user_id: int) -> str:
    """Derives the agent's presence from their live sockets; tells supervisors of a change."""
    statuses = set(Connection.objects.filter(user_id=user_id).values_list("status", flat=True))
    if Connection.Status.ONLINE in statuses:
        presence = Presence.ONLINE
    elif statuses:
        presence = Presence.AWAY
    else:
        presence = Presence.OFFLINE
    profile = AgentProfile.objects.select_for_update().filter(user_id=user_id).first()
    if profile is None:
        return presence  # not an agent (an administrator's tab): nothing to route on
    if profile.presence != presence:
        profile.presence = presence
        profile.save(update_fields=["presence", "updated_at"])
        from tickets.selectors import agent_summary

        send_event_on_commit([SUPERVISORS_GROUP], presence_message(agent_summary(user_id)))
    return presence
