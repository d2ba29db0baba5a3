"""``/ws/queue/``: the live queue socket (API.md, "Live updates").

Thin, like a view: it authenticates, joins the groups the user may see, relays
what the funnel (``notifications.realtime``) sends to those groups, and reports
heartbeats and presence to ``notifications.presence``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.layers import InMemoryChannelLayer
from django.conf import settings
from django.utils import translation

from . import presence, realtime
from .auth import origin_allowed
from .models import PresenceChoice
from .selectors import notification_row, unread_count

logger = logging.getLogger(__name__)

CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN_ORIGIN = 4403
# channels_redis forgets group members after a day (group_expiry); re-join well before.
REJOIN_SECONDS = 3600.0
# How many recent pushes a socket remembers to drop the copies of (see _first_time).
RECENT_KEYS = 512


def _groups_of(user: Any) -> list[str]:
    from tickets import permissions

    groups = [realtime.agent_group(user.pk)]
    groups += [realtime.team_group(t) for t in sorted(permissions.team_ids_of(user))]
    if permissions.is_supervisor(user):
        groups.append(realtime.SUPERVISORS_GROUP)
    return groups


def _language(scope: dict[str, Any]) -> str:
    """The reader's language: the language cookie, then Accept-Language, then the default."""
    cookie = scope.get("cookies", {}).get(settings.LANGUAGE_COOKIE_NAME)
    if cookie:
        try:
            return translation.get_supported_language_variant(cookie)
        except LookupError:
            pass
    for key, value in scope.get("headers", []):
        if key == b"accept-language":
            from django.utils.translation.trans_real import parse_accept_lang_header

            for code, _q in parse_accept_lang_header(value.decode("latin-1")):
                if code == "*":
                    break
                try:
                    return translation.get_supported_language_variant(code)
                except LookupError:
                    continue
    return settings.LANGUAGE_CODE


class QueueConsumer(AsyncJsonWebsocketConsumer):
    user: Any
    joined: list[str]
    language: str
    joined_at: float

    async def connect(self) -> None:
        self.joined = []
        self.recent: OrderedDict[tuple[Any, ...], None] = OrderedDict()
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not user.is_active:
            await self._refuse(CLOSE_UNAUTHENTICATED)
            return
        if not origin_allowed(self.scope):
            await self._refuse(CLOSE_FORBIDDEN_ORIGIN)
            return
        self.user = user
        self.language = _language(self.scope)
        if isinstance(self.channel_layer, InMemoryChannelLayer):
            realtime.register_serving_loop(asyncio.get_running_loop())
        groups, opened, unread = await database_sync_to_async(self._open)()
        for group in groups:
            await self.channel_layer.group_add(group, self.channel_name)
        self.joined, self.joined_at = groups, time.monotonic()
        await self.accept()
        await self.send_json(
            {
                "type": "hello",
                "user": user.pk,
                "groups": groups,
                "presence": opened.presence,
                "unread": unread,
                "heartbeat": presence.heartbeat_seconds(),
            }
        )

    async def _refuse(self, code: int) -> None:
        # A close before the handshake completes reaches browsers as a bare HTTP 403;
        # accepting first lets the client read the code (API.md).
        await self.accept()
        await self.close(code=code)

    def _open(self) -> tuple[list[str], presence.Opened, int]:
        groups = _groups_of(self.user)
        opened = presence.connection_opened(user_id=self.user.pk, channel_name=self.channel_name)
        return groups, opened, unread_count(self.user.pk)

    async def disconnect(self, code: int) -> None:
        for group in self.joined:
            await self.channel_layer.group_discard(group, self.channel_name)
        if self.joined:
            await database_sync_to_async(presence.connection_closed)(channel_name=self.channel_name)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        kind = content.get("type") if isinstance(content, dict) else None
        if kind == "ping":
            await database_sync_to_async(presence.heartbeat)(channel_name=self.channel_name)
            if time.monotonic() - self.joined_at > REJOIN_SECONDS:
                for group in self.joined:
                    await self.channel_layer.group_add(group, self.channel_name)
                self.joined_at = time.monotonic()
            await self.send_json({"type": "pong"})
        elif kind == "presence" and content.get("status") in PresenceChoice.Status.values:
            status = await database_sync_to_async(presence.set_status)(
                user_id=self.user.pk, status=content["status"]
            )
            await self.send_json({"type": "presence.ack", "presence": status})
        else:
            with translation.override(self.language):
                detail = translation.gettext(
                    'Unknown message; send {"type": "ping"} or {"type": "presence", '
                    '"status": "online"|"away"}.'
                )
            await self.send_json({"type": "error", "detail": detail})

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        try:
            await super().receive(text_data=text_data, bytes_data=bytes_data)
        except ValueError:  # not JSON
            await self.receive_json(None)

    # --- messages from the channel layer (the "type" names the handler) -------------
    def _first_time(self, key: tuple[Any, ...]) -> bool:
        """A push goes to every group that shows it, so a socket in two of those groups
        (its agent's and its team's) gets it twice: only the first copy goes out."""
        if key in self.recent:
            return False
        self.recent[key] = None
        if len(self.recent) > RECENT_KEYS:
            self.recent.popitem(last=False)
        return True

    async def queue_event(self, message: dict[str, Any]) -> None:
        key = ("q", message["event"], message["object"]["object_id"], message["version"])
        if self._first_time(key):
            await self.send_json(message)

    async def notification_created(self, message: dict[str, Any]) -> None:
        if not self._first_time(("n", message["id"])):
            return
        found = await database_sync_to_async(self._notification)(int(message["id"]))
        if found is not None:
            row, unread = found
            await self.send_json({"type": "notification", "notification": row, "unread": unread})

    def _notification(self, notification_id: int) -> tuple[dict[str, Any], int] | None:
        with translation.override(self.language):
            row = notification_row(self.user.pk, notification_id)
        if row is None:
            return None
        return row, unread_count(self.user.pk)

    async def presence_changed(self, message: dict[str, Any]) -> None:
        await self.send_json({"type": "presence", "agent": message["agent"]})
