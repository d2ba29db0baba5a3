"""The agent's complaint screens (docs/ui.md, "Complaints"): the list, the phone intake, the
complaint page with the actions its reader may take now, and its process chart.

Server-rendered forms: each POST calls one service of ``complaints.services`` and redirects
back with a message; a refusal (``core.errors``) is shown on the page again with what was
typed, and nothing changed. Every form carries a one-time token, so a double click or a
resend makes one complaint, one note, one contact. Reads go through
``complaints.selectors`` (who sees what); the module ``static/web/complaint_new.js`` adds the
contact search, the customer's history, the repeat flag and the live severity, and
``complaint.js`` the clocks' countdowns and the limit a proposal falls under.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from viewflow.workflow import chart

from audit.models import AuditEvent
from complaints import actions, selectors, services
from complaints.choices import (
    AUTHORITY_ORDER,
    AuthorityLevel,
    Channel,
    CompensationKind,
    ComplaintStatus,
    ContactChannel,
    Impact,
    Outcome,
    Severity,
    Urgency,
)
from complaints.models import (
    COMPLAINT_TARGETS,
    AuthorityLimit,
    Complaint,
    ComplaintCategory,
    ComplaintProfile,
    RootCause,
    SeverityRule,
)
from core.errors import KefuError
from customers import selectors as customer_selectors
from customers.models import Contact
from org import roles
from org.selectors import person_name, person_names
from processes import links, runtime
from sla import clock as clocks
from sla.choices import EscalationAction
from tickets import selectors as ticket_selectors

from . import form_tokens
from .selectors import LADDER_STATES, TASK_STATUS_LABELS
from .views import _page_config, _render

PAGE_SIZE = 25
FORM_SALT = "kefu.web.complaint-form"
# A form's one-time token lives this long; an older form is refused and shown again.
FORM_SECONDS = 24 * 3600
DEFAULT_CHANNEL = Channel.PHONE
INTAKE_FIELDS = (
    "contact_id",
    "contact_lookup",
    "channel",
    "category",
    "subcategory",
    "impact",
    "urgency",
    "severity",
    "severity_reason",
    "profile",
    "about_user",
    "product_ref",
    "title",
    "description",
    "desired_outcome",
)
STATUS_OF_ERROR = {"invalid": 400, "not_found": 404, "forbidden": 403, "conflict": 409, "gone": 410}


def _target_labels() -> dict[str, str]:
    return {
        "acknowledge": _("Acknowledge"),
        "first_contact": _("First contact"),
        "final_answer": _("Final answer"),
        "approval": _("Approval"),
    }


def _staff_only(user: Any) -> None:
    if not roles.roles_of(user):
        raise PermissionDenied(_("Only staff work on complaints."))


# --- one-time form tokens -----------------------------------------------------------------
def form_token(scope: str) -> str:
    return form_tokens.issue(salt=FORM_SALT, scope=scope, size=18)


def _nonce(request: HttpRequest, scope: str) -> str | None:
    return form_tokens.nonce_of(request, salt=FORM_SALT, scope=scope, max_age=FORM_SECONDS)


def once(nonce: str, perform: Callable[[], int]) -> tuple[int, bool]:
    """Runs ``perform`` once per nonce: a second request with the same token waits for the
    first (a transaction-scoped advisory lock on the nonce) and gets its result instead of
    acting again. ``perform`` returns the id of what it made; a refusal it raises frees the
    nonce for the corrected form."""
    key = f"web:complaint-form:{nonce}"
    with transaction.atomic():
        if connection.vendor == "postgresql":  # SQLite's IMMEDIATE transactions queue anyway
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [key])
        done = cache.get(key)
        if done is not None:
            return int(done), False
        result = perform()
        cache.set(key, result, FORM_SECONDS)
    return result, True


# --- the list -------------------------------------------------------------------------------
def _flag(value: str | None) -> bool:
    return (value or "").lower() in ("1", "true", "yes", "on")


def _list_filters(query: Any) -> tuple[dict[str, Any], dict[str, list[str]]]:
    errors: dict[str, list[str]] = {}
    status = query.get("status", "")
    if status and status not in ComplaintStatus.values:
        errors["status"] = [_("Unknown status.")]
        status = ""
    severity = query.get("severity", "")
    if severity and severity not in Severity.values:
        errors["severity"] = [_("Choose one of: S1, S2, S3, S4.")]
        severity = ""
    category = query.get("category", "")
    if category and not ComplaintCategory.objects.filter(code=category).exists():
        errors["category"] = [_("Unknown category.")]
        category = ""
    search = " ".join(query.get("search", "").split())[:100]
    return {
        "status": status,
        "severity": severity,
        "category": category,
        "mine": _flag(query.get("mine")),
        "overdue": _flag(query.get("overdue")),
        "search": search,
    }, errors


def _filtered(user: Any, filters: dict[str, Any]) -> QuerySet[Complaint]:
    rows = selectors.complaints_visible_to(user)
    if filters["status"]:
        rows = rows.filter(status=filters["status"])
    if filters["severity"]:
        rows = rows.filter(severity=filters["severity"])
    if filters["category"]:
        rows = rows.filter(
            Q(category__code=filters["category"]) | Q(subcategory__code=filters["category"])
        )
    if filters["mine"]:
        rows = rows.filter(assignee_id=user.pk)
    if filters["overdue"]:
        rows = rows.exclude(status=ComplaintStatus.CLOSED).filter(
            Q(sla_clock__breached=True)
            | Q(sla_clock__due__lt=timezone.now(), sla_clock__stopped_at__isnull=True)
        )
    if filters["search"]:
        text = filters["search"]
        rows = rows.filter(
            Q(number__iexact=text) | Q(number__icontains=text) | Q(title__icontains=text)
        )
    return rows.select_related("category", "sla_clock", "customer").order_by("-received_at", "-id")


def _query(filters: dict[str, Any]) -> dict[str, str]:
    out = {k: v for k, v in filters.items() if isinstance(v, str) and v}
    for flag in ("mine", "overdue"):
        if filters[flag]:
            out[flag] = "1"
    return out


@login_required
@require_GET
def complaints_list(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    _staff_only(user)
    filters, errors = _list_filters(request.GET)
    paginator = Paginator(_filtered(user, filters), PAGE_SIZE)
    try:
        page = paginator.page(request.GET.get("page") or 1)
    except (PageNotAnInteger, EmptyPage):
        page = paginator.page(1)
    query = _query(filters)
    base = reverse("web:complaints")
    people = person_names(
        get_user_model().objects.filter(pk__in={c.assignee_id for c in page if c.assignee_id})
    )
    statuses = dict(ComplaintStatus.choices)
    rows = [
        {
            "id": c.pk,
            "url": reverse("web:complaint", args=[c.pk]),
            "number": c.number,
            "title": c.title,
            "status": c.status,
            "status_label": statuses.get(c.status, c.status),
            "severity": c.severity,
            "category": c.category.label,
            "customer": c.customer.name if c.customer else "",
            "assignee": people.get(c.assignee_id or 0, "") or _("Unassigned"),
            "due": c.sla_clock.due if c.sla_clock and not c.sla_clock.stopped_at else None,
            "breached": bool(c.sla_clock and c.sla_clock.breached),
            "received": c.received_at,
        }
        for c in page
    ]

    def link(number: int) -> str:
        return f"{base}?{urlencode({**query, 'page': number})}"

    config = _page_config(request, page="complaints")
    response = _render(
        request,
        "web/complaints.html",
        config,
        rows=rows,
        filters=filters,
        errors=errors,
        statuses=ComplaintStatus.choices,
        severities=Severity.choices,
        categories=[(c.code, c.label) for c in ComplaintCategory.objects.filter(parent=None)],
        page=page,
        total=paginator.count,
        next_url=link(page.next_page_number()) if page.has_next() else None,
        previous_url=link(page.previous_page_number()) if page.has_previous() else None,
    )
    if errors:
        response.status_code = 400
    return response


# --- intake ---------------------------------------------------------------------------------
def _matrix() -> dict[str, dict[str, str]]:
    matrix: dict[str, dict[str, str]] = {}
    for rule in SeverityRule.objects.all():
        matrix.setdefault(rule.impact, {})[rule.urgency] = rule.severity
    return matrix


def _staff_people() -> list[tuple[int, str]]:
    people = person_names(
        get_user_model().objects.filter(is_active=True, groups__name__in=roles.ROLES)
    )
    return sorted(people.items(), key=lambda item: item[1])


def intake_strings() -> dict[str, str]:
    """The texts complaint_new.js shows, in the reader's language."""
    return {
        "searching": _("Searching…"),
        "found": _("%(count)s contacts found. Use ↑ ↓ and Enter to choose."),
        "found_one": _("1 contact found. Press Enter to choose it."),
        "none_found": _("No contact found."),
        "no_customer": _("No customer"),
        "search_failed": _("The search failed: %(detail)s"),
        "error": _("Something went wrong (%(status)s)."),
        "no_history": _("No earlier complaints."),
        "no_open_work": _("No open tickets."),
        "repeat": _(
            "A repeat of this complaint (same customer and category within %(days)s days): "
            "the severity is raised one step."
        ),
        "not_repeat": _("Not a repeat."),
        "raised": _("%(severity)s (raised one step: repeat)"),
        "override_differs": _("Differs from the matrix: a reason is required."),
        "sending": _("Recording the complaint…"),
    }


