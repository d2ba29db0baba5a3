"""The second step of the login and the authenticator pages (docs/security.md, "Second
factor"; the rules are ``web.two_factor``).

* ``/login/code/`` — the code (or a recovery code) after the password.
* ``/login/enrol/`` — scan the QR code (or type the secret), confirm with a code, see ten
  recovery codes once. A required role's first login ends here; agents come from their
  two-step page.
* ``/account/two-step/`` — an agent turns two-step sign-in on or off (a required role
  sees that it is on).
"""

from __future__ import annotations

from typing import Any

import qrcode
import qrcode.image.svg
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from project.logins import lockout_message

from . import two_factor


def _verified(request: HttpRequest) -> bool:
    """Whether this session passed the second factor (django-otp's ``OTPMiddleware``)."""
    user: Any = request.user
    return bool(user.is_verified())


def _next(request: HttpRequest) -> str:
    url = two_factor.pending_next(request)
    if url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()}):
        return url
    return "/"


def _step_page(
    request: HttpRequest, template: str, status: int = 200, **context: Any
) -> HttpResponse:
    """A page of the login's second step: no topbar of a logged-in user (whoever is here
    has not finished logging in)."""
    return render(
        request,
        f"web/two_factor/{template}",
        {"user": AnonymousUser(), **context},
        status=status,
    )


def second_step(request: HttpRequest, user: Any, next_url: str) -> HttpResponse | None:
    """After a right password: the redirect to the second step, or None if this user
    logs in with the password alone."""
    if not two_factor.needs_second_factor(user):
        return None
    two_factor.begin_pending(request, user, next_url)
    if two_factor.has_authenticator(user):
        return redirect("web:two-step-verify")
    return redirect("web:two-step-enrol")


def verify(request: HttpRequest) -> HttpResponseBase:
    user = two_factor.user_in_progress(request)
    if user is None:
        return redirect("web:login")
    if request.user.is_authenticated and _verified(request):
        return redirect("web:home")
    if not two_factor.has_authenticator(user):
        return redirect("web:two-step-enrol")
    error = ""
    status = 200
    if request.method == "POST":
        username = user.get_username()
        wait = two_factor.seconds_refused(request, username)
        if wait:
            return _locked(request, wait)
        device = two_factor.verify_code(user, str(request.POST.get("code", "")))
        if device is not None:
            two_factor.record_accepted(request, user, device)
            target = _next(request)
            two_factor.finish_login(request, user, device)
            return redirect(target)
        wait = two_factor.count_refused_code(request, user)
        if wait:
            return _locked(request, wait)
        error, status = _("Wrong code, or a code already used."), 400
    return _step_page(request, "verify.html", status, error=error)


def _locked(request: HttpRequest, wait: int) -> HttpResponse:
    page = _step_page(request, "verify.html", 429, error=lockout_message(wait))
    page["Retry-After"] = str(wait)
    return page


def _qr_svg(device: TOTPDevice) -> str:
    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage)
    svg: str = image.to_string(encoding="unicode")
    return mark_safe(svg)  # noqa: S308 - drawn here from the device's own URL


def _secret(device: TOTPDevice) -> str:
    import base64

    key = base64.b32encode(device.bin_key).decode()
    return " ".join(key[i : i + 4] for i in range(0, len(key), 4))


def enrol(request: HttpRequest) -> HttpResponseBase:
    user = two_factor.user_in_progress(request)
    if user is None:
        return redirect("web:login")
    if two_factor.has_authenticator(user):
        if request.user.is_authenticated and _verified(request):
            return redirect("web:two-step")
        return redirect("web:two-step-verify")
    device = two_factor.start_enrolment(user)
    error = ""
    status = 200
    if request.method == "POST":
        confirmed = two_factor.confirm_enrolment(request, user, str(request.POST.get("code", "")))
        if confirmed is not None:
            codes = two_factor.new_recovery_codes(user)
            target = _next(request) if not request.user.is_authenticated else reverse("web:home")
            two_factor.finish_login(request, user, confirmed)
            return render(
                request,
                "web/two_factor/recovery_codes.html",
                {"codes": codes, "next": target},
            )
        error, status = _("That code does not match. Try the code shown now."), 400
        device = two_factor.start_enrolment(user)
    return _step_page(
        request,
        "enrol.html",
        status,
        error=error,
        qr=_qr_svg(device),
        secret=_secret(device),
        required=two_factor.required_for(user),
        signed_in=request.user.is_authenticated,
    )


@login_required
def manage(request: HttpRequest) -> HttpResponseBase:
    """An agent's own two-step sign-in: turn it on (enrol) or off (with a current code)."""
    user: Any = request.user
    enrolled = two_factor.has_authenticator(user)
    required = two_factor.required_for(user)
    error = ""
    status = 200
    if request.method == "POST" and enrolled and not required:
        device = two_factor.verify_code(user, str(request.POST.get("code", "")))
        if device is not None:
            two_factor.remove_authenticator(request, user)
            return redirect("web:two-step")
        wait = two_factor.count_refused_code(request, user)
        error = lockout_message(wait) if wait else _("Wrong code, or a code already used.")
        status = 429 if wait else 400
    from .views import _page_config, _render

    response: HttpResponse = _render(
        request,
        "web/two_factor/manage.html",
        _page_config(request, page="two-step"),
        enrolled=enrolled,
        required=required,
        enforced=two_factor.enforced(),
        codes_left=two_factor.recovery_codes_left(user) if enrolled else 0,
        error=error,
    )
    response.status_code = status
    return response
