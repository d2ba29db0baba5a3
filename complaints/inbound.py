"""What a customer's email does to complaints (docs/complaints.md, "Intake by email"): a
mailbox whose process is ``complaint`` (``mail.Mailbox.opens``) opens a complaint from each
new email and threads a later email of the same conversation onto its complaint as a logged
contact. The mail app parses, screens and stores the message and calls
``ComplaintMail.receive`` inside its transaction; an error raised here quarantines the mail.

A new email opens a complaint as any intake does (``services.open_complaint``: numbered,
severity from the matrix, the regulator's clock, a handler who is not the person complained
about) with these defaults, which the handler corrects on the complaint:

* channel ``email``; category ``service`` (service quality; the first active category when
  an administrator retired it), no subcategory;
* impact and urgency ``medium`` (severity S3 on the shipped matrix; a repeat of the same
  customer and category within the profile's window raises it a step, as at any intake);
* the default profile; the contact found or created by its address
  (``customers.services.find_or_create_contact``; an address several customers share gives
  the customerless contact of that address), its language guessed from the email when the
  contact is new;
* title from the subject (reply prefixes and the complaint tag dropped), description from
  the new part of the text.

An email belongs to a complaint when its ``In-Reply-To`` or ``References`` name an email
Kefu sent about the complaint (the outbox) or an email of the customer already taken onto
it (the mail app's record of inbound mail), or when its subject carries the complaint's
number (``[C-2026-000123]``) and the sender is the complaint's contact or a contact of its
customer (a number can be guessed). Such an email becomes a contact note (channel email)
on the complaint, whatever its state; an archived complaint (past its reopen window) gets a
new complaint that names it instead.

Nothing is ever sent back by the intake itself: the acknowledgement is the handler's act
(``acknowledge_complaint``), so automatic mail (RFC 3834: auto-replies, bulk, lists) is
never answered automatically.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from django.conf import settings
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from core.errors import InvalidInput, KefuError
from customers.models import Contact
from customers.services import (
    contact_for_sender,
    contacts_with_email,
    normalise_email,
)
from mail.attachments import check as check_attachment
from mail.attachments import clean_name, content_type_of
from mail.attachments import store as store_attachment
from mail.inbound import Handled, IncomingAttachment, ParsedEmail, thread_ids
from mail.models import InboundEmail, InboundStatus
from outbox.models import OutboxMessage
from processes import runtime

from .choices import Channel, ComplaintStatus, ComplaintVerb, ContactChannel, Impact, NoteKind
from .choices import Urgency as UrgencyChoice
from .models import Complaint, ComplaintCategory, ComplaintNote
from .services import NewComplaint, open_complaint
from .services._common import KIND, audit, locked_complaint, publish, save_changed

# The defaults of a complaint opened by email (documented above).
EMAIL_CATEGORY = "service"
EMAIL_IMPACT = Impact.MEDIUM
EMAIL_URGENCY = UrgencyChoice.MEDIUM
# A complaint number as Kefu writes it (C-2026-000123), not inside a longer Latin word or
# number (Chinese text runs into it without a space: 投诉C-2026-000123的处理).
COMPLAINT_NUMBER = re.compile(
    r"(?<![A-Za-z0-9_-])C-([0-9]{4})-([0-9]{6,})(?![A-Za-z0-9_-])", re.IGNORECASE
)
# Reply and forward prefixes, as the tickets' intake strips them (Re/Fwd, 回复/转发 …).
REPLY_PREFIX = re.compile(
    r"^\s*(?:(?:re|fwd?|aw|wg|sv|antw|tr|回复|回覆|答复|答覆|转发|轉寄|轉發)"
    r"\s*(?:\[\d+\]|\(\d+\))?\s*[:\uff1a]\s*)+",
    re.IGNORECASE,
)


class ComplaintMail:
    """The complaints' mail handler, registered for the kind "complaint"
    (``ComplaintsConfig.ready``)."""

    def receive(self, email: ParsedEmail) -> Handled:
        return receive_email(email)


def receive_email(email: ParsedEmail) -> Handled:
    """Threads the email onto the complaint it belongs to, or opens a new complaint, in the
    caller's transaction (no savepoint of its own: the mail app's is the one that matters).
    Raises ``InvalidInput`` for mail without a sender (the mail app quarantines it)."""
    sender = normalise_email(email.sender)
    if not sender:
        raise InvalidInput(_("The email has no sender address."), {"from": [_("Missing.")]})
    with transaction.atomic(savepoint=False):
        complaint = find_complaint(email)
        if complaint is None:
            return _open(email, sender)
        if _archived(complaint):
            return _open(email, sender, follow_up_of=complaint)
        return _thread(email, sender, complaint)


# --- finding the complaint ----------------------------------------------------------------
def find_complaint(email: ParsedEmail) -> Complaint | None:
    """The complaint an email answers: by its headers (any sender: the Message-IDs are not
    guessable), else by the number in its subject when the sender is the complaint's
    contact or a contact of its customer."""
    found = _by_headers(email)
    if found is not None:
        return found
    sender = normalise_email(email.sender)
    for match in COMPLAINT_NUMBER.finditer(email.subject or ""):
        number = f"C-{match.group(1)}-{match.group(2)}"
        complaint = Complaint.objects.select_related("contact").filter(number=number).first()
        if complaint is not None and _writes_for(complaint, sender):
            return complaint
    return None


def _by_headers(email: ParsedEmail) -> Complaint | None:
    ids = thread_ids(email)
    if not ids:
        return None
    found: dict[str, int] = {}
    for message_id, object_id in (
        OutboxMessage.objects.filter(message_id__in=ids, subject_kind=KIND)
        .exclude(object_id=None)
        .values_list("message_id", "object_id")
    ):
        assert object_id is not None
        found.setdefault(message_id, object_id)
    for message_id, object_id in (
        InboundEmail.objects.filter(
            message_id__in=ids, subject_kind=KIND, status=InboundStatus.PROCESSED
        )
        .exclude(object_id=None)
        .values_list("message_id", "object_id")
    ):
        assert object_id is not None
        found.setdefault(message_id, object_id)
    for message_id in ids:
        if message_id in found:
            return Complaint.objects.select_related("contact").filter(pk=found[message_id]).first()
    return None


def _writes_for(complaint: Complaint, sender: str) -> bool:
    """The sender is the complaint's contact or a contact of the complaint's customer."""
    if complaint.contact is not None and normalise_email(complaint.contact.email) == sender:
        return True
    return (
        complaint.customer_id is not None
        and contacts_with_email(sender).filter(customer_id=complaint.customer_id).exists()
    )


def _archived(complaint: Complaint) -> bool:
    """Closed and past its reopen window: the process has left the ``closed`` wait."""
    if complaint.status != ComplaintStatus.CLOSED:
        return False
    process_pk = runtime.process_pk(KIND, complaint.pk)
    if process_pk is None:
        return True
    task = runtime.current_task(process_pk)
    return task is None or task.flow_task.name != "closed"


# --- threading onto a complaint -----------------------------------------------------------
def _thread(email: ParsedEmail, sender: str, complaint: Complaint) -> Handled:
    """The email as a logged contact (channel email) on the complaint, in whatever state it
    is; the handler sees it in the complaint's history and the queue hears of it."""
    _wait_for(complaint.pk)
    body, files = _content(email)
    with locked_complaint(complaint.pk) as locked:
        row = locked.complaint
        note = ComplaintNote.objects.create(
            complaint=row,
            kind=NoteKind.CONTACT,
            channel=ContactChannel.EMAIL,
            body=body,
            author=None,
        )
        _store(row.pk, note.pk, files)
        save_changed(row, [])
        audit(
            row,
            None,
            ComplaintVerb.EMAIL_RECEIVED,
            after={
                "note": note.pk,
                "from": sender,
                "message_id": email.message_id[:255],
                "automatic": email.automatic,
            },
        )
        publish("updated", row)
    return Handled(KIND, complaint.pk, note.pk, created=False)


