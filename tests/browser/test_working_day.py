"""A working day in Chromium, the way agents and supervisors meet it (issue 13): presence
across pages and tabs, double submission, the process chart, the ticket page in Chinese."""

# Chinese text is written with full-width punctuation on purpose.

from __future__ import annotations

import re
import time
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from processes import dispatcher
from tests.browser.conftest import _Api, expect, live, login, row
from tests.factories import make_due
from tickets.models import Ticket

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.redis]


@pytest.fixture
def desk(transactional_db: Any) -> Any:
    from org.models import AgentProfile
    from tests.factories import build_desk

    built = build_desk()
    AgentProfile.objects.update(presence="offline")  # nobody is here until they sign in
    return built


def presence_of(user: Any) -> str:
    from org.models import AgentProfile

    return str(AgentProfile.objects.get(user=user).presence)


def sockets_closed(user: Any, expected_open: int) -> None:
    """Waits until the server has handled the close of a page's socket (it learns of it
    after the browser has closed the page)."""
    from notifications.models import Connection

    deadline = time.monotonic() + 10
    while Connection.objects.filter(user=user, closed_at__isnull=True).count() != expected_open:
        assert time.monotonic() < deadline, "the server never saw the socket close"
        time.sleep(0.05)  # polling the server's state, not standing in for it


def sweep_after_grace() -> None:
    """The periodic sweep as it runs once the grace period of closed sockets is over."""
    from notifications import presence
    from notifications.realtime import wait_for_pending

    presence.sweep_dead_connections(timezone.now() + presence.grace() + timedelta(seconds=1))
    wait_for_pending()


def on_board(board: Any, user: Any) -> Any:
    return board.locator(f"#agent-list li[data-agent='{user.pk}']")


def test_presence_follows_the_agent_across_pages_and_tabs(
    browser: Any, server: str, desk: Any, api: _Api
) -> None:
    board = login(browser, server, "supervisor", "pw")
    live(board)
    first = login(browser, server, "agent1", "pw")
    live(first)
    expect(on_board(board, desk.agent1)).to_have_attribute("data-presence", "online")
    expect(first.locator("#my-presence")).to_have_value("online")
    expect(first.locator("#my-presence")).to_be_enabled()

    # From the queue into a ticket: one click, and the agent is still online.
    ticket = api.open_ticket(desk, "Router reboots")
    assert ticket["assignee"] == desk.agent1.pk
    expect(row(first, ticket["id"])).to_be_visible()
    row(first, ticket["id"]).locator("a").first.click()
    first.wait_for_url(f"**/tickets/{ticket['id']}/")
    live(first)
    assert presence_of(desk.agent1) == "online"
    # Auto-assignment still sees them: the next ticket is theirs, not left unassigned.
    urgent = api.open_ticket(desk, "Platinum customer down", priority="P1")
    assert urgent["assignee"] == desk.agent1.pk
    expect(on_board(board, desk.agent1)).to_have_attribute("data-presence", "online")

    # A second tab opens and closes; the first one keeps the agent online.
    second = first.context.new_page()
    second.goto("/queue/")
    live(second)
    second.close()
    sockets_closed(desk.agent1, expected_open=1)
    sweep_after_grace()
    assert presence_of(desk.agent1) == "online"

    # The agent's own switch: away on every tab, and back.
    first.locator("#my-presence").select_option("away")
    expect(on_board(board, desk.agent1)).to_have_attribute("data-presence", "away")
    assert presence_of(desk.agent1) == "away"
    third = first.context.new_page()
    third.goto("/queue/")
    live(third)
    expect(third.locator("#my-presence")).to_have_value("away")
    third.locator("#my-presence").select_option("online")
    expect(first.locator("#my-presence")).to_have_value("online")
    expect(on_board(board, desk.agent1)).to_have_attribute("data-presence", "online")

    # Leaving for good (every tab closed) is offline once the grace period is over.
    first.close()
    third.close()
    sockets_closed(desk.agent1, expected_open=0)
    sweep_after_grace()
    expect(on_board(board, desk.agent1)).to_have_attribute("data-presence", "offline")
    assert presence_of(desk.agent1) == "offline"


def test_a_board_snapshot_older_than_a_presence_event_does_not_undo_it(
    browser: Any, server: str, desk: Any, api: _Api
) -> None:
    """The board reloads /api/board/ after queue events; a reload asked for before an agent
    switched to away and answered after the switch's event must keep the agent away (CI saw
    the board stuck on the older presence)."""
    board = login(browser, server, "supervisor", "pw")
    live(board)
    agent = login(browser, server, "agent1", "pw")
    live(agent)
    expect(on_board(board, desk.agent1)).to_have_attribute("data-presence", "online")

    held: list[tuple[Any, Any]] = []

    def hold(route: Any) -> None:  # read the board now, answer the page later
        held.append((route, route.fetch()))

    board.route("**/api/board/", hold)
    api.open_ticket(desk, "Printer on fire")  # queue events: the board asks for a new snapshot
    deadline = time.monotonic() + 10
    while not held:
        assert time.monotonic() < deadline, "the board never asked for a snapshot"
        board.wait_for_timeout(20)  # lets Playwright run the route handler; not a stand-in
    counters = board.locator(f"#team-counters tr[data-team='{desk.team.pk}'] .open")
    expect(counters).to_have_text("0")  # the held snapshot is not on screen yet

    agent.locator("#my-presence").select_option("away")
    expect(on_board(board, desk.agent1)).to_have_attribute("data-presence", "away")
    route, snapshot = held[0]
    route.fulfill(response=snapshot)  # the snapshot read while the agent was online
    expect(counters).to_have_text("1")  # the snapshot is on screen now
    assert on_board(board, desk.agent1).get_attribute("data-presence") == "away"


