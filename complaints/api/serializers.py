"""Input and output serializers of the complaints API, kept apart: inputs validate, outputs
shape (the views build plain values and the outputs write them, so that the answers are
exactly what the schema says)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework import serializers

from core.params import MAX_ID

from ..choices import (
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

MAX_TEXT = 100_000
MAX_REASON = 2000


def _id(**kwargs: Any) -> serializers.IntegerField:
    return serializers.IntegerField(min_value=1, max_value=MAX_ID, **kwargs)


def _text(max_length: int = MAX_TEXT, **kwargs: Any) -> serializers.CharField:
    return serializers.CharField(max_length=max_length, **kwargs)


def _optional_text(max_length: int = MAX_TEXT) -> serializers.CharField:
    return serializers.CharField(
        max_length=max_length, required=False, allow_blank=True, default=""
    )


# --- inputs ------------------------------------------------------------------------------
class ComplaintNewContactInput(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True, default="")


class ComplaintCreateInput(serializers.Serializer):
    """A complaint received through the API (``NewComplaint``), or a ticket escalated into
    one: with ``ticket``, the customer, contact, title and description default from the
    ticket and the ticket's assignee becomes the person the complaint is about."""

    category = serializers.SlugField(
        max_length=64,
        required=False,
        default="service",
        help_text="A top-level category's code (`service` when absent).",
    )
    subcategory = serializers.SlugField(max_length=64, required=False, allow_blank=True, default="")
    title = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    description = _optional_text()
    impact = serializers.ChoiceField(
        choices=Impact.choices,
        required=False,
        allow_blank=True,
        default="",
        help_text="With `urgency`, the severity matrix's cell; without both, a given "
        "`severity` is taken as assessed and an absent one is the medium cell's.",
    )
    urgency = serializers.ChoiceField(
        choices=Urgency.choices, required=False, allow_blank=True, default=""
    )
    channel = serializers.ChoiceField(
        choices=[c for c in Channel.choices if c[0] != Channel.TICKET],
        required=False,
        default=Channel.API,
    )
    customer_id = _id(required=False, allow_null=True, default=None)
    contact_id = _id(required=False, allow_null=True, default=None)
    contact = ComplaintNewContactInput(
        required=False,
        allow_null=True,
        default=None,
        help_text="Who complains, by email (found or created), instead of `contact_id`.",
    )
    product_ref = _optional_text(100)
    desired_outcome = _optional_text()
    severity = serializers.ChoiceField(
        choices=Severity.choices,
        required=False,
        allow_blank=True,
        default="",
        help_text="Overrides the severity the matrix gives (with `severity_reason`).",
    )
    severity_reason = _optional_text(500)
    regulatory = serializers.BooleanField(required=False, default=False)
    profile = serializers.SlugField(
        max_length=64,
        required=False,
        allow_blank=True,
        default="",
        help_text="The regulator's profile's code; the default profile when empty.",
    )
    about_user_id = _id(
        required=False,
        allow_null=True,
        default=None,
        help_text="The staff member the complaint is about: never its handler.",
    )
    ticket = _id(
        required=False,
        allow_null=True,
        default=None,
        help_text="Escalate this ticket into the complaint (both stay linked).",
    )


class ComplaintEmptyInput(serializers.Serializer):
    pass


class ComplaintAssignInput(serializers.Serializer):
    assignee = _id()


class ComplaintContactInput(serializers.Serializer):
    channel = serializers.ChoiceField(
        choices=ContactChannel.choices, required=False, default=ContactChannel.PHONE
    )
    summary = _optional_text()
    note = _optional_text()

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        """``note`` (API.md) and ``summary`` name the same text."""
        text = attrs.get("summary") or attrs.get("note") or ""
        if not text.strip():
            raise serializers.ValidationError({"note": [_("This field may not be blank.")]})
        attrs["summary"] = text
        return attrs


class ComplaintNoteInput(serializers.Serializer):
    body = _text()


class ComplaintCompensationInput(serializers.Serializer):
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0)
    currency = serializers.CharField(max_length=3, required=False, allow_blank=True, default="")
    kind = serializers.ChoiceField(choices=CompensationKind.choices)


