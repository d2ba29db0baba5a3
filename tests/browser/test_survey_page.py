"""The public survey page in Chromium, as a customer meets it: a ticket closes, the outbox
delivers the invitation, the customer clicks a score in the email (a fresh browser, no
login), comments, sends, and later changes the answer.

The links come from the email the service rendered and the outbox delivered, with the
public URL pointed at the test server, so the page is reached exactly as from a mailbox."""

# Chinese text is written with full-width punctuation on purpose.
# ruff: noqa: RUF001

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from html import unescape
from typing import Any

import pytest

from tests.browser.conftest import STEP_TIMEOUT_MS, VIEWPORT, forget_server_cache

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.redis]

HREF = re.compile(r'href="([^"]+)"')
SCORE_LINK = re.compile(r"/s/[A-Za-z0-9_-]{43}/\?score=(\d+)$")


def expect(locator: Any) -> Any:
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(locator)


@dataclass
class Emailed:
    """One delivered invitation: its HTML and text bodies and the links in them."""

    invitation: Any
    html: str
    text: str
    score_links: dict[int, str]
    form_link: str


@pytest.fixture
def desk(transactional_db: Any) -> Any:
    from tests.factories import SurveyTemplateFactory, build_desk

    # The built-in default template (a migration creates it; transactional tests flush it).
    SurveyTemplateFactory(name="CSAT", scale="csat", is_default=True)
    return build_desk()


@pytest.fixture
def fresh_throttle(live_layer: str) -> None:
    """The page is throttled per address (30/min) in the server's cache, which outlives a
    test; the counters of 127.0.0.1 start from zero, as ``_clear_cache`` does here."""
    forget_server_cache(live_layer, "*survey-throttle:*")


@pytest.fixture
def close_and_email(
    server: str, desk: Any, settings: Any, mailoutbox: list[Any], fresh_throttle: None
) -> Callable[..., Emailed]:
    """Closes a ticket of the desk's contact and delivers its invitation through the
    outbox; returns what the customer received."""
    from outbox.services import drain
    from surveys.models import Invitation
    from tests.factories import open_ticket
    from tickets import services as tickets

    settings.KEFU_SURVEY_PUBLIC_URL = server  # the site's public address, as deployed

    def close(subject: str = "Printer on fire") -> Emailed:
        ticket = open_ticket(desk, subject=subject)
        tickets.close_ticket(ticket_id=ticket.pk, actor=desk.supervisor)
        invitation = Invitation.objects.get(ticket=ticket)
        sent_before = len(mailoutbox)
        drain()
        # the acknowledgement, the "closed" notice and the survey invitation
        sent = mailoutbox[sent_before:]
        assert len(sent) == 3
        [message] = [
            m for m in sent if m.extra_headers.get("X-Kefu-Outbox-Key", "").startswith("survey")
        ]
        assert message.to == [desk.contact.email]
        html = next(body for body, kind in message.alternatives if kind == "text/html")
        links = [unescape(href) for href in HREF.findall(html)]
        scores = {int(m.group(1)): link for link in links if (m := SCORE_LINK.search(link))}
        form = next(link for link in links if "?" not in link)
        for link in links:  # the text part carries the same links
            assert link in message.body
            assert link.startswith(f"{server}/s/")
        return Emailed(invitation, html, message.body, scores, form)

    return close


