"""Staff sign-in with a second factor (docs/security.md, "Second factor").

Who needs one: every user with a confirmed authenticator (TOTP) device, and every user of a
role in ``KEFU_2FA_REQUIRED_ROLES`` (administrators and supervisors by default), who must
enrol one before reaching any page. ``KEFU_2FA_ENFORCED`` turns the whole rule off (the
test suite's default; never in production).

* The login page checks the password, then keeps the user *pending* in the session — not
  logged in: no page, API call or live socket opens for them — until a code is accepted on
  the second step (``web.two_factor_views``); only then is the user logged in, and the
  session marked verified (django-otp's ``OTPMiddleware`` reads it).
* A wrong code is a failed login: it goes through the same path as a wrong password
  (django's ``user_login_failed``, counted by ``project.logins``), so the account and
  address lockouts apply to guessing codes too, and axes' failure log records it.
* Recovery codes are django-otp static tokens, stored as a keyed hash (HMAC of the
  ``SECRET_KEY``), never in clear; each works once.
* ``SecondFactorMiddleware`` catches any session that got logged in without a code (an
  older session, a test's ``force_login``): pages send it to the second step, the API
  answers 403.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Callable
from typing import Any

from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_login_failed
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from core.errors import Forbidden, InvalidInput
from org import roles
from project.logins import LoginLocked, seconds_locked
from project.throttling import client_address

from .models import TwoFactorEvent

PENDING_KEY = "kefu_2fa_pending"
# The password step is good for this long: the code must follow within it.
PENDING_SECONDS = 600
RECOVERY_CODES = 10
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i to misread
RECOVERY_LENGTH = 10
TOTP_CODE = re.compile(r"\d{6}")


# --- the policy ------------------------------------------------------------------------
def enforced() -> bool:
    return bool(settings.KEFU_2FA_ENFORCED)


def required_for(user: Any) -> bool:
    """Whether the user's role obliges them to have an authenticator."""
    required = set(settings.KEFU_2FA_REQUIRED_ROLES)
    return bool(required) and bool(required.intersection(roles.roles_of(user)))


def has_authenticator(user: Any) -> bool:
    return TOTPDevice.objects.devices_for_user(user, confirmed=True).exists()


def needs_second_factor(user: Any) -> bool:
    """Whether this user signs in with a code (or must enrol before signing in)."""
    if not enforced() or not user.is_authenticated:
        return False
    return required_for(user) or has_authenticator(user)


# --- codes ----------------------------------------------------------------------------
def normalise(code: str) -> str:
    return re.sub(r"[\s-]+", "", code or "").lower()


def recovery_digest(user: Any, code: str) -> str:
    """What is stored of a recovery code: a keyed hash, bound to its user (16 hex digits
    fit django-otp's token column)."""
    return salted_hmac(
        "kefu.two_factor.recovery", f"{user.pk}:{normalise(code)}", algorithm="sha256"
    ).hexdigest()[:16]


def new_recovery_codes(user: Any) -> list[str]:
    """Replaces the user's recovery codes with ten new ones; returns them, the only time
    they are seen in clear."""
    codes = [
        "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_LENGTH))
        for _ in range(RECOVERY_CODES)
    ]
    with transaction.atomic():
        StaticDevice.objects.filter(user=user).delete()
        device = StaticDevice.objects.create(user=user, name="recovery", confirmed=True)
        StaticToken.objects.bulk_create(
            StaticToken(device=device, token=recovery_digest(user, code)) for code in codes
        )
    return [f"{code[:5]}-{code[5:]}" for code in codes]


def recovery_codes_left(user: Any) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def verify_code(user: Any, code: str) -> Device | None:
    """The device that accepts ``code`` — six digits from the authenticator, or an unused
    recovery code (spent by accepting it) — or None. A TOTP code is refused if it was
    already used (django-otp keeps the last time step)."""
    value = normalise(code)
    if not value:
        return None
    with transaction.atomic():
        if TOTP_CODE.fullmatch(value):
            totp = TOTPDevice.objects.devices_for_user(user, confirmed=True).select_for_update()
            for device in totp:
                if device.verify_token(value):
                    return device
            return None
        digest = recovery_digest(user, value)
        static = StaticDevice.objects.devices_for_user(user, confirmed=True).select_for_update()
        for candidate in static:
            if candidate.verify_token(digest):
                return candidate
    return None


