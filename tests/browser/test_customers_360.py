"""The customers list and the 360 page in Chromium: a Chinese name found by part of it, the
customer's facts, contacts and a ticket on the timeline, and "Show older" reading the next
page of the timeline through the API (no inline script: the CSP would refuse it)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from audit import services as audit_services
from audit.models import AuditEvent
from tests.browser.conftest import expect, login
from tests.factories import open_ticket

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.redis]


def watch(page: Any) -> list[str]:
    seen: list[str] = []
    page.on("pageerror", lambda error: seen.append(str(error)))
    page.on(
        "console",
        lambda message: (
            seen.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    return seen


def test_find_by_chinese_name_open_the_360_page_and_read_older_entries(
    browser: Any, server: str, desk: Any
) -> None:
    customer = desk.customer
    customer.name = "王芳贸易有限公司"
    customer.region = "华东"
    customer.tags = ["vip"]
    customer.save()
    desk.contact.name = "王芳"
    desk.contact.save()
    ticket = open_ticket(desk, subject="打印机无法连接")
    # more than one page of older history, a day back
    old = [
        audit_services.record(
            kind="customer", verb="changed", actor=desk.admin, customer_id=customer.pk
        ).pk
        for _ in range(40)
    ]
    AuditEvent.objects.filter(pk__in=old).update(created_at=timezone.now() - timedelta(days=1))
    total = AuditEvent.objects.filter(customer_id=customer.pk).count()
    assert total > 25

    page = login(browser, server, "supervisor", "pw")
    errors = watch(page)
    page.goto("/customers/")
    page.get_by_label("Search").fill("芳")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url(re.compile(r"q=%E8%8A%B3"))
    link = page.locator("#customers-table").get_by_role("link", name="王芳贸易有限公司")
    expect(link).to_be_visible()
    link.click()
    page.wait_for_url(re.compile(rf"/customers/{customer.pk}/$"))

    expect(page.locator("#customer-name")).to_have_text("王芳贸易有限公司")
    expect(page.locator("#fact-region")).to_have_text("华东")
    expect(page.locator("#contacts")).to_contain_text("王芳")
    expect(page.locator("#contacts")).to_contain_text("li.lei@example.com")
    entries = page.locator("#timeline li.entry")
    expect(entries).to_have_count(25)
    subject = page.locator("#timeline a.subject").first
    expect(subject).to_contain_text("打印机无法连接")
    expect(subject).to_have_attribute("href", f"/tickets/{ticket.pk}/")

    page.get_by_role("button", name="Show older").click()
    expect(entries).to_have_count(min(total, 50))
    if total > 50:
        page.get_by_role("button", name="Show older").click()
    expect(entries).to_have_count(total)
    expect(page.get_by_role("button", name="Show older")).to_be_hidden()
    ids = [int(x) for x in entries.evaluate_all("(items) => items.map((i) => i.dataset.id)")]
    assert len(set(ids)) == total
    assert set(old) <= set(ids)
    assert errors == []
