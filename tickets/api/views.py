"""Ticket and queue endpoints: validate, call a service or selector, shape the output."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.db.models import F, QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import InvalidInput, NotFound
from core.pagination import paginate
from mail import attachments as mail_attachments
from processes import idempotency, links
from processes import selectors as work_queue
from project.api_params import ID_SCHEMA, MAX_ID, bool_param, int_param, page_link

from .. import emails, search, selectors, services
from ..choices import Priority, TicketStatus
from ..models import Ticket, TicketMessage
from . import serializers as s
from .permissions import ServiceRolesWrite

ORDERINGS = {
    "created": ("created_at", False),
    "-created": ("created_at", True),
    "updated": ("updated_at", False),
    "-updated": ("updated_at", True),
    "sla_due": ("queue_due", False),  # the clock's due, annotated by _filtered
    "-sla_due": ("queue_due", True),
    "priority": ("priority", False),
    "-priority": ("priority", True),
}
PAGE_SIZE = 50
STATUSES = "|".join(TicketStatus.values)
IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    str,
    location=OpenApiParameter.HEADER,
    required=False,
    description=(
        "1 to 255 characters, unique per request the client means once: a repeat with the same "
        "key and body is answered with the ticket as it stands and changes nothing."
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


# One output serializer for every single ticket answered: building its fields (a
# ModelSerializer introspects the model) cost 0.7 ms per request, shaping a ticket 0.02 ms.
# It keeps no state between calls (no instance, no context).
_TICKET_OUTPUT = s.TicketOutput()


def _ticket_out(ticket: Ticket, status_code: int = status.HTTP_200_OK) -> Response:
    return Response(_TICKET_OUTPUT.to_representation(ticket), status=status_code)


def _filtered(request: Request) -> QuerySet[Ticket]:
    filters = search.parse_filters(request.query_params)
    return (
        selectors.tickets_matching(request.user, filters)
        .select_related("sla_clock")
        .annotate(queue_due=F("sla_clock__due"))
    )


class TicketListView(APIView):
    # Opening a ticket: the service roles (marketing and analysts read an empty list).
    permission_classes = [ServiceRolesWrite]
    # intake: an Idempotency-Key reused with another body (docs/api.md)
    error_statuses = {"POST": {409}}

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "status",
                {"type": "string", "pattern": f"^({STATUSES})(,({STATUSES}))*$"},
                description="one status or several, comma-separated",
            ),
            OpenApiParameter("priority", str, enum=Priority.values),
            OpenApiParameter("team", ID_SCHEMA),
            OpenApiParameter(
                "assignee",
                {"type": "string", "pattern": "^(me|none|[1-9][0-9]{0,17})$"},
                description="user id, `me` or `none`",
            ),
            OpenApiParameter("customer", ID_SCHEMA),
            OpenApiParameter(
                "q",
                {"type": "string", "maxLength": 200},
                description="ticket number, or text in the subject",
            ),
            OpenApiParameter(
                "search",
                {"type": "string", "maxLength": 200},
                description=(
                    "text search, Chinese or English: tickets whose number, subject, description,"
                    " contact (name, email) or customer name hold every word of it (a word finds"
                    " the words it begins; Chinese by pairs of adjacent characters)"
                ),
            ),
            OpenApiParameter(
                "category",
                {"type": "string", "pattern": "^[-a-zA-Z0-9_]{1,64}$"},
                description="category code",
            ),
            OpenApiParameter("breached", bool),
            OpenApiParameter("ordering", str, enum=list(ORDERINGS)),
            OpenApiParameter("cursor", str),
        ],
        responses=s.TicketPageOutput,
        operation_id="tickets_list",
    )
    def get(self, request: Request) -> Response:
        ordering = request.query_params.get("ordering", "-created")
        if ordering not in ORDERINGS:
            raise InvalidInput(
                _("Unknown ordering."),
                {"ordering": [_("Use one of: %(values)s.") % {"values": ", ".join(ORDERINGS)}]},
            )
        field, descending = ORDERINGS[ordering]
        tickets = _filtered(request).only(*s.LIST_FIELDS)
        page = paginate(
            tickets.annotate(**{s.CATEGORY_CODE: F("category__code")}),
            field=field,
            descending=descending,
            cursor=request.query_params.get("cursor"),
            limit=PAGE_SIZE,
        )
        return Response(
            {
                "next": page_link(request, page.next),
                "previous": page_link(request, page.previous),
                "results": s.ticket_rows(page.items),
            }
        )

    @extend_schema(
        request=s.TicketCreateInput,
        parameters=[IDEMPOTENCY_KEY],
        responses={201: s.TicketOutput, 200: s.TicketOutput},
    )
    def post(self, request: Request) -> Response:
        data = _valid(s.TicketCreateInput, request.data)
        key = _idempotency_key(request)
        fingerprint = (
            hashlib.sha256(
                json.dumps(request.data, sort_keys=True, default=str).encode()
            ).hexdigest()
            if key is not None
            else ""  # only a key's replay compares it
        )
        contact = data.get("contact") or {}
        ticket, created = services.open_ticket(
            actor=request.user,
            subject=data["subject"],
            description=data["description"],
            priority=data["priority"],
            channel=data["channel"],
            category_code=data.get("category"),
            contact_id=data.get("contact_id"),
            contact_email=contact.get("email"),
            contact_name=contact.get("name", ""),
            contact_phone=contact.get("phone", ""),
            customer_id=data.get("customer_id"),
            idempotency_key=key,
            request_fingerprint=fingerprint,
        )
        return _ticket_out(ticket, status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class TicketDetailView(APIView):
    @extend_schema(responses=s.TicketDetailOutput)
    def get(self, request: Request, pk: int) -> Response:
        response = _ticket_out(selectors.get_ticket_for(request.user, pk))
        # what the ticket was escalated into (a complaint …), as the platform links them
        response.data["links"] = links.links_of("ticket", pk)
        return response


class TicketMessagesView(APIView):
    @extend_schema(responses=s.MessageOutput(many=True))
    def get(self, request: Request, pk: int) -> Response:
        messages = selectors.list_messages_for(request.user, pk).select_related("outbox")
        attachments: dict[int, list[Any]] = {}
        for attachment in mail_attachments.of_subject("ticket", pk):
            if attachment.message_id is not None:
                attachments.setdefault(attachment.message_id, []).append(attachment)
        return Response(
            s.MessageOutput(messages, many=True, context={"attachments": attachments}).data
        )


class TicketHistoryView(APIView):
    @extend_schema(responses=s.EventOutput(many=True))
    def get(self, request: Request, pk: int) -> Response:
        events = selectors.list_history_for(request.user, pk)
        return Response(s.EventOutput(events, many=True).data)


class TicketActionView(APIView):
    """``POST /api/tickets/{id}/<action>/``: each action is one service call."""

    action_name = ""
    input_class: type[serializers.Serializer] = s.EmptyInput
    error_statuses = {"POST": {409}}

    def post(self, request: Request, pk: int) -> Response:
        if pk > MAX_ID:  # the URL takes any digits; no ticket has such an id
            raise NotFound(_("Ticket not found."))
        body = request.data if request.data else {}
        data = _valid(self.input_class, body)
        user: Any = request.user  # signed in: the view's permission classes saw to it
        key = _idempotency_key(request)
        done: list[Any] = []
        if key is None:
            done.append(self._perform(user, pk, data))
        else:
            # A double-clicked button or a retried request acts once; the replay is answered
            # with the ticket as it stands (API.md: Idempotency-Key).
            services.perform_once(
                actor=user,
                key=key,
                fingerprint=services.request_fingerprint(request.path, body),
                ticket_id=pk,
                perform=lambda: done.append(self._perform(user, pk, data)),
            )
        response = _ticket_out(selectors.get_ticket_for(user, pk))
        message = done[0] if done else None
        if isinstance(message, TicketMessage) and not message.internal:
            # how the reply's email stands: queued, or failed with why (docs/email.md)
            response.data["email"] = emails.delivery(message.outbox)
        return response

    def _perform(self, user: Any, pk: int, data: dict[str, Any]) -> Any:
        match self.action_name:
            case "claim":
                services.claim_ticket(ticket_id=pk, actor=user)
            case "assign":
                services.assign_ticket(ticket_id=pk, actor=user, assignee_id=data["assignee"])
            case "reply":
                return services.reply_to_ticket(
                    ticket_id=pk, actor=user, body=data["body"], internal=data["internal"]
                )
            case "hold":
                services.put_on_hold(ticket_id=pk, actor=user, reason=data["reason"])
            case "resume":
                services.resume_ticket(ticket_id=pk, actor=user)
            case "urge":
                services.urge_ticket(ticket_id=pk, actor=user, note=data["note"])
            case "resolve":
                services.resolve_ticket(ticket_id=pk, actor=user, resolution=data["resolution"])
            case "close":
                services.close_ticket(ticket_id=pk, actor=user)
            case "reopen":
                services.reopen_ticket(ticket_id=pk, actor=user, reason=data["reason"])
            case "priority":
                services.change_priority(ticket_id=pk, actor=user, priority=data["priority"])
            case "acknowledge":
                services.acknowledge_escalation(ticket_id=pk, actor=user)
            case _:  # pragma: no cover - urls only route the names above
                raise InvalidInput(_("Unknown action."))


ACTIONS: dict[str, type[serializers.Serializer]] = {
    "claim": s.EmptyInput,
    "assign": s.AssignInput,
    "reply": s.ReplyInput,
    "hold": s.ReasonInput,
    "resume": s.EmptyInput,
    "urge": s.UrgeInput,
    "resolve": s.ResolveInput,
    "close": s.EmptyInput,
    "reopen": s.ReasonInput,
    "priority": s.PriorityInput,
    "acknowledge": s.EmptyInput,
}


def action_view(name: str, input_class: type[serializers.Serializer]) -> Any:
    @extend_schema(
        request=input_class,
        parameters=[IDEMPOTENCY_KEY],
        responses={200: s.TicketOutput},
        operation_id=f"tickets_{name}",
    )
    def post(self: TicketActionView, request: Request, pk: int) -> Response:
        return TicketActionView.post(self, request, pk)

    view_class: Any = type(
        f"Ticket{name.title()}View",
        (TicketActionView,),
        {"action_name": name, "input_class": input_class, "post": post},
    )
    return view_class.as_view()


class QueueView(APIView):
    error_statuses = {"GET": {404}}  # another team's queue, asked by an agent

    @extend_schema(
        parameters=[
            OpenApiParameter("team", ID_SCHEMA, description="supervisors: one team's queue"),
            OpenApiParameter("all", bool, description="supervisors: every team's queue"),
            OpenApiParameter("cursor", str),
        ],
        responses=s.QueueOutput,
    )
    def get(self, request: Request) -> Response:
        page = work_queue.queue_for(
            request.user,
            team_id=int_param(request, "team"),
            everything=bool(bool_param(request, "all")),
            cursor=request.query_params.get("cursor"),
        )
        # The rows are already plain values: the renderer encodes them (QueueOutput documents
        # the shape); re-serialising 50 rows field by field cost a quarter of the request.
        return Response({"results": page.rows, "cursor": page.cursor})


class BoardView(APIView):
    @extend_schema(responses=s.BoardOutput)
    def get(self, request: Request) -> Response:
        return Response(s.BoardOutput(work_queue.board_for(request.user)).data)