@pytest.fixture
def customer(browser: Any) -> Iterator[Callable[..., Any]]:
    """A fresh browser context per call (no login, no cookies): the customer's mailbox."""
    contexts: list[Any] = []

    def open_context(locale: str = "en", javascript: bool = True) -> Any:
        context = browser.new_context(
            viewport=VIEWPORT, locale=locale, java_script_enabled=javascript
        )
        context.set_default_timeout(STEP_TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield open_context
    for context in contexts:
        context.close()


def click_in_email(page: Any, emailed: Emailed, score: int) -> None:
    """Shows the HTML email in the page and clicks the score, as in a webmail."""
    page.set_content(emailed.html)
    page.get_by_role("link", name=str(score), exact=True).click()
    page.wait_for_url(emailed.score_links[score])


def send(page: Any, button: str) -> Any:
    """Presses the button; returns the POST's response (a 303 to the saved page)."""
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.get_by_role("button", name=button).click()
    response = posted.value
    origin = response.request.all_headers().get("origin")
    assert response.status == 303, f"POST answered {response.status} (Origin: {origin})"
    page.wait_for_url("**/?saved=1")
    return response


def test_a_customer_answers_from_the_email_and_changes_the_answer(
    customer: Callable[..., Any], close_and_email: Callable[..., Emailed], server: str
) -> None:
    from surveys.models import SurveyResponse

    emailed = close_and_email()
    assert sorted(emailed.score_links) == [1, 2, 3, 4, 5]
    invitation = emailed.invitation
    page = customer()

    click_in_email(page, emailed, 4)

    expect(page.locator("h1")).to_have_text("How did we do?")
    expect(page.locator(".ticket")).to_contain_text(invitation.subject_number)
    expect(page.locator("input[name=score][value='4']")).to_be_checked()
    expect(page.locator("input[name=score]:checked")).to_have_count(1)
    assert not SurveyResponse.objects.exists()  # opening the link records nothing

    page.locator("textarea[name=comment]").fill("Quick and kind")
    posted = send(page, "Send my answer")

    # The browser sent its real origin, and Django's CSRF check took it.
    assert posted.request.all_headers().get("origin") == server
    expect(page.get_by_role("status")).to_contain_text("Thank you! Your answer is saved.")
    expect(page.locator("input[name=score][value='4']")).to_be_checked()
    expect(page.locator("textarea[name=comment]")).to_have_value("Quick and kind")
    answer = SurveyResponse.objects.get(invitation=invitation)
    assert (answer.score, answer.comment) == (4, "Quick and kind")

    # Changing the answer on the same page updates the one response.
    page.locator("input[name=score][value='2']").check()
    page.locator("textarea[name=comment]").fill("On second thought: slow")
    send(page, "Update my answer")

    expect(page.get_by_role("status")).to_contain_text("Thank you! Your answer is saved.")
    expect(page.locator("input[name=score][value='2']")).to_be_checked()
    assert SurveyResponse.objects.filter(invitation=invitation).count() == 1
    updated = SurveyResponse.objects.get(invitation=invitation)
    assert (updated.pk, updated.score, updated.comment) == (answer.pk, 2, "On second thought: slow")
    assert updated.answered_at == answer.answered_at
    assert updated.updated_at > answer.updated_at


def test_reopening_the_form_link_later_shows_and_updates_the_saved_answer(
    customer: Callable[..., Any], close_and_email: Callable[..., Emailed]
) -> None:
    from surveys.models import SurveyResponse

    emailed = close_and_email()
    first = customer()
    click_in_email(first, emailed, 5)
    send(first, "Send my answer")

    # Days later, another browser, the "add a comment" link of the email.
    later = customer()
    later.goto(emailed.form_link)
    expect(later.locator("input[name=score][value='5']")).to_be_checked()
    expect(later.get_by_role("button")).to_have_text("Update my answer")
    later.locator("textarea[name=comment]").fill("Fixed in a day")
    send(later, "Update my answer")

    expect(later.get_by_role("status")).to_be_visible()
    answer = SurveyResponse.objects.get(invitation=emailed.invitation)
    assert (answer.score, answer.comment) == (5, "Fixed in a day")


def test_a_chinese_speaking_contact_answers_in_chinese(
    customer: Callable[..., Any], close_and_email: Callable[..., Emailed], desk: Any
) -> None:
    from surveys.models import SurveyResponse

    desk.contact.language = "zh-hans"
    desk.contact.save(update_fields=["language"])
    emailed = close_and_email(subject="打印机冒烟")
    assert "您对我们处理您请求的方式满意吗？" in emailed.text
    page = customer(locale="en-US")  # the page follows the contact, not the browser

    click_in_email(page, emailed, 3)

    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.locator("h1")).to_have_text("我们的服务如何？")
    expect(page.locator("legend").first).to_have_text("您对我们处理您请求的方式满意吗？")
    expect(page.locator(".ticket")).to_contain_text("打印机冒烟")
    expect(page.locator("input[name=score][value='3']")).to_be_checked()
    page.locator("textarea[name=comment]").fill("客服很耐心，谢谢！")
    send(page, "提交我的答复")

    expect(page.get_by_role("status")).to_contain_text("谢谢！您的答复已保存。")
    expect(page.get_by_role("button")).to_have_text("更新我的答复")
    answer = SurveyResponse.objects.get(invitation=emailed.invitation)
    assert (answer.score, answer.comment) == (3, "客服很耐心，谢谢！")


