from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from customers.choices import CustomerTier
from sla import clock as clocks
from sla.models import SlaClock, SlaPolicy

from .choices import (
    Channel,
    Priority,
    TicketStatus,
)

# A ticket's SLA targets in the order they fall due (tickets.sla.TARGETS).
TICKET_TARGETS = ("first_response", "resolution")
OPEN_Q = models.Q(status__in=[TicketStatus.NEW, TicketStatus.OPEN])


class Category(models.Model):
    """A service type; routing rules and skills refer to it by code."""

    code = models.SlugField(_("code"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=100)
    required_skill = models.CharField(_("required skill"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("category")
        verbose_name_plural = _("categories")

    def __str__(self) -> str:
        return self.name


class RoutingRule(models.Model):
    """Sends new tickets to a team; blank criteria match anything, the most specific wins."""

    category = models.ForeignKey(
        Category, on_delete=models.CASCADE, null=True, blank=True, verbose_name=_("category")
    )
    customer_tier = models.CharField(
        _("customer tier"), max_length=16, choices=CustomerTier.choices, blank=True
    )
    region = models.CharField(_("region"), max_length=64, blank=True)
    team = models.ForeignKey("org.Team", on_delete=models.CASCADE, verbose_name=_("team"))
    position = models.PositiveIntegerField(_("position"), default=100)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("routing rule")
        verbose_name_plural = _("routing rules")

    def __str__(self) -> str:
        criteria = (self.category_id or "*", self.customer_tier or "*", self.region or "*")
        return f"{self.team_id}: " + "/".join(str(c) for c in criteria)


class TicketCounter(models.Model):
    """The year's last ticket number (T-YYYY-NNNNNN) in the embedded mode (SQLite); on
    PostgreSQL the year's sequence takes over from it (``tickets 0008``)."""

    year = models.PositiveIntegerField(_("year"), primary_key=True)
    last = models.PositiveIntegerField(_("last number"), default=0)

    class Meta:
        verbose_name = _("ticket counter")
        verbose_name_plural = _("ticket counters")

    def __str__(self) -> str:
        return f"{self.year}: {self.last}"


class Ticket(models.Model):
    number = models.CharField(_("number"), max_length=20, unique=True)
    subject = models.CharField(_("subject"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("category")
    )
    priority = models.CharField(_("priority"), max_length=2, choices=Priority.choices)
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    status = models.CharField(
        _("status"), max_length=20, choices=TicketStatus.choices, default=TicketStatus.NEW
    )
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="tickets",
        verbose_name=_("customer"),
    )
    contact = models.ForeignKey(
        "customers.Contact",
        on_delete=models.PROTECT,
        related_name="tickets",
        verbose_name=_("contact"),
    )
    team = models.ForeignKey(
        "org.Team", on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("team")
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assigned_tickets",
        verbose_name=_("assignee"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    resolution = models.TextField(_("resolution"), blank=True)
    urge_count = models.PositiveIntegerField(_("times urged"), default=0)

    first_responded_at = models.DateTimeField(_("first responded at"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    # The ticket's SLA clock (the platform's sla app owns it; only sla.clock writes it).
    sla_clock = models.OneToOneField(
        "sla.SlaClock",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("SLA clock"),
    )

    version = models.PositiveIntegerField(_("version"), default=1)
    # What the text search finds the ticket by (tickets.search; GIN-indexed on PostgreSQL by
    # migration 0016): written at intake and when its contact or customer is renamed.
    search_terms = models.JSONField(_("search terms"), default=list, blank=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        permissions = [("work_ticket", _("Can work on tickets"))]
        indexes = [
            models.Index(
                fields=["assignee", "-created_at", "-id"], name="ticket_assignee_created_idx"
            ),
            models.Index(fields=["team", "-created_at", "-id"], name="ticket_team_created_idx"),
            models.Index(fields=["status", "-created_at"], name="ticket_status_created_idx"),
            models.Index(fields=["customer", "-created_at"], name="ticket_customer_created_idx"),
            # the tickets list of a reader who sees everything, newest first (keyset pages)
            models.Index(fields=["-created_at", "-id"], name="ticket_created_idx"),
            # who sees a customer: a ticket of it in one of the reader's teams, one lookup
            # (tickets.selectors.contacts_visible_q, the contact search)
            models.Index(fields=["customer", "team"], name="ticket_customer_team_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.subject}"

    # --- the SLA clock as the ticket reads it (read-only; sla.clock writes the clock) ----
    @property
    def clock(self) -> SlaClock | None:
        return self.sla_clock if self.sla_clock_id else None

    @property
    def sla_policy_id(self) -> int | None:
        clock = self.clock
        return clock.policy_id if clock else None

    @property
    def sla_policy(self) -> SlaPolicy | None:
        clock = self.clock
        return clock.policy if clock else None

    @property
    def sla_started_at(self) -> datetime | None:
        clock = self.clock
        return clock.started_at if clock else None

    @property
    def sla_paused_at(self) -> datetime | None:
        clock = self.clock
        return clock.paused_at if clock else None

    @property
    def sla_paused_seconds(self) -> int:
        clock = self.clock
        return clock.paused_seconds if clock else 0

    @property
    def sla_terms(self) -> dict[str, Any]:
        clock = self.clock
        return clock.terms if clock else {}

    @property
    def sla_done(self) -> list[str]:
        clock = self.clock
        return list(clock.done) if clock else []

    @property
    def first_response_due(self) -> datetime | None:
        return clocks.target_due(self.clock, "first_response") if self.clock else None

    @property
    def resolution_due(self) -> datetime | None:
        return clocks.target_due(self.clock, "resolution") if self.clock else None

    @property
    def sla_due(self) -> datetime | None:
        clock = self.clock
        return clock.due if clock else None

    @property
    def breached(self) -> list[str]:
        """The targets breached, in the order a ticket's targets fall due (read from the
        clock's target states alone, so a list page need not load the terms)."""
        clock = self.clock
        if clock is None:
            return []
        return [t for t in TICKET_TARGETS if (clock.targets.get(t) or {}).get("breached")]

    @property
    def first_response_breached(self) -> bool:
        return "first_response" in self.breached

    @property
    def resolution_breached(self) -> bool:
        return "resolution" in self.breached

    @property
    def sla_warning(self) -> bool:
        clock = self.clock
        return bool(clock and clock.warning)

    @property
    def escalation_level(self) -> int:
        clock = self.clock
        return clock.escalation_level if clock else 0

    @property
    def escalation_acknowledged(self) -> int:
        clock = self.clock
        return clock.acknowledged_level if clock else 0


class TicketMessage(models.Model):
    """A public reply (seen by the customer) or an internal note."""

    ticket = models.ForeignKey(
        Ticket, on_delete=models.CASCADE, related_name="messages", verbose_name=_("ticket")
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("author"),
    )
    contact = models.ForeignKey(
        "customers.Contact",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("contact"),
    )
    body = models.TextField(_("body"))
    # a customer's email as sent, sanitised (nh3); ``body`` holds its text without quotes
    body_html = models.TextField(_("HTML body"), blank=True)
    internal = models.BooleanField(_("internal note"), default=False)
    # how it came or went: web (form, request page), email, api, phone, agent (the screen)
    channel = models.CharField(_("channel"), max_length=8, blank=True)
    # the RFC 5322 Message-ID of the email that carried it (in or out): threading key
    email_message_id = models.CharField(_("email Message-ID"), max_length=255, blank=True)
    # the email that told the customer (a public reply, a notice): its delivery state
    outbox = models.ForeignKey(
        "outbox.OutboxMessage",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("email"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("ticket message")
        verbose_name_plural = _("ticket messages")
        indexes = [
            models.Index(fields=["ticket", "created_at"], name="ticketmessage_ticket_idx"),
            models.Index(
                fields=["email_message_id"],
                condition=~models.Q(email_message_id=""),
                name="ticketmessage_email_id_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id}#{self.pk}"


class IdempotencyKey(models.Model):
    """Remembers an intake request's key so a retried POST returns the same ticket."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("user"),
    )
    key = models.CharField(_("key"), max_length=255)
    # Empty only inside the intake transaction that claims the key.
    ticket = models.ForeignKey(
        Ticket,
        on_delete=models.CASCADE,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("ticket"),
    )
    request_hash = models.CharField(_("request hash"), max_length=64)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("idempotency key")
        verbose_name_plural = _("idempotency keys")
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_unique_per_user")
        ]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.key}"


class WebFormUse(models.Model):
    """The use of a one-time form token of the customer pages (docs/email.md, "Customer
    pages"): the web form and the request page's reply box carry a signed nonce, and its use
    is written in the transaction that opened the ticket or added the message, so a second
    POST of the same form (a double click, a reload, a retry) is answered with the first
    result instead of acting twice."""

    nonce = models.CharField(_("nonce"), max_length=64)
    # what the form said (a digest): the same token with other content is a stale form
    fingerprint = models.CharField(_("fingerprint"), max_length=64)
    # empty only inside the transaction that claims the token
    ticket = models.ForeignKey(
        Ticket,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("ticket"),
    )
    message = models.ForeignKey(
        TicketMessage,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("message"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("web form use")
        verbose_name_plural = _("web form uses")
        constraints = [models.UniqueConstraint(fields=["nonce"], name="web_form_use_nonce_unique")]

    def __str__(self) -> str:
        return self.nonce
