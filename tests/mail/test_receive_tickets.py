# ruff: noqa: RUF001 - a Chinese client's attribution line has full-width punctuation
"""receive_raw with the handler the tickets app registers (no stand-in): raw mail opens a
ticket, a reply threads onto it, the original is kept on the ticket's message, and a ticket
that cannot be opened leaves the mail in quarantine with nothing half-written."""

from __future__ import annotations

from typing import Any

import pytest

from mail.models import Attachment, InboundStatus
from mail.services import receive_raw
from tickets.models import Ticket, TicketMessage

from .conftest import corpus

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


@pytest.fixture(autouse=True)
def _support(settings: Any) -> None:
    settings.KEFU_SUPPORT_ADDRESS = "support@kefu.example"
    settings.LANGUAGE_CODE = "en"


def test_raw_mail_opens_a_ticket_and_its_reply_threads_onto_it(desk: Any) -> None:
    first = receive_raw(corpus("foxmail_reply_zh.eml"), source="imap")

    ticket = Ticket.objects.get()
    assert (first.status, first.subject_kind, first.object_id) == (
        InboundStatus.PROCESSED,
        "ticket",
        ticket.pk,
    )
    opening = TicketMessage.objects.get(ticket=ticket)
    assert opening.email_message_id == "<202612011130001234567@qq.com>"
    assert ticket.contact.email == "zhangsan@qq.com"
    assert ticket.contact.language == "zh-hans"
    original = Attachment.objects.get(original=True)
    assert (original.subject_kind, original.object_id, original.message_id) == (
        "ticket",
        ticket.pk,
        opening.pk,
    )

    reply = (
        b"From: =?utf-8?b?5byg5LiJ?= <zhangsan@qq.com>\r\n"
        b"To: support@kefu.example\r\n"
        b"Subject: =?utf-8?b?5Zue5aSN?=\r\n"
        b"Message-ID: <reply-2@qq.com>\r\n"
        b"In-Reply-To: <202612011130001234567@qq.com>\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n\r\n"
        + "又坏了。\r\n\r\n".encode()
        + "在 2026年12月2日 周三 09:00，张三 <zhangsan@qq.com> 写道：\r\n> 收到\r\n".encode()
    )
    second = receive_raw(reply, source="imap")

    assert (second.status, second.object_id) == (InboundStatus.PROCESSED, ticket.pk)
    assert Ticket.objects.count() == 1
    latest = TicketMessage.objects.filter(ticket=ticket).latest("id")
    assert latest.body == "又坏了。"


def test_a_message_the_tickets_refuse_stays_in_quarantine(desk: Any) -> None:
    # a sender address the contact model refuses: the handler raises, its work rolls back
    raw = (
        b"From: " + b"x" * 300 + b"@example.com\r\nTo: support@kefu.example\r\n"
        b"Subject: long\r\nMessage-ID: <long@example.com>\r\n\r\nhello\r\n"
    )

    row = receive_raw(raw, source="imap")

    assert (row.status, row.reason) == (InboundStatus.QUARANTINED, "handler_error")
    assert row.error.startswith("DataError: value too long")
    assert not Ticket.objects.exists()
    assert not Attachment.objects.exists()
