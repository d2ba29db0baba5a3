"""Agents' presence: the agent's own Online / Away switch, and whether they are here.

An agent is here while one of their WebSockets is live. A socket that closed counts for
``KEFU_PRESENCE_GRACE`` seconds more, so moving from one Kefu page to another (the old
page's socket closes, the new one's opens a moment later) is not leaving; a socket that
stops sending heartbeats (a laptop lid closed, a network gone without a close frame) is
dead after three missed beats. ``sweep_dead_connections`` removes both kinds.

Present agents are online or away as they chose with the switch (``PresenceChoice``,
kept across pages, tabs and days); absent agents are offline. Hiding a tab changes
nothing: an agent reading another window is still at work. ``AgentProfile.presence``
(which auto-assignment reads) follows, and supervisors' screens and the agent's own
tabs are told on commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from org.choices import Presence
from org.models import AgentProfile

from .models import Connection, PresenceChoice
from .realtime import SUPERVISORS_GROUP, agent_group, presence_message, send_event_on_commit


def heartbeat_seconds() -> int:
    return int(settings.KEFU_WS_HEARTBEAT)


def dead_after() -> timedelta:
    """A socket silent for three heartbeats is dead."""
    return timedelta(seconds=3 * heartbeat_seconds())


def grace() -> timedelta:
    """How long a closed socket still counts: long enough to load the next page."""
    return timedelta(seconds=float(settings.KEFU_PRESENCE_GRACE))


@dataclass(frozen=True)
class Opened:
    presence: str


def connection_opened(*, user_id: int, channel_name: str) -> Opened:
    with transaction.atomic():
        Connection.objects.update_or_create(
            channel_name=channel_name,
            defaults={"user_id": user_id, "last_seen": timezone.now(), "closed_at": None},
        )
        return Opened(_recompute(user_id))


def connection_closed(*, channel_name: str) -> None:
    """Marks the socket closed; the agent stays present through the grace period, and the
    sweep after it decides whether they left."""
    Connection.objects.filter(channel_name=channel_name, closed_at__isnull=True).update(
        closed_at=timezone.now()
    )


def heartbeat(*, channel_name: str) -> None:
    """Refreshes a socket's ``last_seen``; writes at most once per half heartbeat."""
    now = timezone.now()
    Connection.objects.filter(
        channel_name=channel_name,
        closed_at__isnull=True,
        last_seen__lt=now - timedelta(seconds=heartbeat_seconds() / 2),
    ).update(last_seen=now)


def set_status(*, user_id: int, status: str) -> str:
    """The agent's switch: online or away, on every page and tab until switched again."""
    if status not in PresenceChoice.Status.values:
        raise ValueError(status)
    with transaction.atomic():
        PresenceChoice.objects.update_or_create(user_id=user_id, defaults={"status": status})
        return _recompute(user_id)


def chosen_status(user_id: int) -> str:
    chosen = PresenceChoice.objects.filter(user_id=user_id).values_list("status", flat=True)
    return chosen.first() or PresenceChoice.Status.ONLINE


def sweep_dead_connections(now: datetime | None = None) -> int:
    """Removes sockets that closed before the grace period or whose heartbeat stopped, and
    recomputes their agents' presence."""
    now = now or timezone.now()
    with transaction.atomic():
        stale = Connection.objects.select_for_update(skip_locked=True).filter(_gone(now))
        rows = list(stale.values_list("pk", "user_id"))
        if not rows:
            return 0
        Connection.objects.filter(pk__in=[pk for pk, _ in rows]).delete()
        for user_id in sorted({uid for _, uid in rows}):
            _recompute(user_id, now)
        return len(rows)


def _gone(now: datetime) -> Q:
    return Q(closed_at__lt=now - grace()) | Q(
        closed_at__isnull=True, last_seen__lt=now - dead_after()
    )


def _recompute(user_id: int, now: datetime | None = None) -> str:
    """Derives the agent's presence; tells supervisors and the agent's tabs of a change."""
    now = now or timezone.now()
    here = Connection.objects.filter(user_id=user_id).exclude(_gone(now)).exists()
    if not here:
        presence = Presence.OFFLINE
    elif chosen_status(user_id) == PresenceChoice.Status.AWAY:
        presence = Presence.AWAY
    else:
        presence = Presence.ONLINE
    profile = AgentProfile.objects.select_for_update().filter(user_id=user_id).first()
    if profile is None:
        return presence  # not an agent (an administrator's tab): nothing to route on
    if profile.presence != presence:
        profile.presence = presence
        profile.save(update_fields=["presence", "updated_at"])
        from org.selectors import agent_summary, assignable_agents

        # The board lists those who take work; the person's own tabs hear of it in any case.
        groups = [agent_group(user_id)]
        if assignable_agents().filter(pk=user_id).exists():
            groups.append(SUPERVISORS_GROUP)
        send_event_on_commit(groups, presence_message(agent_summary(user_id)))
    return presence
