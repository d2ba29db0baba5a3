"""Shared fixtures. Tests run against the real services the environment names:
PostgreSQL (KEFU_DATABASE_URL), Redis (KEFU_REDIS_URL). A test marked for a
service is skipped when it is absent, and fails instead when
KEFU_REQUIRE_SERVICES=1 (CI), so a missing service can never pass silently."""

from __future__ import annotations

import os
from typing import Any

import pytest
from django.conf import settings

REQUIRE_SERVICES = os.environ.get("KEFU_REQUIRE_SERVICES") == "1"
# Statements of a token-authenticated read of one page: the token (with the user's roles and
# teams, on PostgreSQL: project.authentication) and the page; SQLite reads the roles or the
# teams apart, when the view asks.
TOKEN_AND_PAGE = 2 if settings.USING_POSTGRES else 3


def _missing(marker: str) -> str | None:
    if marker == "postgres" and not settings.USING_POSTGRES:
        return "needs PostgreSQL: set KEFU_DATABASE_URL=postgres://…"
    if marker == "redis" and not settings.REDIS_URL:
        return "needs Redis: set KEFU_REDIS_URL=redis://…"
    return None


def pytest_runtest_setup(item: pytest.Item) -> None:
    for marker in ("postgres", "redis"):
        if item.get_closest_marker(marker) is None:
            continue
        reason = _missing(marker)
        if reason is None:
            continue
        if REQUIRE_SERVICES:
            pytest.fail(f"KEFU_REQUIRE_SERVICES=1 but this test {reason}", pytrace=False)
        pytest.skip(reason)


def pytest_sessionstart(session: pytest.Session) -> None:
    if REQUIRE_SERVICES:
        problems = [r for r in (_missing("postgres"), _missing("redis")) if r]
        if problems:
            raise pytest.UsageError("KEFU_REQUIRE_SERVICES=1: " + "; ".join(problems))


@pytest.fixture(autouse=True)
def _clear_cache() -> Any:
    """Throttle counters live in the cache; every test starts from zero. So does the
    configuration each process keeps (its rows vanished with the last test's rollback)."""
    from django.core.cache import cache

    from core import configcache

    cache.clear()
    configcache.forget()
    yield


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def desk(db: Any) -> Any:
    """A small desk: two agents and a supervisor in one team, a P2 policy, a routing rule."""
    from tests.factories import build_desk

    return build_desk()


@pytest.fixture
def api() -> Any:
    from rest_framework.test import APIClient

    return APIClient()


def client_for(user: Any) -> Any:
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client
