"""Complaints: the configuration an administrator edits (categories, root causes, the
severity matrix, regulator profiles and their clocks, limits of authority) and the
complaint with its notes, proposals and extensions (docs/complaints.md)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from .choices import (
    AuthorityLevel,
    Channel,
    CompensationKind,
    ComplaintStatus,
    ContactChannel,
    CustomerResponse,
    Impact,
    NoteKind,
    Outcome,
    ProposalStatus,
    Severity,
    Urgency,
)

# A complaint's SLA targets in the order they fall due.
COMPLAINT_TARGETS = ("acknowledge", "first_contact", "final_answer")

# A pending approval's own clock (``SlaClock.kind``; its ``object_id`` is the complaint's,
# one clock a complaint, started again for each approval asked) and its one target.
APPROVAL_KIND = "complaint_approval"
APPROVAL_TARGET = "approval"


class Bilingual(models.Model):
    """A name in English and in Simplified Chinese; ``label`` is the reader's."""

    name = models.CharField(_("name"), max_length=100)
    name_zh = models.CharField(_("name (Chinese)"), max_length=100, blank=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        if self.name_zh and (translation.get_language() or "").startswith("zh"):
            return self.name_zh
        return self.name


class ComplaintCategory(Bilingual):
    """A category (``parent`` empty) or a subcategory of one; may name the handling team."""

    code = models.SlugField(_("code"), max_length=64, unique=True)
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("parent category"),
    )
    team = models.ForeignKey(
        "org.Team",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("handling team"),
    )
    position = models.PositiveIntegerField(_("position"), default=100)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["position", "code"]
        verbose_name = _("complaint category")
        verbose_name_plural = _("complaint categories")


