"""Input and output serializers, kept apart: inputs validate, outputs shape."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from audit.models import AuditEvent
from mail.models import Attachment
from outbox.models import MessageStatus

from ..choices import Channel, Priority
from ..models import Ticket, TicketMessage

MAX_TEXT = 100_000


# --- inputs -------------------------------------------------------------------
class ContactInput(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True, default="")


class TicketCreateInput(serializers.Serializer):
    subject = serializers.CharField(max_length=200)
    description = serializers.CharField(
        max_length=MAX_TEXT, required=False, allow_blank=True, default=""
    )
    priority = serializers.ChoiceField(choices=Priority.choices)
    category = serializers.SlugField(max_length=64, required=False, allow_null=True)
    channel = serializers.ChoiceField(choices=Channel.choices, required=False, default=Channel.API)
    contact = ContactInput(required=False)
    contact_id = serializers.IntegerField(required=False, min_value=1)
    customer_id = serializers.IntegerField(required=False, min_value=1, allow_null=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        has_contact, has_id = "contact" in attrs, "contact_id" in attrs
        if has_contact == has_id:
            raise serializers.ValidationError(
                {"contact": [_("Give exactly one of contact {email, name, phone} or contact_id.")]}
            )
        return attrs


class ReplyInput(serializers.Serializer):
    body = serializers.CharField(max_length=MAX_TEXT)
    internal = serializers.BooleanField(required=False, default=False)


class AssignInput(serializers.Serializer):
    assignee = serializers.IntegerField(min_value=1)


class ReasonInput(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class UrgeInput(serializers.Serializer):
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class ResolveInput(serializers.Serializer):
    resolution = serializers.CharField(max_length=MAX_TEXT)


class EmptyInput(serializers.Serializer):
    pass


class PriorityInput(serializers.Serializer):
    priority = serializers.ChoiceField(choices=Priority.choices)


# --- outputs ------------------------------------------------------------------
class SlaOutput(serializers.Serializer):
    policy = serializers.IntegerField(allow_null=True)
    first_response_due = serializers.DateTimeField(allow_null=True)
    resolution_due = serializers.DateTimeField(allow_null=True)
    first_responded_at = serializers.DateTimeField(allow_null=True)
    resolved_at = serializers.DateTimeField(allow_null=True)
    paused = serializers.BooleanField()
    breached = serializers.ListField(child=serializers.CharField())
    escalation_level = serializers.IntegerField()


class TicketOutput(serializers.ModelSerializer):
    customer = serializers.IntegerField(source="customer_id", allow_null=True)
    contact = serializers.IntegerField(source="contact_id")
    team = serializers.IntegerField(source="team_id", allow_null=True)
    assignee = serializers.IntegerField(source="assignee_id", allow_null=True)
    category = serializers.SerializerMethodField()
    created = serializers.DateTimeField(source="created_at")
    updated = serializers.DateTimeField(source="updated_at")
    sla = serializers.SerializerMethodField()
    messages_url = serializers.SerializerMethodField()
    history_url = serializers.SerializerMethodField()

    class Meta:
        model = Ticket
        fields = [
            "id",
            "number",
            "subject",
            "description",
            "status",
            "priority",
            "category",
            "channel",
            "customer",
            "contact",
            "team",
            "assignee",
            "created",
            "updated",
            "version",
            "sla",
            "messages_url",
            "history_url",
        ]

    def get_category(self, ticket: Ticket) -> str | None:
        codes: dict[int, str] = self.context.get("category_codes", {})
        if ticket.category_id is None:
            return None
        if ticket.category_id in codes:
            return codes[ticket.category_id]
        return ticket.category.code if ticket.category else None

    @extend_schema_field(SlaOutput)
    def get_sla(self, ticket: Ticket) -> dict[str, Any]:
        # Built directly: a nested serializer per row cost ~40 % of a 50-row page.
        return sla_output(ticket, _datetime)

    def get_messages_url(self, ticket: Ticket) -> str:
        return _ticket_url_pattern("ticket-messages").replace(_SENTINEL, str(ticket.pk))

    def get_history_url(self, ticket: Ticket) -> str:
        return _ticket_url_pattern("ticket-history").replace(_SENTINEL, str(ticket.pk))


class LinkOutput(serializers.Serializer):
    """An object of another process kind linked to this one (``processes.links``)."""

    kind = serializers.CharField(help_text="The other object's process kind (`complaint`, …).")
    id = serializers.IntegerField()
    number = serializers.CharField()
    relation = serializers.CharField(help_text="How they are linked (`escalated_from`).")


class TicketDetailOutput(TicketOutput):
    """A ticket as ``GET /api/tickets/{id}/`` answers it: the ticket and its links."""

    links = LinkOutput(many=True, read_only=True)

    class Meta(TicketOutput.Meta):
        fields = [*TicketOutput.Meta.fields, "links"]


_DATETIME = serializers.DateTimeField()
_SENTINEL = "987654321987654321"


def _datetime(value: Any) -> str | None:
    return None if value is None else _DATETIME.to_representation(value)


def sla_output(ticket: Ticket, when: Callable[[Any], str | None]) -> dict[str, Any]:
    """A ticket's ``sla`` (API.md), its times written by ``when``: the detail's and the
    list's one reading of the SLA."""
    return {
        "policy": ticket.sla_policy_id,
        "first_response_due": when(ticket.first_response_due),
        "resolution_due": when(ticket.resolution_due),
        "first_responded_at": when(ticket.first_responded_at),
        "resolved_at": when(ticket.resolved_at),
        "paused": ticket.sla_paused_at is not None,
        "breached": ticket.breached,
        "escalation_level": ticket.escalation_level,
    }


