"""WebSocket authentication: the session cookie (browsers), ``?ticket=`` (a short-lived,
single-use socket ticket) or ``?token=`` (an API token, kept for existing clients).

Every socket remembers the credential it opened with (``scope["kefu_credential"]``): the
session, or the API token. A ticket stands for the credential that asked for it, so a
socket opened with a ticket closes when that token or session goes (docs/security.md,
"Tokens and live sockets").

Also decides whether the handshake's ``Origin`` may open a socket: a cookie is sent
by the browser whatever page opens the socket, so a session-authenticated socket
needs an Origin of this site (cross-site WebSocket hijacking). A token or a ticket is
not ambient, so such a client without an Origin (a script) is let in; one that does
send an Origin is held to the same rule.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib import import_module
from typing import Any
from urllib.parse import parse_qs, urlparse

from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.http.request import split_domain_port, validate_host
from django.utils import timezone
from django.utils.crypto import constant_time_compare

SESSION = "session"
TOKEN = "token"


def credential_digest(key: str) -> str:
    """Names a credential in channel-layer messages without carrying the secret itself."""
    return hashlib.sha256(key.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Credential:
    """What a socket opened with: a session (by its key) or an API token (by its key)."""

    kind: str
    key: str

    @property
    def digest(self) -> str:
        return credential_digest(self.key)


def _session_valid(session_key: str, user: Any) -> bool:
    """Django's rule for a session (``django.contrib.auth.get_user``), without its side
    effects: it exists, has not expired, names this user and their current password."""
    store = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    if str(store.get(SESSION_KEY)) != str(user.pk):
        return False
    stored = store.get(HASH_SESSION_KEY)
    if not stored:
        return False
    if constant_time_compare(stored, user.get_session_auth_hash()):
        return True
    return any(
        constant_time_compare(stored, fallback)
        for fallback in user.get_session_auth_fallback_hash()
    )


def credential_valid(user: Any, credential: Credential) -> bool:
    """Whether ``credential`` still lets ``user`` in (reads the database or the session store)."""
    if credential.kind == TOKEN:
        from rest_framework.authtoken.models import Token

        from project.authentication import token_expired

        token = Token.objects.filter(key=credential.key, user_id=user.pk).first()
        return token is not None and not token_expired(token)
    if credential.kind == SESSION:
        return _session_valid(credential.key, user)
    return False


# --- socket tickets -------------------------------------------------------------------
def ticket_lifetime() -> timedelta:
    return timedelta(seconds=settings.KEFU_WS_TICKET_TTL)


def ticket_cache_key(ticket: str) -> str:
    # Stored under its hash: whoever can read the cache cannot open a socket with it.
    return "ws-ticket:" + hashlib.sha256(ticket.encode()).hexdigest()


def issue_ticket(user: Any, credential: Credential) -> tuple[str, datetime]:
    """A random, single-use ticket that opens one socket as ``user`` for a few seconds."""
    ticket = secrets.token_urlsafe(32)
    expires = timezone.now() + ticket_lifetime()
    stored = {
        "user": user.pk,
        "kind": credential.kind,
        "key": credential.key,
        "expires": expires.timestamp(),
    }
    # The cache forgets it a little later; the stored expiry is what counts.
    cache.set(ticket_cache_key(ticket), stored, timeout=int(ticket_lifetime().total_seconds()) + 5)
    return ticket, expires


def _consume_ticket(ticket: str) -> tuple[Any, Credential | None]:
    key = ticket_cache_key(ticket)
    stored = cache.get(key)
    # Whoever deletes it first has it: a ticket opens one socket, even when two race.
    if not isinstance(stored, dict) or not cache.delete(key):
        return AnonymousUser(), None
    if timezone.now().timestamp() >= float(stored["expires"]):
        return AnonymousUser(), None
    user = get_user_model().objects.filter(pk=stored["user"], is_active=True).first()
    credential = Credential(str(stored["kind"]), str(stored["key"]))
    if user is None or not credential_valid(user, credential):
        return AnonymousUser(), None
    return user, credential


@database_sync_to_async
def _user_for_ticket(ticket: str) -> tuple[Any, Credential | None]:
    return _consume_ticket(ticket)


@database_sync_to_async
def _user_for_token(key: str) -> Any:
    from rest_framework.authtoken.models import Token

    from project.authentication import token_expired

    token = Token.objects.select_related("user").filter(key=key).first()
    if token is None or not token.user.is_active or token_expired(token):
        return AnonymousUser()
    return token.user


class TokenAuthMiddleware:
    """Sets ``scope["user"]`` from ``?ticket=`` or ``?token=`` when given;
    ``scope["kefu_auth"]`` says how, ``scope["kefu_credential"]`` with what."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        tickets, keys = query.get("ticket"), query.get("token")
        if tickets:
            user, credential = await _user_for_ticket(tickets[0][:128])
            scope = {**scope, "user": user, "kefu_auth": "ticket", "kefu_credential": credential}
        elif keys:
            key = keys[0][:64]
            user = await _user_for_token(key)
            scope = {**scope, "user": user, "kefu_auth": TOKEN, "kefu_credential": None}
            if user.is_authenticated:
                scope["kefu_credential"] = Credential(TOKEN, key)
        else:
            session = scope.get("session")
            session_key = session.session_key if session is not None else None
            credential = Credential(SESSION, session_key) if session_key else None
            scope = {**scope, "kefu_auth": SESSION, "kefu_credential": credential}
        return await self.inner(scope, receive, send)


def QueueAuthStack(inner: Any) -> Any:
    # The session stack runs first; a ticket or a token, when present, replaces its user.
    return AuthMiddlewareStack(TokenAuthMiddleware(inner))


def _header(scope: dict[str, Any], name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return str(value.decode("latin-1"))
    return None


def origin_allowed(scope: dict[str, Any]) -> bool:
    origin = _header(scope, b"origin")
    if origin is None:
        return scope.get("kefu_auth") in (TOKEN, "ticket")
    parsed = urlparse(origin)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        return False
    if origin.rstrip("/") in {o.rstrip("/") for o in settings.CSRF_TRUSTED_ORIGINS}:
        return True
    host, _port = split_domain_port(parsed.netloc)
    if not validate_host(host, settings.ALLOWED_HOSTS):
        return False
    # Same site: the page's origin names the host the socket was opened on.
    requested = _header(scope, b"host")
    return requested is None or requested.lower() == parsed.netloc.lower()
