"""Receiving a complaint from any channel: the API, an agent on the phone, an email, or a
ticket escalated into one (docs/complaints.md, "Intake")."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import Conflict, Forbidden, InvalidInput
from customers.models import Contact, Customer
from customers.permissions import sees_work_contents
from notifications.services import notify_users
from org.assignment import choose_agent, note_assignment
from org.models import Team
from org.roles import Actor
from processes import links, runtime
from sla import clock as clocks

from .. import selectors
from ..choices import (
    Channel,
    ComplaintStatus,
    ComplaintVerb,
    Impact,
    NoteKind,
    Severity,
    Urgency,
    raised,
)
from ..models import (
    COMPLAINT_TARGETS,
    Complaint,
    ComplaintCategory,
    ComplaintNote,
    ComplaintPolicy,
    ComplaintProfile,
    SeverityRule,
)
from ._common import KIND, allocate_number, audit, publish
from .handling import _person


@dataclass(frozen=True)
class FromTicket:
    """What a ticket escalated into a complaint gives it (the ticket app passes it; the
    complaint app never imports tickets)."""

    ticket_id: int
    number: str
    assignee_id: int | None


@dataclass(frozen=True)
class NewComplaint:
    category: str
    title: str
    description: str
    impact: str
    urgency: str
    channel: str = Channel.API
    customer_id: int | None = None
    contact_id: int | None = None
    subcategory: str = ""
    product_ref: str = ""
    desired_outcome: str = ""
    severity: str = ""
    severity_reason: str = ""
    regulatory: bool = False
    profile: str = ""
    about_user_id: int | None = None
    from_ticket: FromTicket | None = None


def derive_severity(impact: str, urgency: str) -> str:
    """The severity the administrator's matrix gives (S3 when the cell is missing)."""
    rule = SeverityRule.objects.filter(impact=impact, urgency=urgency).first()
    return rule.severity if rule is not None else Severity.S3


def _validate(data: NewComplaint) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    found: dict[str, Any] = {}
    if data.channel not in Channel.values:
        errors["channel"] = [_("Unknown channel.")]
    if data.impact and data.impact not in Impact.values:
        errors["impact"] = [_("Choose one of: %(values)s.") % {"values": ", ".join(Impact.values)}]
    if data.urgency and data.urgency not in Urgency.values:
        errors["urgency"] = [
            _("Choose one of: %(values)s.") % {"values": ", ".join(Urgency.values)}
        ]
    if data.severity and data.severity not in Severity.values:
        errors["severity"] = [_("Choose one of: S1, S2, S3, S4.")]
    if not data.title.strip():
        errors["title"] = [_("This field may not be blank.")]
    if not data.description.strip():
        errors["description"] = [_("This field may not be blank.")]
    category = ComplaintCategory.objects.filter(
        code=data.category, parent__isnull=True, is_active=True
    ).first()
    if category is None:
        errors["category"] = [_("Unknown category.")]
    found["category"] = category
    found["subcategory"] = None
    if data.subcategory:
        sub = ComplaintCategory.objects.filter(code=data.subcategory, is_active=True).first()
        if sub is None or category is None or sub.parent_id != category.pk:
            errors["subcategory"] = [_("Not a subcategory of the category.")]
        found["subcategory"] = sub
    profile = (
        ComplaintProfile.objects.filter(code=data.profile).first()
        if data.profile
        else selectors.default_profile()
    )
    if profile is None:
        errors["profile"] = [_("Unknown complaint profile.")]
    found["profile"] = profile
    customer = contact = None
    if data.customer_id is not None:
        customer = Customer.objects.filter(pk=data.customer_id).first()
        if customer is None:
            errors["customer"] = [_("Unknown customer.")]
    if data.contact_id is not None:
        contact = Contact.objects.filter(pk=data.contact_id).first()
        if contact is None:
            errors["contact"] = [_("Unknown contact.")]
        elif customer is not None and contact.customer_id not in (None, customer.pk):
            errors["contact"] = [_("The contact belongs to another customer.")]
        elif customer is None and contact.customer_id is not None:
            customer = contact.customer
    if customer is None and contact is None:
        errors["contact"] = [_("Name the customer or the contact who complains.")]
    found["customer"], found["contact"] = customer, contact
    about = None
    if data.about_user_id is not None:
        about = get_user_model().objects.filter(pk=data.about_user_id).first()
        if about is None:
            errors["about_user"] = [_("Unknown user.")]
    found["about"] = about
    if errors:
        raise InvalidInput(_("The complaint is not valid."), errors)
    return found


