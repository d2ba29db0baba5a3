"""The customer's emails about a ticket, through the outbox to a real SMTP server (aiosmtpd):
headers that thread, the contact's language, the administrator's templates, loop and abuse
protection, and nothing sent for a change that rolled back or twice for a retried one
(docs/email.md)."""
# ruff: noqa: RUF001

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from email.header import decode_header, make_header
from email.message import Message
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import transaction
from django.test import Client
from django.utils import timezone

from audit.models import AuditEvent
from mail import attachments, outbound
from mail.models import AddressState, EmailTemplate
from outbox import services as outbox
from outbox.models import MessageStatus, OutboxMessage
from tests.conftest import client_for
from tests.factories import ContactFactory, open_ticket
from tests.smtp_sink import Sink, body_html, body_text, running_sink
from tickets import emails
from tickets import services as tickets
from tickets.links import read_request_token
from tickets.models import TicketMessage
from tickets.services import auto_close_ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def sink(settings: Any) -> Iterator[Sink]:
    with running_sink() as server:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST = "127.0.0.1"
        settings.EMAIL_PORT = server.port
        settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
        settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
        settings.EMAIL_TIMEOUT = 5
        yield server


@pytest.fixture
def media(settings: Any, tmp_path: Any) -> Any:
    settings.MEDIA_ROOT = str(tmp_path)
    return tmp_path


def sent(sink: Sink, key_prefix: str) -> list[Message]:
    return [m for m in sink.snapshot() if str(m["X-Kefu-Outbox-Key"]).startswith(key_prefix)]


def text_of(message: Message) -> str:
    return body_text(message).replace("\r\n", "\n")


def subject_of(message: Message) -> str:
    return str(make_header(decode_header(message["Subject"])))


def withheld(ticket: Any) -> list[dict[str, Any]]:
    return [e.after for e in AuditEvent.objects.filter(ticket=ticket, verb="email_withheld")]


# --- headers ---------------------------------------------------------------------------
def test_the_acknowledgement_carries_number_link_reply_address_and_auto_submitted(
    desk: Any, sink: Sink, settings: Any
) -> None:
    ticket = open_ticket(desk)
    row = OutboxMessage.objects.get(kind="ticket.acknowledged")

    assert outbox.drain().sent == 1

    (message,) = sink.snapshot()
    assert subject_of(message) == f"[{ticket.number}] Printer on fire"
    assert message["To"] == desk.contact.email
    assert message["From"] == settings.DEFAULT_FROM_EMAIL
    assert message["Reply-To"] == f"support+{ticket.number}@kefu.localhost"
    assert message["Message-ID"] == row.message_id
    assert message["Auto-Submitted"] == "auto-replied"
    assert message["X-Auto-Response-Suppress"] == "All"
    assert message["In-Reply-To"] is None and message["References"] is None  # the root
    text = text_of(message)
    assert text.splitlines()[0] == outbound.REPLY_MARKER
    assert ticket.number in text
    link = next(line for line in text.splitlines() if "/help/requests/" in line).strip()
    token = link.rstrip("/").rsplit("/", 1)[1]
    access = read_request_token(token)
    assert (access.ticket_id, access.contact_id) == (ticket.pk, desk.contact.pk)
    assert outbound.REPLY_MARKER in body_html(message)
    assert f'href="{link}"' in body_html(message)
    # the body held the link: not kept once the server has it
    row.refresh_from_db()
    assert row.status == MessageStatus.SENT and link not in row.body_text


