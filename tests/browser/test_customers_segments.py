"""The segment editor and the public unsubscribe page in Chromium: build a segment, watch
the live count follow the conditions, save, freeze; open an unsubscribe link, press the
button, read the confirmation (docs/customers-segments.md)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from customers import unsubscribe as links
from customers.models import Consent, Segment, SegmentSnapshot, Suppression
from tests.browser.conftest import VIEWPORT, expect, login
from tests.factories import ContactFactory, CustomerFactory, MarketingFactory

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.redis]
EDITOR = re.compile(r"/segments/\d+/$")


def watch(page: Any) -> list[str]:
    """Script errors and refusals by the Content-Security-Policy."""
    seen: list[str] = []
    page.on("pageerror", lambda error: seen.append(str(error)))
    page.on(
        "console",
        lambda message: (
            seen.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    return seen


def test_build_a_segment_watch_the_live_count_save_and_freeze(
    browser: Any, server: str, transactional_db: Any
) -> None:
    MarketingFactory(username="mkt")
    gold = CustomerFactory(tier="gold", region="east")
    std = CustomerFactory(tier="standard", region="east")
    for _ in range(3):
        ContactFactory(customer=gold)
    for _ in range(5):
        ContactFactory(customer=std)
    page = login(browser, server, "mkt", "pw")
    problems = watch(page)
    page.goto("/segments/new/")
    count = page.locator("#live-count")
    expect(count).to_have_text("8")  # no condition: everyone
    page.fill("#segment-name", "Gold customers")
    page.click("#add-condition")
    condition = page.locator("#conditions li.condition").first
    expect(condition.locator("select.condition-field")).to_have_value("customer.tier")
    condition.locator("select.condition-value").select_option("gold")
    expect(count).to_have_text("3")
    expect(page.locator("#preview tbody tr")).to_have_count(3)
    condition.locator("select.condition-value").select_option("standard")
    expect(count).to_have_text("5")
    # a wrong value is marked on its condition
    page.click("#add-condition")
    second = page.locator("#conditions li.condition").nth(1)
    second.locator("select.condition-field").select_option("activity.last_ticket_days")
    second.locator("input.condition-value").fill("0")
    expect(second.locator(".condition-error")).not_to_be_empty()
    second.locator("button.remove-condition").click()
    expect(count).to_have_text("5")
    condition.locator("select.condition-value").select_option("gold")
    expect(count).to_have_text("3")
    page.click("#save-segment")
    page.wait_for_url(EDITOR)
    segment = Segment.objects.get()
    assert segment.name == "Gold customers"
    assert segment.definition == {"all": [{"field": "customer.tier", "op": "eq", "value": "gold"}]}
    expect(page.locator("#live-count")).to_have_text("3")
    page.click("#freeze-segment")
    expect(page.locator("#segment-status")).to_contain_text("3")
    snapshot = SegmentSnapshot.objects.get(segment=segment)
    assert snapshot.size == 3
    assert problems == []


def test_open_an_unsubscribe_link_press_the_button_see_the_confirmation(
    browser: Any, server: str, transactional_db: Any
) -> None:
    from django.utils import timezone

    contact: Any = ContactFactory(email="li.lei@example.com", language="zh-hans")
    Consent.objects.create(
        contact=contact, purpose="marketing_email", granted=True, source="form", at=timezone.now()
    )
    context = browser.new_context(base_url=server, viewport=VIEWPORT)
    page = context.new_page()
    problems = watch(page)
    page.goto(f"/u/{links.make_token(contact, 'marketing_email')}/")
    expect(page.locator("#unsubscribe-what")).to_contain_text("li***@example.com")
    # the page opened; nothing changed yet
    assert Consent.objects.get(contact=contact).granted is True
    page.click("#unsubscribe-button")
    expect(page.locator("#unsubscribe-done")).to_have_text("您已退订")
    assert Consent.objects.get(contact=contact).granted is False
    assert Suppression.objects.filter(address="li.lei@example.com").exists()
    # a tampered link: refused, said plainly
    page.goto("/u/not-a-token/")
    expect(page.locator("#unsubscribe-problem")).to_be_visible()
    assert problems == []
    context.close()