def start_enrolment(user: Any) -> TOTPDevice:
    """The user's authenticator being set up: the same secret until it is confirmed (a
    reload of the page shows the same QR code)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=_("Authenticator app"), confirmed=False)
    return device


def confirm_enrolment(request: HttpRequest, user: Any, code: str) -> TOTPDevice | None:
    """Confirms the device being set up with a code from it; the user's earlier devices
    go. None if the code is wrong (not a failed login: the secret is on the user's page)."""
    with transaction.atomic():
        device = (
            TOTPDevice.objects.select_for_update()
            .filter(user=user, confirmed=False)
            .order_by("-pk")
            .first()
        )
        value = normalise(code)
        if device is None or not TOTP_CODE.fullmatch(value) or not device.verify_token(value):
            return None
        TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        record(request, user, TwoFactorEvent.Kind.ENROLLED)
    return device


def remove_authenticator(request: HttpRequest, user: Any) -> None:
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()
        record(request, user, TwoFactorEvent.Kind.REMOVED)


# --- the audit trail and the failed-login path -------------------------------------------
def record(request: HttpRequest | Any, user: Any, kind: str) -> None:
    TwoFactorEvent.objects.create(
        user=user,
        username=user.get_username()[:150],
        kind=kind,
        path=(getattr(request, "path", "") or "")[:255],
        ip_address=client_address(request) or None,
    )


def record_accepted(request: HttpRequest | Any, user: Any, device: Device) -> None:
    kind = (
        TwoFactorEvent.Kind.RECOVERY_USED
        if isinstance(device, StaticDevice)
        else TwoFactorEvent.Kind.VERIFIED
    )
    record(request, user, kind)


def seconds_refused(request: Any, username: str) -> int:
    """Seconds until this account may try a code again from this address (a lockout, as
    for passwords); 0 if now."""
    AxesProxyHandler.update_request(request)
    return seconds_locked(str(request.axes_ip_address or ""), username)


def count_refused_code(request: HttpRequest | Any, user: Any) -> int:
    """A wrong code is a failed login, counted like a wrong password (project/logins.py)
    and written to axes' failure log; returns the seconds of the lockout it starts, 0 if
    none."""
    record(request, user, TwoFactorEvent.Kind.REFUSED)
    user_login_failed.send(
        sender=__name__,
        credentials={get_user_model().USERNAME_FIELD: user.get_username()},
        request=request,
    )
    if getattr(request, "axes_locked_out", False):
        return int(getattr(request, "login_retry_after", 0) or 1)
    return 0


# --- the API token login -------------------------------------------------------------
def check_token_login(request: Any, user: Any, code: Any) -> None:
    """The second factor of ``POST /api/auth/token/`` (its ``"otp"``): raises the API's
    error if the user needs a code and did not give the right one."""
    if not needs_second_factor(user):
        return
    if not has_authenticator(user):
        raise Forbidden(
            _(
                "Your role signs in with a second factor. Log in on the web page once to "
                'set up an authenticator app, then ask for a token with "otp".'
            )
        )
    if not isinstance(code, str) or not code.strip():
        raise InvalidInput(
            _("A second-factor code is needed."),
            {"otp": [_("Send the 6-digit code of your authenticator app, or a recovery code.")]},
        )
    device = verify_code(user, code)
    if device is None:
        wait = count_refused_code(request, user)
        if wait:
            raise LoginLocked(wait)
        raise InvalidInput(
            _("Unable to log in with those credentials."),
            {"otp": [_("Wrong code, or a code already used.")]},
        )
    record_accepted(request, user, device)


# --- the login in two steps ------------------------------------------------------------
def begin_pending(request: HttpRequest, user: Any, next_url: str) -> None:
    """The password was right; the user waits for the second step, not logged in."""
    request.session[PENDING_KEY] = {
        "user": user.pk,
        "backend": getattr(user, "backend", settings.AUTHENTICATION_BACKENDS[-1]),
        "hash": user.get_session_auth_hash(),
        "next": next_url,
        "since": time.time(),
    }


def pending_user(request: HttpRequest) -> Any | None:
    pending = request.session.get(PENDING_KEY)
    if not isinstance(pending, dict):
        return None
    if time.time() - float(pending.get("since", 0)) > PENDING_SECONDS:
        del request.session[PENDING_KEY]
        return None
    user: Any = get_user_model().objects.filter(pk=pending.get("user") or 0, is_active=True).first()
    # A password changed since the first step ends it, as it ends sessions.
    if user is None or not constant_time_compare(
        str(pending.get("hash", "")), user.get_session_auth_hash()
    ):
        return None
    user.backend = str(pending.get("backend") or "")
    return user


def pending_next(request: HttpRequest) -> str:
    pending = request.session.get(PENDING_KEY) or {}
    return str(pending.get("next") or settings.LOGIN_REDIRECT_URL)


def user_in_progress(request: HttpRequest) -> Any | None:
    """Who the second-step pages are for: the user pending after their password, or a
    logged-in one the middleware sent here (a session logged in without a code)."""
    if request.user.is_authenticated:
        return request.user
    return pending_user(request)


def finish_login(request: HttpRequest, user: Any, device: Device) -> None:
    """Logs the pending user in with the device that verified them (the login audit row
    and the account's forgotten typos come with Django's login), or marks a logged-in
    session verified."""
    from django.contrib.auth import login
    from django_otp import login as otp_login

    if request.user.is_authenticated:
        otp_login(request, device)
        return
    request.session.pop(PENDING_KEY, None)
    user.otp_device = device  # django-otp marks the new session verified on login
    login(request, user, backend=user.backend)


# --- the middleware ------------------------------------------------------------------
EXEMPT_PREFIXES = ("/login/", "/logout/", "/i18n/", "/admin/login/", "/admin/logout/")


def _exempt(path: str) -> bool:
    static = "/" + settings.STATIC_URL.lstrip("/")
    return path.startswith(EXEMPT_PREFIXES) or path.startswith(static)


class SecondFactorMiddleware:
    """A session logged in without a code, for a user who needs one, reaches only the
    second step: pages redirect there (or to enrolment), the API answers 403. After
    ``django_otp.middleware.OTPMiddleware``."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not enforced() or _exempt(request.path_info):
            return self.get_response(request)
        user: Any = request.user
        if not user.is_authenticated or user.is_verified() or not needs_second_factor(user):
            return self.get_response(request)
        if request.path_info.startswith("/api/"):
            return JsonResponse(
                {
                    "detail": _("This session has not passed the second factor of its login."),
                    "errors": {},
                },
                status=403,
            )
        if has_authenticator(user):
            return redirect("web:two-step-verify")
        return redirect("web:two-step-enrol")
