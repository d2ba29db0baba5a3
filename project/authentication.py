"""API tokens with a lifetime (docs/security.md, "Tokens and live sockets").

A token lives ``KEFU_TOKEN_TTL`` seconds from the moment it was issued (a fixed lifetime,
not a sliding one: using a token never extends it, so a leaked token is worth at most a
day, and checking it costs no write per request). ``POST /api/auth/token/`` hands out the
user's current token while it lives and a new one after; logging out and changing the
password delete it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication


def token_lifetime() -> timedelta:
    return timedelta(seconds=settings.KEFU_TOKEN_TTL)


def token_expires(token: Any) -> datetime:
    expires: datetime = token.created + token_lifetime()
    return expires


def token_expired(token: Any, now: datetime | None = None) -> bool:
    return (now or timezone.now()) >= token_expires(token)


def issue_token(user: Any) -> Any:
    """The user's token: the current one while it lives, a new one once it has expired."""
    from rest_framework.authtoken.models import Token

    token, _created = Token.objects.get_or_create(user=user)
    if not token_expired(token):
        return token
    with transaction.atomic():
        # Deleting it (not re-keying it) lets the sockets it opened hear that it is gone.
        Token.objects.filter(pk=token.pk).delete()
        return Token.objects.get_or_create(user=user)[0]


class ExpiringTokenAuthentication(TokenAuthentication):
    """DRF's ``Authorization: Token <key>``, refusing a token past its lifetime (401)."""

    def authenticate_credentials(self, key: str) -> tuple[Any, Any]:
        user, token = super().authenticate_credentials(key)
        if token_expired(token):
            raise exceptions.AuthenticationFailed(
                _("Token expired; ask for a new one at /api/auth/token/.")
            )
        return user, token