def _wait_for(complaint_id: int) -> None:
    """Takes the complaint's flow lock, waiting for it: mail is not a person who can retry,
    and the services' own lock (``NOWAIT``) then finds it held by this transaction."""
    process_pk = runtime.process_pk(KIND, complaint_id)
    if process_pk is not None:
        model = runtime.kind(KIND).process_model
        model.objects.select_for_update().filter(pk=process_pk).exists()


# --- opening a complaint -------------------------------------------------------------------
def _open(email: ParsedEmail, sender: str, *, follow_up_of: Complaint | None = None) -> Handled:
    contact = _contact_by_address(email, sender)
    body, files = _content(email)
    description = body
    if follow_up_of is not None:
        with translation.override(settings.LANGUAGE_CODE):
            note = _(
                "Follows up on complaint %(number)s, which is closed and can no longer be reopened."
            ) % {"number": follow_up_of.number}
        description = f"{note}\n\n{body}"
    complaint = open_complaint(
        data=NewComplaint(
            category=_category(),
            title=_title(email.subject, follow_up_of),
            description=description,
            impact=EMAIL_IMPACT,
            urgency=EMAIL_URGENCY,
            channel=Channel.EMAIL,
            customer_id=contact.customer_id,
            contact_id=contact.pk,
        ),
        actor=None,
    )
    _store(complaint.pk, None, files)
    return Handled(KIND, complaint.pk, None, created=True)


