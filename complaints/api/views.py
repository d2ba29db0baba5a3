"""Complaint endpoints: validate, call a service or selector, shape the output
(docs/api.md, "Complaints")."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, PolymorphicProxySerializer, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from audit.models import AuditEvent
from core.errors import Forbidden, InvalidInput, NotFound
from core.pagination import paginate
from customers.models import Contact
from customers.permissions import sees_work_contents
from org import roles
from processes import idempotency, links, subjects, visibility
from project.api_params import ID_SCHEMA, MAX_ID, bool_param, int_param, page_link
from sla import clock as clocks
from sla.models import SlaClock

from .. import selectors, services
from ..actions import available_actions, current_node, extensions_allowed
from ..choices import (
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
    raised,
)
from ..models import (
    APPROVAL_KIND,
    APPROVAL_TARGET,
    AuthorityLimit,
    Complaint,
    ComplaintCategory,
    ComplaintPolicy,
    ComplaintProfile,
    RootCause,
    SeverityRule,
)
from . import serializers as s

PAGE_SIZE = 50
ORDERINGS = {
    "received": ("received_at", False),
    "-received": ("received_at", True),
    "updated": ("updated_at", False),
    "-updated": ("updated_at", True),
    "due": ("queue_due", False),  # the clock's due, annotated by _filtered
    "-due": ("queue_due", True),
    "severity": ("severity", False),
    "-severity": ("severity", True),
}
STATUSES = "|".join(ComplaintStatus.values)
SEVERITIES = "|".join(Severity.values)
# The service's error keys, as the API's input names them.
FIELD_NAMES = {"customer": "customer_id", "contact": "contact_id", "about_user": "about_user_id"}
_CREATED = status.HTTP_201_CREATED
IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    str,
    location=OpenApiParameter.HEADER,
    required=False,
    description=(
        "1 to 255 characters, unique per request the client means once: a repeat with the same "
        "key and body changes nothing and is answered with the complaint (the one the first "
        "request created, or as it stands); the key with another body or endpoint is a 409."
    ),
)


def _valid(serializer_class: type[serializers.Serializer], data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise InvalidInput(
            _("Expected a JSON object."), {"non_field_errors": [_("Expected an object.")]}
        )
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _idempotency_key(request: Request) -> str | None:
    return idempotency.key_from_headers(request.headers)


def _once(request: Request, user: Any, body: Any, perform: Callable[[], int]) -> tuple[int, bool]:
    """Runs ``perform`` (it answers the complaint's id) once per ``Idempotency-Key``: a
    replay gets the id the first request answered and ``False`` (docs/api.md, "Beyond the
    contract"); without a key every request acts."""
    key = _idempotency_key(request)
    if key is None:
        return perform(), True
    return idempotency.perform_once(
        actor=user,
        key=key,
        fingerprint=idempotency.request_fingerprint(request.path, body),
        subject_kind="complaint",
        perform=perform,
    )


def _staff(request: Request) -> Any:
    """The caller, who must hold a service role: customers, role-less accounts, marketing
    and analysts get 403 (docs/customers-roles.md)."""
    user = request.user
    if not sees_work_contents(user):
        raise Forbidden(_("Only staff may work on complaints."))
    return user


def _choices(choices: Any) -> list[dict[str, str]]:
    return [{"value": value, "label": str(label)} for value, label in choices]


def _code_label(obj: Any) -> dict[str, str] | None:
    return {"code": obj.code, "label": obj.label} if obj is not None else None


# --- the detail answer -------------------------------------------------------------------
def _clock(complaint: Complaint) -> dict[str, Any] | None:
    clock = complaint.sla_clock
    if clock is None:
        return None
    targets = []
    for name in clocks.target_names(clock):
        state = clock.targets.get(name) or {}
        targets.append(
            {
                "name": name,
                "due": clocks.target_due(clock, name),
                "met_at": state.get("met_at"),
                "breached": bool(state.get("breached")),
            }
        )
    return {
        "policy": clock.policy_id,
        "calendar": "business" if (clock.terms or {}).get("calendar") else "calendar",
        "started_at": clock.started_at,
        "stopped_at": clock.stopped_at,
        "paused": clock.paused_at is not None,
        "due": clock.due,
        "warning": clock.warning,
        "breached": clock.breached,
        "escalation_level": clock.escalation_level,
        "acknowledged_level": clock.acknowledged_level,
        "targets": targets,
        "ladder": clocks.ladder(clock),
    }


def _people(ids: set[int | None]) -> list[dict[str, Any]]:
    wanted = [pk for pk in ids if pk is not None]
    if not wanted:
        return []
    return [
        {"id": user.pk, "name": user.get_full_name() or user.get_username()}
        for user in get_user_model().objects.filter(pk__in=wanted).order_by("id")
    ]


def complaint_detail(user: Any, complaint: Complaint) -> dict[str, Any]:
    """The detail answer (``ComplaintOutput``), as plain values."""
    node = current_node(complaint)
    notes = list(complaint.notes.all())
    proposals = list(complaint.proposals.select_related("root_cause").all())
    extensions = list(complaint.extensions.all())
    repeat = complaint.repeat_of
    people = {complaint.assignee_id, complaint.about_user_id}
    people |= {n.author_id for n in notes} | {e.approved_by_id for e in extensions}
    for p in proposals:
        people |= {p.proposed_by_id, p.approver_id, p.decided_by_id}
    return {
        "id": complaint.pk,
        "number": complaint.number,
        "title": complaint.title,
        "description": complaint.description,
        "desired_outcome": complaint.desired_outcome,
        "product_ref": complaint.product_ref,
        "status": complaint.status,
        "status_label": complaint.get_status_display(),
        "node": node,
        "channel": complaint.channel,
        "profile": _code_label(complaint.profile),
        "category": _code_label(complaint.category),
        "subcategory": _code_label(complaint.subcategory),
        "customer": {"id": complaint.customer.pk, "name": complaint.customer.name}
        if complaint.customer is not None
        else None,
        "contact": {"id": complaint.contact.pk, "name": complaint.contact.name}
        if complaint.contact is not None
        else None,
        "team": complaint.team_id,
        "assignee": complaint.assignee_id,
        "about_user": complaint.about_user_id,
        "ticket": complaint.ticket_id,
        "impact": complaint.impact,
        "urgency": complaint.urgency,
        "severity": complaint.severity,
        "derived_severity": complaint.derived_severity,
        "severity_reason": complaint.severity_reason,
        "regulatory": complaint.regulatory,
        "repeat_of": {"id": repeat.pk, "number": repeat.number, "received_at": repeat.received_at}
        if repeat is not None
        else None,
        "received_at": complaint.received_at,
        "acknowledged_at": complaint.acknowledged_at,
        "first_contact_at": complaint.first_contact_at,
        "answered_at": complaint.answered_at,
        "response_due_at": complaint.response_due_at,
        "customer_response": complaint.customer_response,
        "responded_at": complaint.responded_at,
        "dispute_reason": complaint.dispute_reason,
        "disputes": complaint.disputes,
        "reviewed_at": complaint.reviewed_at,
        "closed_at": complaint.closed_at,
        "outcome": complaint.outcome,
        "resolution": complaint.resolution,
        "root_cause": _code_label(complaint.root_cause),
        "corrective_action": complaint.corrective_action,
        "compensation_amount": complaint.compensation_amount,
        "compensation_kind": complaint.compensation_kind,
        "approved_level": complaint.approved_level,
        "extensions_used": complaint.extensions_used,
        "extensions_allowed": extensions_allowed(complaint),
        "clock": _clock(complaint),
        "notes": [
            {
                "id": n.pk,
                "kind": n.kind,
                "channel": n.channel,
                "body": n.body,
                "author": n.author_id,
                "created": n.created_at,
            }
            for n in notes
        ],
        "proposals": [
            {
                "id": p.pk,
                "outcome": p.outcome,
                "resolution": p.resolution,
                "root_cause": p.root_cause.code,
                "corrective_action": p.corrective_action,
                "compensation_amount": p.compensation_amount,
                "compensation_kind": p.compensation_kind,
                "status": p.status,
                "level": p.required_level,
                "rule": p.rule,
                "proposed_by": p.proposed_by_id,
                "approver": p.approver_id,
                "due": p.due_at,
                "decided_by": p.decided_by_id,
                "decided_at": p.decided_at,
                "decision_reason": p.decision_reason,
                "created": p.created_at,
            }
            for p in proposals
        ],
        "extensions": [
            {
                "id": e.pk,
                "seconds": e.seconds,
                "reason": e.reason,
                "approved_by": e.approved_by_id,
                "due_before": e.due_before,
                "due_after": e.due_after,
                "created": e.created_at,
            }
            for e in extensions
        ],
        "links": links.links_of("complaint", complaint.pk),
        "customer_history": selectors.customer_history(
            customer_id=complaint.customer_id,
            contact_id=complaint.contact_id,
            exclude_id=complaint.pk,
        ),
        "people": _people(people),
        "actions": available_actions(user, complaint, node=node),
        "handler": complaint.assignee_id,
        "repeat": complaint.repeat_of_id is not None,
        "escalation_level": complaint.sla_clock.escalation_level if complaint.sla_clock else 0,
        "clocks": _contract_clocks(complaint),
        "proposal": _contract_proposal(proposals[-1]) if proposals else None,
        "version": complaint.version,
        "created": complaint.created_at,
        "updated": complaint.updated_at,
        "history_url": reverse("complaint-history", args=[complaint.pk]),
    }


APPROVAL = {
    "decided": "not_needed",
    "pending": "pending",
    "approved": "approved",
    "rejected": "rejected",
}


def _contract_clocks(complaint: Complaint) -> dict[str, Any]:
    """API.md's ``clocks``: each target by name, and ``approval`` while an approval waits
    (its own clock, docs/complaints.md "Overdue approvals")."""
    clock = complaint.sla_clock
    if clock is None:
        return {}
    out: dict[str, Any] = {}
    for name in clocks.target_names(clock):
        state = clock.targets.get(name) or {}
        out[name] = {
            "due": state.get("due"),
            "met_at": state.get("met_at"),
            "breached": bool(state.get("breached")),
        }
    if complaint.status == ComplaintStatus.AWAITING_APPROVAL:
        approval = SlaClock.objects.filter(
            kind=APPROVAL_KIND, object_id=complaint.pk, stopped_at__isnull=True
        ).first()
        if approval is not None:
            due = clocks.target_due(approval, APPROVAL_TARGET)
            out[APPROVAL_TARGET] = {
                "due": due.isoformat() if due is not None else None,
                "met_at": None,
                "breached": selectors.approval_overdue(approval),
            }
    return out


def _contract_proposal(proposal: Any) -> dict[str, Any]:
    """API.md's ``proposal``: the latest one, its compensation and its approval's state."""
    money = None
    if proposal.compensation_amount:
        money = {
            "amount": proposal.compensation_amount,
            "currency": settings.KEFU_CURRENCY,
            "kind": proposal.compensation_kind,
        }
    return {
        "resolution": proposal.resolution,
        "root_cause": proposal.root_cause.code,
        "compensation": money,
        "approval": APPROVAL.get(proposal.status, proposal.status),
    }


def _detail_response(user: Any, pk: int, status_code: int = status.HTTP_200_OK) -> Response:
    complaint = selectors.get_complaint_for(user, pk)
    return Response(s.ComplaintOutput(complaint_detail(user, complaint)).data, status=status_code)


# Intake's answer: the complaint, or a receipt when the caller may not see it.
_INTAKE_OUTPUT = PolymorphicProxySerializer(
    component_name="ComplaintIntakeOutput",
    serializers=[s.ComplaintOutput, s.ComplaintReceiptOutput],
    resource_type_field_name=None,
)


def _intake_response(user: Any, pk: int, status_code: int) -> Response:
    """The recorded complaint as its detail, or, for a caller who may not see it (it went
    to the complaints team and may be about them), a receipt with its number."""
    if selectors.can_see_complaint(user, pk):
        return _detail_response(user, pk, status_code)
    complaint = Complaint.objects.only("number", "status").get(pk=pk)
    receipt = {
        "id": complaint.pk,
        "number": complaint.number,
        "status": complaint.status,
        "visible": False,
        "detail": _("Complaint %(number)s went to a team you do not see.")
        % {"number": complaint.number},
    }
    return Response(s.ComplaintReceiptOutput(receipt).data, status=status_code)


def _check_pk(pk: int) -> None:
    if pk > MAX_ID:  # the URL takes any digits; no complaint has such an id
        raise NotFound(_("Complaint not found."))


# --- the list and intake -----------------------------------------------------------------
def _values(request: Request, name: str, allowed: list[str]) -> list[str]:
    raw = request.query_params.get(name)
    if not raw:
        return []
    values = [v.strip() for v in raw.split(",") if v.strip()]
    wrong = [v for v in values if v not in allowed]
    if wrong or not values:
        raise InvalidInput(
            _("Invalid %(name)s.") % {"name": name},
            {name: [_("Use one of: %(values)s.") % {"values": ", ".join(allowed)}]},
        )
    return values


def _filtered(request: Request) -> QuerySet[Complaint]:
    user = request.user
    rows = selectors.complaints_visible_to(user)
    statuses = _values(request, "status", ComplaintStatus.values)
    if statuses:
        rows = rows.filter(status__in=statuses)
    severities = _values(request, "severity", Severity.values)
    if severities:
        rows = rows.filter(severity__in=severities)
    category = request.query_params.get("category")
    if category:
        if len(category) > 64:
            raise InvalidInput(
                _("Invalid category."), {"category": [_("Ensure at most 64 characters.")]}
            )
        rows = rows.filter(Q(category__code=category) | Q(subcategory__code=category))
    team = int_param(request, "team")
    if team is not None:
        rows = rows.filter(team_id=team)
    assignee = request.query_params.get("assignee")
    if assignee:
        if assignee == "me":
            rows = rows.filter(assignee_id=user.pk)
        elif assignee == "none":
            rows = rows.filter(assignee__isnull=True)
        else:
            rows = rows.filter(assignee_id=int_param(request, "assignee"))
    customer = int_param(request, "customer")
    if customer is not None:
        rows = rows.filter(customer_id=customer)
    overdue = bool_param(request, "overdue")
    if overdue is not None:
        now = timezone.now()
        # an approval past its due moment is overdue work too (its own clock)
        approval_late = SlaClock.objects.filter(
            Q(due__lte=now) | Q(breached=True),
            kind=APPROVAL_KIND,
            object_id=OuterRef("pk"),
            stopped_at__isnull=True,
        )
        late = Q(sla_clock__due__lt=now) | Q(sla_clock__breached=True) | Q(Exists(approval_late))
        late &= ~Q(status=ComplaintStatus.CLOSED)
        rows = rows.filter(late) if overdue else rows.exclude(late)
    text = request.query_params.get("q", "").strip()
    if text:
        if len(text) > 200 or "\x00" in text:
            raise InvalidInput(_("Invalid q."), {"q": [_("Ensure at most 200 characters.")]})
        rows = rows.filter(Q(number__iexact=text) | Q(title__icontains=text))
    return rows.select_related("sla_clock", "category").annotate(queue_due=F("sla_clock__due"))


def _row(c: Complaint) -> dict[str, Any]:
    clock = c.sla_clock
    return {
        "id": c.pk,
        "number": c.number,
        "title": c.title,
        "status": c.status,
        "severity": c.severity,
        "category": c.category.code,
        "channel": c.channel,
        "regulatory": c.regulatory,
        "customer": c.customer_id,
        "contact": c.contact_id,
        "team": c.team_id,
        "assignee": c.assignee_id,
        "received_at": c.received_at,
        "due": clock.due if clock is not None else None,
        "warning": bool(clock and clock.warning),
        "breached": bool(clock and clock.breached),
        "escalation_level": clock.escalation_level if clock is not None else 0,
        "version": c.version,
    }


def _intake(user: Any, data: dict[str, Any], *, reason: str = "") -> Complaint:
    from_ticket = None
    ticket_id = data.pop("ticket", None)
    new_contact = data.pop("contact", None)
    if new_contact and data["contact_id"] is None:
        data["contact_id"] = _contact_by_email(user, new_contact, data["customer_id"])
    if ticket_id is not None:
        facts = (
            subjects.describe("ticket", ticket_id)
            if visibility.can_see(user, "ticket", ticket_id)
            else None
        )
        if facts is None:
            raise NotFound(_("Ticket not found."))
        from_ticket = services.FromTicket(
            ticket_id=ticket_id, number=facts.number, assignee_id=facts.assignee_id
        )
        if data["customer_id"] is None and data["contact_id"] is None:
            data["customer_id"], data["contact_id"] = facts.customer_id, facts.contact_id
        data["title"] = data["title"] or facts.title[:200]
        data["description"] = data["description"] or facts.description or facts.title
    try:
        new = services.NewComplaint(**data, from_ticket=from_ticket)
        if reason:  # escalate-to-complaint: the reason is the first note, same transaction
            return services.escalate_ticket(data=new, actor=user, reason=reason)
        return services.open_complaint(data=new, actor=user)
    except InvalidInput as exc:
        exc.errors = {FIELD_NAMES.get(k, k): v for k, v in exc.errors.items()}
        raise


def _contact_by_email(user: Any, given: dict[str, str], customer_id: int | None) -> int:
    """API.md's ``contact`` object: the customer's contact with the address, created when
    absent (``customers.services.find_or_create_contact``)."""
    from customers.models import Customer
    from customers.services import AmbiguousContact, find_or_create_contact

    customer = Customer.objects.filter(pk=customer_id).first() if customer_id else None
    if customer_id and customer is None:
        raise InvalidInput(
            _("The complaint is not valid."), {"customer_id": [_("Unknown customer.")]}
        )
    if not roles.roles_of(user):
        raise Forbidden(_("Only staff may record complaints."))
    try:
        contact = find_or_create_contact(
            email=given["email"], name=given["name"], phone=given["phone"], customer=customer
        )
    except AmbiguousContact as exc:
        raise InvalidInput(
            _("The complaint is not valid."),
            {"customer_id": [_("Several customers have this address; name the customer.")]},
        ) from exc
    return contact.pk


class EscalateTicketView(APIView):
    """``POST /api/tickets/{id}/escalate-to-complaint/`` (API.md): the ticket becomes a
    complaint linked to it both ways; the reason is the complaint's first internal note.
    A ticket with a complaint that is not closed is refused (409)."""

    error_statuses = {"POST": {409}}

    @extend_schema(
        request=s.ComplaintEscalateTicketInput,
        parameters=[IDEMPOTENCY_KEY],
        responses={201: _INTAKE_OUTPUT, 200: _INTAKE_OUTPUT},
        operation_id="tickets_escalate_to_complaint",
    )
    def post(self, request: Request, pk: int) -> Response:
        _check_pk(pk)
        user: Any = _staff(request)
        data = _valid(s.ComplaintEscalateTicketInput, request.data or {})
        fields: dict[str, Any] = {
            "category": data["category"],
            "subcategory": "",
            "title": "",
            "description": "",
            "impact": data["impact"],
            "urgency": data["urgency"],
            "channel": "ticket",
            "customer_id": None,
            "contact_id": None,
            "product_ref": "",
            "desired_outcome": data["desired_outcome"],
            "severity": "",
            "severity_reason": "",
            "regulatory": False,
            "profile": "",
            "about_user_id": None,
            "ticket": pk,
        }
        complaint_id, created = _once(
            request,
            user,
            request.data or {},
            lambda: _intake(user, fields, reason=data["reason"]).pk,
        )
        return _intake_response(user, complaint_id, _CREATED if created else status.HTTP_200_OK)


class ComplaintListView(APIView):
    # intake: escalating a ticket the caller cannot see (or that does not exist); a ticket
    # already in an open complaint, or an Idempotency-Key reused with another body
    error_statuses = {"POST": {404, 409}}

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "status",
                {"type": "string", "pattern": f"^({STATUSES})(,({STATUSES}))*$"},
                description="one status or several, comma-separated",
            ),
            OpenApiParameter(
                "severity",
                {"type": "string", "pattern": f"^({SEVERITIES})(,({SEVERITIES}))*$"},
                description="one severity or several, comma-separated",
            ),
            OpenApiParameter(
                "category",
                {"type": "string", "pattern": "^[-a-zA-Z0-9_]{1,64}$"},
                description="category or subcategory code",
            ),
            OpenApiParameter("team", ID_SCHEMA),
            OpenApiParameter(
                "assignee",
                {"type": "string", "pattern": "^(me|none|[1-9][0-9]{0,17})$"},
                description="the handler: user id, `me` or `none`",
            ),
            OpenApiParameter("customer", ID_SCHEMA),
            OpenApiParameter(
                "overdue",
                bool,
                description="a target past due (or breached), or an approval past due; not closed",
            ),
            OpenApiParameter(
                "q",
                {"type": "string", "maxLength": 200},
                description="the complaint's number, or text in its title",
            ),
            OpenApiParameter("ordering", str, enum=list(ORDERINGS)),
            OpenApiParameter("cursor", str),
        ],
        responses=s.ComplaintPageOutput,
        operation_id="complaints_list",
    )
    def get(self, request: Request) -> Response:
        ordering = request.query_params.get("ordering", "-received")
        if ordering not in ORDERINGS:
            raise InvalidInput(
                _("Unknown ordering."),
                {"ordering": [_("Use one of: %(values)s.") % {"values": ", ".join(ORDERINGS)}]},
            )
        field, descending = ORDERINGS[ordering]
        page = paginate(
            _filtered(request),
            field=field,
            descending=descending,
            cursor=request.query_params.get("cursor"),
            limit=PAGE_SIZE,
        )
        return Response(
            s.ComplaintPageOutput(
                {
                    "next": page_link(request, page.next),
                    "previous": page_link(request, page.previous),
                    "results": [_row(c) for c in page.items],
                }
            ).data
        )

    @extend_schema(
        request=s.ComplaintCreateInput,
        parameters=[IDEMPOTENCY_KEY],
        responses={201: _INTAKE_OUTPUT, 200: _INTAKE_OUTPUT},
        operation_id="complaints_create",
    )
    def post(self, request: Request) -> Response:
        user = _staff(request)
        data = _valid(s.ComplaintCreateInput, request.data)
        pk, created = _once(request, user, request.data, lambda: _intake(user, data).pk)
        return _intake_response(user, pk, _CREATED if created else status.HTTP_200_OK)


