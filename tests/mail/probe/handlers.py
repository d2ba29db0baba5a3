"""Small real mail handlers for the mail tests (the tickets handler is a process app's):
each writes rows a test can read, in the caller's transaction, as a process's would."""

from __future__ import annotations

from customers.models import Contact
from mail import attachments
from mail.inbound import Handled, ParsedEmail


class NoteHandler:
    """Finds or creates the sender's contact and files what they wrote as a note on it."""

    def __init__(self) -> None:
        self.seen: list[ParsedEmail] = []

    def receive(self, email: ParsedEmail) -> Handled:
        contact, created = Contact.objects.get_or_create(
            email=email.sender,
            customer=None,
            defaults={"name": email.sender_name[:200], "language": email.language},
        )
        note = attachments.store(
            subject_kind="contact",
            object_id=contact.pk,
            name="note.txt",
            data=(
                f"automatic={email.automatic}\nlanguage={email.language}\n"
                f"subject={email.subject}\n\n{email.text}"
            ).encode(),
            content_type="text/plain",
        )
        self.seen.append(email)
        return Handled("contact", contact.pk, note.pk, created)


class FailingHandler:
    """Writes, then fails: nothing it wrote may survive."""

    def receive(self, email: ParsedEmail) -> Handled:
        Contact.objects.create(email=email.sender, name="half-written")
        raise RuntimeError("the ticket could not be opened")
