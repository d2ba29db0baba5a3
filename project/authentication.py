"""API tokens with a lifetime (docs/security.md, "Tokens and live sockets").

A token lives ``KEFU_TOKEN_TTL`` seconds from the moment it was issued (a fixed lifetime,
not a sliding one: using a token never extends it, so a leaked token is worth at most a
day, and checking it costs no write per request). ``POST /api/auth/token/`` hands out the
user's current token while it lives and a new one after; logging out and changing the
password delete it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication
from rest_framework.permissions import SAFE_METHODS
from rest_framework.request import Request

from org import roles


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
    """DRF's ``Authorization: Token <key>``, refusing a token past its lifetime (401).

    A read on PostgreSQL reads the user's roles and teams in the token's statement (the
    queue and the ticket list ask both on every request); a write reads them when asked,
    after anything it changed."""

    with_roles = False

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        self.with_roles = request.method in SAFE_METHODS and connection.vendor == "postgresql"
        return super().authenticate(request)

    def authenticate_credentials(self, key: str) -> tuple[Any, Any]:
        user, token = self._with_roles(key) if self.with_roles else (None, None)
        if token is None:  # not a read, or no such active token: DRF's own look-up and refusal
            user, token = super().authenticate_credentials(key)
        if token_expired(token):
            raise exceptions.AuthenticationFailed(
                _("Token expired; ask for a new one at /api/auth/token/.")
            )
        return user, token

    def _with_roles(self, key: str) -> tuple[Any, Any]:
        """The token, its user and the user's roles and teams in one statement (raw SQL: the
        ORM's compiling it cost more than the two statements it spares)."""
        from rest_framework.authtoken.models import Token

        sql, fields, role_params = _token_statement()
        with connection.cursor() as cursor:
            cursor.execute(sql, [*role_params, key])
            row = cursor.fetchone()
        if row is None:
            return None, None
        created, *values, role_names, team_ids = row
        user = User.from_db(connection.alias, fields, values)
        if not user.is_active:
            return None, None
        token = Token.from_db(
            connection.alias, ["key", "user_id", "created"], [key, user.pk, created]
        )
        token.user = user
        roles.remember(user, role_names, team_ids)
        return user, token


@lru_cache(maxsize=1)
def _token_statement() -> tuple[str, list[str], list[Any]]:
    from rest_framework.authtoken.models import Token

    qn = connection.ops.quote_name
    fields = [f.attname for f in User._meta.concrete_fields]
    columns = ", ".join(f"u.{qn(str(f.column))}" for f in User._meta.concrete_fields)
    arrays, role_params = roles.read_with_user(f"u.{qn('id')}")
    sql = (
        f"SELECT t.{qn('created')}, {columns}, {arrays}"  # noqa: S608 (models' names)
        f" FROM {qn(Token._meta.db_table)} t"
        f" JOIN {qn(User._meta.db_table)} u ON u.{qn('id')} = t.{qn('user_id')}"
        f" WHERE t.{qn('key')} = %s"
    )
    return sql, fields, role_params
