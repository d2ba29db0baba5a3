"""WebSocket authentication: the session cookie (browsers) or ``?token=`` (API clients).

Also decides whether the handshake's ``Origin`` may open a socket: a cookie is sent
by the browser whatever page opens the socket, so a session-authenticated socket
needs an Origin of this site (cross-site WebSocket hijacking). A token is not
ambient, so a token client without an Origin (a script) is let in; a token
client that does send an Origin is held to the same rule.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlparse

from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http.request import split_domain_port, validate_host


@database_sync_to_async
def _user_for_token(key: str) -> Any:
    from rest_framework.authtoken.models import Token

    token = Token.objects.select_related("user").filter(key=key).first()
    if token is None or not token.user.is_active:
        return AnonymousUser()
    return token.user


class TokenAuthMiddleware:
    """Sets ``scope["user"]`` from ``?token=`` when given; ``scope["kefu_auth"]`` says how."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        keys = query.get("token")
        if keys:
            scope = {**scope, "user": await _user_for_token(keys[0][:64]), "kefu_auth": "token"}
        else:
            scope = {**scope, "kefu_auth": "session"}
        return await self.inner(scope, receive, send)


def QueueAuthStack(inner: Any) -> Any:
    # The session stack runs first; a token, when present, replaces its user.
    return AuthMiddlewareStack(TokenAuthMiddleware(inner))


def _header(scope: dict[str, Any], name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return str(value.decode("latin-1"))
    return None


def origin_allowed(scope: dict[str, Any]) -> bool:
    origin = _header(scope, b"origin")
    if origin is None:
        return scope.get("kefu_auth") == "token"
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