def test_an_agents_reply_threads_quotes_the_customer_and_is_not_auto_submitted(
    desk: Any, sink: Sink
) -> None:
    ticket, _ = tickets.open_ticket(
        actor=None,
        subject="Invoice missing",
        description="Where is my March invoice?",
        priority="P2",
        channel="email",
        contact_id=desk.contact.pk,
        in_reply_to="<first@customer.example>",
    )
    ack = OutboxMessage.objects.get(kind="ticket.acknowledged")
    customer = TicketMessage.objects.create(
        ticket=ticket,
        contact=desk.contact,
        body="Still nothing.\nPlease hurry.",
        channel="email",
        email_message_id="<second@customer.example>",
    )
    agent = User.objects.get(pk=ticket.assignee_id) if ticket.assignee_id else desk.agent1
    message = tickets.reply_to_ticket(
        ticket_id=ticket.pk, actor=agent, body="Sent again today.", internal=False
    )

    assert outbox.drain().sent == 2

    (first,) = sent(sink, "ticket.acknowledged:")
    (reply,) = sent(sink, "ticket.replied:")
    assert first["In-Reply-To"] == "<first@customer.example>"
    assert first["References"] == "<first@customer.example>"
    message.refresh_from_db()
    assert message.channel == "email" and message.outbox is not None
    assert reply["Message-ID"] == message.email_message_id == message.outbox.message_id
    assert reply["In-Reply-To"] == "<second@customer.example>"
    assert reply["References"].split() == [
        "<first@customer.example>",
        ack.message_id,
        "<second@customer.example>",
    ]
    assert subject_of(reply) == f"Re: [{ticket.number}] Invoice missing"
    assert reply["Reply-To"] == f"support+{ticket.number}@kefu.localhost"
    assert reply["Auto-Submitted"] is None  # a person wrote it (RFC 3834)
    assert reply["X-Auto-Response-Suppress"] is None
    text = text_of(reply)
    assert text.splitlines()[0] == outbound.REPLY_MARKER
    assert "Sent again today." in text
    assert "> Still nothing.\n> Please hurry." in text  # the customer's latest, quoted
    assert "Where is my March invoice?" not in text
    assert customer.pk != message.pk


def test_the_message_id_stays_the_same_across_a_retry(desk: Any, sink: Sink) -> None:
    ticket = open_ticket(desk)
    message = tickets.reply_to_ticket(
        ticket_id=ticket.pk, actor=desk.agent1, body="On it.", internal=False
    )
    assert message.outbox is not None
    queued_id = message.outbox.message_id
    sink.refuse = "451 4.3.0 Try again later"

    assert outbox.drain().deferred == 2
    assert sink.count() == 0
    sink.refuse = None
    OutboxMessage.objects.update(next_attempt_at=timezone.now())
    assert outbox.drain().sent == 2

    (reply,) = sent(sink, "ticket.replied:")
    assert reply["Message-ID"] == queued_id
    row = OutboxMessage.objects.get(pk=message.outbox.pk)
    assert (row.status, row.attempts, row.message_id) == (MessageStatus.SENT, 2, queued_id)


def test_reply_address_without_plus_addressing_is_the_support_address(
    desk: Any, sink: Sink, settings: Any
) -> None:
    settings.KEFU_PLUS_ADDRESSING = False
    open_ticket(desk)
    outbox.drain()
    (message,) = sink.snapshot()
    assert message["Reply-To"] == "support@kefu.localhost"


def test_thread_headers_keep_the_root_and_the_latest_few() -> None:
    assert outbound.thread_headers("", []) == {}
    latest = [f"<{i}@x>" for i in range(8)]
    headers = outbound.thread_headers("<root@x>", ["<root@x>", *latest])
    assert headers["In-Reply-To"] == "<7@x>"
    assert headers["References"].split() == ["<root@x>", *latest[-outbound.REFERENCES_KEPT :]]
    assert outbound.thread_headers("", ["<a@x>"]) == {"In-Reply-To": "<a@x>", "References": "<a@x>"}
    # what a sender wrote never splits a header
    assert outbound.thread_headers("b@x", ["<c@x>\r\nBcc: evil@x", "not an id"]) == {
        "In-Reply-To": "<b@x>",
        "References": "<b@x>",
    }