class ComplaintProposeInput(serializers.Serializer):
    outcome = serializers.ChoiceField(
        choices=Outcome.choices, required=False, default=Outcome.UPHELD
    )
    resolution = _text()
    root_cause = serializers.SlugField(max_length=64)
    corrective_action = _optional_text()
    compensation_amount = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        min_value=0,
        required=False,
        allow_null=True,
        default=None,
        coerce_to_string=True,
    )
    compensation_kind = serializers.ChoiceField(
        choices=CompensationKind.choices, required=False, allow_blank=True, default=""
    )
    compensation = ComplaintCompensationInput(
        required=False,
        allow_null=True,
        default=None,
        help_text="API.md's shape of `compensation_amount` and `compensation_kind`; the "
        "currency, when given, must be the installation's (`KEFU_CURRENCY`).",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        compensation = attrs.pop("compensation", None)
        if compensation:
            currency = (compensation.get("currency") or "").upper()
            if currency and currency != settings.KEFU_CURRENCY:
                raise serializers.ValidationError(
                    {
                        "compensation": [
                            _("Compensation is paid in %(currency)s.")
                            % {"currency": settings.KEFU_CURRENCY}
                        ]
                    }
                )
            attrs["compensation_amount"] = compensation["amount"]
            attrs["compensation_kind"] = compensation["kind"]
        return attrs


class ComplaintOptionalReasonInput(serializers.Serializer):
    reason = _optional_text(MAX_REASON)
    note = _optional_text(MAX_REASON)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        """``note`` (API.md) and ``reason`` name the same text."""
        attrs["reason"] = attrs.get("reason") or attrs.get("note") or ""
        return attrs


class ComplaintEscalateTicketInput(serializers.Serializer):
    reason = _text(MAX_REASON)
    category = serializers.SlugField(max_length=64, required=False, default="service")
    impact = serializers.ChoiceField(choices=Impact.choices, required=False, default="medium")
    urgency = serializers.ChoiceField(choices=Urgency.choices, required=False, default="medium")
    desired_outcome = _optional_text()


class ComplaintReasonInput(serializers.Serializer):
    reason = _text(MAX_REASON)


class ComplaintEscalateInput(serializers.Serializer):
    reason = _text(MAX_REASON)
    assignee = _id(
        required=False,
        allow_null=True,
        default=None,
        help_text="Supervisors: hand the complaint to this person as well.",
    )


class ComplaintCloseInput(serializers.Serializer):
    note = _optional_text(MAX_REASON)


# --- outputs -----------------------------------------------------------------------------
class ComplaintCodeLabelOutput(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField(help_text="In the reader's language.")  # type: ignore[assignment]  # a field named like .label


class ComplaintChoiceOutput(serializers.Serializer):
    value = serializers.CharField()
    label = serializers.CharField(help_text="In the reader's language.")  # type: ignore[assignment]  # a field named like .label


class ComplaintRowOutput(serializers.Serializer):
    """A complaint in a list."""

    id = serializers.IntegerField()
    number = serializers.CharField()
    title = serializers.CharField()
    status = serializers.ChoiceField(choices=ComplaintStatus.choices)
    severity = serializers.ChoiceField(choices=Severity.choices)
    category = serializers.CharField(help_text="The category's code.")
    channel = serializers.CharField()
    regulatory = serializers.BooleanField()
    customer = serializers.IntegerField(allow_null=True)
    contact = serializers.IntegerField(allow_null=True)
    team = serializers.IntegerField(allow_null=True)
    assignee = serializers.IntegerField(allow_null=True)
    received_at = serializers.DateTimeField()
    due = serializers.DateTimeField(
        allow_null=True, help_text="The nearest unmet target's due moment."
    )
    warning = serializers.BooleanField()
    breached = serializers.BooleanField()
    escalation_level = serializers.IntegerField()
    version = serializers.IntegerField()


class ComplaintPageOutput(serializers.Serializer):
    """A cursor page: ``next`` / ``previous`` are full URLs (null at either end)."""

    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = ComplaintRowOutput(many=True)


class ComplaintTargetOutput(serializers.Serializer):
    name = serializers.ChoiceField(choices=["acknowledge", "first_contact", "final_answer"])
    due = serializers.DateTimeField(allow_null=True)
    met_at = serializers.DateTimeField(allow_null=True)
    breached = serializers.BooleanField()


class ComplaintLadderStepOutput(serializers.Serializer):
    key = serializers.CharField()
    target = serializers.CharField()
    kind = serializers.ChoiceField(choices=["warning", "breach", "level"])
    level = serializers.IntegerField(allow_null=True)
    action = serializers.CharField(allow_null=True)
    at = serializers.DateTimeField()
    state = serializers.ChoiceField(choices=["done", "pending", "skipped"])


class ComplaintClockOutput(serializers.Serializer):
    policy = serializers.IntegerField(allow_null=True)
    calendar = serializers.ChoiceField(
        choices=["business", "calendar"],
        help_text="business: the targets count working time; calendar: round the clock.",
    )
    started_at = serializers.DateTimeField(allow_null=True)
    stopped_at = serializers.DateTimeField(allow_null=True)
    paused = serializers.BooleanField()
    due = serializers.DateTimeField(allow_null=True)
    warning = serializers.BooleanField()
    breached = serializers.BooleanField()
    escalation_level = serializers.IntegerField()
    acknowledged_level = serializers.IntegerField()
    targets = ComplaintTargetOutput(many=True)
    ladder = ComplaintLadderStepOutput(many=True)


class ComplaintNoteOutput(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=NoteKind.choices)
    channel = serializers.CharField(allow_blank=True)
    body = serializers.CharField()
    author = serializers.IntegerField(allow_null=True)
    created = serializers.DateTimeField()


class ComplaintProposalOutput(serializers.Serializer):
    id = serializers.IntegerField()
    outcome = serializers.ChoiceField(choices=Outcome.choices)
    resolution = serializers.CharField()
    root_cause = serializers.CharField()
    corrective_action = serializers.CharField(allow_blank=True)
    compensation_amount = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)
    compensation_kind = serializers.CharField(allow_blank=True)
    status = serializers.ChoiceField(choices=ProposalStatus.choices)
    level = serializers.ChoiceField(
        choices=AuthorityLevel.choices, help_text="Whose limit of authority it needs."
    )
    rule = serializers.JSONField(help_text="The limit that decided the level, as it was.")
    proposed_by = serializers.IntegerField(allow_null=True)
    approver = serializers.IntegerField(allow_null=True)
    due = serializers.DateTimeField(allow_null=True, help_text="The approval's due moment.")
    decided_by = serializers.IntegerField(allow_null=True)
    decided_at = serializers.DateTimeField(allow_null=True)
    decision_reason = serializers.CharField(allow_blank=True)
    created = serializers.DateTimeField()


class ComplaintExtensionOutput(serializers.Serializer):
    id = serializers.IntegerField()
    seconds = serializers.IntegerField()
    reason = serializers.CharField()
    approved_by = serializers.IntegerField(allow_null=True)
    due_before = serializers.DateTimeField(allow_null=True)
    due_after = serializers.DateTimeField(allow_null=True)
    created = serializers.DateTimeField()


class ComplaintLinkOutput(serializers.Serializer):
    kind = serializers.CharField()
    id = serializers.IntegerField()
    number = serializers.CharField()
    relation = serializers.CharField()


class ComplaintHistoryComplaintOutput(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    title = serializers.CharField()
    category = serializers.CharField()
    severity = serializers.CharField()
    status = serializers.CharField()
    received_at = serializers.DateTimeField()


class ComplaintOpenWorkOutput(serializers.Serializer):
    kind = serializers.CharField()
    id = serializers.IntegerField()
    number = serializers.CharField()
    title = serializers.CharField()
    status = serializers.CharField()
    priority = serializers.CharField()


class ComplaintCustomerHistoryOutput(serializers.Serializer):
    complaints = ComplaintHistoryComplaintOutput(
        many=True, help_text="Earlier complaints, newest first."
    )
    open_work = ComplaintOpenWorkOutput(many=True, help_text="Open tickets and other work.")


class ComplaintPersonOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class ComplaintPartyOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(allow_blank=True)


class ComplaintRepeatOutput(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    received_at = serializers.DateTimeField()


class ComplaintContractTargetOutput(serializers.Serializer):
    due = serializers.DateTimeField(allow_null=True)
    met_at = serializers.DateTimeField(allow_null=True)
    breached = serializers.BooleanField()


class ComplaintMoneyOutput(serializers.Serializer):
    amount = serializers.DecimalField(max_digits=12, decimal_places=2)
    currency = serializers.CharField()
    kind = serializers.ChoiceField(choices=CompensationKind.choices)


class ComplaintContractProposalOutput(serializers.Serializer):
    resolution = serializers.CharField()
    root_cause = serializers.CharField()
    compensation = ComplaintMoneyOutput(allow_null=True)
    approval = serializers.ChoiceField(
        choices=[(v, v) for v in ("not_needed", "pending", "approved", "rejected")]
    )


class ComplaintReceiptOutput(serializers.Serializer):
    """What intake answers a caller who may not see the complaint they recorded (it went to
    the complaints team; it may be about them): its id, number and status, and why no more."""

    id = serializers.IntegerField()
    number = serializers.CharField()
    status = serializers.CharField()
    visible = serializers.BooleanField()
    detail = serializers.CharField()


class ComplaintOutput(serializers.Serializer):
    """A complaint with everything its page shows."""

    id = serializers.IntegerField()
    number = serializers.CharField()
    title = serializers.CharField()
    description = serializers.CharField()
    desired_outcome = serializers.CharField(allow_blank=True)
    product_ref = serializers.CharField(allow_blank=True)
    status = serializers.ChoiceField(choices=ComplaintStatus.choices)
    status_label = serializers.CharField()
    node = serializers.CharField(
        allow_null=True,
        help_text="The flow node it waits in: handle, approval, answered, review, closed.",
    )
    channel = serializers.ChoiceField(choices=Channel.choices)
    profile = ComplaintCodeLabelOutput()
    category = ComplaintCodeLabelOutput()
    subcategory = ComplaintCodeLabelOutput(allow_null=True)
    customer = ComplaintPartyOutput(allow_null=True)
    contact = ComplaintPartyOutput(allow_null=True)
    team = serializers.IntegerField(allow_null=True)
    assignee = serializers.IntegerField(allow_null=True, help_text="The handler.")
    about_user = serializers.IntegerField(
        allow_null=True, help_text="The staff member the complaint is about."
    )
    ticket = serializers.IntegerField(allow_null=True, help_text="Escalated from this ticket.")
    impact = serializers.ChoiceField(choices=Impact.choices)
    urgency = serializers.ChoiceField(choices=Urgency.choices)
    severity = serializers.ChoiceField(choices=Severity.choices)
    derived_severity = serializers.ChoiceField(
        choices=Severity.choices, help_text="What the matrix (and a repeat) gave."
    )
    severity_reason = serializers.CharField(
        allow_blank=True, help_text="Why the severity differs from the derived one."
    )
    regulatory = serializers.BooleanField()
    repeat_of = ComplaintRepeatOutput(allow_null=True)
    received_at = serializers.DateTimeField()
    acknowledged_at = serializers.DateTimeField(allow_null=True)
    first_contact_at = serializers.DateTimeField(allow_null=True)
    answered_at = serializers.DateTimeField(allow_null=True)
    response_due_at = serializers.DateTimeField(allow_null=True)
    customer_response = serializers.ChoiceField(
        choices=[("", ""), *CustomerResponse.choices], allow_blank=True
    )
    responded_at = serializers.DateTimeField(allow_null=True)
    dispute_reason = serializers.CharField(allow_blank=True)
    disputes = serializers.IntegerField()
    reviewed_at = serializers.DateTimeField(allow_null=True)
    closed_at = serializers.DateTimeField(allow_null=True)
    outcome = serializers.CharField(allow_blank=True)
    resolution = serializers.CharField(allow_blank=True)
    root_cause = ComplaintCodeLabelOutput(allow_null=True)
    corrective_action = serializers.CharField(allow_blank=True)
    compensation_amount = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)
    compensation_kind = serializers.CharField(allow_blank=True)
    approved_level = serializers.CharField(allow_blank=True)
    extensions_used = serializers.IntegerField()
    extensions_allowed = serializers.IntegerField()
    clock = ComplaintClockOutput(allow_null=True)
    notes = ComplaintNoteOutput(many=True)
    proposals = ComplaintProposalOutput(many=True)
    extensions = ComplaintExtensionOutput(many=True)
    links = ComplaintLinkOutput(many=True)
    customer_history = ComplaintCustomerHistoryOutput()
    people = ComplaintPersonOutput(many=True, help_text="The names of the people the answer names.")
    actions = serializers.ListField(
        child=serializers.CharField(),
        help_text="What the caller may do now, each `POST …/{id}/<action>/`.",
    )
    # API.md's names for what the fields above also say
    handler = serializers.IntegerField(allow_null=True, help_text="The handler (`assignee`).")
    repeat = serializers.BooleanField(help_text="A repeat of an earlier complaint (`repeat_of`).")
    escalation_level = serializers.IntegerField()
    clocks = serializers.DictField(
        child=ComplaintContractTargetOutput(),
        help_text="Each target by name: `{due, met_at, breached}`.",
    )
    proposal = ComplaintContractProposalOutput(
        allow_null=True, help_text="The latest proposal and where its approval stands."
    )
    version = serializers.IntegerField()
    created = serializers.DateTimeField()
    updated = serializers.DateTimeField()
    history_url = serializers.CharField()


class ComplaintEventOutput(serializers.Serializer):
    id = serializers.IntegerField()
    actor = serializers.IntegerField(allow_null=True)
    verb = serializers.CharField()
    label = serializers.CharField(help_text="The verb in the reader's language.")  # type: ignore[assignment]  # a field named like .label
    at = serializers.DateTimeField()
    before = serializers.JSONField(allow_null=True)
    after = serializers.JSONField(allow_null=True)


class ComplaintIntakeContextOutput(serializers.Serializer):
    customer = serializers.IntegerField(allow_null=True)
    customer_history = ComplaintCustomerHistoryOutput()
    repeat_of = ComplaintRepeatOutput(
        allow_null=True, help_text="The earlier complaint this one would repeat."
    )
    repeat_window_days = serializers.IntegerField()
    matrix_severity = serializers.ChoiceField(
        choices=Severity.choices, allow_null=True, help_text="What the matrix gives."
    )
    severity = serializers.ChoiceField(
        choices=Severity.choices,
        allow_null=True,
        help_text="The matrix's severity, raised a step for a repeat.",
    )


class ComplaintCategoryOutput(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # a field named like .label
    team = serializers.IntegerField(allow_null=True)
    subcategories = ComplaintCodeLabelOutput(many=True)


class ComplaintSeverityCellOutput(serializers.Serializer):
    impact = serializers.CharField()
    urgency = serializers.CharField()
    severity = serializers.CharField()


class ComplaintPolicyOutput(serializers.Serializer):
    severity = serializers.CharField()
    regulatory = serializers.BooleanField()
    calendar = serializers.ChoiceField(choices=["business", "calendar"])
    targets = serializers.DictField(child=serializers.IntegerField(), help_text="Seconds.")
    extensions = serializers.ListField(
        child=serializers.IntegerField(), help_text="Seconds each extension adds, in order."
    )


class ComplaintProfileOutput(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # a field named like .label
    regulator = serializers.CharField(allow_blank=True)
    is_default = serializers.BooleanField()
    team = serializers.IntegerField(allow_null=True)
    repeat_window_days = serializers.IntegerField()
    response_window_days = serializers.IntegerField()
    reopen_window_days = serializers.IntegerField()
    policies = ComplaintPolicyOutput(many=True)


class ComplaintAuthorityLimitOutput(serializers.Serializer):
    level = serializers.ChoiceField(choices=AuthorityLevel.choices)
    label = serializers.CharField()  # type: ignore[assignment]  # a field named like .label
    max_amount = serializers.DecimalField(
        max_digits=12, decimal_places=2, allow_null=True, help_text="Empty: no limit."
    )
    approval_hours = serializers.IntegerField()


class ComplaintConfigOutput(serializers.Serializer):
    categories = ComplaintCategoryOutput(many=True)
    root_causes = ComplaintCodeLabelOutput(many=True)
    impacts = ComplaintChoiceOutput(many=True)
    urgencies = ComplaintChoiceOutput(many=True)
    severities = ComplaintChoiceOutput(many=True)
    severity_matrix = ComplaintSeverityCellOutput(many=True)
    profiles = ComplaintProfileOutput(many=True)
    authority_limits = ComplaintAuthorityLimitOutput(many=True)
    compensation_kinds = ComplaintChoiceOutput(many=True)
    outcomes = ComplaintChoiceOutput(many=True)
    channels = ComplaintChoiceOutput(many=True)
    contact_channels = ComplaintChoiceOutput(many=True)
    statuses = ComplaintChoiceOutput(many=True)
