"""The customer pages in Chromium, as a customer meets them (docs/email.md, "Customer
pages"): the web form sent with a file, in English on a laptop and in Chinese on a phone
without JavaScript; the request page opened from its link, read and answered with a file;
an expired link traded for a new one by email.

Links are made by the same code the emails use, pointed at the test server."""

# Chinese text is written with full-width punctuation on purpose.
# ruff: noqa: RUF001

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import STEP_TIMEOUT_MS, VIEWPORT, expect, forget_server_cache

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.redis]

PHONE = {"width": 390, "height": 844}
RECEIPT = "**/help/sent/**"


@pytest.fixture
def fresh_throttle(live_layer: str) -> None:
    """The pages count POSTs per address in the server's cache, which outlives a test."""
    forget_server_cache(live_layer, "*help-throttle:*")
    forget_server_cache(live_layer, "*help-link-mail:*")


@pytest.fixture
def customer(browser: Any, server: str, fresh_throttle: None) -> Iterator[Callable[..., Any]]:
    """A fresh browser (no login, no cookies) per call, on the test server."""
    contexts: list[Any] = []

    def open_context(
        locale: str = "en-US", viewport: dict[str, int] | None = None, javascript: bool = True
    ) -> Any:
        context = browser.new_context(
            base_url=server,
            viewport=viewport or VIEWPORT,
            locale=locale,
            java_script_enabled=javascript,
        )
        context.set_default_timeout(STEP_TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield open_context
    for context in contexts:
        context.close()


def fits_the_screen(page: Any) -> bool:
    """Nothing wider than the viewport: no sideways scrolling on a phone."""
    return bool(
        page.evaluate(
            "() => document.documentElement.scrollWidth <= document.documentElement.clientWidth"
        )
    )


def send(page: Any, button: str, *, status: int = 303) -> Any:
    """Presses the button; returns the POST's response after checking its status and that
    the browser sent the site's real Origin (which Django's CSRF check compares)."""
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.get_by_role("button", name=button, exact=True).click()
    response = posted.value
    origin = response.request.all_headers().get("origin")
    assert response.status == status, f"POST answered {response.status} (Origin: {origin})"
    assert origin != "null"
    return response


def test_a_customer_sends_the_form_with_a_file_in_english(
    customer: Callable[..., Any], desk: Any, server: str, mailoutbox: list[Any]
) -> None:
    from mail.models import Attachment
    from outbox.services import drain
    from tests.factories import CategoryFactory
    from tickets.models import Ticket, TicketMessage

    CategoryFactory(code="hardware", name="Broken device")
    page = customer()
    page.goto("/help/")

    expect(page.locator("h1")).to_have_text("How can we help?")
    assert fits_the_screen(page)
    page.get_by_label("Your name").fill("Han Meimei")
    page.get_by_label("Your email address").fill("han.meimei@example.com")
    page.get_by_label("What is it about?").select_option("hardware")
    page.get_by_label("Subject").fill("Printer jams")
    page.get_by_label("What happened?").fill("Every second page jams.")
    page.locator("#id_attachments").set_input_files(
        [{"name": "jam.txt", "mimeType": "text/plain", "buffer": b"E42 paper jam"}]
    )
    posted = send(page, "Send")

    assert posted.request.all_headers().get("origin") == server
    page.wait_for_url(RECEIPT)
    ticket = Ticket.objects.get()
    expect(page.locator("#ticket-number")).to_have_text(ticket.number)
    expect(page.locator("main")).to_contain_text("An acknowledgement email is on its way")
    assert ticket.category is not None
    assert (ticket.channel, ticket.category.code, ticket.contact.email) == (
        "web",
        "hardware",
        "han.meimei@example.com",
    )
    first = TicketMessage.objects.get(ticket=ticket)
    assert (first.body, first.channel) == ("Every second page jams.", "web")
    stored = Attachment.objects.get(subject_kind="ticket", object_id=ticket.pk)
    assert (stored.name, stored.message_id, stored.file.read()) == (
        "jam.txt",
        first.pk,
        b"E42 paper jam",
    )
    # A reload of the answer sends nothing again.
    page.reload()
    expect(page.locator("#ticket-number")).to_have_text(ticket.number)
    assert Ticket.objects.count() == 1

    # The acknowledgement arrives with the number and the link to the request page, which
    # shows the request and its file.
    drain()
    ack = next(m for m in mailoutbox if m.to == ["han.meimei@example.com"])
    assert ticket.number in ack.subject
    link = re.search(r"/help/requests/[^/\s]+/", ack.body)
    assert link is not None
    page.goto(link.group(0))
    expect(page.locator("#ticket-number")).to_have_text(ticket.number)
    expect(page.locator(".message")).to_have_count(1)
    expect(page.locator(".message")).to_contain_text("Every second page jams.")
    expect(page.get_by_role("link", name="jam.txt")).to_be_visible()


def test_a_customer_sends_the_form_in_chinese_on_a_phone_without_javascript(
    customer: Callable[..., Any], desk: Any
) -> None:
    from mail.models import Attachment
    from tickets.models import Ticket

    page = customer(locale="zh-CN", viewport=PHONE, javascript=False)
    page.goto("/help/")

    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.locator("h1")).to_have_text("我们能帮您什么？")
    assert fits_the_screen(page)
    page.get_by_label("您的电子邮箱地址").fill("li.lei@example.com")
    page.get_by_label("主题").fill("打印机卡纸")
    page.get_by_label("发生了什么？").fill("每隔一页就卡纸。")
    page.locator("#id_attachments").set_input_files(
        [
            {"name": "照片.jpg", "mimeType": "image/jpeg", "buffer": b"\xff\xd8photo"},
            {"name": "日志.txt", "mimeType": "text/plain", "buffer": "卡纸".encode()},
        ]
    )
    send(page, "发送")

    page.wait_for_url(RECEIPT)
    ticket = Ticket.objects.get()
    expect(page.locator("#ticket-number")).to_have_text(ticket.number)
    expect(page.locator("main")).to_contain_text("确认邮件正在发送给您")
    assert fits_the_screen(page)
    assert ticket.subject == "打印机卡纸"
    assert ticket.contact == desk.contact  # the known address
    names = set(Attachment.objects.filter(object_id=ticket.pk).values_list("name", flat=True))
    assert names == {"照片.jpg", "日志.txt"}


