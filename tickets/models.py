from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from customers.choices import CustomerTier

from .choices import (
    Channel,
    Priority,
    TicketStatus,
)

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


class SlaPolicy(models.Model):
    """Targets per priority and customer tier, with escalation levels as data."""

    name = models.CharField(_("name"), max_length=100)
    priority = models.CharField(_("priority"), max_length=2, choices=Priority.choices)
    # NULL means "any tier" (API.md); an empty string would be a tier nobody has.
    customer_tier = models.CharField(  # noqa: DJ001
        _("customer tier"), max_length=16, choices=CustomerTier.choices, null=True, blank=True
    )
    first_response_seconds = models.PositiveIntegerField(_("first response target (s)"))
    resolution_seconds = models.PositiveIntegerField(_("resolution target (s)"))
    # xgettext:no-python-format
    warning_percent = models.PositiveSmallIntegerField(_("warning at (% of target)"), default=80)
    calendar = models.ForeignKey(
        "sla.BusinessCalendar",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        verbose_name=_("calendar"),
    )
    # [{"at_percent": 100, "target": "resolution", "action": "reassign", "team": 3}, ...]
    escalation = models.JSONField(_("escalation levels"), default=list, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    retired_at = models.DateTimeField(_("retired at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["priority", "id"]
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        indexes = [models.Index(fields=["priority", "is_active"], name="slapolicy_match_idx")]

    def __str__(self) -> str:
        return self.name


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

    # SLA: the policy's terms are copied at open so a later policy edit only
    # applies to tickets opened afterwards.
    sla_policy = models.ForeignKey(
        SlaPolicy, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("SLA policy")
    )
    sla_terms = models.JSONField(_("SLA terms"), default=dict, blank=True)
    sla_started_at = models.DateTimeField(_("SLA clock started"), null=True, blank=True)
    sla_paused_at = models.DateTimeField(_("SLA paused at"), null=True, blank=True)
    sla_paused_seconds = models.PositiveIntegerField(_("SLA paused (business s)"), default=0)
    first_response_due = models.DateTimeField(_("first response due"), null=True, blank=True)
    resolution_due = models.DateTimeField(_("resolution due"), null=True, blank=True)
    first_responded_at = models.DateTimeField(_("first responded at"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    first_response_breached = models.BooleanField(_("first response breached"), default=False)
    resolution_breached = models.BooleanField(_("resolution breached"), default=False)
    # Keys of the SLA checkpoints already handled ("resolution:warning", "level:2", ...).
    sla_done = models.JSONField(_("SLA checkpoints done"), default=list, blank=True)
    escalation_level = models.PositiveSmallIntegerField(_("escalation level"), default=0)
    # The SLA warning of the target due next has fired (kept by save_changed; the board's
    # "near breach" and the queue row's amber colour).
    sla_warning = models.BooleanField(_("SLA warning fired"), default=False)
    # The highest escalation level a supervisor has acknowledged (0: none).
    escalation_acknowledged = models.PositiveSmallIntegerField(
        _("escalation level acknowledged"), default=0
    )
    # The due moment that orders the queue: the nearest unmet target.
    sla_due = models.DateTimeField(_("next SLA due"), null=True, blank=True)

    version = models.PositiveIntegerField(_("version"), default=1)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        permissions = [("work_ticket", _("Can work on tickets"))]
        indexes = [
            # queue_for: my open work, most urgent first
            models.Index(
                fields=["assignee", "sla_due", "id"],
                condition=OPEN_Q,
                name="ticket_queue_assignee_idx",
            ),
            # queue_for: my teams' unassigned open work
            models.Index(
                fields=["team", "sla_due", "id"],
                condition=OPEN_Q & models.Q(assignee__isnull=True),
                name="ticket_queue_team_idx",
            ),
            models.Index(
                fields=["assignee", "-created_at", "-id"], name="ticket_assignee_created_idx"
            ),
            models.Index(fields=["team", "-created_at", "-id"], name="ticket_team_created_idx"),
            models.Index(fields=["status", "-created_at"], name="ticket_status_created_idx"),
            models.Index(fields=["customer", "-created_at"], name="ticket_customer_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.subject}"

    @property
    def breached(self) -> list[str]:
        out = []
        if self.first_response_breached:
            out.append("first_response")
        if self.resolution_breached:
            out.append("resolution")
        return out


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
    internal = models.BooleanField(_("internal note"), default=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("ticket message")
        verbose_name_plural = _("ticket messages")
        indexes = [models.Index(fields=["ticket", "created_at"], name="ticketmessage_ticket_idx")]

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
