"""The ticket page's email thread in Chromium, at 1366x768: who wrote to whom and by which
channel, whether each email reached the customer (and the server's answer when not), the
files as downloads for those who may see the ticket only, and a reply quoting the
customer's latest message."""

# Chinese text is written with full-width punctuation on purpose.
# ruff: noqa: RUF001

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from mail import attachments
from outbox.models import MessageStatus, OutboxMessage
from tests.browser.conftest import VIEWPORT, expect, live, login
from tests.factories import open_ticket, update_ticket
from tickets import services
from tickets.models import TicketMessage

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.redis]

INVOICE = b"%PDF-1.4 the customer's invoice"


@pytest.fixture
def media(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settings: Any) -> Path:
    """One storage folder for this process and the server's."""
    monkeypatch.setenv("KEFU_MEDIA_ROOT", str(tmp_path))
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def server(media: Path, server: str) -> Iterator[str]:
    yield server


def emailed(message: TicketMessage, **state: Any) -> None:
    """The email the reply service wrote for ``message``, left in ``state`` as the outbox's
    drain would."""
    message.refresh_from_db()
    assert message.outbox_id is not None, "the public reply was not emailed"
    OutboxMessage.objects.filter(pk=message.outbox_id).update(**state)


def from_customer(ticket_id: int, body: str) -> TicketMessage:
    return services.record_customer_reply(ticket_id=ticket_id, body=body, channel="email")


@pytest.fixture
def thread(desk: Any, media: Path) -> dict[str, Any]:
    ticket = open_ticket(desk, channel="email", subject="Invoice 2026-118 is wrong")
    update_ticket(ticket.pk, assignee=desk.agent1)
    first = from_customer(ticket.pk, "The invoice is wrong.")
    invoice = attachments.store(
        subject_kind="ticket",
        object_id=ticket.pk,
        message_id=first.pk,
        name="发票.pdf",
        data=INVOICE,
        content_type="application/pdf",
    )
    sent = services.reply_to_ticket(
        ticket_id=ticket.pk, actor=desk.agent1, body="Which line?", internal=False
    )
    emailed(sent, status=MessageStatus.SENT, sent_at=datetime(2026, 3, 2, 8, 30, tzinfo=UTC))
    bounced = services.reply_to_ticket(
        ticket_id=ticket.pk, actor=desk.agent1, body="Are you there?", internal=False
    )
    emailed(
        bounced,
        status=MessageStatus.FAILED,
        attempts=8,
        last_error="550 5.1.1 <li.lei@example.com>: Recipient address rejected",
    )
    services.reply_to_ticket(
        ticket_id=ticket.pk, actor=desk.agent1, body="Asked finance.", internal=True
    )
    latest = from_customer(ticket.pk, "Line 3: the tax rate.\n\nIt should be 6%.")
    queued = services.reply_to_ticket(
        ticket_id=ticket.pk, actor=desk.agent1, body="Checking with finance.", internal=False
    )
    return {
        "ticket": ticket,
        "first": first,
        "invoice": invoice,
        "sent": sent,
        "bounced": bounced,
        "latest": latest,
        "queued": queued,
    }