def _policy(profile: ComplaintProfile, severity: str, regulatory: bool) -> ComplaintPolicy | None:
    policies = ComplaintPolicy.objects.select_related("sla_policy__calendar").filter(
        profile=profile, severity=severity, sla_policy__is_active=True
    )
    return (
        policies.filter(regulatory=regulatory).first() or policies.filter(regulatory=False).first()
    )


def handling_team(category: ComplaintCategory, profile: ComplaintProfile) -> Team | None:
    """The category's team, else its parent's, else the profile's complaints team."""
    return category.team or profile.team


def open_complaint(*, data: NewComplaint, actor: Actor) -> Complaint:
    """Receives a complaint: validated, numbered, severity from the matrix (a repeat of one
    within the profile's window raises it a step; an override needs a reason), the
    regulator's clock started, a handler chosen who is not the person complained about,
    the process started — one transaction. From a ticket: refused (``Conflict``) while the
    ticket has a complaint that is not closed."""
    # The service roles only: marketing and analysts never handle complaints.
    if actor is not None and not sees_work_contents(actor):
        raise Forbidden(_("Only staff may record complaints."))
    found = _validate(data)
    category: ComplaintCategory = found["category"]
    profile: ComplaintProfile = found["profile"]
    customer, contact = found["customer"], found["contact"]
    assessed = bool(data.severity) and not data.impact and not data.urgency
    impact, urgency = data.impact or Impact.MEDIUM, data.urgency or Urgency.MEDIUM
    # A caller that gives the severity and no impact or urgency assessed it directly.
    derived = data.severity if assessed else derive_severity(impact, urgency)
    repeat = selectors.find_repeat(
        customer_id=customer.pk if customer else None,
        contact_id=contact.pk if contact else None,
        category_id=category.pk,
        window_days=profile.repeat_window_days,
    )
    if repeat is not None:
        derived = raised(derived)
    severity = derived if assessed else (data.severity or derived)
    if severity != derived and not data.severity_reason.strip():
        raise InvalidInput(
            _("Say why the severity differs from the matrix."),
            {"severity_reason": [_("A reason is required to override the severity.")]},
        )
    about_id = data.about_user_id
    if about_id is None and data.from_ticket is not None:
        about_id = data.from_ticket.assignee_id
    if data.from_ticket is not None:
        # before a number is spent on a refusal; checked again under the lock below
        _refuse_second_escalation(data.from_ticket.ticket_id)
    team = handling_team(category, profile)
    now = timezone.now()
    with transaction.atomic():
        if data.from_ticket is not None:
            _lock_escalations(data.from_ticket.ticket_id)
            _refuse_second_escalation(data.from_ticket.ticket_id)
        complaint = Complaint.objects.create(
            number=allocate_number(),
            profile=profile,
            customer=customer,
            contact=contact,
            channel=Channel.TICKET if data.from_ticket is not None else data.channel,
            category=category,
            subcategory=found["subcategory"],
            product_ref=data.product_ref.strip()[:100],
            title=data.title.strip()[:200],
            description=data.description.strip(),
            desired_outcome=data.desired_outcome.strip(),
            impact=impact,
            urgency=urgency,
            derived_severity=derived,
            severity=severity,
            severity_reason=data.severity_reason.strip()[:500] if severity != derived else "",
            regulatory=data.regulatory,
            repeat_of=repeat,
            status=ComplaintStatus.RECEIVED,
            team=team,
            about_user_id=about_id,
            ticket_id=data.from_ticket.ticket_id if data.from_ticket else None,
            received_at=now,
        )
        policy = _policy(profile, severity, data.regulatory)
        # Calendar-day profiles have no calendar: the clock runs round the clock, never on
        # the team's opening hours.
        complaint.sla_clock = clocks.start(
            kind=KIND,
            object_id=complaint.pk,
            policy=policy.sla_policy if policy else None,
            target_order=COMPLAINT_TARGETS,
            fallback_calendar=None,
            at=now,
        )
        handler = choose_agent(team, exclude={about_id} if about_id else ())
        complaint.assignee = handler
        complaint.save(update_fields=["sla_clock", "assignee"])
        audit(
            complaint,
            actor,
            ComplaintVerb.CREATED,
            after={
                "number": complaint.number,
                "channel": complaint.channel,
                "category": category.code,
                "severity": severity,
                "derived_severity": derived,
                "regulatory": complaint.regulatory,
                "profile": profile.code,
                "team": team.pk if team else None,
            },
        )
        if repeat is not None:
            audit(complaint, actor, ComplaintVerb.REPEAT, after={"repeat_of": repeat.number})
        if severity != derived:
            audit(
                complaint,
                actor,
                ComplaintVerb.SEVERITY_OVERRIDDEN,
                before={"severity": derived},
                after={"severity": severity, "reason": complaint.severity_reason},
            )
        if data.from_ticket is not None:
            links.link(
                kind=KIND,
                object_id=complaint.pk,
                number=complaint.number,
                other_kind="ticket",
                other_id=data.from_ticket.ticket_id,
                other_number=data.from_ticket.number,
                relation="escalated_from",
            )
            audit(complaint, actor, ComplaintVerb.LINKED, after={"ticket": data.from_ticket.number})
        runtime.start(KIND, complaint=complaint)
        if handler is not None:
            note_assignment(handler.pk, now)
            audit(complaint, None, ComplaintVerb.ASSIGNED, after={"assignee": handler.pk})
            notify_users(
                recipient_ids=[handler.pk],
                kind="assigned",
                data={"number": complaint.number},
                subject_kind=KIND,
                object_id=complaint.pk,
            )
        publish("created", complaint)
    return complaint