class ComplaintDetailView(APIView):
    @extend_schema(responses=s.ComplaintOutput)
    def get(self, request: Request, pk: int) -> Response:
        _check_pk(pk)
        return _detail_response(request.user, pk)


class ComplaintHistoryView(APIView):
    @extend_schema(responses=s.ComplaintEventOutput(many=True))
    def get(self, request: Request, pk: int) -> Response:
        _check_pk(pk)
        complaint = selectors.get_complaint_for(request.user, pk)
        events = AuditEvent.objects.filter(complaint=complaint).order_by("created_at", "id")
        rows = [
            {
                "id": e.pk,
                "actor": e.actor_id,
                "verb": e.verb,
                "label": selectors.history_label(e.subject_kind, e.verb),
                "at": e.created_at,
                "before": e.before,
                "after": e.after,
            }
            for e in events
        ]
        return Response(s.ComplaintEventOutput(rows, many=True).data)


# --- actions -----------------------------------------------------------------------------
class ComplaintActionView(APIView):
    """``POST /api/complaints/{id}/<action>/``: each action is one service call."""

    action_name = ""
    input_class: type[serializers.Serializer] = s.ComplaintEmptyInput
    error_statuses = {"POST": {409}}

    def post(self, request: Request, pk: int) -> Response:
        _check_pk(pk)
        body = request.data if request.data else {}
        data = _valid(self.input_class, body)
        user: Any = request.user  # signed in: the view's permission classes saw to it
        # A double-clicked button or a retried request acts once; the replay is answered
        # with the complaint as it stands.
        _once(request, user, body, lambda: self._perform(user, pk, data))
        return _detail_response(user, pk)

    def _perform(self, user: Any, pk: int, data: dict[str, Any]) -> int:
        self._act(user, pk, data)
        return pk

    def _act(self, user: Any, pk: int, data: dict[str, Any]) -> None:
        match self.action_name:
            case "claim":
                services.claim_complaint(complaint_id=pk, actor=user)
            case "assign":
                services.assign_complaint(complaint_id=pk, actor=user, assignee_id=data["assignee"])
            case "acknowledge":
                services.acknowledge_complaint(complaint_id=pk, actor=user)
            case "contact":
                services.log_contact(
                    complaint_id=pk, actor=user, channel=data["channel"], summary=data["summary"]
                )
            case "note":
                services.add_note(complaint_id=pk, actor=user, body=data["body"])
            case "propose":
                services.propose_resolution(
                    complaint_id=pk,
                    actor=user,
                    outcome=data["outcome"],
                    resolution=data["resolution"],
                    root_cause=data["root_cause"],
                    corrective_action=data["corrective_action"],
                    compensation_amount=data["compensation_amount"],
                    compensation_kind=data["compensation_kind"],
                )
            case "approve":
                services.approve_proposal(complaint_id=pk, actor=user, reason=data["reason"])
            case "reject":
                services.reject_proposal(complaint_id=pk, actor=user, reason=data["reason"])
            case "extend":
                services.extend_deadline(complaint_id=pk, actor=user, reason=data["reason"])
            case "escalate":
                services.escalate_complaint(
                    complaint_id=pk,
                    actor=user,
                    reason=data["reason"],
                    assignee_id=data["assignee"],
                )
            case "close":
                services.close_complaint(complaint_id=pk, actor=user, note=data["note"])
            case "reopen":
                services.reopen_complaint(complaint_id=pk, actor=user, reason=data["reason"])
            case _:  # pragma: no cover - urls only route the names above
                raise InvalidInput(_("Unknown action."))


