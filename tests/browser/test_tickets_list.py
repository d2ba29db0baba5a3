"""The tickets list (/tickets/) in Chromium: filters, a Chinese search, a saved view, keyset
pages and the keyboard, at 1366x768, in English and in Chinese."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.browser.conftest import expect, login
from tests.factories import ContactFactory, open_ticket

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.redis]


# factory_boy factories are untyped: what they build, as Any
def make_contact(**fields: Any) -> Any:
    return ContactFactory(**fields)


ROWS = "#tickets tbody tr"


def _ids(page: Any) -> list[int]:
    return [int(i) for i in page.locator(ROWS).evaluate_all("rows => rows.map(r => r.dataset.id)")]


def _fits_the_screen(page: Any) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 1366, f"the page is {width} px wide at 1366x768"


def test_filter_search_in_chinese_save_a_view_page_and_use_the_keyboard(
    browser: Any, server: str, desk: Any
) -> None:
    desk.team.assignment = "manual"  # nobody gets them: the list is the place to find them
    desk.team.save(update_fields=["assignment"])
    contact = make_contact(customer=desk.customer, name="欧阳明轩")
    printers = [
        open_ticket(desk, subject=f"打印机无法连接 #{n}", priority="P1", contact_id=contact.pk)
        for n in range(3)
    ]
    others = [open_ticket(desk, subject=f"VPN drops, case {n}") for n in range(52)]
    newest_first = [t.pk for t in reversed(printers + others)]

    page = login(browser, server, "agent1", "pw")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Tickets").click()
    page.wait_for_url(re.compile(r"/tickets/$"))
    expect(page.locator(ROWS)).to_have_count(50)
    assert _ids(page) == newest_first[:50]
    _fits_the_screen(page)

    # keyset pages: older, then newer again, nothing lost or repeated
    page.locator("#page-next").click()
    page.wait_for_url(re.compile(r"cursor="))
    expect(page.locator(ROWS)).to_have_count(5)
    assert _ids(page) == newest_first[50:]
    expect(page.locator("#page-next")).to_have_count(0)
    page.locator("#page-previous").click()
    expect(page.locator(ROWS)).to_have_count(50)
    assert _ids(page) == newest_first[:50]

    # a filter applies as soon as it is chosen, and lands in the URL
    page.get_by_label("Priority").select_option("P1")
    page.wait_for_url(re.compile(r"priority=P1"))
    expect(page.locator(ROWS)).to_have_count(3)

    # "/" jumps to the search box; a Chinese search (the contact's name) on top of P1
    page.get_by_label("Priority").blur()
    page.locator("body").press("/")
    expect(page.locator("#ticket-search")).to_be_focused()
    page.keyboard.type("欧阳 打印机")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"search=[^&]"))
    assert _ids(page) == [t.pk for t in reversed(printers)]
    assert "priority=P1" in page.url
    assert "team=" not in page.url  # the URL keeps the filters set, nothing else

    # save the view; it shows as the current one, and survives a reload
    page.get_by_label("Save these filters as").fill("P1 打印机")
    page.get_by_role("button", name="Save view").click()
    saved = page.locator("#saved-views li").filter(has_text="P1 打印机")
    expect(saved.locator("a")).to_have_attribute("aria-current", "page")
    expect(page.locator("#saved-views-status")).to_have_text("Saved the view P1 打印机.")
    page.get_by_role("link", name="Clear filters").click()
    page.wait_for_url(re.compile(r"/tickets/$"))
    expect(page.locator(ROWS)).to_have_count(50)
    page.locator("#saved-views").get_by_role("link", name="P1 打印机").click()
    page.wait_for_url(re.compile(r"search=[^&]"))
    expect(page.locator("#ticket-search")).to_have_value("欧阳 打印机")
    expect(page.get_by_label("Priority")).to_have_value("P1")
    assert _ids(page) == [t.pk for t in reversed(printers)]

    # the keyboard: j / k and the arrows move the selection, Enter opens it
    page.locator("body").press("j")
    first = page.locator(ROWS).nth(0)
    expect(first).to_have_attribute("aria-selected", "true")
    expect(first).to_be_focused()
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("k")
    second = page.locator(ROWS).nth(1)
    expect(second).to_have_attribute("aria-selected", "true")
    expect(first).to_have_attribute("aria-selected", "false")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowUp")
    expect(second).to_have_attribute("aria-selected", "true")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(rf"/tickets/{printers[1].pk}/$"))

    # back on the list, the view is deleted
    page.go_back()
    page.locator("#saved-views").get_by_role("button", name="Delete the view P1 打印机").click()
    expect(page.locator("#saved-views li")).to_have_count(0)
    expect(page.locator("#saved-views-empty")).to_be_visible()
    page.reload()
    expect(page.locator("#saved-views li")).to_have_count(0)


def test_the_list_in_chinese_with_a_bad_filter_and_an_empty_result(
    browser: Any, server: str, desk: Any
) -> None:
    ticket = open_ticket(desk, subject="网络故障", description="交换机重启后仍然掉线")

    page = login(browser, server, "supervisor", "pw", language="zh-hans")
    page.goto("/tickets/")
    expect(page.locator("h1")).to_have_text("工单")
    expect(page.get_by_label("搜索")).to_have_attribute("aria-keyshortcuts", "/")
    page.get_by_label("搜索").fill("交换机")
    page.get_by_role("button", name="应用").click()
    page.wait_for_url(re.compile(r"search=[^&]"))
    assert _ids(page) == [ticket.pk]
    _fits_the_screen(page)

    page.get_by_label("搜索").fill("没有这个词")
    page.get_by_label("搜索").press("Enter")
    expect(page.locator("#tickets-empty")).to_have_text("没有符合这些筛选条件的工单。")

    # an empty name is refused in the page, with the service's own rule behind it
    page.get_by_role("button", name="保存视图").click()
    expect(page.locator("#save-view-error")).to_have_text("请为视图命名。")
    expect(page.locator("#saved-views li")).to_have_count(0)

    response = page.goto("/tickets/?status=lost")
    assert response is not None and response.status == 400
    expect(page.locator("#ticket-filter-errors")).to_contain_text("status")
    expect(page.locator(ROWS)).to_have_count(0)
