"""Screens of privacy requests (docs/customers-privacy.md; docs/ui.md): the list (open
ones by due date with the clock's countdown, done ones), recording a request, a request's
page with its steps, and the data subject's public download page of an access export
(``privacy/export/<token>/``, no account: signed, expiring, throttled, audited)."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from audit import services as audit_trail
from core.errors import KefuError
from customers import permissions
from customers.choices import PrivacyKind, PrivacyStatus, PrivacyVerb
from customers.models import Contact, PrivacyRequest
from customers.privacy_links import LinkExpired, LinkInvalid, link_days, read_export_token
from customers.selectors import contacts_visible_to, search_contacts
from customers.selectors import privacy as selectors
from customers.services import privacy as services
from project.throttling import client_address, count_hit, parse_rate

from .help_views import customer_page
from .views import _page_config, _render

CORRECTION_FIELDS = (
    ("name", gettext_lazy("Name")),
    ("email", gettext_lazy("Email")),
    ("phone", gettext_lazy("Phone")),
    ("title", gettext_lazy("Job title")),
)
LIST_LIMIT = 100


def _officer(request: HttpRequest) -> Any:
    user = request.user
    if not permissions.can_handle_privacy(user):
        raise PermissionDenied(_("Only administrators and managers handle privacy requests."))
    return user


def _row(row: PrivacyRequest) -> dict[str, Any]:
    clock = services.clock_of(row)
    return {
        "id": row.pk,
        "number": row.number,
        "kind": row.get_kind_display(),
        "kind_code": row.kind,
        "status": row.get_status_display(),
        "status_code": row.status,
        "contact": row.contact,
        "received": row.received_at,
        "due": (clock.due if clock and clock.due else row.due_at),
        "warning": bool(clock and clock.warning),
        "breached": bool(clock and clock.breached),
        "completed": row.completed_at,
        "handler": row.handler,
    }


def _strings() -> dict[str, str]:
    return {"left": _("%(time)s left"), "overdue": _("%(time)s overdue")}


@login_required
@require_GET
def privacy_list(request: HttpRequest) -> HttpResponse:
    user = _officer(request)
    open_rows = [_row(r) for r in selectors.open_requests(user)[:LIST_LIMIT]]
    done_rows = [_row(r) for r in selectors.closed_requests(user)[:LIST_LIMIT]]
    response: HttpResponse = _render(
        request,
        "web/customers/privacy.html",
        _page_config(request),
        open_rows=open_rows,
        done_rows=done_rows,
        privacy_strings=_strings(),
    )
    return response


def _new_context(request: HttpRequest, values: dict[str, Any], **extra: Any) -> dict[str, Any]:
    user = request.user
    query = (request.GET.get("q") or "").strip()[:100]
    found: list[Contact] = []
    if query:
        found = search_contacts(query, visible=None)
        visible = set(
            contacts_visible_to(user)
            .filter(pk__in=[c.pk for c in found])
            .values_list("pk", flat=True)
        )
        found = [c for c in found if c.pk in visible and c.erased_at is None]
    chosen = None
    contact_id = values.get("contact") or request.GET.get("contact")
    if contact_id and str(contact_id).isdigit():
        chosen = contacts_visible_to(user).filter(pk=int(contact_id)).first()
    return {
        "query": query,
        "found": found,
        "chosen": chosen,
        "kinds": PrivacyKind.choices,
        "fields": CORRECTION_FIELDS,
        "values": values,
        "deadline_days": services.deadline_days(),
        **extra,
    }


@login_required
@require_http_methods(["GET", "POST"])
def privacy_new(request: HttpRequest) -> HttpResponseBase:
    user = _officer(request)
    if request.method == "GET":
        return _render(
            request,
            "web/customers/privacy_new.html",
            _page_config(request),
            **_new_context(request, {"kind": PrivacyKind.ACCESS}),
        )
    post = request.POST
    values: dict[str, Any] = {
        "contact": post.get("contact", ""),
        "kind": post.get("kind", ""),
        "received": post.get("received", ""),
        "note": post.get("note", ""),
        **{f"fix_{name}": post.get(f"fix_{name}", "") for name, _label in CORRECTION_FIELDS},
    }
    errors: dict[str, list[str]] = {}
    contact = None
    if str(values["contact"]).isdigit():
        contact = contacts_visible_to(user).filter(pk=int(values["contact"])).first()
    if contact is None:
        errors["contact"] = [_("Choose a contact.")]
    received_at = None
    if values["received"]:
        day = parse_date(values["received"])
        if day is None:
            errors["received"] = [_("Enter a date as YYYY-MM-DD.")]
        elif day == timezone.localdate():
            received_at = timezone.now()
        else:
            received_at = timezone.make_aware(datetime(day.year, day.month, day.day, 12, 0))
    details = {
        name: values[f"fix_{name}"]
        for name, _label in CORRECTION_FIELDS
        if values[f"fix_{name}"].strip()
    }
    if not errors and contact is not None:
        try:
            row = services.record_request(
                user, contact, values["kind"], details, received_at, values["note"]
            )
        except KefuError as exc:
            errors = {field: [str(m) for m in msgs] for field, msgs in exc.errors.items()}
            if not errors:
                errors["__all__"] = [exc.message]
        else:
            return redirect("web:privacy-request", pk=row.pk)
    return _render(
        request,
        "web/customers/privacy_new.html",
        _page_config(request),
        status=400,
        **_new_context(request, values, errors=errors),
    )


@login_required
@require_http_methods(["GET", "POST"])
def privacy_request(request: HttpRequest, pk: int) -> HttpResponseBase:
    user = _officer(request)
    try:
        row = selectors.request_for(user, pk)
    except KefuError as exc:
        raise Http404(exc.message) from exc
    problem = ""
    status = 200
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "start":
                services.start_request(user, row)
            elif action == "complete":
                services.complete_request(user, row)
            elif action == "refuse":
                services.refuse_request(user, row, request.POST.get("reason", ""))
            else:
                raise Http404
        except KefuError as exc:
            problem = exc.message
            details = [str(m) for msgs in exc.errors.values() for m in msgs]
            if details:
                problem = f"{problem} {' '.join(details)}"
            status = 409 if exc.code == "conflict" else 400
        else:
            return redirect("web:privacy-request", pk=row.pk)
        row = selectors.request_for(user, pk)
    clock = services.clock_of(row)
    return _render(
        request,
        "web/customers/privacy_request.html",
        _page_config(request),
        status=status,
        req=row,
        info=_row(row),
        clock=clock,
        problem=problem,
        open=row.status in selectors.OPEN,
        link_days=link_days(),
        details=sorted((row.details or {}).items()),
        privacy_strings=_strings(),
    )


# --- the data subject's download page ---------------------------------------------------
def _throttled(request: HttpRequest) -> int | None:
    limit, period = parse_rate(getattr(settings, "KEFU_HELP_THROTTLE", "30/hour"))
    now = time.time()
    window = int(now // period)
    count = count_hit(f"privacy-export:{client_address(request)}:{window}", period + 1)
    if count <= limit:
        return None
    return max(1, int((window + 1) * period - now))


def _problem(request: HttpRequest, problem: str, status: int) -> HttpResponse:
    return render(request, "web/customers/privacy_export.html", {"problem": problem}, status=status)


def _resolve(request: HttpRequest, token: str) -> PrivacyRequest | HttpResponse:
    wait = _throttled(request)
    if wait is not None:
        response = _problem(request, "throttled", 429)
        response["Retry-After"] = str(wait)
        return response
    try:
        access = read_export_token(token)
    except LinkExpired:
        return _problem(request, "expired", 410)
    except LinkInvalid:
        return _problem(request, "invalid", 404)
    row = (
        PrivacyRequest.objects.select_related("contact")
        .filter(
            pk=access.request_id,
            contact_id=access.contact_id,
            kind=PrivacyKind.ACCESS,
            status=PrivacyStatus.DONE,
        )
        .first()
    )
    if row is None or not row.export:
        return _problem(request, "invalid", 404)
    return row


@customer_page
@require_GET
def privacy_export(request: HttpRequest, token: str) -> HttpResponseBase:
    found = _resolve(request, token)
    if isinstance(found, HttpResponse):
        return found
    return render(
        request,
        "web/customers/privacy_export.html",
        {"req": found, "token": token, "size": found.export.size},
    )


@customer_page
@require_GET
def privacy_export_file(request: HttpRequest, token: str) -> HttpResponseBase:
    found = _resolve(request, token)
    if isinstance(found, HttpResponse):
        return found
    audit_trail.record(
        kind="privacy",
        verb=PrivacyVerb.EXPORT_DOWNLOADED,
        actor=None,
        object_id=found.pk,
        customer_id=found.contact.customer_id,
        contact_id=found.contact_id,
        after={"number": found.number, "client": client_address(request)},
    )
    return FileResponse(
        found.export.open("rb"),
        as_attachment=True,
        filename=f"{found.number}.json",
        content_type="application/json",
    )