def test_an_expired_link_shows_the_closed_page_and_records_nothing(
    customer: Callable[..., Any], close_and_email: Callable[..., Emailed]
) -> None:
    from django.utils import timezone

    from surveys.models import Invitation, SurveyResponse

    emailed = close_and_email()
    gone = timezone.now() - timedelta(seconds=1)

    # Opened in time, sent after the expiry: the answer is refused with the closed page.
    page = customer()
    click_in_email(page, emailed, 4)
    Invitation.objects.filter(pk=emailed.invitation.pk).update(expires_at=gone)
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.get_by_role("button", name="Send my answer").click()
    assert posted.value.status == 410
    expect(page.locator("h1").first).to_have_text("This survey has closed")

    # Opened after the expiry: the closed page, in both languages, and no form.
    late = customer()
    with late.expect_response(lambda r: "/s/" in r.url) as opened:
        late.goto(emailed.score_links[5])
    assert opened.value.status == 410
    expect(late.locator("section[lang=en] h1")).to_have_text("This survey has closed")
    expect(late.locator("section[lang=zh-hans] h1")).to_have_text("此调查已结束")
    expect(late.locator("form")).to_have_count(0)
    assert not SurveyResponse.objects.exists()


def until(page: Any, condition: Callable[[], bool]) -> None:
    """Round trips to the browser until ``condition`` holds: Playwright hands its events
    (a routed request, say) to this thread only while a call is waiting on the browser."""
    for _ in range(200):
        if condition():
            return
        page.context.cookies()
    raise AssertionError("the browser never got there")


def test_a_double_click_on_send_posts_once(
    customer: Callable[..., Any], close_and_email: Callable[..., Emailed]
) -> None:
    from surveys.models import SurveyResponse

    emailed = close_and_email()
    page = customer()
    click_in_email(page, emailed, 5)
    posts: list[Any] = []
    page.on("request", lambda r: posts.append(r) if r.method == "POST" else None)
    # A slow network: the first POST waits in the browser until the customer has clicked
    # again, then goes on to the server; any later request goes straight through.
    held: list[Any] = []

    def hold_the_first_post(route: Any) -> None:
        if route.request.method == "POST" and not held:
            held.append(route)
        else:
            route.continue_()

    page.route("**/s/**", hold_the_first_post)
    box = page.get_by_role("button", name="Send my answer").bounding_box()
    assert box is not None
    middle = (box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)

    page.mouse.dblclick(*middle)
    until(page, lambda: len(held) == 1)
    page.mouse.click(*middle)  # still nothing on screen: an impatient third press
    held[0].continue_()

    page.wait_for_url("**/?saved=1")
    expect(page.get_by_role("status")).to_contain_text("Thank you! Your answer is saved.")
    assert [(r.method, r.failure) for r in posts] == [("POST", None)]
    answer = SurveyResponse.objects.get(invitation=emailed.invitation)
    assert answer.score == 5
    # The saved page is a new page: its button works again.
    expect(page.get_by_role("button", name="Update my answer")).to_be_enabled()


def test_the_form_works_without_javascript(
    customer: Callable[..., Any], close_and_email: Callable[..., Emailed]
) -> None:
    from surveys.models import SurveyResponse

    emailed = close_and_email()
    page = customer(javascript=False)
    page.goto(emailed.score_links[1])
    page.locator("textarea[name=comment]").fill("Nobody called back")
    send(page, "Send my answer")

    expect(page.get_by_role("status")).to_contain_text("Thank you! Your answer is saved.")
    answer = SurveyResponse.objects.get(invitation=emailed.invitation)
    assert (answer.score, answer.comment) == (1, "Nobody called back")


def test_the_token_stays_out_of_referers_to_other_sites(
    customer: Callable[..., Any],
    close_and_email: Callable[..., Emailed],
    elsewhere: tuple[str, dict[str, str | None]],
) -> None:
    url, seen = elsewhere
    emailed = close_and_email()
    page = customer()
    click_in_email(page, emailed, 4)
    send(page, "Send my answer")

    # A link to another site followed from the page (the saved page, token in its URL).
    page.evaluate(
        """url => { const a = document.createElement("a"); a.href = url;
                    a.textContent = "elsewhere"; document.body.append(a); a.click(); }""",
        url,
    )
    page.wait_for_url(url)
    expect(page.locator("p")).to_have_text("elsewhere")
    assert "/" in seen
    assert seen["/"] is None
