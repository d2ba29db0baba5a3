"""Screens of segments, consent, the suppression list and the public unsubscribe page
(docs/customers-segments.md).

The segment editor is server-rendered and its script (``web/static/web/segments.js``)
asks the preview API for the live count and sample as conditions change, and saves
through the segments API. The unsubscribe page needs no one signed in: the signed token is
the proof; its GET changes nothing (link scanners follow links), its POST unsubscribes at
once — a one-click POST of a mail client (RFC 8058) too, which is why that view alone is
exempt from CSRF."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from core.errors import KefuError
from customers import permissions
from customers import unsubscribe as links
from customers.choices import (
    ConsentSource,
    PointKind,
    Purpose,
    SegmentKind,
    SuppressionReason,
)
from customers.models import Segment, SegmentMember
from customers.selectors import consent as consent_selectors
from customers.selectors import segments as segment_selectors
from customers.services import consent as consent_services
from project.throttling import client_address, count_hit, parse_rate

from .help_views import PRIVATE_HEADERS
from .views import _page_config, _render

MEMBERS_SHOWN = 100
SUPPRESSIONS_SHOWN = 200
# The reasons staff pick when adding an address; the others are the system's.
STAFF_REASONS = (SuppressionReason.MANUAL, SuppressionReason.BOUNCED, SuppressionReason.COMPLAINED)


def masked(address: str) -> str:
    """``li.lei@example.com`` → ``li***@example.com``: enough for the reader to know the
    address, not enough for someone the email was forwarded to."""
    local, at, domain = address.partition("@")
    if not at:
        return ""
    return f"{local[:2]}***@{domain}"


def _reader(user: Any) -> None:
    if not (permissions.can_manage_segments(user) or permissions.sees_every_customer(user)):
        raise PermissionDenied(_("You may not see segments."))


def _manager(user: Any) -> None:
    if not permissions.can_manage_segments(user):
        raise PermissionDenied(_("You may not manage segments."))


@login_required
def segments_list(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    _reader(user)
    rows = [
        {
            "id": s.pk,
            "name": s.name,
            "kind": s.kind,
            "kind_label": SegmentKind(s.kind).label,
            "count": segment_selectors.segment_size(s, user),
            "updated_at": s.updated_at,
            "url": reverse("web:segment", args=[s.pk]),
        }
        for s in segment_selectors.segments_visible_to(user)[:500]
    ]
    return _render(
        request,
        "web/customers/segments.html",
        _page_config(request, page="segments"),
        rows=rows,
        may_manage=permissions.can_manage_segments(user),
    )


def _strings() -> dict[str, Any]:
    return {
        "ops": {
            "eq": _("is"),
            "ne": _("is not"),
            "in": _("is one of"),
            "gt": _("is more than"),
            "lt": _("is less than"),
            "contains": _("contains"),
            "within": _("within (days)"),
        },
        "fields": {
            "customer.tier": _("Customer tier"),
            "customer.kind": _("Customer kind"),
            "customer.region": _("Customer region"),
            "customer.industry": _("Customer industry"),
            "customer.tags": _("Customer has any of the tags"),
            "contact.language": _("Contact language"),
            "contact.preferred_channel": _("Preferred channel"),
            "contact.has_email": _("Has an email address"),
            "activity.last_ticket_days": _("A ticket in the last N days"),
            "activity.no_ticket_days": _("No ticket in the last N days"),
            "activity.csat_below": _("Average CSAT below"),
            "activity.open_complaint": _("Has an open complaint"),
            "contract.ending_within_days": _("A contract ends within N days"),
        },
        "yes": _("Yes"),
        "no": _("No"),
        "remove": _("Remove"),
        "saved": _("Saved."),
        "frozen": _("Frozen: %(size)s contacts."),
        "counting": _("Counting…"),
        "invalid": _("Fix the conditions marked."),
        "network_error": _("The server could not be reached."),
        "error": _("Error %(status)s."),
        "no_match": _("No contacts match."),
        "list_hint": _("Comma-separated values"),
        "added": _("Added %(added)s, removed %(removed)s."),
        "match_all": _("Contacts who match all of these conditions"),
        "match_any": _("Contacts who match any of these conditions"),
    }


@login_required
def segment_editor(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    user: Any = request.user
    _reader(user)
    segment: Segment | None = None
    members: list[dict[str, Any]] = []
    if pk is not None:
        try:
            segment = segment_selectors.get_segment(user, pk)
        except KefuError as exc:
            raise Http404(exc.message) from exc
        if segment.kind == SegmentKind.STATIC and permissions.can_manage_segments(user):
            ids = SegmentMember.objects.filter(segment=segment).values("contact_id")
            members = [
                {"id": c.pk, "name": c.name, "email": c.email}
                for c in segment_selectors.segment_contacts(segment, user)
                .filter(pk__in=ids)
                .order_by("pk")[:MEMBERS_SHOWN]
            ]
    may_manage = permissions.can_manage_segments(user)
    screen = {
        "segment": None
        if segment is None
        else {
            "id": segment.pk,
            "name": segment.name,
            "description": segment.description,
            "kind": segment.kind,
            "definition": segment.definition,
        },
        "catalogue": segment_selectors.field_catalogue(),
        "may_manage": may_manage,
        "urls": {
            "list": reverse("web:segments"),
            "preview": reverse("api-segments-preview"),
            "segment": reverse("api-segment", args=[0]),
            "members": reverse("api-segment-members", args=[0]),
            "freeze": reverse("api-segment-freeze", args=[0]),
            "editor": reverse("web:segment", args=[0]),
        },
        "strings": _strings(),
    }
    return _render(
        request,
        "web/customers/segments_editor.html",
        _page_config(request, page="segment"),
        segment=segment,
        screen=screen,
        members=members,
        may_manage=may_manage,
        count=segment_selectors.segment_size(segment, user) if segment is not None else None,
        kinds=SegmentKind.choices,
    )


# --- consent -----------------------------------------------------------------------------
@login_required
@require_http_methods(["GET", "POST"])
def contact_consent(request: HttpRequest, pk: int) -> HttpResponse:
    user: Any = request.user
    if not permissions.can_record_consent(user):
        raise PermissionDenied(_("You may not record consent."))
    try:
        contact = consent_selectors.contact_for_consent(user, pk)
    except KefuError as exc:
        raise Http404(exc.message) from exc
    errors: dict[str, list[str]] = {}
    values = {"purpose": "", "granted": "", "source": ConsentSource.AGENT, "note": ""}
    status = 200
    if request.method == "POST":
        values = {k: request.POST.get(k, "").strip() for k in values}
        granted = {"yes": True, "no": False}.get(values["granted"])
        if granted is None:
            errors["granted"] = [_("Choose granted or refused.")]
        else:
            try:
                consent_services.set_consent(
                    user, contact, values["purpose"], granted, values["source"], values["note"]
                )
            except KefuError as exc:
                errors = exc.errors or {"__all__": [exc.message]}
        if not errors:
            messages.success(request, _("Consent recorded."))
            return redirect("web:contact-consent", pk=contact.pk)
        status = 400
    return _render(
        request,
        "web/customers/consent.html",
        _page_config(request, page="contact-consent"),
        contact=contact,
        consents=consent_selectors.consents_of(contact),
        purposes=Purpose.choices,
        sources=[c for c in ConsentSource.choices if c[0] != ConsentSource.UNSUBSCRIBE],
        values=values,
        errors=errors,
        status=status,
    )


# --- the suppression list ----------------------------------------------------------------
@login_required
@require_http_methods(["GET", "POST"])
def suppressions(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    if not permissions.can_manage_suppression(user):
        raise PermissionDenied(_("You may not see the suppression list."))
    errors: dict[str, list[str]] = {}
    values = {"kind": PointKind.EMAIL, "address": "", "reason": SuppressionReason.MANUAL}
    values["note"] = ""
    status = 200
    if request.method == "POST":
        values = {k: request.POST.get(k, "").strip() for k in values}
        try:
            consent_services.suppress(
                values["kind"], values["address"], values["reason"], user, values["note"]
            )
        except KefuError as exc:
            errors = exc.errors or {"__all__": [exc.message]}
            status = 400
        else:
            messages.success(request, _("Address added to the suppression list."))
            return redirect("web:suppressions")
    search = (request.GET.get("search") or "").strip().lower()[:254]
    rows = consent_selectors.suppressions_for(user)
    if search:
        rows = rows.filter(address__startswith=search)
    return _render(
        request,
        "web/customers/suppressions.html",
        _page_config(request, page="suppressions"),
        rows=list(rows.order_by("-created_at", "-id")[:SUPPRESSIONS_SHOWN]),
        kinds=PointKind.choices,
        reasons=[c for c in SuppressionReason.choices if c[0] in STAFF_REASONS],
        values=values,
        errors=errors,
        search=search,
        status=status,
    )


@login_required
@require_POST
def lift_suppression(request: HttpRequest, pk: int) -> HttpResponse:
    user: Any = request.user
    if not permissions.can_manage_suppression(user):
        raise PermissionDenied(_("You may not change the suppression list."))
    try:
        row = consent_selectors.get_suppression(user, pk)
    except KefuError as exc:
        raise Http404(exc.message) from exc
    consent_services.lift_suppression(user, row)
    messages.success(request, _("Suppression lifted."))
    return redirect("web:suppressions")


# --- the public unsubscribe page ---------------------------------------------------------
def _retry_after(request: HttpRequest) -> int | None:
    """Counts this request of the client's address against ``KEFU_HELP_THROTTLE`` (the
    public pages' rate, a fixed window in the shared cache, as web/help_views.py)."""
    limit, period = parse_rate(settings.KEFU_HELP_THROTTLE)
    now = time.time()
    window = int(now // period)
    count = count_hit(f"unsubscribe-throttle:{client_address(request)}:{window}", period + 1)
    if count <= limit:
        return None
    return max(1, int((window + 1) * period - now))


def _private(response: HttpResponseBase) -> HttpResponseBase:
    for name, value in PRIVATE_HEADERS.items():
        response[name] = value
    return response


@csrf_exempt  # the signed token is the proof; mail clients POST one-click (RFC 8058)
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponseBase:
    wait = _retry_after(request)
    if wait is not None:
        response = render(
            request, "web/customers/unsubscribe_problem.html", {"problem": "throttled"}, status=429
        )
        response["Retry-After"] = str(wait)
        return _private(response)
    try:
        found = links.read_token(token)
    except links.ExpiredToken:
        return _private(
            render(
                request,
                "web/customers/unsubscribe_problem.html",
                {"problem": "expired"},
                status=410,
            )
        )
    except links.BadToken:
        return _private(
            render(
                request,
                "web/customers/unsubscribe_problem.html",
                {"problem": "invalid"},
                status=400,
            )
        )
    contact, purpose = found.contact, found.purpose
    language = contact.language if contact.language in ("en", "zh-hans") else "en"
    if request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME) in ("en", "zh-hans"):
        language = request.COOKIES[settings.LANGUAGE_COOKIE_NAME]
    with translation.override(language):
        context = {
            "token": token,
            "purpose_label": str(Purpose(purpose).label),
            "address": masked(contact.email) if purpose in segment_selectors.EMAIL_PURPOSES else "",
        }
        if request.method == "POST":
            one_click = request.POST.get("List-Unsubscribe") == "One-Click"
            if contact.erased_at is None:
                consent_services.unsubscribe(contact, purpose)
            if one_click:
                return _private(HttpResponse(_("Unsubscribed."), content_type="text/plain"))
            return _private(render(request, "web/customers/unsubscribe_done.html", context))
        return _private(render(request, "web/customers/unsubscribe.html", context))