ACTIONS: dict[str, type[serializers.Serializer]] = {
    "claim": s.ComplaintEmptyInput,
    "assign": s.ComplaintAssignInput,
    "acknowledge": s.ComplaintEmptyInput,
    "contact": s.ComplaintContactInput,
    "note": s.ComplaintNoteInput,
    "propose": s.ComplaintProposeInput,
    "approve": s.ComplaintOptionalReasonInput,
    "reject": s.ComplaintReasonInput,
    "extend": s.ComplaintReasonInput,
    "escalate": s.ComplaintEscalateInput,
    "close": s.ComplaintCloseInput,
    "reopen": s.ComplaintReasonInput,
}


def action_view(name: str, input_class: type[serializers.Serializer]) -> Any:
    @extend_schema(
        request=input_class,
        parameters=[IDEMPOTENCY_KEY],
        responses={200: s.ComplaintOutput},
        operation_id=f"complaints_{name}",
    )
    def post(self: ComplaintActionView, request: Request, pk: int) -> Response:
        return ComplaintActionView.post(self, request, pk)

    view_class: Any = type(
        f"Complaint{name.title()}View",
        (ComplaintActionView,),
        {"action_name": name, "input_class": input_class, "post": post},
    )
    return view_class.as_view()


# --- support for the screens -------------------------------------------------------------
class IntakeContextView(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("customer", ID_SCHEMA),
            OpenApiParameter("contact", ID_SCHEMA, description="its customer when it has one"),
            OpenApiParameter(
                "category",
                {"type": "string", "pattern": "^[-a-zA-Z0-9_]{1,64}$"},
                description="category code: a repeat is of the same category",
            ),
            OpenApiParameter("impact", str, enum=Impact.values),
            OpenApiParameter("urgency", str, enum=Urgency.values),
        ],
        responses=s.ComplaintIntakeContextOutput,
        operation_id="complaints_intake_context",
    )
    def get(self, request: Request) -> Response:
        _staff(request)
        customer_id = int_param(request, "customer")
        contact_id = int_param(request, "contact")
        errors: dict[str, list[str]] = {}
        impact = request.query_params.get("impact") or None
        urgency = request.query_params.get("urgency") or None
        if impact is not None and impact not in Impact.values:
            errors["impact"] = [
                _("Choose one of: %(values)s.") % {"values": ", ".join(Impact.values)}
            ]
        if urgency is not None and urgency not in Urgency.values:
            errors["urgency"] = [
                _("Choose one of: %(values)s.") % {"values": ", ".join(Urgency.values)}
            ]
        code = request.query_params.get("category") or None
        category = None
        if code is not None:
            category = ComplaintCategory.objects.filter(code=code[:64], parent__isnull=True).first()
            if category is None:
                errors["category"] = [_("Unknown category.")]
        if errors:
            raise InvalidInput(_("Invalid input."), errors)
        if customer_id is None and contact_id is not None:
            contact = Contact.objects.filter(pk=contact_id).only("customer_id").first()
            customer_id = contact.customer_id if contact is not None else None
        profile = selectors.default_profile()
        window = profile.repeat_window_days if profile is not None else 90
        repeat = (
            selectors.find_repeat(
                customer_id=customer_id,
                contact_id=contact_id,
                category_id=category.pk,
                window_days=window,
            )
            if category is not None
            else None
        )
        matrix = (
            services.derive_severity(impact, urgency)
            if impact is not None and urgency is not None
            else None
        )
        severity = raised(matrix) if matrix is not None and repeat is not None else matrix
        return Response(
            s.ComplaintIntakeContextOutput(
                {
                    "customer": customer_id,
                    "customer_history": selectors.customer_history(
                        customer_id=customer_id, contact_id=contact_id
                    ),
                    "repeat_of": {
                        "id": repeat.pk,
                        "number": repeat.number,
                        "received_at": repeat.received_at,
                    }
                    if repeat is not None
                    else None,
                    "repeat_window_days": window,
                    "matrix_severity": matrix,
                    "severity": severity,
                }
            ).data
        )