# --- language and templates -------------------------------------------------------------
def test_a_chinese_speaking_contact_gets_chinese(desk: Any, sink: Sink) -> None:
    contact: Any = ContactFactory(customer=desk.customer, name="王芳", language="zh-hans")
    ticket = open_ticket(desk, contact_id=contact.pk, subject="发票丢失")
    tickets.put_on_hold(ticket_id=ticket.pk, actor=desk.agent1)
    outbox.drain()

    (ack,) = sent(sink, "ticket.acknowledged:")
    (hold,) = sent(sink, "ticket.on_hold:")
    assert subject_of(ack) == f"[{ticket.number}] 发票丢失"
    assert "王芳，您好：" in text_of(ack)
    assert f"我们已收到您的请求“发票丢失”，编号为 {ticket.number}。" in text_of(ack)
    assert 'lang="zh-hans"' in body_html(ack)
    assert "需要您提供更多信息" in text_of(hold)
    assert subject_of(hold) == f"Re: [{ticket.number}] 发票丢失"


def test_an_administrators_template_is_used_and_the_number_kept(desk: Any, sink: Sink) -> None:
    EmailTemplate.objects.create(
        event="ticket.acknowledged",
        language="en",
        subject="Thanks: {{ subject }}",
        body_text="{{ reply_marker }}\nWe are on it, {{ contact_name }}.\n{{ request_url }}",
        body_html="",
    )
    ticket = open_ticket(desk)
    outbox.drain()

    (message,) = sink.snapshot()
    # the administrator dropped the number; threading needs it, so it is put back
    assert subject_of(message) == f"[{ticket.number}] Thanks: Printer on fire"
    assert f"We are on it, {desk.contact.name}." in text_of(message)
    assert not message.is_multipart()  # no HTML part: plain text only


def test_a_broken_template_row_never_stops_the_email(desk: Any) -> None:
    # written past the admin's validation (a data migration, the shell)
    EmailTemplate.objects.create(
        event="ticket.acknowledged", language="en", subject="{% if %}", body_text="x"
    )
    ticket = open_ticket(desk)
    row = OutboxMessage.objects.get(kind="ticket.acknowledged")
    assert row.subject == f"[{ticket.number}] Printer on fire"  # the shipped default
    assert "We have received your request" in row.body_text


# --- loop and abuse protection ---------------------------------------------------------------
def test_automatic_emails_stop_at_the_hourly_limit_per_address(desk: Any, settings: Any) -> None:
    settings.KEFU_AUTO_REPLY_LIMIT = 2
    first = open_ticket(desk)
    open_ticket(desk)
    third = open_ticket(desk)

    assert OutboxMessage.objects.filter(kind="ticket.acknowledged").count() == 2
    assert withheld(third) == [
        {"event": "ticket.acknowledged", "to": desk.contact.email, "reason": "rate_limited"}
    ]
    assert withheld(first) == []
    # an hour later the address may be written to again
    OutboxMessage.objects.update(created_at=timezone.now() - timedelta(minutes=61))
    assert outbound.may_send_automatic(desk.contact.email)
    # a person's reply is never held by the limit
    message = tickets.reply_to_ticket(
        ticket_id=third.pk, actor=desk.agent1, body="Hello", internal=False
    )
    assert message.outbox is not None and message.outbox.status == MessageStatus.PENDING


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("support@kefu.localhost", "own_address"),
        ("Support+T-2026-000001@kefu.localhost", "own_address"),
        ("helpdesk@kefu.example", "own_address"),  # KEFU_OWN_ADDRESSES
        ("MAILER-DAEMON@mx.example.com", "machine_address"),
        ("list-request@lists.example.com", "machine_address"),
        ("noreply@shop.example.com", "machine_address"),
    ],
)
def test_no_automatic_email_to_our_own_or_a_programs_address(
    desk: Any, settings: Any, address: str, reason: str
) -> None:
    settings.KEFU_OWN_ADDRESSES = ["helpdesk@kefu.example"]
    contact: Any = ContactFactory(customer=desk.customer, email=address)
    ticket = open_ticket(desk, contact_id=contact.pk)
    assert not OutboxMessage.objects.exists()
    assert withheld(ticket) == [{"event": "ticket.acknowledged", "to": address, "reason": reason}]


