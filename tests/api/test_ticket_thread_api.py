"""The email thread over the API: each message's direction, channel, delivery (its outbox
row) and attachments on ``GET /api/tickets/{id}/messages/``, and ``GET /api/attachments/{id}/``
for whoever may see the ticket (docs/api.md)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from django.utils import translation
from rest_framework.test import APIClient

from mail import attachments
from outbox.models import MessageStatus, OutboxMessage
from tests.conftest import client_for
from tests.factories import open_ticket, update_ticket
from tickets import services
from tickets.models import Ticket, TicketMessage

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def emailed(message: TicketMessage, **state: Any) -> OutboxMessage:
    """The email the reply service wrote for ``message``, put in ``state`` as the outbox's
    drain would leave it."""
    message.refresh_from_db()
    assert message.outbox_id is not None, "the public reply was not emailed"
    OutboxMessage.objects.filter(pk=message.outbox_id).update(**state)
    return OutboxMessage.objects.get(pk=message.outbox_id)


@pytest.fixture
def thread(desk: Any) -> dict[str, Any]:
    """A customer's email with a file, three replies (queued, sent, failed), an internal note."""
    ticket = open_ticket(desk, channel="email")
    asked = services.record_customer_reply(
        ticket_id=ticket.pk, body="The invoice is wrong.", channel="email"
    )
    invoice = attachments.store(
        subject_kind="ticket",
        object_id=ticket.pk,
        message_id=asked.pk,
        name="发票.pdf",
        data=b"%PDF-1.4 invoice",
        content_type="application/pdf",
    )
    original = attachments.store(
        subject_kind="ticket",
        object_id=ticket.pk,
        message_id=asked.pk,
        name="original.eml",
        data=b"From: li.lei@example.com\r\n\r\nThe invoice is wrong.\r\n> quoted",
        content_type="message/rfc822",
        original=True,
    )
    queued = services.reply_to_ticket(
        ticket_id=ticket.pk, actor=desk.admin, body="Looking.", internal=False
    )
    sent = services.reply_to_ticket(
        ticket_id=ticket.pk, actor=desk.admin, body="Fixed.", internal=False
    )
    sent_at = datetime(2026, 3, 2, 8, 30, tzinfo=UTC)
    emailed(sent, status=MessageStatus.SENT, sent_at=sent_at, attempts=1)
    bounced = services.reply_to_ticket(
        ticket_id=ticket.pk, actor=desk.admin, body="Anything else?", internal=False
    )
    emailed(
        bounced,
        status=MessageStatus.FAILED,
        attempts=8,
        last_error="550 5.1.1 <li.lei@example.com>: Recipient address rejected",
    )
    note = services.reply_to_ticket(
        ticket_id=ticket.pk, actor=desk.admin, body="Finance knows.", internal=True
    )
    return {
        "ticket": ticket,
        "asked": asked,
        "invoice": invoice,
        "original": original,
        "queued": queued,
        "sent": sent,
        "bounced": bounced,
        "note": note,
    }


def test_messages_carry_direction_channel_delivery_and_attachments(
    desk: Any, thread: dict[str, Any]
) -> None:
    ticket = thread["ticket"]

    response = client_for(desk.agent1).get(f"/api/tickets/{ticket.pk}/messages/")

    assert response.status_code == 200
    rows = {row["id"]: row for row in response.json()}
    asked = rows[thread["asked"].pk]
    assert asked["direction"] == "inbound"
    assert asked["channel"] == "email"
    assert asked["delivery"] is None
    invoice, original = thread["invoice"], thread["original"]
    assert asked["attachments"] == [
        {
            "id": invoice.pk,
            "name": "发票.pdf",
            "size": 16,
            "content_type": "application/pdf",
            "url": f"/api/attachments/{invoice.pk}/",
            "original": False,
        },
        {
            "id": original.pk,
            "name": "original.eml",
            "size": original.size,
            "content_type": "message/rfc822",
            "url": f"/api/attachments/{original.pk}/",
            "original": True,
        },
    ]
    assert rows[thread["queued"].pk]["direction"] == "outbound"
    assert rows[thread["queued"].pk]["delivery"] == {
        "status": "queued",
        "sent_at": None,
        "error": "",
    }
    assert rows[thread["sent"].pk]["delivery"] == {
        "status": "sent",
        "sent_at": "2026-03-02T08:30:00Z",
        "error": "",
    }
    assert rows[thread["bounced"].pk]["delivery"] == {
        "status": "failed",
        "sent_at": None,
        "error": "550 5.1.1 <li.lei@example.com>: Recipient address rejected",
    }
    note = rows[thread["note"].pk]
    assert (note["direction"], note["channel"], note["delivery"], note["attachments"]) == (
        "internal",
        None,
        None,
        [],
    )


def test_messages_keep_their_existing_fields(desk: Any, thread: dict[str, Any]) -> None:
    """API.md's fields are unchanged; the thread's are added beside them."""
    rows = client_for(desk.agent1).get(f"/api/tickets/{thread['ticket'].pk}/messages/").json()

    first = rows[0]
    assert list(first) == [
        "id",
        "author",
        "contact",
        "body",
        "internal",
        "created",
        "direction",
        "channel",
        "delivery",
        "attachments",
    ]
    assert (first["author"], first["contact"], first["body"], first["internal"]) == (
        None,
        thread["ticket"].contact_id,
        "The invoice is wrong.",
        False,
    )
    assert [r["body"] for r in rows] == [
        "The invoice is wrong.",
        "Looking.",
        "Fixed.",
        "Anything else?",
        "Finance knows.",
    ]


