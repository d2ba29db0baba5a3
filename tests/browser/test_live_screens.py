"""Two agents and a supervisor in three browser contexts, against a real ASGI server."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import _Api, expect, live, login, row

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.redis]

# "Within a second" once the API call has returned; a little slack for a 2-core machine.
AT_ONCE_MS = 1500


def test_new_ticket_reaches_its_agent_and_moves_when_the_supervisor_reassigns_it(
    browser: Any, server: str, desk: Any, api: _Api
) -> None:
    pages = {
        desk.agent1.pk: login(browser, server, "agent1", "pw"),
        desk.agent2.pk: login(browser, server, "agent2", "pw"),
    }
    board = login(browser, server, "supervisor", "pw")
    for page in (*pages.values(), board):
        live(page)
    assert board.url.endswith("/board/")

    ticket = api.open_ticket(desk, "VPN drops every hour")

    owner, other = ticket["assignee"], next(pk for pk in pages if pk != ticket["assignee"])
    expect(row(pages[owner], ticket["id"])).to_be_visible(timeout=AT_ONCE_MS)
    expect(row(pages[owner], ticket["id"]).locator(".title")).to_have_text("VPN drops every hour")
    expect(row(board, ticket["id"])).to_be_visible(timeout=AT_ONCE_MS)
    expect(row(pages[other], ticket["id"])).to_have_count(0)

    # The supervisor picks the other agent in the row's select…
    board.locator(f"tbody tr[data-id='{ticket['id']}'] select.assign").select_option(str(other))

    expect(row(pages[other], ticket["id"])).to_be_visible(timeout=AT_ONCE_MS + 1000)
    expect(row(pages[owner], ticket["id"])).to_have_count(0, timeout=AT_ONCE_MS + 1000)

    # …and drags it back onto the first agent.
    board.drag_and_drop(
        f"tbody tr[data-id='{ticket['id']}']", f"#agent-list li[data-agent='{owner}']"
    )

    expect(row(pages[owner], ticket["id"])).to_be_visible(timeout=AT_ONCE_MS + 1000)
    expect(row(pages[other], ticket["id"])).to_have_count(0, timeout=AT_ONCE_MS + 1000)
    expect(row(board, ticket["id"]).locator(".assignee")).to_have_text(
        desk.agent1.username if owner == desk.agent1.pk else desk.agent2.username
    )
    # The board's counters follow the events.
    expect(board.locator(f"#team-counters tr[data-team='{desk.team.pk}'] .open")).to_have_text("1")


def test_a_breach_turns_the_row_red(browser: Any, server: str, desk: Any, api: _Api) -> None:
    from notifications.realtime import wait_for_pending
    from processes import dispatcher
    from tests.factories import make_due
    from tickets.models import Ticket

    page = login(browser, server, "agent1", "pw")
    live(page)
    created = api.open_ticket(desk, "Invoice missing")
    assert created["assignee"] == desk.agent1.pk
    line = row(page, created["id"])
    expect(line).to_be_visible(timeout=AT_ONCE_MS)
    expect(line).not_to_have_class("breached")
    unread_before = page.locator("#unread").text_content()

    # The first-response target (1 h) is over: its armed checkpoint fires as in production.
    make_due(Ticket.objects.get(pk=created["id"]), started_ago=timedelta(minutes=61))
    dispatcher.drain()
    wait_for_pending()

    expect(line).to_have_class("breached", timeout=AT_ONCE_MS)
    expect(line.locator(".sla")).to_have_attribute("data-level", "breached")
    expect(page.locator("#unread")).not_to_have_text(unread_before or "", timeout=AT_ONCE_MS)


def test_a_dropped_connection_resyncs(browser: Any, server: str, desk: Any, api: _Api) -> None:
    desk.team.assignment = "manual"  # the new ticket waits in the team's queue
    desk.team.save(update_fields=["assignment"])
    page = login(browser, server, "agent1", "pw")
    live(page)

    page.context.set_offline(True)
    expect(page.locator("#connection")).to_have_attribute("data-state", "offline")
    created = api.open_ticket(desk, "Printer offline while we were offline")
    expect(row(page, created["id"])).to_have_count(0)

    page.context.set_offline(False)

    live(page)
    expect(row(page, created["id"])).to_be_visible()


def test_keyboard_moves_claims_and_opens(browser: Any, server: str, desk: Any, api: _Api) -> None:
    desk.team.assignment = "manual"
    desk.team.save(update_fields=["assignment"])
    first = api.open_ticket(desk, "Urgent one", priority="P1")
    second = api.open_ticket(desk, "Normal one", priority="P3")
    assert first["assignee"] is None and second["assignee"] is None
    page = login(browser, server, "agent1", "pw")
    live(page)
    rows = page.locator("#queue tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_have_attribute("data-id", str(first["id"]))  # most urgent first

    page.keyboard.press("j")
    page.keyboard.press("j")
    expect(row(page, second["id"])).to_have_class("selected")
    page.keyboard.press("k")
    expect(row(page, first["id"])).to_have_class("selected")
    page.keyboard.press("c")
    expect(row(page, first["id"]).locator(".assignee")).to_have_text("agent1")

    page.keyboard.press("?")
    expect(page.locator("#help")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.locator("#help")).to_be_hidden()

    page.keyboard.press("Enter")
    page.wait_for_url(f"**/tickets/{first['id']}/")
    expect(page.locator("h1")).to_contain_text("Urgent one")
    expect(page.locator("#process")).to_contain_text("Work the ticket")

    page.fill("#reply-body", "Checked the logs, nothing yet.")
    page.check("#reply-internal")
    page.click("#reply-submit")
    expect(page.locator("#messages .message.internal")).to_contain_text("Checked the logs")
    expect(page.locator("#history")).to_contain_text("added an internal note")

    # Only what the state allows is offered; holding (with a reason, in the inline form)
    # swaps Hold for Resume.
    expect(page.locator("#actions [data-act=resume]")).to_have_count(0)
    page.click("#actions [data-act=hold]")
    expect(page.locator("#action-form-title")).to_have_text("Put the ticket on hold")
    expect(page.locator("#action-form-body")).to_be_focused()
    page.keyboard.type("Waiting for the router logs")
    page.keyboard.press("Control+Enter")
    expect(page.locator("#actions [data-act=resume]")).to_be_visible()
    expect(page.locator("#actions [data-act=hold]")).to_have_count(0)
    expect(page.locator("#action-form")).to_be_hidden()
    expect(page.locator("#ticket-status")).to_have_text("Waiting on customer")
    expect(page.locator("#history")).to_contain_text("Reason: Waiting for the router logs")
    page.click("#actions [data-act=resume]")  # one click
    expect(page.locator("#actions [data-act=hold]")).to_be_visible()
    expect(page.locator("#action-error")).to_be_hidden()
    expect(page.locator("#ticket-status")).to_have_text("Open")


def test_resolve_asks_for_the_resolution_inline_and_history_reads_as_text(
    browser: Any, server: str, desk: Any, api: _Api
) -> None:
    desk.team.assignment = "manual"
    desk.team.save(update_fields=["assignment"])
    created = api.open_ticket(desk, "Printer jams")  # by the administrator, outside the team
    page = login(browser, server, "agent1", "pw")
    page.on("dialog", lambda dialog: pytest.fail(f"unexpected {dialog.type} dialog"))
    posts: list[str] = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    page.goto(f"/tickets/{created['id']}/")
    live(page)
    form = page.locator("#action-form")
    expect(form).to_be_hidden()
    page.click("#actions [data-act=claim]")  # one click
    expect(page.locator("#ticket-assignee")).to_have_text("agent1")

    # Escape cancels without a request, and focus returns to the button.
    page.click("#actions [data-act=resolve]")
    expect(form).to_be_visible()
    expect(page.locator("#action-form-body")).to_be_focused()
    page.fill("#action-form-body", "half a thought")
    page.keyboard.press("Escape")
    expect(form).to_be_hidden()
    expect(page.locator("#actions [data-act=resolve]")).to_be_focused()

    # The resolution is required: an empty one is refused in the page.
    page.click("#actions [data-act=resolve]")
    expect(page.locator("#action-form-body")).to_have_value("")
    page.click("#action-form-submit")
    expect(page.locator("#action-form-problem")).to_have_text(
        "Write what fixed it before resolving."
    )
    expect(page.locator("#action-form-body")).to_have_attribute("aria-invalid", "true")
    assert [url for url in posts if "/resolve/" in url] == []
    expect(page.locator("#ticket-status")).to_have_text("Open")

    page.fill("#action-form-body", "Replaced the fuser unit.")
    page.click("#action-form-submit")
    expect(page.locator("#ticket-status")).to_have_text("Resolved")
    expect(form).to_be_hidden()
    assert [url for url in posts if "/resolve/" in url] == [
        f"{server}/api/tickets/{created['id']}/resolve/"
    ]
    expect(page.locator("#actions [data-act=reopen]")).to_be_visible()
    expect(page.locator("#actions [data-act=resolve]")).to_have_count(0)

    # History: field names and names, not keys and ids.
    history = page.locator("#history")
    expect(history).to_contain_text(
        "Status: Open → Resolved; Resolution note: Replaced the fuser unit."
    )
    expect(history).to_contain_text(f"Team: {desk.team.name}")
    expect(history).to_contain_text(f"SLA policy: {desk.policy.name}")
    expect(history).to_contain_text("claimed — Assignee: — → agent1")
    expect(history.locator("li strong").first).to_have_text("admin")  # not in agent1's teams
    expect(history).not_to_contain_text("#")
    expect(history).not_to_contain_text("null")
    expect(history).not_to_contain_text("resolution_due")

    # Close asks for a confirmation only.
    page.click("#actions [data-act=close]")
    expect(page.locator("#action-form-text")).to_have_text(
        "Close this ticket? It leaves every queue."
    )
    expect(page.locator("#action-form-body")).to_be_hidden()
    expect(page.locator("#action-form-submit")).to_be_focused()
    page.click("#action-form-cancel")
    expect(form).to_be_hidden()
    expect(page.locator("#actions [data-act=close]")).to_be_focused()
    page.click("#actions [data-act=close]")
    page.click("#action-form-submit")
    expect(page.locator("#ticket-status")).to_have_text("Closed")


def test_a_live_refresh_keeps_the_focus_on_the_action_button(
    browser: Any, server: str, desk: Any, api: _Api
) -> None:
    """Another person's change refreshes the header, whose buttons are replaced: a keyboard
    user's focus stays on the button they were on (it used to fall to the page)."""
    desk.team.assignment = "manual"
    desk.team.save(update_fields=["assignment"])
    created = api.open_ticket(desk, "Scanner offline")
    page = login(browser, server, "agent1", "pw")
    page.goto(f"/tickets/{created['id']}/")
    live(page)
    page.click("#actions [data-act=claim]")
    expect(page.locator("#ticket-assignee")).to_have_text("agent1")
    page.focus("#actions [data-act=resolve]")
    expect(page.locator("#actions [data-act=resolve]")).to_be_focused()

    api.post(f"/api/tickets/{created['id']}/priority/", {"priority": "P1"})  # the administrator

    expect(page.locator("#ticket-head .prio")).to_have_class("prio prio-P1")  # refreshed
    expect(page.locator("#actions [data-act=resolve]")).to_be_focused()