def test_blocked_and_bouncing_addresses_get_no_automatic_email(desk: Any) -> None:
    outbound.block_address(desk.contact.email.upper(), note="abusive")
    blocked = open_ticket(desk)
    outbound.unblock_address(desk.contact.email)
    AddressState.objects.filter(address=desk.contact.email).update(
        bouncing_since=timezone.now(), last_bounce="550 5.1.1 no such user"
    )
    bouncing = open_ticket(desk)
    outbound.clear_bouncing(desk.contact.email)
    working = open_ticket(desk)

    assert [r["reason"] for r in withheld(blocked)] == ["blocked"]
    assert [r["reason"] for r in withheld(bouncing)] == ["bouncing"]
    assert withheld(working) == []
    assert list(OutboxMessage.objects.values_list("object_id", flat=True)) == [working.pk]


def test_a_reply_to_a_blocked_address_is_stored_and_shown_as_not_emailed(
    desk: Any, sink: Sink
) -> None:
    ticket = open_ticket(desk)
    outbound.block_address(desk.contact.email)
    client = client_for(desk.agent1 if ticket.assignee_id == desk.agent1.pk else desk.agent2)

    answer = client.post(f"/api/tickets/{ticket.pk}/reply/", {"body": "Hello there"}, format="json")

    assert answer.status_code == 200, answer.content
    email = answer.json()["email"]
    assert email["status"] == "failed"
    assert email["error"] == f"Not emailed: {desk.contact.email} is blocked."
    message = TicketMessage.objects.get(ticket=ticket, body="Hello there")
    assert message.outbox is not None and message.outbox.status == MessageStatus.FAILED
    assert message.email_message_id == ""
    assert withheld(ticket)[-1]["reason"] == "blocked"
    outbox.drain()
    assert sent(sink, "ticket.replied:") == []


def test_a_queued_reply_is_answered_as_queued(desk: Any) -> None:
    ticket = open_ticket(desk)
    client = client_for(desk.agent1 if ticket.assignee_id == desk.agent1.pk else desk.agent2)
    answer = client.post(f"/api/tickets/{ticket.pk}/reply/", {"body": "Hi"}, format="json")
    email = answer.json()["email"]
    row = OutboxMessage.objects.get(kind="ticket.replied")
    assert email == {
        "id": row.pk,
        "status": "queued",
        "to": desk.contact.email,
        "message_id": row.message_id,
        "error": "",
    }
    note = client.post(
        f"/api/tickets/{ticket.pk}/reply/", {"body": "note", "internal": True}, format="json"
    )
    assert "email" not in note.json()
    assert OutboxMessage.objects.filter(kind="ticket.replied").count() == 1


# --- once, and only for what committed ------------------------------------------------------
def test_nothing_is_emailed_for_a_change_that_rolled_back(desk: Any) -> None:
    ticket = open_ticket(desk)
    before = list(OutboxMessage.objects.values_list("pk", flat=True))

    with pytest.raises(RuntimeError), transaction.atomic():
        tickets.reply_to_ticket(ticket_id=ticket.pk, actor=desk.agent1, body="x", internal=False)
        tickets.resolve_ticket(ticket_id=ticket.pk, actor=desk.agent1, resolution="done")
        raise RuntimeError("the request fails after the services")
    with pytest.raises(RuntimeError), transaction.atomic():
        open_ticket(desk, subject="Never")
        raise RuntimeError("the intake fails after the service")

    assert list(OutboxMessage.objects.values_list("pk", flat=True)) == before