def test_a_refused_file_shows_the_form_again_with_the_fields_kept(
    customer: Callable[..., Any], desk: Any
) -> None:
    """Without JavaScript the server refuses the file; with it, the page names the file
    before anything is uploaded."""
    from django.conf import settings

    from tickets.models import Ticket

    page = customer(javascript=False)
    page.goto("/help/")
    page.get_by_label("Your email address").fill("han.meimei@example.com")
    page.get_by_label("Subject").fill("Installer")
    page.get_by_label("What happened?").fill("The installer does not start.")
    page.locator("#id_attachments").set_input_files(
        [{"name": "setup.exe", "mimeType": "application/x-msdownload", "buffer": b"MZ"}]
    )
    send(page, "Send", status=400)

    expect(page.locator("#err-attachments")).to_contain_text("setup.exe is of a type")
    expect(page.get_by_label("Subject")).to_have_value("Installer")
    expect(page.get_by_label("What happened?")).to_have_value("The installer does not start.")
    assert not Ticket.objects.exists()

    scripted = customer()
    scripted.goto("/help/")
    too_big = b"x" * (settings.KEFU_ATTACHMENT_MAX_BYTES + 1)
    scripted.locator("#id_attachments").set_input_files(
        [{"name": "huge.bin", "mimeType": "application/octet-stream", "buffer": too_big}]
    )
    expect(scripted.locator("#files-problem")).to_contain_text("huge.bin is too large")


