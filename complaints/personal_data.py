"""Complaints' personal data about a contact (``customers.registry``;
docs/customers-privacy.md): the contact's complaints for an access request; for an erasure
the description, the desired outcome, the dispute reason and the notes written from the
contact's emails, and any mention of the contact's values elsewhere in the complaint — the
complaints, their categories, outcomes and timings stay. An open complaint (or one whose
customer may still accept or dispute the answer) holds the erasure."""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from customers.registry import PersonalData

from .choices import ComplaintStatus
from .models import Complaint, ComplaintNote

NAME = "complaints"


def export(contact: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for complaint in Complaint.objects.filter(contact=contact).order_by("received_at", "id"):
        notes = ComplaintNote.objects.filter(complaint=complaint, author__isnull=True)
        out.append(
            {
                "number": complaint.number,
                "title": complaint.title,
                "description": complaint.description,
                "desired_outcome": complaint.desired_outcome,
                "status": complaint.status,
                "outcome": complaint.outcome,
                "resolution": complaint.resolution,
                "customer_response": complaint.customer_response,
                "dispute_reason": complaint.dispute_reason,
                "received_at": complaint.received_at.isoformat(),
                "messages": [
                    {"body": n.body, "at": n.created_at.isoformat()}
                    for n in notes.order_by("created_at", "id")
                ],
            }
        )
    return out


def erase(contact: Any, placeholder: str) -> int:
    from customers.services.privacy import personal_values, scrub_text

    values = personal_values(contact)
    complaints = list(Complaint.objects.filter(contact=contact))
    ids = [c.pk for c in complaints]
    changed = ComplaintNote.objects.filter(complaint_id__in=ids, author__isnull=True).update(
        body=placeholder
    )
    for note in ComplaintNote.objects.filter(complaint_id__in=ids, author__isnull=False):
        body = scrub_text(note.body, values)
        if body != note.body:
            note.body = body
            note.save(update_fields=["body"])
            changed += 1
    for complaint in complaints:
        complaint.description = placeholder
        complaint.desired_outcome = placeholder if complaint.desired_outcome else ""
        complaint.dispute_reason = placeholder if complaint.dispute_reason else ""
        for field in ("title", "product_ref", "resolution", "corrective_action", "severity_reason"):
            setattr(complaint, field, scrub_text(getattr(complaint, field), values))
        complaint.save(
            update_fields=[
                "description",
                "desired_outcome",
                "dispute_reason",
                "title",
                "product_ref",
                "resolution",
                "corrective_action",
                "severity_reason",
            ]
        )
    return changed + len(complaints)


def held(contact: Any) -> str:
    """An open complaint, or one whose customer may still dispute the answer."""
    now = timezone.now()
    found = (
        Complaint.objects.filter(contact=contact)
        .filter(~Q(status=ComplaintStatus.CLOSED) | Q(response_due_at__gt=now))
        .order_by("received_at", "id")
        .values_list("number", flat=True)
        .first()
    )
    if found is None:
        return ""
    return _("Complaint %(number)s is open or may still be disputed.") % {"number": found}


def audit_scope(contact: Any) -> Q:
    return Q(complaint__contact=contact)


def register() -> None:
    from customers import registry
    from customers.services.privacy import register_audit_scope

    registry.register_personal_data(PersonalData(NAME, export, erase, held))
    register_audit_scope(NAME, audit_scope)