# What a list page reads of each ticket (``ticket_rows``), and the category's code beside it.
LIST_FIELDS = (
    "id",
    "number",
    "subject",
    "description",
    "category_id",
    "priority",
    "channel",
    "status",
    "customer_id",
    "contact_id",
    "team_id",
    "assignee_id",
    "created_at",
    "updated_at",
    "version",
    # the SLA (``sla_output``): the ticket's facts and its clock's (joined by _filtered)
    "first_responded_at",
    "resolved_at",
    "sla_clock",
    "sla_clock__policy",
    "sla_clock__targets",
    "sla_clock__paused_at",
    "sla_clock__escalation_level",
    "sla_clock__due",
)
CATEGORY_CODE = "category_code"


def ticket_rows(tickets: list[Ticket]) -> list[dict[str, Any]]:
    """``TicketOutput(tickets, many=True).data`` for tickets read with ``LIST_FIELDS`` and
    ``CATEGORY_CODE``, built without DRF's per-field machinery, which cost most of the CPU
    of a 50-row page (tests/api/test_tickets_api.py holds the two equal)."""
    zone = timezone.get_current_timezone()

    def when(value: Any) -> str | None:
        if not value:
            return None
        text: str = value.astimezone(zone).isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text

    messages = _ticket_url_pattern("ticket-messages")
    history = _ticket_url_pattern("ticket-history")
    rows = []
    for t in tickets:
        pk = str(t.pk)
        rows.append(
            {
                "id": t.pk,
                "number": t.number,
                "subject": t.subject,
                "description": t.description,
                "status": t.status,
                "priority": t.priority,
                "category": getattr(t, CATEGORY_CODE),
                "channel": t.channel,
                "customer": t.customer_id,
                "contact": t.contact_id,
                "team": t.team_id,
                "assignee": t.assignee_id,
                "created": when(t.created_at),
                "updated": when(t.updated_at),
                "version": t.version,
                "sla": sla_output(t, when),
                "messages_url": messages.replace(_SENTINEL, pk),
                "history_url": history.replace(_SENTINEL, pk),
            }
        )
    return rows


@lru_cache(maxsize=8)
def _ticket_url_pattern(name: str) -> str:
    """Resolved once with a sentinel id, which each row replaces with its own."""
    return reverse(name, args=[int(_SENTINEL)])


# An email's state as the API says it (tickets.emails.delivery says it the same way).
DELIVERY_STATES = ("queued", "sent", "failed")
DELIVERY_STATE_OF: dict[str, str] = {
    MessageStatus.PENDING: "queued",
    MessageStatus.SENT: "sent",
    MessageStatus.FAILED: "failed",
}


class DeliveryOutput(serializers.Serializer):
    """The email that carried a message to the customer, as the outbox last left it."""

    status = serializers.ChoiceField(
        choices=DELIVERY_STATES,
        help_text="queued: waiting to be sent (and retried while the server refuses for "
        "now); sent: the server accepted it; failed: not sent, or given up.",
    )
    sent_at = serializers.DateTimeField(allow_null=True)
    error = serializers.CharField(
        allow_blank=True, help_text="The mail server's last answer when it refused."
    )


class AttachmentOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    size = serializers.IntegerField(help_text="Bytes.")
    content_type = serializers.CharField()
    url = serializers.CharField(help_text="GET it (same credentials) to download the file.")
    original = serializers.BooleanField(
        help_text="The customer's email as it arrived, quoted history and signature included."
    )


DIRECTIONS = ("inbound", "outbound", "internal")


def message_direction(message: TicketMessage) -> str:
    """From the customer (``inbound``), to the customer (``outbound``), or an internal note."""
    if message.internal:
        return "internal"
    return "inbound" if message.contact_id is not None else "outbound"


