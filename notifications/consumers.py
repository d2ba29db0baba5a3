"""``/ws/queue/``: the live queue socket (API.md, "Live updates").

Thin, like a view: it authenticates, joins the groups the user may see, relays
what the funnel (``notifications.realtime``) sends to those groups, and reports
heartbeats and presence to ``notifications.presence``. When the user's access changes
(``notifications.signals``) it re-reads it: it leaves and joins groups to match, or closes
with 4401 when the user or the credential it opened with is gone (docs/security.md).
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
from django.contrib.auth import get_user_model
from django.utils import translation

from customers.permissions import sees_work_contents
from org import roles

from . import latency, presence, realtime
from .auth import Credential, credential_valid, origin_allowed
from .models import PresenceChoice
from .selectors import notification_row, unread_count

logger = logging.getLogger(__name__)

CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN_ORIGIN = 4403
# A signed-in user whose roles do not include the queue (marketing, analysts).
CLOSE_FORBIDDEN = 4403
# A ping re-reads the socket's access this often: what no signal announces (a token or a
# session that expired, a change made with QuerySet.update()) closes the socket or moves its
# groups within this time. Re-joining also keeps the socket in channels_redis' groups, which
# forget members after a day (group_expiry).
RECHECK_SECONDS = 300.0
# How many recent pushes a socket remembers to drop the copies of (see _first_time).
RECENT_KEYS = 512


def _outside_work(user: Any) -> bool:
    """Marketing and analysts: roles, none of them a service role (a role-less account keeps
    its own queue)."""
    return bool(roles.roles_of(user)) and not sees_work_contents(user)


def _groups_of(user: Any) -> list[str]:
    groups = [realtime.agent_group(user.pk)]
    if roles.roles_of(user) and not sees_work_contents(user):
        # Marketing and analysts never read the queue's titles, even in a team: a socket
        # whose user lost every service role keeps only their own notifications.
        return groups
    groups += [realtime.team_group(t) for t in sorted(roles.team_ids_of(user))]
    if roles.is_supervisor(user):
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
    credential: Credential
    joined: list[str]
    language: str
    checked_at: float
    closing: bool = False

    async def connect(self) -> None:
        self.joined = []
        self.recent: OrderedDict[tuple[Any, ...], None] = OrderedDict()
        user = self.scope.get("user")
        credential = self.scope.get("kefu_credential")
        if user is None or not user.is_authenticated or not user.is_active or credential is None:
            await self._refuse(CLOSE_UNAUTHENTICATED)
            return
        if not origin_allowed(self.scope):
            await self._refuse(CLOSE_FORBIDDEN_ORIGIN)
            return
        if await database_sync_to_async(_outside_work)(user):
            # The queue is for the service roles: marketing and analysts are refused
            # (docs/customers-roles.md); the page stops reconnecting on 4403.
            await self._refuse(CLOSE_FORBIDDEN)
            return
        self.user, self.credential = user, credential
        self.language = _language(self.scope)
        if isinstance(self.channel_layer, InMemoryChannelLayer):
            realtime.register_serving_loop(asyncio.get_running_loop())
        groups, opened, unread = await database_sync_to_async(self._open)()
        for group in groups:
            await self.channel_layer.group_add(group, self.channel_name)
        self.joined, self.checked_at = groups, time.monotonic()
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
        self.closing = True
        await self.accept()
        await self.close(code=code)

    async def send_json(self, content: Any, close: bool = False) -> None:
        if not self.closing:  # nothing follows the close of a revoked socket
            await super().send_json(content, close=close)

    # --- access: re-read when it changes, and every few minutes -------------------------
    def _allowed_groups(self) -> list[str] | None:
        """The groups this socket may be in now; None when its user or credential is gone."""
        user = get_user_model().objects.filter(pk=self.user.pk, is_active=True).first()
        if user is None or not credential_valid(user, self.credential):
            return None
        self.user = user  # fresh roles and teams (permissions caches them on the user)
        return _groups_of(user)

    async def _recheck(self, revoked: Any = ()) -> None:
        groups = None
        if self.credential.digest not in revoked:
            groups = await database_sync_to_async(self._allowed_groups)()
        if groups is None:
            await self._revoke()
            return
        before = self.joined
        for group in before:
            if group not in groups:
                await self.channel_layer.group_discard(group, self.channel_name)
        for group in groups:  # all of them: re-joining refreshes the layer's group expiry
            await self.channel_layer.group_add(group, self.channel_name)
        self.joined, self.checked_at = groups, time.monotonic()
        if groups != before:
            # The page resyncs: rows of a team it left go, rows of a new team come.
            await self.send_json({"type": "access", "groups": groups})

    async def _revoke(self) -> None:
        for group in self.joined:
            await self.channel_layer.group_discard(group, self.channel_name)
        self.joined = []
        await database_sync_to_async(presence.connection_closed)(channel_name=self.channel_name)
        self.closing = True
        await self.close(code=CLOSE_UNAUTHENTICATED)

    async def access_changed(self, message: dict[str, Any]) -> None:
        if not self.closing:
            await self._recheck(message.get("revoked") or ())

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
        if self.closing:
            return
        kind = content.get("type") if isinstance(content, dict) else None
        if kind == "ping":
            await database_sync_to_async(presence.heartbeat)(channel_name=self.channel_name)
            if time.monotonic() - self.checked_at >= RECHECK_SECONDS:
                await self._recheck()
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
        message, pushed_at = latency.unstamp(message)
        key = ("q", message["event"], message["object"]["object_id"], message["version"])
        if self._first_time(key):
            await self.send_json(message)
            latency.observe("queue", pushed_at)

    async def notification_created(self, message: dict[str, Any]) -> None:
        message, pushed_at = latency.unstamp(message)
        if not self._first_time(("n", message["id"])):
            return
        found = await database_sync_to_async(self._notification)(int(message["id"]))
        if found is not None:
            row, unread = found
            await self.send_json({"type": "notification", "notification": row, "unread": unread})
            latency.observe("notification", pushed_at)

    def _notification(self, notification_id: int) -> tuple[dict[str, Any], int] | None:
        with translation.override(self.language):
            row = notification_row(self.user.pk, notification_id)
        if row is None:
            return None
        return row, unread_count(self.user.pk)

    async def presence_changed(self, message: dict[str, Any]) -> None:
        message, pushed_at = latency.unstamp(message)
        await self.send_json({"type": "presence", "agent": message["agent"]})
        latency.observe("presence", pushed_at)
