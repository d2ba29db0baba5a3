"""A complaint's vocabulary: states, severity, compensation, approval levels, audit verbs."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ComplaintStatus(models.TextChoices):
    RECEIVED = "received", _("Received")
    INVESTIGATING = "investigating", _("Investigating")
    AWAITING_APPROVAL = "awaiting_approval", _("Awaiting approval")
    AWAITING_CUSTOMER = "awaiting_customer", _("Answered, awaiting the customer")
    QUALITY_REVIEW = "quality_review", _("Quality review")
    CLOSED = "closed", _("Closed")


# A person has work on the complaint in these states: it is in the work queue.
QUEUE_STATUSES = (
    ComplaintStatus.RECEIVED,
    ComplaintStatus.INVESTIGATING,
    ComplaintStatus.AWAITING_APPROVAL,
    ComplaintStatus.QUALITY_REVIEW,
)


class Severity(models.TextChoices):
    S1 = "S1", _("S1 critical")
    S2 = "S2", _("S2 major")
    S3 = "S3", _("S3 moderate")
    S4 = "S4", _("S4 minor")


# Most severe first: raising the severity one step moves one place left.
SEVERITY_ORDER = ("S1", "S2", "S3", "S4")


def raised(severity: str) -> str:
    """One step more severe (S1 stays S1)."""
    index = SEVERITY_ORDER.index(severity) if severity in SEVERITY_ORDER else 3
    return SEVERITY_ORDER[max(index - 1, 0)]


class Impact(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")
    CRITICAL = "critical", _("Critical")


class Urgency(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")


class Channel(models.TextChoices):
    API = "api", _("API")
    PHONE = "phone", _("Phone")
    EMAIL = "email", _("Email")
    WEB = "web", _("Web")
    TICKET = "ticket", _("Escalated from a ticket")
    LETTER = "letter", _("Letter")
    REGULATOR = "regulator", _("Referred by a regulator")


class CompensationKind(models.TextChoices):
    REFUND = "refund", _("Refund")
    CREDIT = "credit", _("Account credit")
    VOUCHER = "voucher", _("Voucher")
    GOODWILL = "goodwill", _("Goodwill payment")


class Outcome(models.TextChoices):
    UPHELD = "upheld", _("Upheld")
    PARTIALLY_UPHELD = "partially_upheld", _("Partially upheld")
    NOT_UPHELD = "not_upheld", _("Not upheld")


class AuthorityLevel(models.TextChoices):
    HANDLER = "handler", _("Handler")
    SUPERVISOR = "supervisor", _("Supervisor")
    MANAGER = "manager", _("Manager")


AUTHORITY_ORDER = ("handler", "supervisor", "manager")


class ProposalStatus(models.TextChoices):
    PENDING = "pending", _("Awaiting approval")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    DECIDED = "decided", _("Decided by the handler")


class CustomerResponse(models.TextChoices):
    ACCEPTED = "accepted", _("Accepted")
    DISPUTED = "disputed", _("Disputed")
    SILENT = "silent", _("No answer")


class NoteKind(models.TextChoices):
    NOTE = "note", _("Internal note")
    CONTACT = "contact", _("Customer contact")


class ContactChannel(models.TextChoices):
    PHONE = "phone", _("Phone")
    EMAIL = "email", _("Email")
    VISIT = "visit", _("Visit")
    MESSAGE = "message", _("Message")


class ComplaintVerb(models.TextChoices):
    CREATED = "created", _("received the complaint")
    REPEAT = "repeat", _("flagged a repeat")
    SEVERITY_OVERRIDDEN = "severity_overridden", _("overrode the severity")
    ASSIGNED = "assigned", _("assigned")
    CLAIMED = "claimed", _("took the complaint")
    ACKNOWLEDGED = "acknowledged", _("acknowledged the complaint")
    CONTACTED = "contacted", _("contacted the customer")
    NOTED = "noted", _("added an internal note")
    PROPOSED = "proposed", _("proposed a resolution")
    APPROVAL_REQUESTED = "approval_requested", _("asked for approval")
    APPROVED = "approved", _("approved the resolution")
    REJECTED = "rejected", _("rejected the resolution")
    DECIDED = "decided", _("decided the resolution")
    ANSWERED = "answered", _("sent the final answer")
    EXTENDED = "extended", _("extended the final-answer deadline")
    ESCALATED = "escalated", _("escalated")
    SLA_WARNING = "sla_warning", _("SLA warning")
    SLA_BREACHED = "sla_breached", _("SLA breached")
    PRIORITY_CHANGED = "priority_changed", _("raised the severity")
    ACCEPTED = "accepted", _("the customer accepted the outcome")
    DISPUTED = "disputed", _("the customer disputed the outcome")
    SILENT = "silent", _("the customer did not answer")
    REVIEWED = "reviewed", _("completed the quality review")
    CLOSED = "closed", _("closed")
    REOPENED = "reopened", _("reopened")
    ARCHIVED = "archived", _("archived")
    LINKED = "linked", _("linked a ticket")
    EMAIL_WITHHELD = "email_withheld", _("did not email the customer")
    EMAIL_RECEIVED = "email_received", _("received an email from the customer")


class ApprovalClockVerb(models.TextChoices):
    """The audit verbs of an approval's clock (subject kind ``complaint_approval``): the SLA
    ladder's, as they read on the complaint's history."""

    SLA_WARNING = "sla_warning", _("warned the approver: the approval is due soon")
    SLA_BREACHED = "sla_breached", _("escalated the overdue approval")
    ESCALATED = "escalated", _("escalated the approval")


# The SLA ladder's actions a complaint policy may name (sla.choices.EscalationAction).
EscalationActions = ("warn", "notify_supervisor", "notify_manager", "raise_priority", "reassign")

CONFIGURATION_KINDS = (
    "complaint_category",
    "root_cause",
    "severity_rule",
    "complaint_profile",
    "complaint_policy",
    "authority_limit",
)