class RootCause(Bilingual):
    code = models.SlugField(_("code"), max_length=64, unique=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("root cause")
        verbose_name_plural = _("root causes")


class SeverityRule(models.Model):
    """One cell of the impact-by-urgency matrix."""

    impact = models.CharField(_("impact"), max_length=16, choices=Impact.choices)
    urgency = models.CharField(_("urgency"), max_length=16, choices=Urgency.choices)
    severity = models.CharField(_("severity"), max_length=2, choices=Severity.choices)

    class Meta:
        ordering = ["impact", "urgency"]
        verbose_name = _("severity rule")
        verbose_name_plural = _("severity matrix")
        constraints = [
            models.UniqueConstraint(fields=["impact", "urgency"], name="severityrule_cell_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.impact}/{self.urgency} → {self.severity}"


class ComplaintProfile(Bilingual):
    """A regulator's rules: which clocks apply (``policies``), how long the customer has to
    accept or dispute, the repeat window, the team that handles complaints."""

    code = models.SlugField(_("code"), max_length=64, unique=True)
    regulator = models.CharField(_("rule"), max_length=200, blank=True)
    is_default = models.BooleanField(_("default profile"), default=False)
    team = models.ForeignKey(
        "org.Team",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("complaints team"),
    )
    repeat_window_days = models.PositiveIntegerField(_("repeat window (days)"), default=90)
    response_window_days = models.PositiveIntegerField(
        _("accept or dispute within (days)"), default=14
    )
    reopen_window_days = models.PositiveIntegerField(_("reopen within (days)"), default=30)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("complaint profile")
        verbose_name_plural = _("complaint profiles")


class ComplaintPolicy(models.Model):
    """The clocks of a profile for one severity (and regulatory flag): the SLA policy (its
    targets, calendar, warning share and escalation ladder) and the extensions allowed."""

    profile = models.ForeignKey(
        ComplaintProfile,
        on_delete=models.CASCADE,
        related_name="policies",
        verbose_name=_("profile"),
    )
    severity = models.CharField(_("severity"), max_length=2, choices=Severity.choices)
    regulatory = models.BooleanField(_("regulatory"), default=False)
    sla_policy = models.OneToOneField(
        "sla.SlaPolicy",
        on_delete=models.PROTECT,
        related_name="complaint_policy",
        verbose_name=_("SLA policy"),
    )
    # Seconds each approved extension adds to the final-answer target, in order; its length
    # is how many extensions are allowed.
    extensions = models.JSONField(_("extensions (s)"), default=list, blank=True)

    class Meta:
        ordering = ["profile", "severity", "regulatory"]
        verbose_name = _("complaint policy")
        verbose_name_plural = _("complaint policies")
        constraints = [
            models.UniqueConstraint(
                fields=["profile", "severity", "regulatory"], name="complaintpolicy_uniq"
            )
        ]

    def __str__(self) -> str:
        return f"{self.profile.code} {self.severity}{' R' if self.regulatory else ''}"


class AuthorityLimit(models.Model):
    """Up to ``max_amount`` of compensation this level decides (empty: no limit); an
    approval asked of the level falls due ``approval_hours`` later."""

    level = models.CharField(_("level"), max_length=16, choices=AuthorityLevel.choices, unique=True)
    max_amount = models.DecimalField(
        _("up to (amount)"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    approval_hours = models.PositiveIntegerField(_("approval within (hours)"), default=24)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["max_amount"]
        verbose_name = _("limit of authority")
        verbose_name_plural = _("limits of authority")

    def __str__(self) -> str:
        return f"{self.level} ≤ {self.max_amount if self.max_amount is not None else '∞'}"


class ComplaintCounter(models.Model):
    """The year's last complaint number (C-YYYY-NNNNNN)."""

    year = models.PositiveIntegerField(_("year"), primary_key=True)
    last = models.PositiveIntegerField(_("last number"), default=0)

    class Meta:
        verbose_name = _("complaint counter")
        verbose_name_plural = _("complaint counters")

    def __str__(self) -> str:
        return f"{self.year}: {self.last}"


class Complaint(models.Model):
    number = models.CharField(_("number"), max_length=20, unique=True)
    profile = models.ForeignKey(
        ComplaintProfile, on_delete=models.PROTECT, related_name="+", verbose_name=_("profile")
    )
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="complaints",
        verbose_name=_("customer"),
    )
    contact = models.ForeignKey(
        "customers.Contact",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="complaints",
        verbose_name=_("contact"),
    )
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    category = models.ForeignKey(
        ComplaintCategory, on_delete=models.PROTECT, related_name="+", verbose_name=_("category")
    )
    subcategory = models.ForeignKey(
        ComplaintCategory,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("subcategory"),
    )
    product_ref = models.CharField(_("product or order"), max_length=100, blank=True)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"))
    desired_outcome = models.TextField(_("desired outcome"), blank=True)
    impact = models.CharField(_("impact"), max_length=16, choices=Impact.choices)
    urgency = models.CharField(_("urgency"), max_length=16, choices=Urgency.choices)
    # What the matrix (and a repeat) gave, and what applies; a reason when they differ.
    derived_severity = models.CharField(
        _("derived severity"), max_length=2, choices=Severity.choices
    )
    severity = models.CharField(_("severity"), max_length=2, choices=Severity.choices)
    severity_reason = models.CharField(_("severity override reason"), max_length=500, blank=True)
    regulatory = models.BooleanField(_("regulatory"), default=False)
    repeat_of = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("repeat of"),
    )
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=ComplaintStatus.choices,
        default=ComplaintStatus.RECEIVED,
    )
    team = models.ForeignKey(
        "org.Team",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("team"),
    )
    # The handler; the work item names whoever has the complaint's task now (handler,
    # approver or reviewer).
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="complaints_handled",
        verbose_name=_("handler"),
    )
    # The staff member the complaint is about: never its handler or approver.
    about_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="complaints_about",
        verbose_name=_("about (staff)"),
    )
    ticket_id = models.BigIntegerField(_("from ticket"), null=True, blank=True)
    received_at = models.DateTimeField(_("received at"))
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    first_contact_at = models.DateTimeField(_("first contact at"), null=True, blank=True)
    answered_at = models.DateTimeField(_("final answer at"), null=True, blank=True)
    response_due_at = models.DateTimeField(_("customer may answer until"), null=True, blank=True)
    customer_response = models.CharField(
        _("customer's answer"), max_length=16, choices=CustomerResponse.choices, blank=True
    )
    responded_at = models.DateTimeField(_("customer answered at"), null=True, blank=True)
    dispute_reason = models.TextField(_("dispute reason"), blank=True)
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reviewed by"),
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    # The resolution decided (copied from the approved or decided proposal).
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices, blank=True)
    resolution = models.TextField(_("resolution"), blank=True)
    root_cause = models.ForeignKey(
        RootCause,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("root cause"),
    )
    corrective_action = models.TextField(_("corrective action"), blank=True)
    compensation_amount = models.DecimalField(
        _("compensation"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    compensation_kind = models.CharField(
        _("compensation kind"), max_length=16, choices=CompensationKind.choices, blank=True
    )
    # Who had to approve the compensation paid (the level of authority used).
    approved_level = models.CharField(
        _("approved at level"), max_length=16, choices=AuthorityLevel.choices, blank=True
    )
    extensions_used = models.PositiveSmallIntegerField(_("extensions used"), default=0)
    disputes = models.PositiveSmallIntegerField(_("disputes"), default=0)
    sla_clock = models.OneToOneField(
        "sla.SlaClock",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("SLA clock"),
    )
    version = models.PositiveIntegerField(_("version"), default=1)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("complaint")
        verbose_name_plural = _("complaints")
        indexes = [
            # repeats and the customer's history at intake
            models.Index(
                fields=["customer", "category", "received_at"], name="complaint_repeat_idx"
            ),
            models.Index(fields=["received_at", "id"], name="complaint_received_idx"),
            models.Index(fields=["status", "received_at"], name="complaint_status_idx"),
            models.Index(fields=["team", "status"], name="complaint_team_idx"),
            models.Index(fields=["updated_at"], name="complaint_updated_idx"),
            # the ticket's open complaint (at most one; the ticket page asks)
            models.Index(
                fields=["ticket_id"],
                condition=models.Q(ticket_id__isnull=False),
                name="complaint_ticket_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def needs_review(self) -> bool:
        """A regulatory complaint gets a quality review before it closes."""
        return self.regulatory and self.reviewed_at is None


class ComplaintNote(models.Model):
    """An internal note or a logged contact with the customer."""

    complaint = models.ForeignKey(
        Complaint, on_delete=models.CASCADE, related_name="notes", verbose_name=_("complaint")
    )
    kind = models.CharField(_("kind"), max_length=16, choices=NoteKind.choices)
    channel = models.CharField(
        _("contact channel"), max_length=16, choices=ContactChannel.choices, blank=True
    )
    body = models.TextField(_("text"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("author"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("complaint note")
        verbose_name_plural = _("complaint notes")

    def __str__(self) -> str:
        return f"{self.complaint_id}: {self.kind}"


class Proposal(models.Model):
    """A proposed resolution and, if it needs one, its approval (a human task)."""

    complaint = models.ForeignKey(
        Complaint, on_delete=models.CASCADE, related_name="proposals", verbose_name=_("complaint")
    )
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices)
    resolution = models.TextField(_("resolution"))
    root_cause = models.ForeignKey(
        RootCause, on_delete=models.PROTECT, related_name="+", verbose_name=_("root cause")
    )
    corrective_action = models.TextField(_("corrective action"), blank=True)
    compensation_amount = models.DecimalField(
        _("compensation"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    compensation_kind = models.CharField(
        _("compensation kind"), max_length=16, choices=CompensationKind.choices, blank=True
    )
    required_level = models.CharField(
        _("needs approval of"), max_length=16, choices=AuthorityLevel.choices
    )
    # The limit row that decided the level, as it was (audited with the decision).
    rule = models.JSONField(_("rule"), default=dict, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=ProposalStatus.choices)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("proposed by"),
    )
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("approver"),
    )
    due_at = models.DateTimeField(_("approval due"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_reason = models.TextField(_("reason"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("proposal")
        verbose_name_plural = _("proposals")
        indexes = [
            models.Index(
                fields=["approver", "due_at"],
                condition=models.Q(status="pending"),
                name="proposal_pending_idx",
            )
        ]

    def __str__(self) -> str:
        return f"{self.complaint_id}: {self.status}"


class Extension(models.Model):
    """An approved extension of the final-answer target."""

    complaint = models.ForeignKey(
        Complaint, on_delete=models.CASCADE, related_name="extensions", verbose_name=_("complaint")
    )
    seconds = models.PositiveIntegerField(_("added (s)"))
    reason = models.TextField(_("reason"))
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("approved by"),
    )
    due_before = models.DateTimeField(_("due before"), null=True, blank=True)
    due_after = models.DateTimeField(_("due after"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("extension")
        verbose_name_plural = _("extensions")

    def __str__(self) -> str:
        return f"{self.complaint_id}: +{self.seconds}s"