def test_a_retried_request_queues_its_email_once(desk: Any) -> None:
    ticket = open_ticket(desk)
    client = client_for(desk.agent1 if ticket.assignee_id == desk.agent1.pk else desk.agent2)
    for path, body in (("reply", {"body": "Restart it"}), ("hold", {"reason": "need logs"})):
        for _ in range(2):
            answer = client.post(
                f"/api/tickets/{ticket.pk}/{path}/",
                body,
                format="json",
                HTTP_IDEMPOTENCY_KEY=f"retry-{path}",
            )
            assert answer.status_code == 200, answer.content
    assert OutboxMessage.objects.filter(kind="ticket.replied").count() == 1
    assert OutboxMessage.objects.filter(kind="ticket.on_hold").count() == 1


def test_each_notice_once_per_change_and_none_on_auto_close(desk: Any, settings: Any) -> None:
    settings.KEFU_AUTO_REPLY_LIMIT = 10  # six automatic emails to one address in a minute
    ticket = open_ticket(desk)
    agent = desk.agent1 if ticket.assignee_id == desk.agent1.pk else desk.agent2
    tickets.put_on_hold(ticket_id=ticket.pk, actor=agent)
    tickets.resume_ticket(ticket_id=ticket.pk, actor=agent)
    tickets.resolve_ticket(ticket_id=ticket.pk, actor=agent, resolution="fixed")
    tickets.reopen_ticket(ticket_id=ticket.pk, actor=agent, reason="not fixed")
    tickets.resolve_ticket(ticket_id=ticket.pk, actor=agent, resolution="fixed now")
    tickets.close_ticket(ticket_id=ticket.pk, actor=agent)

    kinds = list(
        OutboxMessage.objects.filter(object_id=ticket.pk)
        .order_by("id")
        .values_list("kind", "automatic", "headers__Auto-Submitted")
    )
    assert kinds == [
        ("ticket.acknowledged", True, "auto-replied"),
        ("ticket.on_hold", True, "auto-replied"),
        ("ticket.resolved", True, "auto-replied"),
        ("ticket.reopened", True, "auto-replied"),
        ("ticket.resolved", True, "auto-replied"),
        ("ticket.closed", True, "auto-replied"),
    ]

    other = open_ticket(desk, subject="Silent customer")
    other_agent = desk.agent1 if other.assignee_id == desk.agent1.pk else desk.agent2
    tickets.resolve_ticket(ticket_id=other.pk, actor=other_agent, resolution="fixed")
    with transaction.atomic():
        other.refresh_from_db()
        auto_close_ticket(ticket=other)
    assert not OutboxMessage.objects.filter(object_id=other.pk, kind="ticket.closed").exists()


def test_a_fresh_link_on_request_once_per_window(desk: Any, sink: Sink) -> None:
    ticket = open_ticket(desk, acknowledge=False)
    first = emails.send_request_link(ticket, desk.contact)
    again = emails.send_request_link(ticket, desk.contact)
    assert first is not None and again is not None and first.pk == again.pk

    outbox.drain()
    (message,) = sink.snapshot()
    assert message["Auto-Submitted"] == "auto-replied"
    assert "Here is a new link to your request" in text_of(message)
    token = text_of(message).split("/help/requests/")[1].split("/")[0]
    assert read_request_token(token).ticket_id == ticket.pk


# --- attachments -----------------------------------------------------------------------
def test_a_replys_files_go_with_its_email(desk: Any, sink: Sink, media: Any) -> None:
    ticket = open_ticket(desk, acknowledge=False)
    stored = attachments.store(
        subject_kind="ticket",
        object_id=ticket.pk,
        name="invoice-march.pdf",
        data=b"%PDF-1.4 the invoice",
        content_type="application/pdf",
    )
    message = tickets.reply_to_ticket(
        ticket_id=ticket.pk,
        actor=desk.agent1,
        body="Attached.",
        internal=False,
        attachment_ids=[stored.pk],
    )
    stored.refresh_from_db()
    assert stored.message_id == message.pk

    outbox.drain()
    (email,) = sink.snapshot()
    files = [p for p in email.walk() if p.get_filename()]
    assert [(p.get_filename(), p.get_content_type()) for p in files] == [
        ("invoice-march.pdf", "application/pdf")
    ]
    assert files[0].get_payload(decode=True) == b"%PDF-1.4 the invoice"


