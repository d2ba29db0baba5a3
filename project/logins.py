"""Failed logins counted per client address, per account and in total, on every login path
(docs/security.md, "Logins and passwords").

django-axes hooks Django's ``authenticate()``: ``LoginGuardBackend``, the first
authentication backend, refuses a locked-out attempt before any password is checked, and
Django's login signals reach ``LoginGuardHandler``, which counts in the shared cache and
writes axes' audit tables (``AccessFailureLog``, ``AccessLog``) that the Django admin shows.
The token login, the login page, the admin's login and any later login that calls
``authenticate(request, ...)`` are covered alike.

* An account (its user name, case-insensitive) may fail ``KEFU_LOGIN_ACCOUNT_FAILURES``
  times and an address (``project.throttling.client_address``) ``KEFU_LOGIN_ADDRESS_FAILURES``
  times within ``KEFU_LOGIN_FAILURE_WINDOW`` seconds of the first failure; the failure that
  reaches the limit locks the account (or the address) for ``lockout_seconds(n)``, the n-th
  lockout within a day lasting twice the one before, up to a cap.
* Past ``KEFU_LOGIN_TOTAL_FAILURES`` failures in total (a rate: 100/min) every login is
  refused until the window ends: the ceiling of a spray from many addresses.
* A login refused by a lockout checks no password and is not counted again, so the lockout
  ends when it says. A successful login forgets its account's failures, never an address's:
  an attacker's own account must not reset the count of a spray.

Counters live in the cache (Redis in production: every web process sees the same counts,
and a failure costs no database row beyond its audit entry).
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from axes.backends import AxesStandaloneBackend
from axes.handlers.base import AbstractAxesHandler, AxesBaseHandler
from axes.handlers.database import AxesDatabaseHandler
from axes.models import AccessFailureLog, AccessLog
from axes.signals import user_locked_out
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from rest_framework.exceptions import APIException, Throttled

from project.throttling import count_hit, parse_rate

logger = logging.getLogger(__name__)

PREFIX = "login-guard"
# A lockout is remembered this long after it began: the next one within it lasts twice as long.
STRIKE_MEMORY_SECONDS = 86400


@dataclass(frozen=True)
class Limits:
    account: int
    address: int
    window: int
    total: int
    total_period: int


def limits() -> Limits:
    total, period = parse_rate(settings.KEFU_LOGIN_TOTAL_FAILURES)
    return Limits(
        account=settings.KEFU_LOGIN_ACCOUNT_FAILURES,
        address=settings.KEFU_LOGIN_ADDRESS_FAILURES,
        window=settings.KEFU_LOGIN_FAILURE_WINDOW,
        total=total,
        total_period=period,
    )


def lockout_seconds(lockouts: int) -> int:
    """How long the ``lockouts``-th lockout of an account or address within a day lasts: the
    first ``KEFU_LOGIN_LOCKOUT_SECONDS``, each further one twice the one before, never more
    than ``KEFU_LOGIN_LOCKOUT_MAX_SECONDS``."""
    base: int = settings.KEFU_LOGIN_LOCKOUT_SECONDS
    cap: int = settings.KEFU_LOGIN_LOCKOUT_MAX_SECONDS
    doublings = min(max(lockouts, 1) - 1, 32)
    return int(min(base * 2**doublings, cap))


# --- what is counted, and where --------------------------------------------------------
def account_name(username: str | None) -> str:
    """The account a user name means for counting: ``Alice``, ``alice `` and ``ALICE`` are
    one account to an attacker trying them."""
    return (username or "").strip().casefold()


def _key(kind: str, scope: str, value: str) -> str:
    if scope == "account":
        value = account_name(value)
    digest = hashlib.sha256(value.encode()).hexdigest()[:40]
    return f"{PREFIX}:{kind}:{scope}:{digest}"


def lock_key(scope: str, value: str) -> str:
    """The cache entry of a lockout (``scope`` is "account" or "address"): it holds the time
    the lockout ends and expires then."""
    return _key("lock", scope, value)


def _total_key(period: int, now: float) -> str:
    return f"{PREFIX}:total:{period}:{int(now // period)}"


def _subjects(address: str, username: str | None) -> list[tuple[str, str]]:
    subjects = [("address", address)]
    if account_name(username):
        subjects.append(("account", account_name(username)))
    return subjects


def seconds_locked(address: str, username: str | None) -> int:
    """Seconds until a login from ``address`` to ``username`` may be tried again; 0 if now."""
    now = time.time()
    policy = limits()
    total_key = _total_key(policy.total_period, now)
    locks = [lock_key(scope, value) for scope, value in _subjects(address, username)]
    stored = cache.get_many([*locks, total_key])
    waits = [float(stored[key]) - now for key in locks if key in stored]
    if int(stored.get(total_key, 0)) >= policy.total:
        waits.append((int(now // policy.total_period) + 1) * policy.total_period - now)
    longest = max(waits, default=0.0)
    return math.ceil(longest) if longest > 0 else 0


def _count_with_memory(key: str, seconds: int) -> int:
    """Adds one to ``key`` and keeps it ``seconds`` from now (unlike ``count_hit``, whose
    window starts at the first hit)."""
    if cache.add(key, 1, timeout=seconds):
        return 1
    try:
        count = int(cache.incr(key))
    except ValueError:  # expired between add() and incr()
        cache.add(key, 1, timeout=seconds)
        return 1
    cache.touch(key, timeout=seconds)
    return count


def _lock(scope: str, value: str, now: float) -> int:
    lockouts = _count_with_memory(_key("lockouts", scope, value), STRIKE_MEMORY_SECONDS)
    seconds = lockout_seconds(lockouts)
    cache.set(lock_key(scope, value), now + seconds, timeout=seconds)
    # The next lockout takes as many new failures; it will last twice as long.
    cache.delete(_key("failures", scope, value))
    logger.warning("Login %s locked for %s s (lockout %s within a day).", scope, seconds, lockouts)
    return seconds


def record_failure(address: str, username: str | None) -> int:
    """Counts one failed login (a password was checked and was wrong); returns the seconds
    of the lockout it starts, 0 if none."""
    now = time.time()
    policy = limits()
    count_hit(_total_key(policy.total_period, now), policy.total_period + 1)
    wait = 0
    for scope, value in _subjects(address, username):
        limit = policy.account if scope == "account" else policy.address
        # Exactly one failure reaches the limit, however many arrive at once (incr is atomic).
        if count_hit(_key("failures", scope, value), policy.window) == limit:
            wait = max(wait, _lock(scope, value, now))
    return wait


def forget_account_failures(username: str) -> None:
    """The owner got in: their own typos are forgotten (the address's count is kept)."""
    cache.delete(_key("failures", "account", username))


def unlock(*, address: str | None = None, username: str | None = None) -> int:
    """Ends the lockouts and forgets the failures of an address or an account (the
    ``axes_reset_ip`` and ``axes_reset_username`` commands); returns the entries removed."""
    removed = 0
    for scope, value in (("address", address), ("account", username)):
        if value is None:
            continue
        for kind in ("lock", "failures", "lockouts"):
            removed += int(bool(cache.delete(_key(kind, scope, value))))
    return removed


# --- the texts ---------------------------------------------------------------------------
def lockout_message(seconds: int) -> str:
    if seconds < 60:
        wait = _("%(seconds)s s") % {"seconds": seconds}
    else:
        wait = _("%(minutes)s min") % {"minutes": math.ceil(seconds / 60)}
    return _("Too many failed logins. Try again in %(wait)s.") % {"wait": wait}


class LoginLocked(Throttled):
    """The API's answer to a locked-out login: 429, ``Retry-After``, the one error shape."""

    def __init__(self, wait: int) -> None:
        APIException.__init__(self, lockout_message(wait), "throttled")
        self.wait = wait


def retry_after(request: Any) -> int:
    """Seconds the login just refused on ``request`` has to wait."""
    wait = getattr(request, "login_retry_after", None)
    if wait:
        return int(wait)
    address = str(getattr(request, "axes_ip_address", "") or "")
    return max(seconds_locked(address, getattr(request, "login_username", None)), 1)


# --- axes: the backend and the handler ---------------------------------------------------
def _username(credentials: dict[str, Any] | None) -> str | None:
    value = (credentials or {}).get(get_user_model().USERNAME_FIELD)
    return None if value is None else str(value)


class LoginGuardBackend(AxesStandaloneBackend):
    """axes' backend, first in ``AUTHENTICATION_BACKENDS``. A call without a request (the
    shell, a test client's ``login``) has no client to count and goes on to the next backend;
    every login path of Kefu passes its request."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> None:
        if request is None:
            return None
        request.login_username = username  # type: ignore[attr-defined]
        super().authenticate(request, username, password, **kwargs)
        return None


class LoginGuardHandler(AbstractAxesHandler, AxesBaseHandler):
    """axes' handler interface over Kefu's counters (``AXES_HANDLER``); the audit rows are
    axes' own tables, kept by its database handler's retention commands."""

    def is_locked(self, request: Any, credentials: dict[str, Any] | None = None) -> bool:
        wait = seconds_locked(request.axes_ip_address or "", _username(credentials))
        if wait:
            request.login_retry_after = wait
        return wait > 0

    def get_failures(self, request: Any, credentials: dict[str, Any] | None = None) -> int:
        subjects = _subjects(request.axes_ip_address or "", _username(credentials))
        stored = cache.get_many([_key("failures", scope, value) for scope, value in subjects])
        return max((int(count) for count in stored.values()), default=0)

    def user_login_failed(
        self, sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any
    ) -> None:
        if request is None:
            return
        username = _username(credentials)
        if request.axes_locked_out:
            # Refused before any password was checked: not a guess, and not counted again
            # (which would stretch the lockout past what the refusal said).
            return
        wait = record_failure(request.axes_ip_address or "", username)
        if wait:
            request.axes_locked_out = True
            request.axes_credentials = credentials
            request.login_retry_after = wait
            user_locked_out.send(
                "axes", request=request, username=username, ip_address=request.axes_ip_address
            )
        if settings.AXES_ENABLE_ACCESS_FAILURE_LOG:
            AccessFailureLog.objects.create(
                username=(username or "")[:255],
                ip_address=request.axes_ip_address or None,
                user_agent=request.axes_user_agent,
                http_accept=request.axes_http_accept,
                path_info=request.axes_path_info,
                attempt_time=request.axes_attempt_time,
                locked_out=bool(wait),
            )

    def user_logged_in(self, sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
        if request is None:
            return
        username = user.get_username()
        forget_account_failures(username)
        if _access_log_disabled():
            return
        AccessLog.objects.create(
            username=username,
            ip_address=request.axes_ip_address or None,
            user_agent=request.axes_user_agent,
            http_accept=request.axes_http_accept,
            path_info=request.axes_path_info,
            attempt_time=request.axes_attempt_time,
            session_hash=_session_hash(request),
        )

    def user_logged_out(self, sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
        session_hash = _session_hash(request) if request is not None else ""
        if user is None or not session_hash or _access_log_disabled():
            return
        AccessLog.objects.filter(
            username=user.get_username(), logout_time__isnull=True, session_hash=session_hash
        ).update(logout_time=request.axes_attempt_time)

    def reset_attempts(
        self,
        *,
        ip_address: str | None = None,
        username: str | None = None,
        ip_or_username: bool = False,
    ) -> int:
        if ip_address is None and username is None:
            # Like axes' own cache handler: the counters cannot be listed, only named.
            raise NotImplementedError("Name the address or the user name to unlock.")
        return unlock(address=ip_address, username=username)

    def reset_logs(self, *, age_days: int | None = None) -> int:
        return int(AxesDatabaseHandler().reset_logs(age_days=age_days))

    def reset_failure_logs(self, *, age_days: int | None = None) -> int:
        return int(AxesDatabaseHandler().reset_failure_logs(age_days=age_days))


def _access_log_disabled() -> bool:
    return bool(getattr(settings, "AXES_DISABLE_ACCESS_LOG", False))


def _session_hash(request: Any) -> str:
    """The login's session, hashed as axes does; "" for a token login, which has none (and
    must not get one created for it)."""
    session = getattr(request, "session", None)
    key = getattr(session, "session_key", None)
    return hashlib.sha256(key.encode()).hexdigest() if key else ""


# --- the pages ---------------------------------------------------------------------------
def lockout_page(request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
    """The login page that was just answered, again, with the lockout as its error and 429.

    Any form page that logs in through ``authenticate(request, ...)`` gets it: Kefu's login
    page and the Django admin's."""
    wait = retry_after(request)
    message = lockout_message(wait)
    context = getattr(response, "context_data", None) or {}
    form = context.get("form")
    page: HttpResponseBase
    if isinstance(response, TemplateResponse) and isinstance(form, Form):
        form.errors.clear()
        form.add_error(None, message)
        page = TemplateResponse(
            request, response.template_name, context, status=429, using=response.using
        )
        page.render()
    else:
        page = HttpResponse(message, status=429, content_type="text/plain; charset=utf-8")
    page["Retry-After"] = str(wait)
    return page


class LoginLockoutMiddleware:
    """Turns a login refused by a lockout into the lockout page (axes' own middleware is not
    used: under ASGI it drops the page it replaces). Last in ``MIDDLEWARE``."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if self.is_async:
            return self.__acall__(request)
        response = self.get_response(request)
        if getattr(request, "axes_locked_out", False):
            return lockout_page(request, response)
        return response

    async def __acall__(self, request: HttpRequest) -> Any:
        response = await self.get_response(request)
        if getattr(request, "axes_locked_out", False):
            return await sync_to_async(lockout_page)(request, response)
        return response
