"""receive_raw: every message recorded once, classified, handed to its process in one
transaction with the original kept; failures quarantined, never lost."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.db import connection

from audit.models import AuditEvent
from core.errors import Conflict, Forbidden, NotFound
from customers.models import Contact
from mail import inbound, services
from mail.models import AddressState, Attachment, InboundEmail, InboundStatus, Mailbox
from mail.services import ReceiveFailed, receive_raw
from tests.concurrency import run_together

from .conftest import corpus
from .probe.handlers import NoteHandler

pytestmark = pytest.mark.django_db


def message(
    *,
    sender: str = "Alice Wang <alice@example.com>",
    subject: str = "Printer",
    body: str = "The printer does not print.",
    message_id: str | None = "<m1@example.com>",
    **headers: str,
) -> bytes:
    msg = EmailMessage()
    if sender:
        msg["From"] = sender
    msg["To"] = "support@kefu.example"
    msg["Subject"] = subject
    if message_id:
        msg["Message-ID"] = message_id
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(body)
    return msg.as_bytes()


def note_of(contact: Contact) -> str:
    row = Attachment.objects.get(subject_kind="contact", object_id=contact.pk, name="note.txt")
    with row.file.open("rb") as f:
        return f.read().decode()


def test_a_message_is_recorded_handled_and_its_original_kept(notes: NoteHandler) -> None:
    raw = corpus("gmail_reply_en.eml")

    row = receive_raw(raw, source="lmtp", envelope_to=["Support@Kefu.Example"])

    row.refresh_from_db()
    contact = Contact.objects.get(email="alice.wang@gmail.com")
    assert (row.status, row.reason, row.error) == (InboundStatus.PROCESSED, "", "")
    assert (row.subject_kind, row.object_id) == ("contact", contact.pk)
    assert row.message_id == "<CAF=gmail-reply-1@mail.gmail.com>"
    assert row.sender == "alice.wang@gmail.com"
    assert row.subject == "Re: [T-2026-000123] Printer does not print"
    assert row.source == "lmtp" and row.size == len(raw) and row.attempts == 1
    assert row.processed_at is not None
    with row.raw.open("rb") as stored:
        assert stored.read() == raw
    original = Attachment.objects.get(original=True)
    assert (original.subject_kind, original.object_id) == ("contact", contact.pk)
    assert (original.name, original.content_type, original.size) == (
        "original.eml",
        "message/rfc822",
        len(raw),
    )
    with original.file.open("rb") as f:
        assert f.read() == raw
    # the process saw the new part only, and the envelope among the recipients
    assert note_of(contact).endswith(
        "Thanks, the printer works again after the driver update.\n\n"
        "One more question: can you also look at the scanner?"
    )
    assert "support@kefu.example" in notes.seen[0].recipients


def test_the_same_message_delivered_twice_is_handled_once(notes: NoteHandler) -> None:
    raw = corpus("qq_mail_reply_zh.eml")

    first = receive_raw(raw, source="imap")
    second = receive_raw(raw, source="lmtp")

    assert first.pk == second.pk
    assert InboundEmail.objects.count() == 1
    assert len(notes.seen) == 1
    assert Attachment.objects.filter(original=True).count() == 1


def test_a_message_without_message_id_is_deduplicated_by_its_bytes(notes: NoteHandler) -> None:
    raw = message(message_id=None)

    first = receive_raw(raw, source="stdin")
    second = receive_raw(raw, source="stdin")
    other = receive_raw(message(message_id=None, body="Something else."), source="stdin")

    assert first.pk == second.pk != other.pk
    assert first.message_id.endswith("@no-message-id.kefu.invalid>")
    assert len(notes.seen) == 2
    assert notes.seen[0].message_id == ""  # the process is not told an invented id


def _lock_waiters() -> int:
    """Backends of the test database waiting on a lock (seen from a connection of its own)."""
    db = connection.settings_dict
    with psycopg.connect(
        host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
        user=db["USER"],
        password=db["PASSWORD"] or None,
        dbname=db["NAME"],
        autocommit=True,
    ) as probe:
        row = probe.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND wait_event_type = 'Lock'"
        ).fetchone()
        return int(row[0]) if row else 0


class WaitsForTheOtherDelivery(NoteHandler):
    """Holds its transaction open until the second delivery is blocked on the unique
    Message-ID (a condition on PostgreSQL's own view, with a deadline)."""

    def receive(self, email: Any) -> Any:
        import time

        deadline = time.monotonic() + 20
        while _lock_waiters() < 1:
            if time.monotonic() > deadline:
                raise AssertionError("the second delivery never waited on the first")
            time.sleep(0.02)  # polling PostgreSQL's view of the other thread
        return super().receive(email)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_deliveries_of_one_message_at_the_same_moment_make_one_processed_row(
    handlers: dict[str, Any], media: Path
) -> None:
    handler = WaitsForTheOtherDelivery()
    inbound.register_handler("ticket", handler)
    raw = corpus("foxmail_reply_zh.eml")

    first, second = run_together(
        lambda: receive_raw(raw, source="imap"), lambda: receive_raw(raw, source="lmtp")
    )

    assert first.pk == second.pk
    row = InboundEmail.objects.get()
    assert row.status == InboundStatus.PROCESSED
    assert len(handler.seen) == 1
    assert Contact.objects.filter(email="zhangsan@qq.com").count() == 1
    assert Attachment.objects.filter(original=True).count() == 1
    # the loser's copy of the raw message was removed from storage
    stored = list((media / "mail" / "raw").rglob("*.eml"))
    assert [p.name for p in stored] == [Path(str(row.raw.name)).name]


def test_a_bounce_marks_the_address_and_reaches_no_process(notes: NoteHandler) -> None:
    row = receive_raw(corpus("dsn_bounce.eml"), source="lmtp")

    assert (row.status, row.reason) == (InboundStatus.IGNORED, "bounce")
    assert row.error == "no.such.user@example.com"
    state = AddressState.objects.get(address="no.such.user@example.com")
    assert state.bouncing_since is not None
    assert "5.1.1" in state.last_bounce and "User unknown" in state.last_bounce
    assert notes.seen == [] and not Contact.objects.exists()
    first_bounce = state.bouncing_since
    # and no campaign may write to it again (docs/customers-segments.md)
    from customers.models import Suppression

    listed = Suppression.objects.get(address="no.such.user@example.com")
    assert (listed.kind, listed.reason) == ("email", "bounced")

    again = corpus("dsn_bounce.eml").replace(b"4A1B2C3D@mx", b"5B2C3D4E@mx")
    receive_raw(again, source="lmtp")
    state.refresh_from_db()
    assert state.bouncing_since == first_bounce  # bouncing since the first report
    assert Suppression.objects.filter(address="no.such.user@example.com").count() == 1


def test_a_blocked_sender_or_domain_is_ignored(notes: NoteHandler) -> None:
    AddressState.objects.create(address="spam@example.com", blocked=True)
    AddressState.objects.create(address="@junk.example", blocked=True)

    by_address = receive_raw(message(sender="spam@example.com"), source="imap")
    by_domain = receive_raw(
        message(sender="x@junk.example", message_id="<m2@junk.example>"), source="imap"
    )

    assert (by_address.status, by_address.reason) == (InboundStatus.IGNORED, "blocked")
    assert (by_domain.status, by_domain.reason) == (InboundStatus.IGNORED, "blocked")
    assert notes.seen == []


def test_mail_from_our_own_addresses_is_ignored(notes: NoteHandler, settings: Any) -> None:
    settings.KEFU_SUPPORT_ADDRESS = "support@kefu.example"
    settings.KEFU_OWN_ADDRESSES = ["noreply@kefu.example"]
    Mailbox.objects.create(
        name="Sales", address="sales@kefu.example", host="imap.kefu.example", username="s"
    )
    senders = [
        "support@kefu.example",
        "Support+T-2026-000123@Kefu.Example",
        "noreply@kefu.example",
        "sales@kefu.example",
    ]

    rows = [
        receive_raw(message(sender=s, message_id=f"<own{i}@kefu.example>"), source="imap")
        for i, s in enumerate(senders)
    ]

    assert {(r.status, r.reason) for r in rows} == {(InboundStatus.IGNORED, "own_address")}
    assert notes.seen == []


def test_own_mailbox_addresses_are_read_once_until_a_mailbox_changes(
    notes: NoteHandler, settings: Any, django_assert_num_queries: Any
) -> None:
    """The mailboxes' addresses are configuration: kept per process, read again after a
    mailbox is added, renamed or removed; the poller's record of a round keeps them."""
    settings.KEFU_SUPPORT_ADDRESS = "support@kefu.example"
    sales = Mailbox.objects.create(
        name="Sales", address="sales@kefu.example", host="imap.kefu.example", username="s"
    )
    assert services.is_own_address("sales@kefu.example")
    with django_assert_num_queries(0):
        assert services.is_own_address("Sales+x@kefu.example")
        assert not services.is_own_address("alice@example.com")

    sales.last_polled_at = sales.created_at
    sales.save(update_fields=["last_polled_at", "updated_at"])  # state, not configuration
    with django_assert_num_queries(0):
        assert services.is_own_address("sales@kefu.example")

    sales.address = "orders@kefu.example"
    sales.save()
    assert services.is_own_address("orders@kefu.example")
    assert not services.is_own_address("sales@kefu.example")
    Mailbox.objects.create(
        name="Billing", address="billing@kefu.example", host="imap.kefu.example", username="b"
    )
    assert services.is_own_address("billing@kefu.example")
    sales.delete()
    assert not services.is_own_address("orders@kefu.example")
    row = receive_raw(message(sender="billing@kefu.example"), source="imap")
    assert (row.status, row.reason) == (InboundStatus.IGNORED, "own_address")


def test_a_message_without_sender_is_quarantined(notes: NoteHandler) -> None:
    row = receive_raw(corpus("no_sender.eml"), source="imap")

    assert (row.status, row.reason) == (InboundStatus.QUARANTINED, "no_sender")
    assert row.subject == "Who am I"
    assert notes.seen == []


def test_an_empty_message_is_quarantined_as_unparseable(notes: NoteHandler) -> None:
    row = receive_raw(b"\r\n  \r\n", source="stdin")

    assert (row.status, row.reason) == (InboundStatus.QUARANTINED, "unparseable")
    assert row.raw.size == 6


def test_an_auto_reply_reaches_the_process_marked_automatic(notes: NoteHandler) -> None:
    row = receive_raw(corpus("vacation_autoreply.eml"), source="imap")

    assert row.status == InboundStatus.PROCESSED
    assert note_of(Contact.objects.get(email="erin@example.net")).startswith("automatic=True\n")


@pytest.mark.parametrize(
    "name",
    ["malformed_no_boundary.eml", "malformed_bad_charset.eml", "malformed_header_line.eml"],
)
def test_malformed_mime_is_processed_not_lost(notes: NoteHandler, name: str) -> None:
    row = receive_raw(corpus(name), source="imap")

    assert row.status == InboundStatus.PROCESSED
    assert len(notes.seen) == 1 and notes.seen[0].text


def test_an_html_body_with_script_is_processed_sanitised(notes: NoteHandler) -> None:
    row = receive_raw(corpus("html_script.eml"), source="imap")

    assert row.status == InboundStatus.PROCESSED
    html = notes.seen[0].html
    assert "<script" not in html and "alert" not in html and "onerror" not in html
    assert "javascript:" not in html


def thirty_megabytes() -> bytes:
    msg = EmailMessage()
    msg["From"] = "Ivan <ivan@example.com>"
    msg["To"] = "support@kefu.example"
    msg["Subject"] = "The full disk image"
    msg["Message-ID"] = "<big-1@example.com>"
    msg.set_content("The image is attached.")
    msg.add_attachment(
        bytes(range(256)) * (30 * 2**20 // 256),
        maintype="application",
        subtype="octet-stream",
        filename="disk.img",
    )
    return msg.as_bytes()


def test_a_30_mb_message_is_quarantined_whole_and_can_be_retried(
    notes: NoteHandler, settings: Any, admin: Any
) -> None:
    raw = thirty_megabytes()
    assert len(raw) > settings.KEFU_INBOUND_MAX_BYTES

    row = receive_raw(raw, source="imap")

    assert (row.status, row.reason) == (InboundStatus.QUARANTINED, "too_large")
    assert (row.sender, row.subject, row.size) == (
        "ivan@example.com",
        "The full disk image",
        len(raw),
    )
    assert row.raw.size == len(raw)  # kept whole: nothing lost
    assert notes.seen == []

    settings.KEFU_INBOUND_MAX_BYTES = 64 * 2**20
    retried = services.retry(row.pk, actor=admin)

    assert (retried.status, retried.attempts) == (InboundStatus.PROCESSED, 2)
    assert notes.seen[0].attachments[0].name == "disk.img"
    assert len(notes.seen[0].attachments[0].data) == 30 * 2**20


def test_a_failing_handler_is_rolled_back_and_the_mail_quarantined_then_retried(
    failing: Any, admin: Any
) -> None:
    raw = corpus("outlook_reply_en.eml")

    row = receive_raw(raw, source="imap")

    row.refresh_from_db()
    assert (row.status, row.reason) == (InboundStatus.QUARANTINED, "handler_error")
    assert row.error.startswith("RuntimeError: the ticket could not be opened\n\nTraceback")
    assert not Contact.objects.exists()  # the handler's writes rolled back
    assert not Attachment.objects.exists()

    notes = NoteHandler()
    inbound.register_handler("ticket", notes)
    retried = services.retry(row.pk, actor=admin)

    retried.refresh_from_db()
    assert (retried.status, retried.reason, retried.error) == (InboundStatus.PROCESSED, "", "")
    assert retried.attempts == 2
    assert Contact.objects.filter(email="bob.li@contoso.com").count() == 1
    assert Attachment.objects.filter(original=True).count() == 1
    event = AuditEvent.objects.get(subject_kind="inbound_email", object_id=row.pk)
    assert (event.verb, event.actor_id) == ("retried", admin.pk)
    assert event.before == {"status": "quarantined", "reason": "handler_error"}
    assert event.after == {"status": "processed", "reason": "", "attempts": 2}


def test_a_retry_that_fails_again_stays_quarantined(failing: Any, admin: Any) -> None:
    row = receive_raw(message(), source="imap")

    retried = services.retry(row.pk, actor=admin)

    assert (retried.status, retried.reason, retried.attempts) == (
        InboundStatus.QUARANTINED,
        "handler_error",
        2,
    )
    assert not Contact.objects.exists()


def test_discard_gives_up_on_a_quarantined_message(failing: Any, admin: Any) -> None:
    row = receive_raw(message(), source="imap")

    discarded = services.discard(row.pk, actor=admin)

    assert discarded.status == InboundStatus.DISCARDED
    assert discarded.raw.size > 0  # kept for the record
    event = AuditEvent.objects.get(subject_kind="inbound_email", object_id=row.pk)
    assert (event.verb, event.after) == ("discarded", {"status": "discarded"})


def test_the_quarantine_refuses_what_it_must(
    failing: Any, notes: NoteHandler, admin: Any, agent: Any
) -> None:
    processed = receive_raw(message(message_id="<ok@example.com>"), source="imap")
    inbound.register_handler("ticket", failing)
    quarantined = receive_raw(message(message_id="<bad@example.com>"), source="imap")

    with pytest.raises(Conflict):
        services.retry(processed.pk, actor=admin)
    with pytest.raises(Conflict):
        services.discard(processed.pk, actor=admin)
    with pytest.raises(NotFound):
        services.retry(quarantined.pk + 1000, actor=admin)
    with pytest.raises(Forbidden):
        services.retry(quarantined.pk, actor=agent)
    with pytest.raises(Forbidden):
        services.discard(quarantined.pk, actor=None)

    quarantined.refresh_from_db()
    assert (quarantined.status, quarantined.attempts) == (InboundStatus.QUARANTINED, 1)
    assert not AuditEvent.objects.filter(subject_kind="inbound_email").exists()


def test_a_mailbox_kind_without_a_handler_is_quarantined(handlers: dict[str, Any]) -> None:
    box = Mailbox.objects.create(
        name="Complaints", address="complaints@kefu.example", host="h", username="u", opens="x"
    )

    row = receive_raw(message(), source="imap", mailbox=box)

    assert (row.status, row.reason) == (InboundStatus.QUARANTINED, "no_handler")
    assert row.mailbox == box


def test_the_envelope_recipient_picks_the_mailbox_and_its_kind(handlers: dict[str, Any]) -> None:
    notes = NoteHandler()
    inbound.register_handler("note", notes)
    box = Mailbox.objects.create(
        name="Notes",
        address="notes@kefu.example",
        host="h",
        username="u",
        opens="note",
        enabled=False,  # an address that only arrives by LMTP
    )

    row = receive_raw(message(), source="lmtp", envelope_to=["Notes+T-2026-000001@kefu.example"])

    assert row.mailbox == box and row.status == InboundStatus.PROCESSED
    assert "notes+t-2026-000001@kefu.example" in row.recipients
    assert len(notes.seen) == 1


def test_nothing_is_recorded_when_the_storage_is_down(
    notes: NoteHandler, settings: Any, tmp_path: Path
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the media folder should be")
    settings.MEDIA_ROOT = str(blocker)

    with pytest.raises(ReceiveFailed):
        receive_raw(message(), source="lmtp")

    assert not InboundEmail.objects.exists()
    assert notes.seen == []