def _category() -> str:
    """``service``, or the first active category when an administrator retired it (the
    mail is taken; the handler recategorises)."""
    active = ComplaintCategory.objects.filter(parent=None, is_active=True)
    if active.filter(code=EMAIL_CATEGORY).exists():
        return EMAIL_CATEGORY
    code = active.order_by("position", "code").values_list("code", flat=True).first()
    return code or EMAIL_CATEGORY


def _contact_by_address(email: ParsedEmail, sender: str) -> Contact:
    return contact_for_sender(sender, name=email.sender_name, language=email.language)


def _title(subject: str, follow_up_of: Complaint | None) -> str:
    subject = " ".join((subject or "").split())
    subject = re.sub(r"\[\s*C-[0-9]{4}-[0-9]{6,}\s*\]", " ", subject, flags=re.IGNORECASE)
    subject = REPLY_PREFIX.sub("", " ".join(subject.split())).strip()
    if not subject:
        with translation.override(settings.LANGUAGE_CODE):
            subject = _("(no subject)")
    return subject[:200]


# --- the message's content -----------------------------------------------------------------
def _content(email: ParsedEmail) -> tuple[str, list[IncomingAttachment]]:
    """The text to keep and the files that pass the limits; a file left out is named in the
    text (the raw message, kept by the mail app, still has it)."""
    body = email.text.strip() or email.full_text.strip() or email.subject.strip()
    kept: list[IncomingAttachment] = []
    with translation.override(settings.LANGUAGE_CODE):
        notes: list[str] = []
        for attachment in email.attachments:
            name = clean_name(attachment.name)
            try:
                check_attachment(
                    name, content_type_of(name, attachment.content_type), len(attachment.data)
                )
            except KefuError as exc:
                notes.append(_("[Attachment not kept: %(reason)s]") % {"reason": exc.message})
            else:
                kept.append(attachment)
        if notes:
            body = "\n\n".join([body, "\n".join(notes)]) if body else "\n".join(notes)
        if not body:
            body = _("(The email had no text.)")
    return body, kept


def _store(complaint_id: int, note_id: int | None, files: Iterable[IncomingAttachment]) -> None:
    for attachment in files:
        store_attachment(
            subject_kind=KIND,
            object_id=complaint_id,
            message_id=note_id,
            name=attachment.name,
            data=attachment.data,
            content_type=attachment.content_type,
        )
