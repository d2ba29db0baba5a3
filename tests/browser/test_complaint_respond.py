"""The customer's accept-or-dispute page in Chromium (docs/complaints.md, "Closing"), opened
from the link of a real outcome email in the outbox: accepted in English on a laptop (a
double click answers once); disputed in Chinese on a phone without JavaScript, which sends
the complaint back to handling at escalation level 2; the page after the window; a link
that is not Kefu's."""

# ruff: noqa: RUF001

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest

from tests.browser.conftest import STEP_TIMEOUT_MS, VIEWPORT, expect, forget_server_cache

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.redis]

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def cdesk(transactional_db: Any, live_layer: str) -> Any:
    from tests.factories.complaints import build_complaints_desk

    forget_server_cache(live_layer, "*help-throttle:*")
    return build_complaints_desk()


@pytest.fixture
def customer(browser: Any, server: str) -> Iterator[Callable[..., Any]]:
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


def answered(cdesk: Any) -> tuple[Any, str]:
    """A complaint decided within the handler's limit: the final answer is in the outbox;
    the path of the link it carries."""
    from complaints import services
    from outbox.models import OutboxMessage
    from tests.factories.complaints import open_complaint

    complaint = open_complaint(cdesk, title="Charged twice for one order")
    services.acknowledge_complaint(complaint_id=complaint.pk, actor=complaint.assignee)
    services.propose_resolution(
        complaint_id=complaint.pk,
        actor=complaint.assignee,
        outcome="partially_upheld",
        resolution="We refund the second charge within five days.",
        root_cause="system-defect",
        compensation_amount="50.00",
        compensation_kind="refund",
    )
    email = OutboxMessage.objects.get(kind="complaint.outcome", object_id=complaint.pk)
    assert email.to == cdesk.contact.email
    link = next(w for w in email.body_text.split() if "/help/complaints/" in w)
    return complaint, link[link.index("/help/complaints/") :]


def fits_the_screen(page: Any) -> bool:
    return bool(
        page.evaluate(
            "() => document.documentElement.scrollWidth <= document.documentElement.clientWidth"
        )
    )


def test_the_customer_accepts_in_english_and_a_double_click_answers_once(
    customer: Callable[..., Any], cdesk: Any
) -> None:
    from audit.models import AuditEvent

    complaint, path = answered(cdesk)
    page = customer()
    page.goto(path)
    expect(page.locator("#complaint-number")).to_have_text(complaint.number)
    expect(page.locator("#complaint-title")).to_have_text("Charged twice for one order")
    expect(page.locator("#outcome")).to_contain_text("Partially upheld")
    expect(page.locator("#resolution")).to_contain_text("We refund the second charge")
    expect(page.locator("#compensation")).to_contain_text("50.00")
    expect(page.locator("#compensation")).to_contain_text("Refund")

    posts: list[Any] = []
    page.on("request", lambda r: posts.append(r) if r.method == "POST" else None)
    page.get_by_role("button", name="I accept the answer").dblclick()

    expect(page.locator("#answered")).to_contain_text("You accepted our answer")
    expect(page.locator("#answered")).to_contain_text("Thank you")
    assert page.url.endswith(f"{path}?done=accept")
    assert len(posts) == 1
    assert posts[0].header_value("origin") not in (None, "null")
    complaint.refresh_from_db()
    assert complaint.customer_response == "accepted"
    assert AuditEvent.objects.filter(complaint=complaint, verb="accepted").count() == 1
    expect(page.get_by_role("button", name="I accept the answer")).to_have_count(0)


def test_the_customer_disputes_in_chinese_on_a_phone_without_javascript(
    customer: Callable[..., Any], cdesk: Any
) -> None:
    cdesk.contact.language = "zh-hans"
    cdesk.contact.save(update_fields=["language"])
    complaint, path = answered(cdesk)
    page = customer(locale="en-US", viewport=PHONE, javascript=False)
    page.goto(path)
    # The contact's language, not the browser's.
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.get_by_role("heading", name="您是否接受这一答复？")).to_be_visible()
    expect(page.locator("#outcome")).to_contain_text("投诉部分成立")
    assert fits_the_screen(page)

    token = page.locator("#dispute-form input[name=csrfmiddlewaretoken]").input_value()
    page.fill("#id_reason", "退款金额不够，我被收了两次费。")
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.get_by_role("button", name="对答复提出异议").click()
    assert posted.value.status == 303

    expect(page.locator("#answered")).to_contain_text("您已告知我们您不同意我们的答复")
    assert fits_the_screen(page)
    complaint.refresh_from_db()
    assert complaint.status == "investigating"
    assert complaint.dispute_reason == "退款金额不够，我被收了两次费。"
    assert complaint.sla_clock is not None and complaint.sla_clock.escalation_level == 2

    # The same form sent a second time (a double press without JavaScript): answered once.
    again = page.request.post(
        path, form={"csrfmiddlewaretoken": token, "choice": "dispute", "reason": "再说一次"}
    )
    assert again.status == 409
    assert "您的回复此前已记录" in again.text()
    complaint.refresh_from_db()
    assert complaint.disputes == 1 and complaint.dispute_reason == "退款金额不够，我被收了两次费。"


def test_after_the_window_the_page_says_the_time_is_over(
    customer: Callable[..., Any], cdesk: Any
) -> None:
    from django.utils import timezone

    from complaints.models import Complaint

    complaint, path = answered(cdesk)
    Complaint.objects.filter(pk=complaint.pk).update(
        response_due_at=timezone.now() - timedelta(minutes=5)
    )
    page = customer()
    response = page.goto(path)

    assert response is not None and response.status == 410
    expect(page.locator("#gone")).to_contain_text("The time to answer is over")
    expect(page.locator("#complaint-number")).to_have_text(complaint.number)
    expect(page.locator("form#accept-form")).to_have_count(0)
    expect(page.locator("form#dispute-form")).to_have_count(0)


def test_a_link_that_is_not_ours_is_not_found(customer: Callable[..., Any], cdesk: Any) -> None:
    from complaints.links import respond_token

    complaint, _path = answered(cdesk)
    # Signed for another contact: Kefu never sent this link.
    forged = respond_token(complaint_id=complaint.pk, contact_id=cdesk.contact.pk + 999, answer=0)
    page = customer()
    for path in ("/help/complaints/garbage/", f"/help/complaints/{forged}/"):
        response = page.goto(path)
        assert response is not None and response.status == 404
        expect(page.locator("#problem")).to_have_text("We could not find this answer")
