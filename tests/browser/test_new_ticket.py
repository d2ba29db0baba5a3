"""The agent's new-ticket screen in Chromium, at 1366x768: find the caller by typing and
choose with the keyboard, or enter a new contact; refusals shown at their fields in the
reader's language with nothing created; one ticket however often the form is sent."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from customers.models import Contact
from tests.browser.conftest import VIEWPORT, expect, live, login
from tests.factories import CategoryFactory, RoutingRuleFactory, open_ticket
from tickets.models import Ticket

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.redis]
TICKET_PAGE = re.compile(r"/tickets/\d+/$")


def posts_of(page: Any) -> list[Any]:
    """The ticket intakes the page sends (requests it made, answered or not)."""
    sent: list[Any] = []
    page.on(
        "request",
        lambda request: (
            sent.append(request)
            if request.method == "POST" and request.url.endswith("/api/tickets/")
            else None
        ),
    )
    return sent


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


def fits_the_screen(page: Any, selector: str) -> None:
    """Nothing wider than the window; ``selector`` visible without scrolling."""
    assert page.evaluate("document.documentElement.scrollWidth") <= VIEWPORT["width"]
    box = page.locator(selector).bounding_box()
    assert box is not None and box["y"] + box["height"] <= VIEWPORT["height"], box


def test_the_agent_finds_the_caller_by_typing_and_opens_a_phone_ticket(
    browser: Any, server: str, desk: Any
) -> None:
    CategoryFactory(code="network", name="Network")
    open_ticket(desk)  # Li Lei's customer has a ticket in Support: agent1 may see her
    page = login(browser, server, "agent1", "pw")
    problems = watch(page)
    live(page)
    page.click("nav.mainnav >> text=New ticket")
    page.wait_for_url("**/tickets/new/")
    expect(page.locator("#contact-search")).to_be_focused()
    fits_the_screen(page, "#open-ticket")
    sent = posts_of(page)

    page.keyboard.type("LI.L")  # any case, as the caller spells it
    options = page.locator("#contact-results [role=option]")
    expect(options).to_have_count(2)  # Li Lei, and "New contact with …"
    expect(options.nth(0)).to_contain_text("li.lei@example.com")
    expect(options.nth(0)).to_contain_text(desk.customer.name)
    expect(page.locator("#contact-status")).to_have_text(
        "1 contact found. Press Enter to choose it."
    )
    page.keyboard.press("ArrowDown")
    expect(page.locator("#contact-search")).to_have_attribute(
        "aria-activedescendant", "contact-results-0"
    )
    expect(options.nth(0)).to_have_attribute("aria-selected", "true")
    page.keyboard.press("Enter")

    expect(page.locator("#contact-chosen")).to_be_visible()
    expect(page.locator("#chosen-email")).to_have_text("li.lei@example.com")
    expect(page.locator("#chosen-customer")).to_have_text(desk.customer.name)
    expect(page.locator("#subject")).to_be_focused()
    page.keyboard.type("Cannot reach the VPN")
    page.fill("#description", "Called at 9:10; the office network works.")
    page.select_option("#category", "network")
    page.select_option("#priority", "P2")
    expect(page.locator("#channel")).to_have_value("phone")
    fits_the_screen(page, "#open-ticket")
    page.click("#open-ticket")

    page.wait_for_url(TICKET_PAGE)
    ticket = Ticket.objects.select_related("category").get(subject="Cannot reach the VPN")
    assert page.url.endswith(f"/tickets/{ticket.pk}/")
    expect(page.locator("h1")).to_contain_text("Cannot reach the VPN")
    # Opened as any intake is: routed, under the SLA policy, assigned, by the agent.
    assert ticket.category is not None and ticket.category.code == "network"
    assert (ticket.channel, ticket.priority) == ("phone", "P2")
    assert (ticket.contact_id, ticket.customer_id) == (desk.contact.pk, desk.customer.pk)
    assert ticket.team_id == desk.team.pk
    assert ticket.sla_clock_id is not None
    assert ticket.assignee_id in (desk.agent1.pk, desk.agent2.pk)
    assert ticket.created_by_id == desk.agent1.pk
    assert ticket.description == "Called at 9:10; the office network works."
    assert len(sent) == 1
    assert sent[0].headers["idempotency-key"].startswith("intake-")
    assert json.loads(sent[0].post_data) == {
        "subject": "Cannot reach the VPN",
        "description": "Called at 9:10; the office network works.",
        "priority": "P2",
        "channel": "phone",
        "category": "network",
        "contact_id": desk.contact.pk,
    }
    assert problems == []


def test_a_double_click_and_a_lost_answer_open_one_ticket(
    browser: Any, server: str, desk: Any
) -> None:
    open_ticket(desk)
    page = login(browser, server, "agent1", "pw")
    page.goto("/tickets/new/")
    sent = posts_of(page)
    lost: list[dict[str, Any]] = []

    def lose_the_first_answer(route: Any) -> None:
        if lost:
            route.continue_()
            return
        # The request reaches the server and opens the ticket; its answer never arrives.
        lost.append(route.fetch().json())
        route.abort("connectionreset")

    page.route("**/api/tickets/", lose_the_first_answer)
    page.fill("#contact-search", "li.lei")
    expect(page.locator("#contact-results [role=option]")).to_have_count(2)
    page.keyboard.press("Enter")  # the one contact found
    expect(page.locator("#contact-chosen")).to_be_visible()
    page.fill("#subject", "Printer jams")

    page.dblclick("#open-ticket")

    expect(page.locator("#form-problem")).to_have_text(
        "The server could not be reached. Send again: the ticket is opened only once."
    )
    assert len(sent) == 1  # the second click of the double click sent nothing
    assert Ticket.objects.filter(subject="Printer jams").count() == 1

    page.click("#open-ticket")  # the agent tries again: the same key, the same ticket

    page.wait_for_url(f"**/tickets/{lost[0]['id']}/")
    assert Ticket.objects.filter(subject="Printer jams").count() == 1
    assert len(sent) == 2
    assert sent[0].headers["idempotency-key"] == sent[1].headers["idempotency-key"]


def test_a_new_contact_in_chinese_is_refused_at_its_field_then_opened(
    browser: Any, server: str, desk: Any
) -> None:
    open_ticket(desk)  # the agent sees Li Lei's customer, so may file a new contact under it
    page = login(browser, server, "agent1", "pw", language="zh-CN")
    page.goto("/tickets/new/")
    expect(page.locator("h1")).to_have_text("新建工单")
    sent = posts_of(page)
    contacts, tickets = Contact.objects.count(), Ticket.objects.count()

    page.keyboard.type("王小明")
    expect(page.locator("#contact-status")).to_have_text("未找到联系人。")
    create = page.locator("#contact-results [role=option]")
    expect(create).to_have_text("用“王小明”新建联系人")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(page.locator("#new-contact")).to_be_visible()
    expect(page.locator("#new-contact-name")).to_have_value("王小明")
    expect(page.locator("#new-contact-email")).to_be_focused()

    # What the page can tell by itself, it says without asking the server.
    page.click("#open-ticket")
    expect(page.locator("#new-contact-email-problem")).to_have_text("新联系人需要填写邮箱地址。")
    expect(page.locator("#subject-problem")).to_have_text("请填写主题。")
    expect(page.locator("#form-problem")).to_have_text("工单未创建。请更正下方标出的内容。")
    assert sent == []

    page.fill("#new-contact-email", "xiaoming@")
    page.fill("#new-contact-phone", "+86 139 0000 1111")
    page.fill("#customer-search", desk.customer.name[:6])
    customers = page.locator("#customer-results [role=option]")
    expect(customers).to_have_text([desk.customer.name])
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(page.locator("#customer-chosen-name")).to_have_text(desk.customer.name)
    page.fill("#subject", "发票抬头错误")
    page.click("#open-ticket")

    # The server's refusal, in Chinese, at the field it is about; nothing was created.
    expect(page.locator("#new-contact-email-problem")).to_have_text("请输入合法的邮件地址。")
    expect(page.locator("#new-contact-email")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#new-contact-email")).to_be_focused()
    expect(page.locator("#form-problem")).to_contain_text("工单未创建。")
    assert len(sent) == 1
    assert (Contact.objects.count(), Ticket.objects.count()) == (contacts, tickets)

    page.fill("#new-contact-email", "xiaoming@example.com")
    page.keyboard.press("Control+Enter")

    page.wait_for_url(TICKET_PAGE)
    ticket = Ticket.objects.select_related("contact").get(subject="发票抬头错误")
    assert (ticket.contact.name, ticket.contact.email, ticket.contact.phone) == (
        "王小明",
        "xiaoming@example.com",
        "+86 139 0000 1111",
    )
    assert ticket.contact.customer_id == ticket.customer_id == desk.customer.pk
    assert len(sent) == 2
    # The refused attempt freed its key: the corrected form went with the same one.
    assert sent[0].headers["idempotency-key"] == sent[1].headers["idempotency-key"]


def test_a_ticket_routed_away_from_the_agent_is_confirmed_on_the_screen(
    browser: Any, server: str, desk: Any
) -> None:
    billing = CategoryFactory(code="billing", name="Billing")
    RoutingRuleFactory(team=desk.other_team, category=billing, position=10)
    open_ticket(desk)
    page = login(browser, server, "agent1", "pw")
    page.goto("/tickets/new/")
    page.fill("#contact-search", "li.lei@")
    expect(page.locator("#contact-results [role=option]")).to_have_count(2)
    page.keyboard.press("Enter")
    page.fill("#subject", "Refund")
    page.select_option("#category", "billing")

    page.click("#open-ticket")

    expect(page.locator("#intake-done")).to_be_visible()
    ticket = Ticket.objects.get(subject="Refund")
    assert ticket.team_id == desk.other_team.pk
    expect(page.locator("#intake-done")).to_have_text(
        f"Ticket {ticket.number} is open. It went to a team you do not see, so it is not "
        "shown here."
    )
    assert page.url.endswith("/tickets/new/")
    # Ready for the next call.
    expect(page.locator("#contact-search")).to_be_focused()
    expect(page.locator("#contact-search")).to_have_value("")
    expect(page.locator("#subject")).to_have_value("")


def test_escape_closes_the_results_and_another_contact_can_be_chosen(
    browser: Any, server: str, desk: Any
) -> None:
    from tests.factories import ContactFactory

    ContactFactory(customer=desk.customer, email="li.ming@example.com", name="Li Ming")
    open_ticket(desk)
    page = login(browser, server, "agent1", "pw")
    page.goto("/tickets/new/")
    page.keyboard.type("li")
    options = page.locator("#contact-results [role=option]")
    expect(options).to_have_count(3)
    expect(page.locator("#contact-status")).to_have_text(
        "2 contacts found. Use ↑ ↓ and Enter to choose."
    )

    page.keyboard.press("Escape")
    expect(page.locator("#contact-results")).to_be_hidden()
    expect(page.locator("#contact-search")).to_have_attribute("aria-expanded", "false")

    page.keyboard.press("ArrowUp")  # opens the list again, from the bottom
    page.keyboard.press("ArrowUp")
    expect(options.nth(1)).to_have_attribute("aria-selected", "true")
    page.keyboard.press("Enter")
    expect(page.locator("#chosen-email")).to_have_text("li.ming@example.com")

    page.click("#contact-change")
    expect(page.locator("#contact-search")).to_be_focused()
    page.keyboard.type("li.lei")
    page.locator("#contact-results [role=option]").first.click()
    expect(page.locator("#chosen-email")).to_have_text("li.lei@example.com")