def test_a_file_of_another_ticket_is_refused(desk: Any, media: Any) -> None:
    from core.errors import InvalidInput

    ticket = open_ticket(desk, acknowledge=False)
    foreign = attachments.store(
        subject_kind="ticket", object_id=ticket.pk + 999, name="a.txt", data=b"x"
    )
    with pytest.raises(InvalidInput):
        tickets.reply_to_ticket(
            ticket_id=ticket.pk,
            actor=desk.agent1,
            body="Attached.",
            internal=False,
            attachment_ids=[foreign.pk],
        )
    assert not TicketMessage.objects.filter(ticket=ticket).exists()


def test_an_email_whose_file_is_gone_fails_instead_of_going_without(
    desk: Any, sink: Sink, media: Any
) -> None:
    ticket = open_ticket(desk, acknowledge=False)
    stored = attachments.store(subject_kind="ticket", object_id=ticket.pk, name="a.txt", data=b"x")
    message = tickets.reply_to_ticket(
        ticket_id=ticket.pk, actor=desk.agent1, body="x", internal=False, attachment_ids=[stored.pk]
    )
    stored_pk = stored.pk
    stored.delete()

    result = outbox.drain()

    assert (result.sent, result.failed) == (0, 1)
    assert message.outbox is not None
    row = OutboxMessage.objects.get(pk=message.outbox.pk)
    assert row.status == MessageStatus.FAILED and f"attachment {stored_pk}" in row.last_error
    assert sink.count() == 0


# --- the administrator's pages ------------------------------------------------------------
@pytest.fixture
def root(db: Any) -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser("root", "root@example.com", "pw"))
    return client


def test_a_new_template_starts_from_the_shipped_default(root: Client) -> None:
    page = root.get("/admin/mail/emailtemplate/add/?event=ticket.replied&language=zh-hans")
    assert page.status_code == 200
    form = page.context["adminform"].form
    default = outbound.default_source("ticket.replied", "zh-hans")
    assert form.initial["subject"] == default["subject"]
    assert form.initial["body_text"] == default["body_text"]
    assert "写道" in form.initial["body_text"]
    listing = root.get("/admin/mail/emailtemplate/").content.decode()
    assert "/admin/mail/emailtemplate/add/?event=ticket.acknowledged&amp;language=en" in listing


def test_a_template_that_does_not_compile_is_refused(root: Client) -> None:
    answer = root.post(
        "/admin/mail/emailtemplate/add/",
        {
            "event": "ticket.acknowledged",
            "language": "en",
            "subject": "Hello {{ subject }}",
            "body_text": "{% if contact_name %}Hello",
            "body_html": "<p>{{ subject|nosuchfilter }}</p>",
        },
    )
    assert answer.status_code == 200
    errors = answer.context["adminform"].form.errors
    assert "Plain-text body does not compile" in errors["body_text"][0]
    assert "endif" in errors["body_text"][0]
    assert "nosuchfilter" in errors["body_html"][0]
    assert not EmailTemplate.objects.exists()


def test_an_address_is_blocked_and_unblocked_in_the_admin(root: Client) -> None:
    added = root.post(
        "/admin/mail/addressstate/add/",
        {"address": "Spammer@Example.com", "blocked": "on", "note": "abuse"},
    )
    assert added.status_code == 302
    state = AddressState.objects.get()
    assert (state.address, state.blocked) == ("spammer@example.com", True)
    assert not outbound.may_send_automatic("spammer@example.com")
    root.post(
        "/admin/mail/addressstate/",
        {"action": "unblock", "_selected_action": [state.pk]},
    )
    state.refresh_from_db()
    assert state.blocked is False
    assert outbound.may_send_automatic("spammer@example.com")