def watch(page: Any) -> list[str]:
    """Script errors and refusals by the Content-Security-Policy, as Chromium reports them."""
    seen: list[str] = []
    page.on("pageerror", lambda error: seen.append(str(error)))
    page.on(
        "console",
        lambda message: (
            seen.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    return seen


def item(page: Any, message: TicketMessage) -> Any:
    return page.locator(f"#messages li[data-id='{message.pk}']")


def test_the_thread_shows_direction_channel_delivery_and_files(
    browser: Any, server: str, desk: Any, thread: dict[str, Any]
) -> None:
    page = login(browser, server, "agent1", "pw")
    problems = watch(page)
    page.goto(f"/tickets/{thread['ticket'].pk}/")
    live(page)

    expect(page.locator("#messages li.message")).to_have_count(6)
    first = item(page, thread["first"])
    expect(first).to_have_attribute("data-direction", "inbound")
    expect(first.locator(".direction")).to_have_text("From the customer")
    expect(first.locator(".channel")).to_have_text("Email")
    expect(first.locator(".delivery")).to_have_count(0)
    sent = item(page, thread["sent"])
    expect(sent.locator(".direction")).to_have_text("To the customer")
    expect(sent.locator(".delivery")).to_have_attribute("data-status", "sent")
    sent_at = page.evaluate("new Date('2026-03-02T08:30:00Z').toLocaleString()")
    expect(sent.locator(".delivery")).to_have_text(f"Sent {sent_at}")
    bounced = item(page, thread["bounced"])
    expect(bounced.locator(".delivery")).to_have_text("Not delivered")
    expect(bounced.locator(".delivery-error")).to_have_text(
        "The mail server answered: 550 5.1.1 <li.lei@example.com>: Recipient address rejected"
    )
    expect(item(page, thread["queued"]).locator(".delivery")).to_have_text("Queued")
    expect(page.locator("#messages li.internal .direction")).to_have_text("Internal note")
    expect(page.locator("#messages li.internal .channel")).to_have_count(0)
    assert page.evaluate("document.documentElement.scrollWidth") <= VIEWPORT["width"]

    link = first.locator(".attachments a")
    expect(link).to_have_text("发票.pdf")
    expect(first.locator(".attachments .size")).to_have_text(f"{len(INVOICE)} bytes")
    with page.expect_download() as downloading:
        link.click()
    download = downloading.value
    assert download.suggested_filename == "发票.pdf"
    assert Path(download.path()).read_bytes() == INVOICE
    assert problems == []


def test_the_reply_quotes_the_customers_latest_message(
    browser: Any, server: str, desk: Any, thread: dict[str, Any]
) -> None:
    page = login(browser, server, "agent1", "pw")
    page.goto(f"/tickets/{thread['ticket'].pk}/")
    live(page)
    quote = page.locator("#reply-quote")
    expect(quote).to_be_enabled()

    page.fill("#reply-body", "Thank you.")
    quote.click()

    expected = "Thank you.\n\n> Line 3: the tax rate.\n>\n> It should be 6%.\n\n"
    expect(page.locator("#reply-body")).to_have_value(expected)
    expect(page.locator("#reply-body")).to_be_focused()
    page.keyboard.type("We will send a corrected invoice.")
    page.click("#reply-submit")

    mine = page.locator("#messages li.message").last
    expect(mine).to_contain_text("We will send a corrected invoice.")
    expect(mine.locator(".direction")).to_have_text("To the customer")
    reply = TicketMessage.objects.filter(ticket=thread["ticket"]).latest("created_at", "id")
    assert reply.body == expected + "We will send a corrected invoice."
    assert reply.internal is False


def test_a_ticket_with_nothing_from_the_customer_offers_no_quote(
    browser: Any, server: str, desk: Any
) -> None:
    ticket = open_ticket(desk, channel="phone", description="Caller says the VPN drops.")
    update_ticket(ticket.pk, assignee=desk.agent1)
    page = login(browser, server, "agent1", "pw")
    page.goto(f"/tickets/{ticket.pk}/")

    expect(page.locator("#messages")).to_contain_text("No messages yet.")
    expect(page.locator("#reply-quote")).to_be_disabled()
    expect(page.locator("#reply-quote")).to_have_attribute(
        "title", "No message from the customer yet."
    )


def test_the_thread_reads_in_chinese(
    browser: Any, server: str, desk: Any, thread: dict[str, Any]
) -> None:
    page = login(browser, server, "agent1", "pw", language="zh-CN")
    page.goto(f"/tickets/{thread['ticket'].pk}/")

    expect(item(page, thread["first"]).locator(".direction")).to_have_text("来自客户")
    expect(item(page, thread["first"]).locator(".channel")).to_have_text("电子邮件")
    expect(item(page, thread["sent"]).locator(".direction")).to_have_text("发给客户")
    expect(item(page, thread["bounced"]).locator(".delivery")).to_have_text("未送达")
    expect(item(page, thread["bounced"]).locator(".delivery-error")).to_contain_text(
        "邮件服务器答复：550 5.1.1"
    )
    expect(item(page, thread["queued"]).locator(".delivery")).to_have_text("排队中")
    expect(page.locator("#reply-quote")).to_have_text("引用客户最近一条消息")


def test_only_those_who_may_see_the_ticket_download_its_files(
    browser: Any, server: str, desk: Any, thread: dict[str, Any]
) -> None:
    url = f"/api/attachments/{thread['invoice'].pk}/"
    outsider = login(browser, server, "outsider", "pw")  # Billing's agent

    refused = outsider.request.get(url)

    assert refused.status == 404
    assert refused.json() == {"detail": "Attachment not found.", "errors": {}}
    outsider.goto(f"/tickets/{thread['ticket'].pk}/")
    expect(outsider.locator("body")).not_to_contain_text("发票.pdf")

    update_ticket(thread["ticket"].pk, team=desk.other_team, assignee=desk.outsider)
    allowed = outsider.request.get(url)
    assert allowed.status == 200
    assert allowed.body() == INVOICE
    assert allowed.headers["x-content-type-options"] == "nosniff"
    assert allowed.headers["content-disposition"].startswith("attachment;")
