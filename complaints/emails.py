"""The customer's emails about a complaint (docs/complaints.md, "The customer told"): the
acknowledgement, an extension of the deadline, and the final answer with the link to
accept or dispute it. Each is an outbox row written in the transaction of the change, keyed
by the event and the complaint's version, so a retried request never sends twice; all are
automatic mail in the sense of ``mail.outbound`` (loop limits apply, a withheld one is
audited)."""

from __future__ import annotations

from email.utils import parseaddr
from typing import Any

from django.conf import settings
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from audit import services as audit_trail
from mail import outbound
from mail.models import Mailbox
from outbox.models import OutboxMessage
from outbox.services import queue_email

from . import selectors
from .choices import ComplaintVerb
from .links import respond_url
from .models import Complaint, Extension

SUBJECT_KIND = "complaint"
ACKNOWLEDGED = "complaint.acknowledged"
EXTENDED = "complaint.extended"
OUTCOME = "complaint.outcome"
EVENTS = (ACKNOWLEDGED, EXTENDED, OUTCOME)


def acknowledged(complaint: Complaint) -> OutboxMessage | None:
    return _send(complaint, ACKNOWLEDGED, {})


def extended(complaint: Complaint, extension: Extension) -> OutboxMessage | None:
    return _send(
        complaint,
        EXTENDED,
        {"reason": extension.reason, "due": extension.due_after},
    )


def outcome(complaint: Complaint) -> OutboxMessage | None:
    """The final answer: outcome, resolution, compensation and the respond link."""
    contact = complaint.contact
    url = (
        respond_url(
            complaint_id=complaint.pk,
            contact_id=contact.pk,
            answer=selectors.answer_number(complaint),
        )
        if contact is not None
        else ""
    )
    return _send(
        complaint,
        OUTCOME,
        {
            "respond_url": url,
            "respond_until": complaint.response_due_at,
            "resolution": complaint.resolution,
            "compensation_amount": complaint.compensation_amount,
        },
    )


def _send(complaint: Complaint, event: str, extra: dict[str, Any]) -> OutboxMessage | None:
    contact = complaint.contact
    address = (contact.email if contact is not None else "").strip()
    if not address:
        return None
    reason = outbound.automatic_refusal(address)
    if reason is not None:
        audit_trail.record(
            kind="complaint",
            verb=ComplaintVerb.EMAIL_WITHHELD,
            actor=None,
            complaint=complaint,
            customer_id=complaint.customer_id,
            after={"event": event, "to": address, "reason": reason},
        )
        return None
    assert contact is not None
    language = contact.language
    rendered = outbound.render(event, language, {**_context(complaint, language), **extra})
    return queue_email(
        key=f"{event}:complaint:{complaint.pk}:v{complaint.version}",
        kind=event,
        to=address,
        subject=outbound.with_tag(rendered.subject, complaint.number),
        body_text=rendered.text,
        body_html=rendered.html,
        discard_body_after_send=event == OUTCOME,  # the respond link is a credential
        headers={"X-Auto-Response-Suppress": "All", **_reply_to()},
        automatic=True,
        subject_kind=SUBJECT_KIND,
        object_id=complaint.pk,
    )


def _reply_to() -> dict[str, str]:
    """The customer's answer goes to the complaints mailbox (``Mailbox.opens`` "complaint"),
    whose handler threads it onto the complaint (complaints/inbound.py); without one, to
    the sender's address as any email of Kefu."""
    address = (
        Mailbox.objects.filter(opens=SUBJECT_KIND, enabled=True)
        .order_by("id")
        .values_list("address", flat=True)
        .first()
    )
    return {"Reply-To": address} if address else {}


def _context(complaint: Complaint, language: str) -> dict[str, Any]:
    """What every complaint event's template may use (docs/email.md, "Templates")."""
    clock = complaint.sla_clock
    final_due = None
    if clock is not None:
        raw = (clock.targets.get("final_answer") or {}).get("due")
        final_due = _local(raw)
    with translation.override(outbound.language_of(language)):
        return {
            "number": complaint.number,
            "title": complaint.title,
            "category": complaint.category.label,
            "status": str(complaint.get_status_display()),
            "outcome": str(complaint.get_outcome_display()) if complaint.outcome else "",
            "compensation_kind": (
                str(complaint.get_compensation_kind_display())
                if complaint.compensation_kind
                else ""
            ),
            "contact_name": complaint.contact.name if complaint.contact else "",
            "final_answer_due": final_due,
            "received_at": complaint.received_at,
            "regulator": complaint.profile.regulator,
            "sender_name": parseaddr(settings.DEFAULT_FROM_EMAIL)[0] or _("Customer service"),
        }


def _local(value: str | None) -> Any:
    if not value:
        return None
    from django.utils.dateparse import parse_datetime

    moment = parse_datetime(value)
    return timezone.localtime(moment) if moment is not None else None


def format_moment(value: Any) -> str:
    return formats.date_format(timezone.localtime(value), "DATETIME_FORMAT") if value else ""