def _intake_context(
    request: HttpRequest,
    values: dict[str, str],
    *,
    errors: dict[str, list[str]] | None = None,
    token: str | None = None,
    problem: str = "",
    status: int = 200,
) -> HttpResponse:
    shown = {
        "contact",
        "about_user",
        "profile",
        "category",
        "subcategory",
        "title",
        "description",
        "impact",
        "urgency",
        "severity",
        "severity_reason",
    }
    rest = [m for field, msgs in (errors or {}).items() if field not in shown for m in msgs]
    if rest:
        problem = " ".join([problem, *rest]).strip()
    categories = ComplaintCategory.objects.filter(is_active=True).order_by("position", "code")
    profiles = list(ComplaintProfile.objects.all())
    default = selectors.default_profile()
    config = _page_config(
        request,
        page="complaint_new",
        search_limit=customer_selectors.SEARCH_LIMIT,
        search_max=customer_selectors.SEARCH_MAX_LENGTH,
    )
    contact = None
    if values.get("contact_id", "").isdigit():
        contact = Contact.objects.select_related("customer").filter(pk=values["contact_id"]).first()
    return _render(
        request,
        "web/complaint_new.html",
        config,
        values=values,
        errors=errors or {},
        problem=problem,
        form_token=token or form_token("intake"),
        chosen_contact=contact,
        categories=[(c.code, c.label) for c in categories if c.parent_id is None],
        subcategories=[
            (c.code, c.label, c.parent.code) for c in categories if c.parent_id and c.parent
        ],
        impacts=Impact.choices,
        urgencies=Urgency.choices,
        severities=Severity.choices,
        channels=Channel.choices,
        profiles=[(p.code, p.label, p.regulator) for p in profiles],
        default_profile=values.get("profile") or (default.code if default else ""),
        people=_staff_people(),
        intake={
            "matrix": _matrix(),
            "severity_labels": dict(Severity.choices),
            "context_url": reverse("web:complaint-context"),
            "strings": intake_strings(),
        },
        status=status,
    )


