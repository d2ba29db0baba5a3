"""The whole email loop with real services: Dovecot (IMAP over TLS, tests/mail/dovecot.py),
aiosmtpd (tests/smtp_sink.py), a private Redis and a real Celery worker with beat polling
the mailbox. A customer writes → a ticket opens → the acknowledgement arrives with the number
and the request link → an agent's reply arrives threaded → the customer's answer lands on
the same ticket and resumes it → the request page shows the conversation. Then: a vacation
responder's storm, a wrong password, and mail that is broken in every way, none lost."""

from __future__ import annotations

import re
import tempfile
import time
from collections.abc import Callable, Iterator
from email import message_from_bytes
from email.message import EmailMessage, Message
from email.policy import SMTP
from email.utils import make_msgid
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from django.test import Client

from mail.models import InboundEmail, Mailbox
from notifications.models import Notification
from outbox.models import OutboxMessage
from tests.conftest import client_for
from tests.e2e.conftest import PrivateRedis, WorkerProcess, point_celery_at, worker_env
from tests.mail.dovecot import Dovecot, running_dovecot
from tests.mail.messages import customer_email
from tests.smtp_sink import Sink, body_text
from tickets.models import Ticket, TicketMessage

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

SUPPORT = "support@kefu.test"
USER, PASSWORD = "support", "imap-e2e-secret"
CUSTOMER = "wang.fang@customer.example"
LINK = re.compile(r"https?://[^\s\"'<>]+/help/requests/[^\s\"'<>/]+/")
TIMEOUT = 90.0


@pytest.fixture
def dovecot() -> Iterator[Dovecot]:
    with running_dovecot({USER: PASSWORD}) as server:
        yield server


@pytest.fixture
def publish_to(private_redis: PrivateRedis) -> Iterator[PrivateRedis]:
    previous = point_celery_at(private_redis.url)
    try:
        yield private_redis
    finally:
        point_celery_at(previous)


@pytest.fixture
def worker(
    transactional_db: Any,
    desk: Any,
    dovecot: Dovecot,
    smtp_sink: Sink,
    publish_to: PrivateRedis,
    settings: Any,
) -> Iterator[WorkerProcess]:
    """A Celery worker with beat: mailboxes polled every 0.5 s, the outbox swept as often,
    emails to the sink, raw mail and attachments in a folder of this test's own."""
    media = tempfile.mkdtemp(prefix="kefu-e2e-media-")
    settings.MEDIA_ROOT = media
    settings.KEFU_SUPPORT_ADDRESS = SUPPORT
    env = worker_env(
        broker=publish_to.url,
        KEFU_EMAIL_URL=smtp_sink.url,
        KEFU_MAIL_POLL_SECONDS="0.5",
        KEFU_OUTBOX_SWEEP_SECONDS="0.5",
        KEFU_IMAP_CA_FILE=str(dovecot.ca_file),
        KEFU_MEDIA_ROOT=media,
        KEFU_SUPPORT_ADDRESS=SUPPORT,
        KEFU_SITE_URL="http://kefu.test",
    )
    process = WorkerProcess(env, Path(tempfile.mkdtemp(prefix="kefu-email-loop-")))
    try:
        yield process
    finally:
        process.stop()


def mailbox_for(server: Dovecot, **overrides: Any) -> Mailbox:
    fields: dict[str, Any] = {
        "name": "Support",
        "address": SUPPORT,
        "host": server.host,
        "port": server.tls_port,
        "security": "tls",
        "username": USER,
        "password": PASSWORD,
    }
    fields.update(overrides)
    return Mailbox.objects.create(**fields)