def test_the_language_switch_and_a_double_click(customer: Callable[..., Any], desk: Any) -> None:
    from tickets.models import Ticket

    page = customer()
    page.goto("/help/")
    page.get_by_role("button", name="简体中文").click()
    expect(page.locator("h1")).to_have_text("我们能帮您什么？")
    page.get_by_role("button", name="English").click()
    expect(page.locator("h1")).to_have_text("How can we help?")

    page.get_by_label("Your email address").fill("quick@example.com")
    page.get_by_label("Subject").fill("Impatient")
    page.get_by_label("What happened?").fill("Clicked twice.")
    posts: list[Any] = []
    page.on("request", lambda r: posts.append(r) if r.method == "POST" else None)
    held: list[Any] = []

    def hold_the_first_post(route: Any) -> None:
        if route.request.method == "POST" and not held:
            held.append(route)
        else:
            route.continue_()

    page.route("**/help/", hold_the_first_post)
    button = page.get_by_role("button", name="Send", exact=True)
    button.scroll_into_view_if_needed()
    box = button.bounding_box()
    assert box is not None
    page.mouse.dblclick(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    until(page, lambda: len(held) == 1)
    held[0].continue_()

    page.wait_for_url(RECEIPT)
    assert [r.method for r in posts] == ["POST"]
    expect(page.locator("#ticket-number")).to_have_text(Ticket.objects.get().number)


# --- the request page ---------------------------------------------------------------------
@pytest.fixture
def waiting_ticket(desk: Any, settings: Any, server: str) -> Any:
    """A ticket waiting on the customer: an agent asked for a log, and noted something
    internal; its link is made for the test server."""
    from tests.factories import open_ticket
    from tickets import services

    settings.SITE_URL = server
    ticket = open_ticket(desk, subject="VPN drops", description="It drops every hour.")
    services.reply_to_ticket(
        ticket_id=ticket.pk, actor=ticket.assignee, body="Please send the VPN log.", internal=False
    )
    services.reply_to_ticket(
        ticket_id=ticket.pk, actor=ticket.assignee, body="SECRET internal note", internal=True
    )
    services.put_on_hold(ticket_id=ticket.pk, actor=ticket.assignee)
    ticket.refresh_from_db()
    return ticket


def test_the_customer_reads_and_answers_with_a_file_and_the_ticket_resumes(
    customer: Callable[..., Any], waiting_ticket: Any, server: str, tmp_path: Path
) -> None:
    from mail.models import Attachment
    from tickets.links import request_url
    from tickets.models import TicketMessage

    ticket = waiting_ticket
    url = request_url(ticket_id=ticket.pk, contact_id=ticket.contact_id)
    assert url.startswith(f"{server}/help/requests/")
    page = customer(viewport=PHONE)
    page.goto(url)

    expect(page.locator("#ticket-number")).to_have_text(ticket.number)
    expect(page.locator("h1")).to_have_text("VPN drops")
    expect(page.locator("#status strong")).to_have_text("Waiting for your reply")
    expect(page.locator(".message")).to_have_count(2)
    expect(page.locator(".message").nth(0)).to_contain_text("It drops every hour.")
    expect(page.locator(".message").nth(1)).to_contain_text("Please send the VPN log.")
    expect(page.locator("main")).not_to_contain_text("SECRET")
    assert fits_the_screen(page)

    page.get_by_label("Your message").fill("Here is the log.")
    page.locator("#id_attachments").set_input_files(
        [{"name": "vpn.log", "mimeType": "text/plain", "buffer": b"disconnect at 10:00"}]
    )
    send(page, "Send")

    page.wait_for_url("**?sent=1#latest")
    expect(page.locator("#notice")).to_contain_text("Your message was added to your request.")
    expect(page.locator("#status strong")).to_have_text("In progress")
    expect(page.locator("#latest")).to_contain_text("Here is the log.")
    ticket.refresh_from_db()
    assert ticket.status == "open"
    message = TicketMessage.objects.filter(ticket=ticket).latest("id")
    assert (message.body, message.channel, message.internal) == ("Here is the log.", "web", False)
    stored = Attachment.objects.get(message_id=message.pk)
    assert stored.name == "vpn.log"

    # The file of the conversation downloads through the page's link.
    with page.expect_download() as download:
        page.locator("#latest").get_by_role("link", name="vpn.log").click()
    saved = tmp_path / "vpn.log"
    download.value.save_as(saved)
    assert saved.read_bytes() == b"disconnect at 10:00"


def test_the_request_page_in_chinese(customer: Callable[..., Any], waiting_ticket: Any) -> None:
    from tickets.links import request_url

    page = customer(locale="zh-CN")
    page.goto(request_url(ticket_id=waiting_ticket.pk, contact_id=waiting_ticket.contact_id))

    expect(page.locator("#status strong")).to_have_text("等待您的回复")
    expect(page.locator("#reply-title")).to_have_text("回复")
    expect(page.locator(".message.from-us .author")).to_have_text("客户服务")


def test_the_link_stays_out_of_referers_to_other_sites(
    customer: Callable[..., Any],
    waiting_ticket: Any,
    elsewhere: tuple[str, dict[str, str | None]],
) -> None:
    from tickets.links import request_url

    url, seen = elsewhere
    page = customer()
    page.goto(request_url(ticket_id=waiting_ticket.pk, contact_id=waiting_ticket.contact_id))
    expect(page.locator("#ticket-number")).to_have_text(waiting_ticket.number)

    page.evaluate(
        """url => { const a = document.createElement("a"); a.href = url;
                    a.textContent = "elsewhere"; document.body.append(a); a.click(); }""",
        url,
    )
    page.wait_for_url(url)
    assert "/" in seen
    assert seen["/"] is None


def test_an_expired_link_is_traded_for_a_new_one_by_email(
    customer: Callable[..., Any], waiting_ticket: Any, mailoutbox: list[Any]
) -> None:
    from django.core import signing

    from outbox.services import drain
    from tickets import links
    from tickets.emails import LINK_REQUESTED

    ticket = waiting_ticket

    class Backdated(signing.TimestampSigner):
        def timestamp(self) -> str:
            return signing.b62_encode(int(time.time() - 40 * 86400))

    expired = Backdated(salt=links.SALT).sign_object([ticket.pk, ticket.contact_id], compress=False)
    page = customer()
    with page.expect_response(lambda r: "/help/requests/" in r.url) as opened:
        page.goto(f"/help/requests/{expired}/")
    assert opened.value.status == 410
    expect(page.locator("h1")).to_have_text("This link has expired")
    expect(page.locator("main")).not_to_contain_text("VPN drops")

    page.get_by_label("Your email address").fill("LI.LEI@example.com")
    send(page, "Email me a new link", status=200)

    expect(page.locator("#neutral")).to_have_text(
        "If this address belongs to the request, a new link is on its way."
    )
    drain()
    [email] = [
        m
        for m in mailoutbox
        if m.extra_headers.get("X-Kefu-Outbox-Key", "").startswith(LINK_REQUESTED)
    ]
    assert email.to == [ticket.contact.email]
    assert ticket.number in email.subject
    link = re.search(r"/help/requests/[^/\s]+/", email.body)
    assert link is not None

    page.goto(link.group(0))
    expect(page.locator("#ticket-number")).to_have_text(ticket.number)
    expect(page.locator(".message").nth(1)).to_contain_text("Please send the VPN log.")


def until(page: Any, condition: Callable[[], bool]) -> None:
    """Round trips to the browser until ``condition`` holds: Playwright hands its events
    (a routed request, say) to this thread only while a call is waiting on the browser."""
    for _ in range(200):
        if condition():
            return
        page.context.cookies()
    raise AssertionError("the browser never got there")
