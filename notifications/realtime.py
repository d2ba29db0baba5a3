"""The one module that talks to the channel layer; ``*/events.py`` are its only callers."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from .schema import QueueEvent

logger = logging.getLogger(__name__)


def agent_group(user_id: int) -> str:
    return f"agent.{user_id}"


def team_group(team_id: int) -> str:
    return f"team.{team_id}"


SUPERVISORS_GROUP = "supervisors"


def send_event_on_commit(groups: Iterable[str], event: QueueEvent) -> None:
    """Push ``event`` to ``groups`` once the surrounding transaction commits."""
    targets = sorted(set(groups))

    def send() -> None:
        layer = get_channel_layer()
        if layer is None:
            return
        for group in targets:
            try:
                async_to_sync(layer.group_send)(group, event)
            except Exception:  # a push must never break the write that caused it
                logger.exception("Could not push %s to %s", event["event"], group)

    transaction.on_commit(send)