def test_a_public_reply_reads_as_emailed_and_queued(desk: Any) -> None:
    """The reply service emails a public reply (tickets.emails): the thread shows that email
    as it stands."""
    ticket = open_ticket(desk)
    services.reply_to_ticket(ticket_id=ticket.pk, actor=desk.admin, body="Hi", internal=False)

    row = client_for(desk.agent1).get(f"/api/tickets/{ticket.pk}/messages/").json()[-1]

    assert (row["body"], row["direction"], row["channel"]) == ("Hi", "outbound", "email")
    assert row["delivery"] == {"status": "queued", "sent_at": None, "error": ""}


def test_a_message_without_a_channel_reads_null(desk: Any) -> None:
    ticket = open_ticket(desk)
    message = services.reply_to_ticket(
        ticket_id=ticket.pk, actor=desk.admin, body="Hi", internal=False
    )
    TicketMessage.objects.filter(pk=message.pk).update(outbox=None, channel="")

    row = client_for(desk.agent1).get(f"/api/tickets/{ticket.pk}/messages/").json()[-1]

    assert (row["direction"], row["channel"], row["delivery"]) == ("outbound", None, None)


def test_messages_read_a_fixed_number_of_statements(
    desk: Any, thread: dict[str, Any], django_assert_max_num_queries: Any
) -> None:
    client = client_for(desk.agent1)
    url = f"/api/tickets/{thread['ticket'].pk}/messages/"
    client.get(url)
    for n in range(10):
        message = services.reply_to_ticket(
            ticket_id=thread["ticket"].pk, actor=desk.admin, body=f"More {n}", internal=False
        )
        attachments.store(
            subject_kind="ticket",
            object_id=thread["ticket"].pk,
            message_id=message.pk,
            name=f"{n}.txt",
            data=b"x",
        )

    # token, the ticket, the messages with their emails, the attachments
    with django_assert_max_num_queries(4):
        response = client.get(url)

    assert len(response.json()) == 15


# --- downloads --------------------------------------------------------------------------
def test_an_attachment_downloads_as_a_file(desk: Any, thread: dict[str, Any]) -> None:
    invoice = thread["invoice"]

    response = client_for(desk.agent1).get(f"/api/attachments/{invoice.pk}/")

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"%PDF-1.4 invoice"
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        "attachment; filename*=utf-8''%E5%8F%91%E7%A5%A8.pdf"
    )
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Length"] == "16"


def test_a_page_session_downloads_it_too(desk: Any, thread: dict[str, Any]) -> None:
    from django.test import Client

    client = Client()
    client.force_login(desk.agent1)

    response: Any = client.get(f"/api/attachments/{thread['invoice'].pk}/", HTTP_ACCEPT="text/html")

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"%PDF-1.4 invoice"


def test_a_file_a_browser_would_render_is_served_as_bytes(desk: Any) -> None:
    ticket = open_ticket(desk)
    page = attachments.store(
        subject_kind="ticket",
        object_id=ticket.pk,
        name="invoice.html",
        data=b"<script>alert(1)</script>",
        content_type="text/html",
    )

    response = client_for(desk.agent1).get(f"/api/attachments/{page.pk}/")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"] == 'attachment; filename="invoice.html"'
    assert response["X-Content-Type-Options"] == "nosniff"


def test_an_outsider_gets_the_404_of_a_missing_attachment(
    desk: Any, thread: dict[str, Any]
) -> None:
    update_ticket(thread["ticket"].pk, team=desk.other_team, assignee=desk.outsider)
    agent = client_for(desk.agent1)

    hidden = agent.get(f"/api/attachments/{thread['invoice'].pk}/")
    missing = agent.get("/api/attachments/987654321/")

    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json() == {"detail": "Attachment not found.", "errors": {}}
    assert (
        client_for(desk.outsider).get(f"/api/attachments/{thread['invoice'].pk}/").status_code
        == 200
    )
    assert (
        client_for(desk.supervisor).get(f"/api/attachments/{thread['invoice'].pk}/").status_code
        == 200
    )


def test_an_attachment_of_a_kind_nobody_registered_is_not_found(desk: Any) -> None:
    stray = attachments.store(subject_kind="nothing", object_id=1, name="a.txt", data=b"a")

    response = client_for(desk.supervisor).get(f"/api/attachments/{stray.pk}/")

    assert response.status_code == 404


def test_downloads_need_credentials(desk: Any, thread: dict[str, Any]) -> None:
    response = APIClient().get(f"/api/attachments/{thread['invoice'].pk}/")

    assert response.status_code == 401


def test_a_row_whose_file_is_gone_is_not_found(
    desk: Any, thread: dict[str, Any], media: Path
) -> None:
    invoice = thread["invoice"]
    (media / invoice.file.name).unlink()

    response = client_for(desk.agent1).get(f"/api/attachments/{invoice.pk}/")
    translation.deactivate()

    assert response.status_code == 404
    assert response.json()["detail"] == "The file is no longer stored."


def test_reading_the_thread_changes_nothing(desk: Any, thread: dict[str, Any]) -> None:
    ticket: Ticket = thread["ticket"]
    before = Ticket.objects.get(pk=ticket.pk).version
    client = client_for(desk.agent1)
    client.get(f"/api/tickets/{ticket.pk}/messages/")
    client.get(f"/api/attachments/{thread['invoice'].pk}/")

    assert Ticket.objects.get(pk=ticket.pk).version == before
