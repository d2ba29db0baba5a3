"""Duplicates in Chromium: a pair reviewed side by side, a field taken from the other
record, the merge, the log, and the undo; a pair marked "not a duplicate" and the mark
undone (docs/customers-merge.md)."""

from __future__ import annotations

from typing import Any

import pytest

from customers.models import Contact, DismissedPair, MergeLog
from tests.browser.conftest import expect, login
from tests.factories import ContactFactory, open_ticket
from tickets.models import Ticket

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.redis]


def test_review_merge_and_undo(server: str, browser: Any, desk: Any) -> None:
    other = desk.contact  # li.lei@example.com
    other.title = "Buyer"
    other.save()
    ticket = open_ticket(desk)
    kept: Any = ContactFactory(
        customer=desk.customer, name=other.name, email="lei.li@example.com", title="Engineer"
    )
    page = login(browser, server, "supervisor", "pw")
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    page.goto("/customers/duplicates/")
    pair = page.locator(f"#duplicate-pairs tr[data-a='{other.pk}'][data-b='{kept.pk}']")
    expect(pair).to_contain_text("Similar name")
    pair.locator("a.review").click()

    expect(page.locator("#compare")).to_be_visible()
    page.check("#keep-b")  # keep the newer contact
    page.check("#field-title-a")  # with the other one's job title
    expect(page.locator("#compare tr[data-field='email']")).to_have_class("differs")
    page.click("#merge-button")

    page.wait_for_url("**/customers/merges/")
    log = MergeLog.objects.get()
    row = page.locator(f"#merges tr[data-id='{log.pk}']")
    expect(row).to_contain_text("lei.li@example.com")
    kept.refresh_from_db()
    assert kept.title == "Buyer" and kept.email == "lei.li@example.com"
    assert Ticket.objects.get(pk=ticket.pk).contact_id == kept.pk
    assert Contact.objects.get(pk=other.pk).merged_into_id == kept.pk

    row.locator("button.undo").click()
    expect(page.locator(f"#merges tr[data-id='{log.pk}'] .undone-at")).to_be_visible()
    kept.refresh_from_db()
    assert kept.title == "Engineer"
    assert Ticket.objects.get(pk=ticket.pk).contact_id == other.pk
    assert Contact.objects.get(pk=other.pk).merged_into_id is None
    assert errors == []


def test_not_a_duplicate_and_undo(server: str, browser: Any, desk: Any) -> None:
    """A pair marked "not a duplicate" on the side-by-side screen leaves the list; the
    "Not duplicates" tab lists it and undoing the mark brings it back."""
    other = desk.contact  # li.lei@example.com
    twin: Any = ContactFactory(customer=desk.customer, name=other.name, email="lei@example.com")
    page = login(browser, server, "supervisor", "pw")
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    page.goto("/customers/duplicates/")
    pair = page.locator(f"#duplicate-pairs tr[data-a='{other.pk}'][data-b='{twin.pk}']")
    pair.locator("a.review").click()
    expect(page.locator("#compare")).to_be_visible()
    page.fill("#dismiss-reason", "Father and son")
    page.click("#not-duplicate-button")

    page.wait_for_url("**/customers/duplicates/?tab=contacts")
    expect(page.locator("#flash")).to_contain_text("Marked as not a duplicate.")
    expect(pair).to_have_count(0)
    dismissal = DismissedPair.objects.get()
    assert (dismissal.target, dismissal.low_id, dismissal.high_id, dismissal.reason) == (
        "contact",
        other.pk,
        twin.pk,
        "Father and son",
    )
    assert Contact.objects.get(pk=twin.pk).merged_into_id is None  # nothing merged

    page.click("#tab-dismissed")
    row = page.locator(f"#dismissed-pairs tr[data-id='{dismissal.pk}']")
    expect(row).to_contain_text("Father and son")
    expect(row).to_contain_text("lei@example.com")
    row.locator("button.restore").click()

    expect(page.locator("#flash")).to_contain_text("back on the list of likely duplicates")
    expect(page.locator("#dismissed-empty")).to_be_visible()
    assert not DismissedPair.objects.exists()
    page.click("#tab-contacts")
    expect(pair).to_contain_text("Similar name")
    assert errors == []