def test_screens_in_chinese_and_screenshots(
    browser: Any, server: str, desk: Any, api: _Api, tmp_path: Path
) -> None:
    """Demo-like data on each screen; KEFU_SCREENSHOTS=docs/screenshots keeps the images."""
    from tests.factories import ContactFactory, CustomerFactory

    platinum: Any = ContactFactory(
        customer=CustomerFactory(name="上海云帆科技", tier="platinum"), name="王芳"
    )
    subjects = [
        ("VPN drops every hour / VPN 每小时断线", "P1", desk.contact.pk),
        ("Invoice 2026-11 missing / 发票缺失", "P2", platinum.pk),
        ("Password reset for new hire", "P3", desk.contact.pk),
        ("打印机无法连接", "P2", platinum.pk),
        ("Export of call records", "P4", desk.contact.pk),
    ]
    ids = [
        api.post(
            "/api/tickets/",
            {"subject": subject, "priority": priority, "contact_id": contact},
        )["id"]
        for subject, priority, contact in subjects
    ]
    # Some colour: one breached, one past its warning (the checkpoints fire as in production).

    from notifications.realtime import wait_for_pending
    from processes import dispatcher
    from tests.factories import make_due
    from tickets.models import Ticket

    for index, started_ago in ((1, timedelta(minutes=75)), (3, timedelta(minutes=52))):
        make_due(Ticket.objects.get(pk=ids[index]), started_ago=started_ago)
        dispatcher.drain()
    wait_for_pending()
    out = Path(os.environ.get("KEFU_SCREENSHOTS") or tmp_path)
    out.mkdir(parents=True, exist_ok=True)

    agent = login(browser, server, "agent1", "pw")
    live(agent)
    expect(agent.locator("#queue tbody tr").first).to_be_visible()
    agent.keyboard.press("j")
    agent.screenshot(path=str(out / "queue.png"))

    board = login(browser, server, "supervisor", "pw", language="zh-CN")
    live(board)
    expect(board.locator("h1")).to_have_text("主管看板")
    expect(board.locator("#board-queue tbody tr")).to_have_count(len(ids))
    expect(board.locator("#agent-list li")).not_to_have_count(0)
    board.screenshot(path=str(out / "board.png"))

    agent.goto(f"/tickets/{ids[0]}/")
    agent.fill("#reply-body", "We are looking into it.")
    agent.click("#reply-submit")
    expect(agent.locator("#messages .message.public")).to_have_count(1)
    agent.fill("#reply-body", "Looks like the gateway firmware; asking network team.")
    agent.check("#reply-internal")
    agent.click("#reply-submit")
    expect(agent.locator("#messages .message.internal")).to_have_count(1)
    agent.click("#actions [data-act=hold]")  # the inline action form, open
    agent.fill("#action-form-body", "Waiting for the customer's router model.")
    agent.screenshot(path=str(out / "ticket.png"), full_page=True)