def wait_until(
    condition: Callable[[], Any], *, what: str, log: Callable[[], str], timeout: float = TIMEOUT
) -> Any:
    """Polls ``condition`` until it returns something true (no sleep stands in for it)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}\n{log()}")


def mail_to(sink: Sink, address: str) -> list[Message]:
    return [m for m in sink.snapshot() if address in str(m["To"])]


def ids_of(value: Any) -> list[str]:
    return re.findall(r"<[^<>\s]+>", str(value or ""))


def answer(to: Message, *, body: str, headers: dict[str, str] | None = None) -> bytes:
    """The customer's mail client answering ``to``: In-Reply-To it, References the thread,
    "Re:" and the quoted text."""
    own_id = str(to["Message-ID"])
    references = " ".join([*ids_of(to["References"]), own_id])
    quoted = "\n".join(f"> {line}" for line in body_text(to).splitlines())
    return customer_email(
        sender=CUSTOMER,
        to=str(to["Reply-To"] or SUPPORT),
        subject=f"Re: {to['Subject']}",
        body=f"{body}\n\nOn Tuesday, Kefu wrote:\n{quoted}\n",
        in_reply_to=own_id,
        headers={"References": references, **(headers or {})},
    )


def test_a_customer_writes_hears_back_answers_and_follows_the_request(
    desk: Any, dovecot: Dovecot, smtp_sink: Sink, worker: WorkerProcess
) -> None:
    mailbox = mailbox_for(dovecot)
    first_id = make_msgid(domain="customer.example")
    dovecot.append(
        USER,
        customer_email(
            sender=f"Wang Fang <{CUSTOMER}>",
            to=SUPPORT,
            subject="The invoice lists the lease twice",
            body="Hello, invoice 2026-11 lists the printer lease twice. Please correct it.",
            message_id=first_id,
        ),
    )

    # 1. the email opens a ticket, and the acknowledgement arrives with the number and link
    ticket: Ticket = wait_until(
        lambda: Ticket.objects.filter(contact__email=CUSTOMER).first(),
        what="a ticket opened by the email",
        log=worker.log,
    )
    assert (ticket.channel, ticket.subject) == ("email", "The invoice lists the lease twice")
    acks = wait_until(
        lambda: mail_to(smtp_sink, CUSTOMER), what="the acknowledgement", log=worker.log
    )
    ack = acks[0]
    assert f"[{ticket.number}]" in str(ack["Subject"])
    assert ack["In-Reply-To"] == first_id  # it answers the customer's email
    assert ack["Auto-Submitted"] == "auto-replied"
    text = body_text(ack)
    assert ticket.number in text
    links = LINK.findall(text)
    assert links, text
    request_path = urlparse(links[0]).path
    assert list(
        TicketMessage.objects.filter(ticket=ticket).values_list("email_message_id", flat=True)
    ) == [first_id]
    assert not dovecot.uids(USER, criteria=["NOT", "KEYWORD", "$Kefu"])  # taken, marked

    # 2. an agent answers through the API, and puts the ticket on hold: the reply arrives
    # threaded under the customer's email
    agent = client_for(ticket.assignee or desk.agent1)
    replied = agent.post(
        f"/api/tickets/{ticket.pk}/reply/",
        {"body": "We are sorry: which contract number is on your copy?", "internal": False},
        format="json",
    )
    assert replied.status_code == 200, replied.content
    noted = agent.post(
        f"/api/tickets/{ticket.pk}/reply/",
        {"body": "Internal: check the lease contract in SAP", "internal": True},
        format="json",
    )
    assert noted.status_code == 200, noted.content
    held = agent.post(f"/api/tickets/{ticket.pk}/hold/", {"reason": "asked"}, format="json")
    assert held.status_code == 200, held.content
    ticket.refresh_from_db()
    assert ticket.status == "pending_customer"
    reply = wait_until(
        lambda: next(
            (m for m in mail_to(smtp_sink, CUSTOMER) if "which contract number" in body_text(m)),
            None,
        ),
        what="the agent's reply",
        log=worker.log,
    )
    assert f"[{ticket.number}]" in str(reply["Subject"])
    thread = {first_id, str(ack["Message-ID"])}
    assert reply["In-Reply-To"] in thread
    assert first_id in ids_of(reply["References"])
    assert "Internal: check" not in body_text(reply)
    reply_row = TicketMessage.objects.get(ticket=ticket, author__isnull=False, internal=False)
    assert reply_row.email_message_id == reply["Message-ID"]

    # 3. the customer answers the reply: it lands on the same ticket and resumes it
    answer_raw = answer(reply, body="The contract number on my copy is LC-4711.")
    answer_id = str(message_from_bytes(answer_raw)["Message-ID"])
    dovecot.append(USER, answer_raw)
    landed: TicketMessage = wait_until(
        lambda: TicketMessage.objects.filter(email_message_id=answer_id).first(),
        what="the customer's answer on the ticket",
        log=worker.log,
    )
    assert landed.ticket_id == ticket.pk
    assert landed.body.startswith("The contract number on my copy is LC-4711.")
    assert "which contract number" not in landed.body  # the quote was stripped
    ticket.refresh_from_db()
    assert ticket.status == "open"  # resumed from waiting on the customer
    assert Ticket.objects.filter(contact__email=CUSTOMER).count() == 1

    # 4. the link of the acknowledgement shows the conversation, without the internal note
    page = Client().get(request_path)
    assert page.status_code == 200
    html = page.content.decode()
    for said in (
        "invoice 2026-11 lists the printer lease twice",
        "which contract number is on your copy?",
        "The contract number on my copy is LC-4711.",
    ):
        assert said in html, said
    assert "check the lease contract in SAP" not in html
    assert ticket.number in html
    mailbox.refresh_from_db()
    assert (mailbox.last_error, mailbox.failing_since) == ("", None)


def test_a_vacation_responder_storm_opens_one_ticket_and_draws_one_acknowledgement(
    desk: Any, dovecot: Dovecot, smtp_sink: Sink, worker: WorkerProcess
) -> None:
    mailbox_for(dovecot)
    dovecot.append(USER, customer_email(sender=CUSTOMER, to=SUPPORT, subject="Broken screen"))
    ack = wait_until(
        lambda: mail_to(smtp_sink, CUSTOMER), what="the acknowledgement", log=worker.log
    )[0]
    ticket = Ticket.objects.get(contact__email=CUSTOMER)

    # the customer's out-of-office answers our acknowledgement, again and again
    storm = [
        answer(
            ack,
            body="I am out of the office until Monday and will read your message then.",
            headers={"Auto-Submitted": "auto-replied", "X-Autoreply": "yes"},
        )
        for _ in range(20)
    ]
    for raw in storm:
        dovecot.append(USER, raw)

    wait_until(
        lambda: InboundEmail.objects.filter(processed_at__isnull=False).count() == 21,
        what="all 21 messages taken",
        log=worker.log,
    )
    wait_until(
        lambda: not OutboxMessage.objects.filter(status="pending").exists(),
        what="the outbox drained",
        log=worker.log,
    )
    assert Ticket.objects.count() == 1
    assert OutboxMessage.objects.filter(to=CUSTOMER).count() == 1
    assert len(mail_to(smtp_sink, CUSTOMER)) == 1
    assert TicketMessage.objects.filter(ticket=ticket).count() == 21  # each on the ticket
    ticket.refresh_from_db()
    assert ticket.status == "open"


def test_a_wrong_password_raises_the_alert_and_shows_the_error(
    desk: Any, dovecot: Dovecot, worker: WorkerProcess
) -> None:
    mailbox = mailbox_for(dovecot, password="not-the-password")
    dovecot.append(USER, customer_email(sender=CUSTOMER, to=SUPPORT))

    wait_until(
        lambda: Mailbox.objects.filter(pk=mailbox.pk, failing_since__isnull=False).exists(),
        what="the mailbox marked failing",
        log=worker.log,
    )
    mailbox.refresh_from_db()
    assert mailbox.last_error.startswith("the server refused the user name or password")
    alert = wait_until(
        lambda: Notification.objects.filter(kind="mailbox_failing", recipient=desk.admin).first(),
        what="the administrators' alert",
        log=worker.log,
    )
    assert alert.object_id == mailbox.pk
    assert InboundEmail.objects.count() == 0
    first_error_at = mailbox.last_error_at
    wait_until(  # the worker keeps trying, and keeps quiet
        lambda: Mailbox.objects.filter(pk=mailbox.pk, last_error_at__gt=first_error_at).exists(),
        what="a later failed poll",
        log=worker.log,
    )
    assert Notification.objects.filter(kind="mailbox_failing", recipient=desk.admin).count() == 1

    Mailbox.objects.filter(pk=mailbox.pk).update(password=PASSWORD)
    wait_until(
        lambda: Notification.objects.filter(
            kind="mailbox_recovered", recipient=desk.admin
        ).exists(),
        what="the recovery notice",
        log=worker.log,
    )
    mailbox.refresh_from_db()
    assert (mailbox.failing_since, mailbox.last_error) == (None, "")
    wait_until(lambda: Ticket.objects.exists(), what="the waiting email's ticket", log=worker.log)


# --- mail that is broken in every way ---------------------------------------------------
def malformed_mime() -> bytes:
    return (
        b"From: Frank <frank@customer.example>\r\nTo: support@kefu.test\r\n"
        b"Subject: Broken mail\r\nMessage-ID: <broken-mime@customer.example>\r\n"
        b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n"
        b"My screen \xff\xfe flickers \x00 since yesterday.\r\n--nothing\r\n"
    )


def huge_attachment(size: int = 30 * 2**20) -> bytes:
    message = EmailMessage()
    message["From"] = "big@customer.example"
    message["To"] = SUPPORT
    message["Subject"] = "The scan you asked for"
    message["Message-ID"] = "<huge@customer.example>"
    message.set_content("The scan is attached.")
    block = bytes(range(256)) * 4096  # 1 MiB, not compressible to nothing
    message.add_attachment(
        (block * (size // len(block) + 1))[:size],
        maintype="application",
        subtype="pdf",
        filename="scan.pdf",
    )
    return message.as_bytes(policy=SMTP)


def no_sender() -> bytes:
    return (
        b"To: support@kefu.test\r\nSubject: Who am I\r\n"
        b"Message-ID: <no-sender@customer.example>\r\n\r\nThere is no From header.\r\n"
    )


def html_with_script() -> bytes:
    message = EmailMessage()
    message["From"] = "Mallory <mallory@customer.example>"
    message["To"] = SUPPORT
    message["Subject"] = "Please look"
    message["Message-ID"] = "<script@customer.example>"
    message.set_content(
        "<html><head><script>alert('head')</script></head><body onload=\"steal()\">"
        '<p>Hello, <a href="javascript:alert(1)">click</a>: the login page is blank.</p>'
        "<script>document.cookie</script><img src=x onerror=alert(2)></body></html>",
        subtype="html",
    )
    return message.as_bytes(policy=SMTP)


def test_broken_mail_is_each_handled_none_lost_and_the_poller_keeps_going(
    desk: Any, dovecot: Dovecot, smtp_sink: Sink, worker: WorkerProcess
) -> None:
    mailbox_for(dovecot)
    for raw in (malformed_mime(), huge_attachment(), no_sender(), html_with_script()):
        dovecot.append(USER, raw)
    dovecot.append(
        USER, customer_email(sender=CUSTOMER, to=SUPPORT, message_id="<after@c.example>")
    )

    rows = wait_until(
        lambda: (
            list(InboundEmail.objects.filter(processed_at__isnull=False).order_by("pk"))
            if InboundEmail.objects.filter(processed_at__isnull=False).count() == 5
            else None
        ),
        what="all five messages recorded",
        log=worker.log,
        timeout=180,
    )
    by_id = {row.message_id: row for row in rows}
    assert set(by_id) == {
        "<broken-mime@customer.example>",
        "<huge@customer.example>",
        "<no-sender@customer.example>",
        "<script@customer.example>",
        "<after@c.example>",
    }
    huge = by_id["<huge@customer.example>"]
    assert (huge.status, huge.reason) == ("quarantined", "too_large")
    assert huge.size > 30 * 2**20  # the whole message was kept, for an administrator
    assert by_id["<no-sender@customer.example>"].status == "quarantined"
    broken = by_id["<broken-mime@customer.example>"]
    assert broken.status in ("processed", "quarantined"), broken.status
    assert by_id["<after@c.example>"].status == "processed"  # the poller went on

    script = by_id["<script@customer.example>"]
    assert script.status == "processed"
    message = TicketMessage.objects.get(email_message_id="<script@customer.example>")
    assert "the login page is blank" in message.body
    for dangerous in ("<script", "onload", "onerror", "javascript:"):
        assert dangerous not in message.body_html.lower()
    assert "the login page is blank" in message.body_html

    # nothing is left behind in the mailbox, and every message is accounted for
    assert not dovecot.uids(USER, criteria=["NOT", "KEYWORD", "$Kefu"])
    assert len(dovecot.uids(USER)) == 5