def attachment_row(attachment: Attachment) -> dict[str, Any]:
    return {
        "id": attachment.pk,
        "name": attachment.name,
        "size": attachment.size,
        "content_type": attachment.content_type,
        "url": reverse("attachment-download", args=[attachment.pk]),
        "original": attachment.original,
    }


class MessageOutput(serializers.ModelSerializer):
    """A message of the conversation: from the customer, to the customer, or an internal
    note; for an email to the customer its delivery; the files that came with it."""

    # Read with ``select_related("outbox")``; the context's ``attachments`` maps message ids
    # to their ``mail.Attachment`` rows (one query for the whole thread).

    author = serializers.IntegerField(source="author_id", allow_null=True)
    contact = serializers.IntegerField(source="contact_id", allow_null=True)
    created = serializers.DateTimeField(source="created_at")
    direction = serializers.SerializerMethodField()
    channel = serializers.SerializerMethodField()
    delivery = serializers.SerializerMethodField()
    attachments = serializers.SerializerMethodField()

    class Meta:
        model = TicketMessage
        fields = [
            "id",
            "author",
            "contact",
            "body",
            "internal",
            "created",
            "direction",
            "channel",
            "delivery",
            "attachments",
        ]

    @extend_schema_field(serializers.ChoiceField(choices=DIRECTIONS))
    def get_direction(self, message: TicketMessage) -> str:
        return message_direction(message)

    @extend_schema_field(
        serializers.CharField(
            allow_null=True, help_text="How it came or went: email, web, phone, api or agent."
        )
    )
    def get_channel(self, message: TicketMessage) -> str | None:
        if message.channel:
            return message.channel
        return "email" if message.outbox_id is not None else None

    @extend_schema_field(DeliveryOutput(allow_null=True))
    def get_delivery(self, message: TicketMessage) -> dict[str, Any] | None:
        email = message.outbox if message.outbox_id is not None else None
        if email is None:
            return None
        return {
            "status": DELIVERY_STATE_OF.get(email.status, "queued"),
            "sent_at": _datetime(email.sent_at),
            "error": email.last_error,
        }

    @extend_schema_field(AttachmentOutput(many=True))
    def get_attachments(self, message: TicketMessage) -> list[dict[str, Any]]:
        by_message: dict[int, list[Attachment]] = self.context.get("attachments", {})
        return [attachment_row(a) for a in by_message.get(message.pk, [])]


class EventOutput(serializers.ModelSerializer):
    actor = serializers.IntegerField(source="actor_id", allow_null=True)
    at = serializers.DateTimeField(source="created_at")

    class Meta:
        model = AuditEvent
        fields = ["id", "actor", "verb", "at", "before", "after"]


class QueueRowOutput(serializers.Serializer):
    task_id = serializers.IntegerField(allow_null=True)
    kind = serializers.CharField()
    object_id = serializers.IntegerField()
    number = serializers.CharField()
    title = serializers.CharField()
    priority = serializers.CharField()
    status = serializers.CharField()
    assignee = serializers.IntegerField(allow_null=True)
    team = serializers.IntegerField(allow_null=True)
    due = serializers.DateTimeField(allow_null=True)
    breached = serializers.BooleanField()
    warning = serializers.BooleanField(help_text="The current target's SLA warning has fired.")
    paused = serializers.BooleanField(help_text="The SLA clock is paused (waiting on customer).")
    escalation_level = serializers.IntegerField()
    acknowledged = serializers.BooleanField(
        help_text="A supervisor has acknowledged the current escalation level."
    )
    customer_tier = serializers.CharField(allow_null=True)
    created = serializers.DateTimeField()
    version = serializers.IntegerField()


class BoardTeamOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    open = serializers.IntegerField(help_text="Tickets in the queue (new or open).")
    unassigned = serializers.IntegerField()
    near_breach = serializers.IntegerField(
        help_text="Not breached, and the SLA warning of the target due next has fired."
    )
    breached = serializers.IntegerField()
    oldest = serializers.DateTimeField(allow_null=True)


class BoardAgentOutput(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    name = serializers.CharField()
    presence = serializers.CharField()
    load = serializers.IntegerField(help_text="Tickets assigned in the queue (new or open).")
    capacity = serializers.IntegerField()
    teams = serializers.ListField(child=serializers.IntegerField())


class BoardOutput(serializers.Serializer):
    teams = BoardTeamOutput(many=True)
    agents = BoardAgentOutput(many=True)


class QueueOutput(serializers.Serializer):
    results = QueueRowOutput(many=True)
    cursor = serializers.CharField(allow_null=True)


class TicketPageOutput(serializers.Serializer):
    """A cursor page: ``next`` / ``previous`` are full URLs (null at either end)."""

    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = TicketOutput(many=True)
