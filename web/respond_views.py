"""``/help/complaints/<token>/``: the customer accepts or disputes a complaint's final
answer through the signed link of the outcome email (docs/complaints.md, "Closing").

No account: the link (``complaints.links``) names the complaint, the contact and the answer
it was sent with. Plain HTML forms (no JavaScript needed; static/web/help.js only keeps a
button from being pressed twice), in the contact's language unless the visitor chose one
with the switch at the top, throttled per client address as every POST of the help pages
(``KEFU_HELP_THROTTLE``), private like them. The service decides once: a second POST of the
same answer (a double click, a reload) finds it answered and says so."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from complaints import services
from complaints.links import LinkInvalid, RespondAccess, read_respond_token
from core.errors import Conflict, Gone, InvalidInput, NotFound
from mail.templates import language_of

from . import selectors
from .help_views import _retry_after, _too_many, customer_page, redirect_303

CHOICES = ("accept", "dispute")
MAX_REASON = 4000


@contextmanager
def _language(request: HttpRequest, language: str) -> Iterator[None]:
    """The contact's language, unless the visitor picked one with the switch (its cookie)."""
    if settings.LANGUAGE_COOKIE_NAME in request.COOKIES:
        yield
        return
    with translation.override(language_of(language)):
        yield


def _invalid(request: HttpRequest) -> HttpResponse:
    return render(request, "web/respond_problem.html", {"problem": "invalid"}, status=404)


@customer_page
@require_http_methods(["GET", "HEAD", "POST"])
def respond(request: HttpRequest, token: str) -> HttpResponse:
    try:
        access = read_respond_token(token)
    except LinkInvalid:
        return _invalid(request)
    page = selectors.complaint_response_page(access)
    if page is None:
        return _invalid(request)
    with _language(request, page["language"]):
        if request.method == "POST":
            wait = _retry_after(request)
            if wait is not None:
                return _too_many(request, wait)
            return _answer(request, token, access)
        return _page(request, token, access, done=request.GET.get("done", ""))


def _answer(request: HttpRequest, token: str, access: RespondAccess) -> HttpResponse:
    choice = request.POST.get("choice", "")
    reason = request.POST.get("reason", "").strip()
    errors: dict[str, list[str]] = {}
    if choice not in CHOICES:
        errors["choice"] = [_("Choose whether you accept the outcome or dispute it.")]
    elif choice == "dispute" and not reason:
        errors["reason"] = [_("Tell us what you disagree with.")]
    elif len(reason) > MAX_REASON:
        errors["reason"] = [_("Please keep it under %(count)s characters.") % {"count": MAX_REASON}]
    if errors:
        return _page(request, token, access, reason=reason, errors=errors, status=400)
    try:
        services.respond_as_customer(
            complaint_id=access.complaint_id,
            contact_id=access.contact_id,
            answer=access.answer,
            accept=choice == "accept",
            reason=reason,
        )
    except InvalidInput as exc:
        errors = {field: list(messages) for field, messages in exc.errors.items()}
        errors.setdefault("reason", [exc.message])
        return _page(request, token, access, reason=reason, errors=errors, status=400)
    except Gone:
        return _page(request, token, access, status=410)
    except Conflict:
        return _page(request, token, access, status=409)
    except NotFound:
        return _invalid(request)
    return redirect_303(f"{reverse('help:complaint-respond', args=[token])}?done={choice}")


def _page(
    request: HttpRequest,
    token: str,
    access: RespondAccess,
    *,
    done: str = "",
    reason: str = "",
    errors: dict[str, list[str]] | None = None,
    status: int = 200,
) -> HttpResponse:
    """The page as the complaint stands now: the answer and the two forms while the customer
    may still respond; otherwise what was recorded, or that the time is over."""
    page = selectors.complaint_response_page(access)
    if page is None:
        return _invalid(request)
    context: dict[str, Any] = {
        **page,
        "token": token,
        "done": done if done in CHOICES else "",
        "reason": reason,
        "errors": errors or {},
        "max_reason": MAX_REASON,
    }
    if page["state"] == "gone" and status == 200:
        status = 410
    return render(request, "web/respond.html", context, status=status)