def _lock_escalations(ticket_id: int) -> None:
    """Escalations of one ticket queue behind each other until the transaction ends (a
    transaction-scoped advisory lock), so two at once make one complaint; SQLite's
    IMMEDIATE transactions queue every write anyway."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(hashtext(%s))", [f"complaints:escalate:{ticket_id}"]
        )


def _refuse_second_escalation(ticket_id: int) -> None:
    """A ticket is escalated into at most one complaint that is not closed: a second
    escalation is a 409 naming the first (once it is closed, a new one is allowed)."""
    existing = selectors.open_complaint_from_ticket(ticket_id)
    if existing is not None:
        raise Conflict(
            _("The ticket is already escalated into a complaint that is not closed."),
            {
                "ticket": [
                    _("Already escalated into complaint %(number)s.") % {"number": existing.number}
                ]
            },
        )


def escalate_ticket(*, data: NewComplaint, actor: Actor, reason: str) -> Complaint:
    """A ticket escalated into a complaint (``data.from_ticket``) with the reason as the
    complaint's first internal note — one transaction: a refusal of either leaves nothing."""
    if data.from_ticket is None:
        raise ValueError("escalate_ticket escalates a ticket: data.from_ticket is required")
    if not reason.strip():
        raise InvalidInput(_("The note is empty."), {"body": [_("This field may not be blank.")]})
    with transaction.atomic():
        complaint = open_complaint(data=data, actor=actor)
        # Part of the intake, not a later note: the person escalating may not see the
        # complaint once it is recorded (it goes to the complaints team, and it may be
        # about them, the ticket's agent), yet their reason is its first note.
        note = ComplaintNote.objects.create(
            complaint=complaint, kind=NoteKind.NOTE, body=reason.strip(), author=_person(actor)
        )
        audit(complaint, actor, ComplaintVerb.NOTED, after={"note": note.pk})
    return complaint


def amount(value: Any) -> Decimal | None:
    if value in (None, ""):
        return None
    return Decimal(str(value))