def _policy_row(policy: ComplaintPolicy) -> dict[str, Any]:
    sla = policy.sla_policy
    return {
        "severity": policy.severity,
        "regulatory": policy.regulatory,
        "calendar": "business" if sla.calendar_id else "calendar",
        "targets": {str(k): int(v) for k, v in (sla.targets or {}).items()},
        "extensions": [int(x) for x in policy.extensions],
    }


class ComplaintConfigView(APIView):
    @extend_schema(responses=s.ComplaintConfigOutput, operation_id="complaint_config")
    def get(self, request: Request) -> Response:
        _staff(request)
        categories = list(ComplaintCategory.objects.filter(is_active=True))
        children: dict[int, list[ComplaintCategory]] = {}
        for c in categories:
            if c.parent_id is not None:
                children.setdefault(c.parent_id, []).append(c)
        policies: dict[int, list[ComplaintPolicy]] = {}
        for policy in ComplaintPolicy.objects.select_related("sla_policy"):
            policies.setdefault(policy.profile_id, []).append(policy)
        data = {
            "categories": [
                {
                    "code": c.code,
                    "label": c.label,
                    "team": c.team_id,
                    "subcategories": [_code_label(sub) for sub in children.get(c.pk, [])],
                }
                for c in categories
                if c.parent_id is None
            ],
            "root_causes": [_code_label(r) for r in RootCause.objects.filter(is_active=True)],
            "impacts": _choices(Impact.choices),
            "urgencies": _choices(Urgency.choices),
            "severities": _choices(Severity.choices),
            "severity_matrix": list(SeverityRule.objects.values("impact", "urgency", "severity")),
            "profiles": [
                {
                    "code": p.code,
                    "label": p.label,
                    "regulator": p.regulator,
                    "is_default": p.is_default,
                    "team": p.team_id,
                    "repeat_window_days": p.repeat_window_days,
                    "response_window_days": p.response_window_days,
                    "reopen_window_days": p.reopen_window_days,
                    "policies": [_policy_row(x) for x in policies.get(p.pk, [])],
                }
                for p in ComplaintProfile.objects.all()
            ],
            "authority_limits": [
                {
                    "level": row.level,
                    "label": str(AuthorityLevel(row.level).label),
                    "max_amount": row.max_amount,
                    "approval_hours": row.approval_hours,
                }
                for row in sorted(
                    AuthorityLimit.objects.all(), key=lambda r: AUTHORITY_ORDER.index(r.level)
                )
            ],
            "compensation_kinds": _choices(CompensationKind.choices),
            "outcomes": _choices(Outcome.choices),
            "channels": _choices(Channel.choices),
            "contact_channels": _choices(ContactChannel.choices),
            "statuses": _choices(ComplaintStatus.choices),
        }
        return Response(s.ComplaintConfigOutput(data).data)