def _render_status(response: HttpResponse, status: int) -> HttpResponse:
    response.status_code = status
    return response


def _lookup_contact(user: Any, text: str) -> Contact | None:
    """The contact a form without JavaScript names by email address (exactly, one the
    reader may see)."""
    text = text.strip()
    if "@" not in text:
        return None
    for contact in Contact.objects.filter(email__iexact=text).select_related("customer")[:5]:
        if _may_see_contact(user, contact):
            return contact
    return None


def _may_see_contact(user: Any, contact: Contact) -> bool:
    if selectors.sees_every_complaint(user) or ticket_selectors.can_see_contact(user, contact):
        return True
    mine = selectors.complaints_visible_to(user)
    if contact.customer_id is not None:
        return mine.filter(customer_id=contact.customer_id).exists()
    return mine.filter(contact_id=contact.pk).exists()


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def new_complaint(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    _staff_only(user)
    if request.method != "POST":
        values = dict.fromkeys(INTAKE_FIELDS, "")
        values["channel"] = DEFAULT_CHANNEL
        values["impact"], values["urgency"] = Impact.MEDIUM, Urgency.MEDIUM
        return _render_status(_intake_context(request, values), 200)
    values = {field: request.POST.get(field, "") for field in INTAKE_FIELDS}
    values["regulatory"] = "1" if _flag(request.POST.get("regulatory")) else ""
    nonce = _nonce(request, "intake")
    if nonce is None:
        problem = _("The form was open too long to be sent. Check it and press Record again.")
        return _render_status(_intake_context(request, values, problem=problem), 400)
    errors: dict[str, list[str]] = {}
    contact: Contact | None = None
    if values["contact_id"].isdigit():
        contact = Contact.objects.filter(pk=values["contact_id"]).first()
    elif values["contact_lookup"].strip():
        contact = _lookup_contact(user, values["contact_lookup"])
        if contact is None:
            errors["contact"] = [_("No contact you may see has this email address.")]
    if contact is not None and not _may_see_contact(user, contact):
        contact = None
        values["contact_id"] = ""  # the page shows a chosen contact: never one not seen
        errors["contact"] = [_("Unknown contact.")]
    about = values["about_user"]
    if about and not about.isdigit():
        errors["about_user"] = [_("Unknown user.")]
    if errors:
        return _render_status(
            _intake_context(request, values, errors=errors, token=request.POST["form_token"]), 400
        )
    data = services.NewComplaint(
        category=values["category"],
        subcategory=values["subcategory"],
        title=values["title"],
        description=values["description"],
        impact=values["impact"],
        urgency=values["urgency"],
        channel=values["channel"] or DEFAULT_CHANNEL,
        customer_id=contact.customer_id if contact else None,
        contact_id=contact.pk if contact else None,
        product_ref=values["product_ref"],
        desired_outcome=values["desired_outcome"],
        severity=values["severity"],
        severity_reason=values["severity_reason"],
        regulatory=bool(values["regulatory"]),
        profile=values["profile"],
        about_user_id=int(about) if about else None,
    )
    try:
        complaint_id, created = once(
            nonce, lambda: services.open_complaint(data=data, actor=user).pk
        )
    except KefuError as exc:
        errors = {field: [str(m) for m in msgs] for field, msgs in exc.errors.items()}
        if "customer" in errors:
            errors.setdefault("contact", []).extend(errors.pop("customer"))
        return _render_status(
            _intake_context(
                request,
                values,
                errors=errors,
                problem=exc.message,
                token=request.POST["form_token"],
            ),
            STATUS_OF_ERROR.get(exc.code, 400),
        )
    complaint = Complaint.objects.get(pk=complaint_id)
    if created:
        messages.success(
            request, _("Complaint %(number)s is recorded.") % {"number": complaint.number}
        )
    if not selectors.can_see_complaint(user, complaint_id):
        messages.info(
            request,
            _("Complaint %(number)s went to a team you do not see.") % {"number": complaint.number},
        )
        return redirect("web:complaints")
    return redirect("web:complaint", pk=complaint_id)


@login_required
@require_GET
def new_complaint_context(request: HttpRequest) -> JsonResponse:
    """What intake shows once a contact is chosen: the customer's earlier complaints and
    open tickets, and whether the new complaint would be a repeat (category and profile
    from the form)."""
    user: Any = request.user
    if not roles.roles_of(user):
        return JsonResponse(
            {"detail": _("Only staff work on complaints."), "errors": {}}, status=403
        )
    raw = request.GET.get("contact", "")
    contact = (
        Contact.objects.select_related("customer").filter(pk=raw).first() if raw.isdigit() else None
    )
    if contact is None or not _may_see_contact(user, contact):
        return JsonResponse(
            {"detail": _("Unknown contact."), "errors": {"contact": [_("Unknown contact.")]}},
            status=404,
        )
    history = selectors.customer_history(customer_id=contact.customer_id, contact_id=contact.pk)
    statuses = dict(ComplaintStatus.choices)
    complaints = [
        {
            **row,
            "received_at": row["received_at"].isoformat(),
            "status_label": str(statuses.get(row["status"], row["status"])),
            "url": reverse("web:complaint", args=[row["id"]]),
        }
        for row in history["complaints"]
    ]
    work = [
        {
            **row,
            "url": reverse("web:ticket", args=[row["id"]]) if row["kind"] == "ticket" else None,
        }
        for row in history["open_work"]
    ]
    repeat = None
    category = ComplaintCategory.objects.filter(
        code=request.GET.get("category", ""), parent=None
    ).first()
    profile = (
        ComplaintProfile.objects.filter(code=request.GET.get("profile", "")).first()
        or selectors.default_profile()
    )
    if category is not None and profile is not None:
        found = selectors.find_repeat(
            customer_id=contact.customer_id,
            contact_id=contact.pk,
            category_id=category.pk,
            window_days=profile.repeat_window_days,
        )
        if found is not None:
            repeat = {
                "id": found.pk,
                "number": found.number,
                "title": found.title,
                "url": reverse("web:complaint", args=[found.pk]),
                "days": profile.repeat_window_days,
            }
    return JsonResponse(
        {
            "contact": customer_selectors.contact_row(contact),
            "complaints": complaints,
            "open_work": work,
            "repeat": repeat,
        },
    )


# --- the complaint page ---------------------------------------------------------------------
def _visible(user: Any, pk: int) -> Complaint:
    _staff_only(user)
    try:
        return selectors.get_complaint_for(user, pk)
    except KefuError as exc:
        raise Http404(exc.message) from exc


def _node(complaint: Complaint) -> str | None:
    return actions.current_node(complaint)


def _extensions_allowed(complaint: Complaint) -> int:
    return actions.extensions_allowed(complaint)


def available_actions(user: Any, complaint: Complaint, node: str | None) -> list[str]:
    """What ``user`` may do now (``complaints.actions``, as the API offers it; the services
    decide again on submit); the page's forms call claiming "take"."""
    return [
        "take" if name == "claim" else name
        for name in actions.available_actions(user, complaint, node=node)
    ]


def _approval_clock_row(approval: Any) -> dict[str, Any] | None:
    """The running approval's clock as a row of the clocks table (none when no approval
    waits): due at the proposal's due moment, overdue once it has passed."""
    if approval is None or approval.stopped_at is not None or not approval.terms:
        return None
    due = clocks.target_due(approval, "approval")
    if selectors.approval_overdue(approval):
        label, kind = _("Overdue"), "breached"
    elif approval.warning:
        label, kind = _("Due soon"), "warning"
    else:
        label, kind = _("Running"), "running"
    return {
        "target": "approval",
        "label": _target_labels()["approval"],
        "due": due,
        "met_at": None,
        "state": kind,
        "state_label": label,
        "live": True,
    }


def _clocks(complaint: Complaint, approval: Any = None) -> list[dict[str, Any]]:
    clock = complaint.sla_clock
    waiting = _approval_clock_row(approval)
    if clock is None or not clock.terms:
        return [waiting] if waiting else []
    labels = _target_labels()
    met_fields = {
        "acknowledge": complaint.acknowledged_at,
        "first_contact": complaint.first_contact_at,
        "final_answer": complaint.answered_at,
    }
    out = []
    for target in COMPLAINT_TARGETS:
        state = clock.targets.get(target)
        if state is None:
            continue
        due = clocks.target_due(clock, target)
        met = state.get("met_at")
        met_at = met_fields.get(target) if met else None
        breached = bool(state.get("breached")) or (
            due is not None and met_at is not None and met_at > due
        )
        if met:
            label = _("Met late") if breached else _("Met")
            kind = "breached" if breached else "met"
        elif breached or (due is not None and due < timezone.now()):
            label, kind = _("Breached"), "breached"
        else:
            label, kind = _("Running"), "running"
        out.append(
            {
                "target": target,
                "label": labels[target],
                "due": due,
                "met_at": met_at,
                "state": kind,
                "state_label": label,
                "live": not met and clock.stopped_at is None and clock.paused_at is None,
            }
        )
    if waiting:
        out.append(waiting)
    return out


def _escalated_to(approval: Any) -> str:
    """Whom the ladder told of the overdue approval ("" before its breach fired)."""
    if approval is None or approval.stopped_at is not None or not approval.breached:
        return ""
    level = services.told_role(str(approval.terms.get("required_level") or ""))
    return str(_("the administrators") if level == roles.ROLE_ADMINISTRATOR else _("the managers"))


def _authority_rows() -> list[dict[str, Any]]:
    levels = dict(AuthorityLevel.choices)
    return [
        {
            "level": row.level,
            "label": str(levels.get(row.level, row.level)),
            "max_amount": str(row.max_amount) if row.max_amount is not None else None,
            "approval_hours": row.approval_hours,
        }
        for row in sorted(
            AuthorityLimit.objects.all(),
            key=lambda r: AUTHORITY_ORDER.index(r.level) if r.level in AUTHORITY_ORDER else 9,
        )
    ]


def _history(complaint: Complaint) -> list[dict[str, Any]]:
    """The complaint's audit rows, oldest first: who, the verb in the reader's language, and
    the facts the row adds (reasons, amounts, levels, people by name)."""
    events = list(
        AuditEvent.objects.filter(complaint_id=complaint.pk)
        .select_related("actor")
        .order_by("created_at", "id")
    )
    people_ids = {
        value
        for event in events
        for key in ("assignee", "approver")
        if isinstance(value := (event.after or {}).get(key), int)
    }
    people = person_names(get_user_model().objects.filter(pk__in=people_ids))
    return [
        {
            "at": event.created_at,
            "actor": person_name(event.actor) if event.actor else _("Kefu"),
            "verb": selectors.history_label(event.subject_kind, event.verb),
            "code": event.verb,
            "details": _describe(event.after or {}, people),
        }
        for event in events
    ]


DETAIL_KEYS = (
    "assignee",
    "approver",
    "reason",
    "amount",
    "level",
    "required_level",
    "severity",
    "channel",
    "outcome",
    "due",
    "repeat_of",
    "ticket",
)


def _value(key: str, value: Any, people: dict[int, str]) -> str:
    if key in ("assignee", "approver") and isinstance(value, int):
        return people.get(value, f"#{value}")
    if key in ("level", "required_level") and value in AuthorityLevel.values:
        return str(AuthorityLevel(value).label)
    if key == "severity" and value in Severity.values:
        return str(Severity(value).label)
    if key == "channel":
        labels = {**dict(Channel.choices), **dict(ContactChannel.choices)}
        return str(labels.get(value, value))
    if key == "outcome" and value in Outcome.values:
        return str(Outcome(value).label)
    if key == "due" and isinstance(value, str):
        moment = parse_datetime(value)
        if moment is not None:
            return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")
    return str(value)


def _describe(after: dict[str, Any], people: dict[int, str]) -> str:
    labels = {
        "assignee": _("Handler"),
        "approver": _("Approver"),
        "reason": _("Reason"),
        "amount": _("Amount"),
        "level": _("Level"),
        "required_level": _("Needs approval of"),
        "severity": _("Severity"),
        "channel": _("Channel"),
        "outcome": _("Outcome"),
        "due": _("Due"),
        "repeat_of": _("Repeat of"),
        "ticket": _("Ticket"),
    }
    parts = []
    for key in DETAIL_KEYS:
        value = after.get(key)
        if value in (None, ""):
            continue
        parts.append(f"{labels[key]}: {_value(key, value, people)}")
    return "; ".join(parts)


def _page(
    request: HttpRequest,
    complaint: Complaint,
    *,
    posted: dict[str, str] | None = None,
    failed: dict[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    user: Any = request.user
    node = _node(complaint)
    actions = available_actions(user, complaint, node)
    proposals = list(
        complaint.proposals.select_related("root_cause", "proposed_by", "approver", "decided_by")
    )
    notes = list(complaint.notes.select_related("author"))
    history = selectors.customer_history(
        customer_id=complaint.customer_id, contact_id=complaint.contact_id, exclude_id=complaint.pk
    )
    assignable = []
    if "assign" in actions and complaint.team is not None:
        people = get_user_model().objects.filter(
            Q(kefu_teams=complaint.team_id) | Q(supervised_teams=complaint.team_id), is_active=True
        )
        if complaint.about_user_id:
            people = people.exclude(pk=complaint.about_user_id)
        assignable = sorted(person_names(people.distinct()).items(), key=lambda i: i[1])
    clock = complaint.sla_clock
    approval = (
        selectors.approval_clock(complaint.pk)
        if complaint.status == ComplaintStatus.AWAITING_APPROVAL
        else None
    )
    config = _page_config(request, page="complaint", complaint=complaint.pk)
    response = _render(
        request,
        "web/complaint.html",
        config,
        complaint=complaint,
        node=node,
        actions=actions,
        clocks=_clocks(complaint, approval),
        approval_overdue=selectors.approval_overdue(approval),
        approval_escalated_to=_escalated_to(approval),
        escalation_level=clock.escalation_level if clock else 0,
        extensions_allowed=_extensions_allowed(complaint),
        extensions=list(complaint.extensions.select_related("approved_by")),
        ticket_links=links.links_of("complaint", complaint.pk),
        proposals=proposals,
        pending=next((p for p in proposals if p.status == "pending"), None),
        notes=notes,
        history=_history(complaint),
        customer_history=history,
        assignable=assignable,
        outcomes=Outcome.choices,
        root_causes=[(c.code, c.label) for c in RootCause.objects.filter(is_active=True)],
        compensation_kinds=CompensationKind.choices,
        contact_channels=ContactChannel.choices,
        authority=_authority_rows(),
        my_authority=services.authority_of(user),
        my_authority_label=AuthorityLevel(services.authority_of(user)).label,
        tokens={name: form_token(f"act:{complaint.pk}:{name}") for name in actions},
        posted=posted or {},
        failed=failed,
        complaint_strings={
            "overdue": _("overdue by %(time)s"),
            "left": _("%(time)s left"),
            "falls_under": _("Falls under the limit of: %(level)s"),
            "needs_approval": _("Above your limit: a %(level)s must approve."),
            "within_mine": _("Within your limit: decided at once."),
        },
        status_labels=dict(ComplaintStatus.choices),
    )
    response.status_code = status
    return response


@login_required
@require_GET
def complaint_detail(request: HttpRequest, pk: int) -> HttpResponseBase:
    return _page(request, _visible(request.user, pk))


ACTION_FIELDS = {
    "assign": ("assignee",),
    "contact": ("channel", "summary"),
    "note": ("body",),
    "propose": (
        "outcome",
        "resolution",
        "root_cause",
        "corrective_action",
        "compensation_amount",
        "compensation_kind",
    ),
    "approve": ("reason",),
    "reject": ("reason",),
    "extend": ("reason",),
    "escalate": ("reason",),
    "close": ("note",),
    "reopen": ("reason",),
}


def _as_id(value: str, field: str) -> int:
    if not value.isdigit():
        from core.errors import InvalidInput

        raise InvalidInput(_("Choose someone."), {field: [_("Choose someone.")]})
    return int(value)


def _perform(action: str, user: Any, pk: int, p: dict[str, str]) -> None:
    match action:
        case "take":
            services.claim_complaint(complaint_id=pk, actor=user)
        case "assign":
            services.assign_complaint(
                complaint_id=pk, actor=user, assignee_id=_as_id(p["assignee"], "assignee")
            )
        case "acknowledge":
            services.acknowledge_complaint(complaint_id=pk, actor=user)
        case "contact":
            services.log_contact(
                complaint_id=pk, actor=user, channel=p["channel"], summary=p["summary"]
            )
        case "note":
            services.add_note(complaint_id=pk, actor=user, body=p["body"])
        case "propose":
            services.propose_resolution(
                complaint_id=pk,
                actor=user,
                outcome=p["outcome"],
                resolution=p["resolution"],
                root_cause=p["root_cause"],
                corrective_action=p["corrective_action"],
                compensation_amount=p["compensation_amount"].strip() or None,
                compensation_kind=p["compensation_kind"],
            )
        case "approve":
            services.approve_proposal(complaint_id=pk, actor=user, reason=p["reason"])
        case "reject":
            services.reject_proposal(complaint_id=pk, actor=user, reason=p["reason"])
        case "extend":
            services.extend_deadline(complaint_id=pk, actor=user, reason=p["reason"])
        case "escalate":
            services.escalate_complaint(complaint_id=pk, actor=user, reason=p["reason"])
        case "close":
            services.close_complaint(complaint_id=pk, actor=user, note=p["note"])
        case "reopen":
            services.reopen_complaint(complaint_id=pk, actor=user, reason=p["reason"])
        case _:
            raise Http404


def _done_message(action: str) -> str:
    return {
        "take": _("You took the complaint."),
        "assign": _("The complaint is assigned."),
        "acknowledge": _("Acknowledged; the customer is told by email."),
        "contact": _("The contact is logged."),
        "note": _("The note is added."),
        "propose": _("The resolution is proposed."),
        "approve": _("Approved; the final answer goes to the customer."),
        "reject": _("Rejected; the proposal goes back to the handler."),
        "extend": _("The final-answer deadline is extended; the customer is told."),
        "escalate": _("The complaint is escalated."),
        "close": _("Done: the customer's acceptance is recorded."),
        "reopen": _("The complaint is reopened."),
    }[action]


@login_required
@require_POST
def complaint_action(request: HttpRequest, pk: int) -> HttpResponseBase:
    """One action of the page (``action`` in the form) through its service."""
    user: Any = request.user
    action = request.POST.get("action", "")
    if action not in ACTION_FIELDS and action not in ("take", "acknowledge"):
        raise Http404
    complaint = _visible(user, pk)
    posted = {field: request.POST.get(field, "") for field in ACTION_FIELDS.get(action, ())}
    nonce = _nonce(request, f"act:{pk}:{action}")
    if nonce is None:
        failed = {
            "action": action,
            "message": _("The form was open too long to be sent. Check it and send it again."),
            "errors": {},
        }
        return _page(request, complaint, posted=posted, failed=failed, status=400)

    def perform() -> int:
        _perform(action, user, pk, posted)
        return pk

    try:
        done = once(nonce, perform)[1]
    except KefuError as exc:
        complaint = _visible(user, pk)
        failed = {
            "action": action,
            "message": exc.message,
            "errors": {f: [str(m) for m in msgs] for f, msgs in exc.errors.items()},
        }
        return _page(
            request,
            complaint,
            posted=posted,
            failed=failed,
            status=STATUS_OF_ERROR.get(exc.code, 400),
        )
    if done:
        messages.success(request, _done_message(action))
    if not selectors.can_see_complaint(user, pk):
        return redirect("web:complaints")
    return redirect(reverse("web:complaint", args=[pk]) + f"#{action}-done")


# --- the process chart ----------------------------------------------------------------------
def _chart(complaint: Complaint) -> str:
    flow_class = runtime.kind("complaint").flow_class
    grid = chart.calc_layout_data(flow_class)
    process_pk = runtime.process_pk("complaint", complaint.pk)
    if process_pk is not None:
        chart.calc_cell_status(flow_class, grid, process_pk)
    return mark_safe(chart.grid_to_svg(grid))  # noqa: S308 - generated from the flow class


def _ladder(complaint: Complaint) -> dict[str, Any] | None:
    clock = complaint.sla_clock
    if clock is None or not clock.terms:
        return None
    targets = _target_labels()
    actions = dict(EscalationAction.choices)
    kinds = {"warning": _("Warning"), "breach": _("Breach")}
    steps = []
    for step in clocks.ladder(clock):
        if step["kind"] == "level":
            label = _("Escalation level %(level)s: %(action)s") % {
                "level": step["level"],
                "action": actions.get(step["action"], step["action"]),
            }
        else:
            label = str(kinds[step["kind"]])
        steps.append(
            {
                **step,
                "label": label,
                "target_label": targets.get(step["target"], step["target"]),
                "state_label": str(LADDER_STATES[step["state"]]),
            }
        )
    if clock.stopped_at is not None or clock.due is None:
        running = _("stopped")
    elif clock.paused_at is not None:
        running = _("paused")
    else:
        running = _("running")
    return {"policy": clock.terms.get("policy"), "running": running, "steps": steps}


@login_required
@require_GET
def complaint_process(request: HttpRequest, pk: int) -> HttpResponseBase:
    complaint = _visible(request.user, pk)
    from viewflow.workflow.models import Task

    tasks = [
        {
            "title": task.title,
            "status_label": TASK_STATUS_LABELS.get(task.status, task.status),
            "owner": person_name(task.owner) if task.owner else "",
            "created": task.created,
        }
        for task in Task.objects.filter(process__complaintprocess__complaint_id=complaint.pk)
        .select_related("owner")
        .order_by("created", "pk")
    ]
    config = _page_config(request, page="complaint_process", complaint=complaint.pk)
    return _render(
        request,
        "web/complaint_process.html",
        config,
        complaint=complaint,
        chart=_chart(complaint),
        sla=_ladder(complaint),
        tasks=tasks,
    )