def test_double_clicks_reply_and_act_once(browser: Any, server: str, desk: Any, api: _Api) -> None:
    from audit.models import AuditEvent
    from tickets.models import TicketMessage

    desk.team.assignment = "manual"  # the agent claims it on the page
    desk.team.save(update_fields=["assignment"])
    ticket = api.open_ticket(desk, "Double trouble")
    page = login(browser, server, "agent1", "pw")
    page.goto(f"/tickets/{ticket['id']}/")
    live(page)
    posts: list[Any] = []
    page.on("request", lambda r: posts.append(r) if r.method == "POST" else None)

    page.dblclick("#actions [data-act=claim]")
    expect(page.locator("#actions [data-act=claim]")).to_have_count(0)
    assert [r.url.rsplit("/", 2)[-2] for r in posts] == ["claim"]
    assert AuditEvent.objects.filter(ticket_id=ticket["id"], verb="claimed").count() == 1

    posts.clear()
    page.fill("#reply-body", "Restart the router, please.")
    page.dblclick("#reply-submit")
    expect(page.locator("#messages .message")).to_contain_text(["Restart the router, please."])
    assert [r.url.rsplit("/", 2)[-2] for r in posts] == ["reply"]
    assert posts[0].headers["idempotency-key"].startswith("web-")
    assert TicketMessage.objects.filter(ticket_id=ticket["id"]).count() == 1

    posts.clear()
    page.click("#actions [data-act=resolve]")
    page.fill("#action-form-body", "Router restarted")
    page.dblclick("#action-form-submit")
    expect(page.locator("#ticket-status")).to_have_text("Resolved")
    assert [r.url.rsplit("/", 2)[-2] for r in posts] == ["resolve"]
    assert AuditEvent.objects.filter(ticket_id=ticket["id"], verb="resolved").count() == 1


def test_the_process_chart_opens_for_whoever_sees_the_ticket(
    browser: Any, server: str, desk: Any, api: _Api
) -> None:
    ticket = api.open_ticket(desk, "Chart me")
    boss = login(browser, server, "supervisor", "pw")
    boss.goto(f"/tickets/{ticket['id']}/")
    boss.get_by_role("link", name="Open the process chart").click()
    boss.wait_for_url(f"**/tickets/{ticket['id']}/process/")
    expect(boss.locator("figure.chart svg")).to_be_visible()
    # The steps this ticket went through are marked done; its current step is open.
    expect(boss.locator("figure.chart g#start")).to_have_class("done")
    expect(boss.locator("figure.chart g#work")).to_have_class(re.compile(r"^(new|assigned)$"))
    # Beside the flow, the SLA clock's ladder: nothing fired yet, the first warning next.
    ladder = boss.locator("#sla-ladder tbody tr")
    expect(ladder.first).to_have_attribute("data-key", "first_response:warning")
    expect(ladder.first).to_have_class("step step-pending")
    make_due(Ticket.objects.get(pk=ticket["id"]), started_ago=timedelta(minutes=50))
    assert dispatcher.drain() == 1
    boss.reload()
    expect(boss.locator("#sla-ladder tr[data-key='first_response:warning']")).to_have_class(
        "step step-done"
    )
    expect(boss.locator("#sla-ladder tr[data-key='first_response:breach']")).to_have_class(
        "step step-pending"
    )
    expect(boss.locator("figure.chart g#work")).to_have_class(re.compile(r"^(new|assigned)$"))

    agent = login(browser, server, "agent1", "pw")
    agent.goto(f"/tickets/{ticket['id']}/")
    agent.get_by_role("link", name="Open the process chart").click()
    expect(agent.locator("figure.chart svg")).to_be_visible()

    # Outside the ticket's team the chart is not found, and viewflow's screens are gone.
    outsider = login(browser, server, "outsider", "pw")
    assert outsider.goto(f"/tickets/{ticket['id']}/process/").status == 404
    assert outsider.goto("/workflow/tickets/").status == 404


def test_the_ticket_page_in_chinese_at_laptop_size(
    browser: Any, server: str, desk: Any, api: _Api
) -> None:
    desk.contact.email = (
        "procurement.department.east-china-region.2026@very-long-subsidiary-name.example.com.cn"
    )
    desk.contact.save(update_fields=["email"])
    ticket = api.open_ticket(desk, "地址很长的客户")
    page = login(browser, server, "agent1", "pw", language="zh-CN")
    page.goto(f"/tickets/{ticket['id']}/")
    live(page)
    statuses = page.locator("#process .task-status").all_text_contents()
    assert statuses, "the process shows its tasks"
    for status in statuses:
        assert re.search(r"[\u4e00-\u9fff]", status), statuses
    expect(page.locator("#my-presence option[value=away]")).to_have_text("离开")
    overflow = page.evaluate(
        "document.scrollingElement.scrollWidth - document.scrollingElement.clientWidth"
    )
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px"
