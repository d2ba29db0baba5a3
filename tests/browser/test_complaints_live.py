"""Complaints on the live desk in Chromium, against the real ASGI server: a new complaint
reaches its handler's queue and opens its own page (not a ticket's); the approval lands in
the supervisor's queue as it is asked for; the board's complaints panel counts as work
arrives; a notification of a complaint opens the complaint; the ticket page escalates a
ticket into a linked complaint that its agent does not handle, then links that complaint
instead of offering a second escalation."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import expect, live, login

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.redis]

AT_ONCE_MS = 2500


@pytest.fixture
def cdesk(transactional_db: Any) -> Any:
    from tests.factories.complaints import build_complaints_desk

    return build_complaints_desk()


def complaint_row(page: Any, complaint_id: int) -> Any:
    return page.locator(f"tbody tr[data-kind='complaint'][data-id='{complaint_id}']")


def flush() -> None:
    """The events of this process's commits, on their way to the server's layer."""
    from notifications.realtime import wait_for_pending

    wait_for_pending()


def test_a_new_complaint_appears_in_its_handlers_queue_and_opens_its_own_page(
    browser: Any, server: str, cdesk: Any
) -> None:
    from tests.factories.complaints import open_complaint

    pages = {
        cdesk.handler1.pk: login(browser, server, "handler1", "pw"),
        cdesk.handler2.pk: login(browser, server, "handler2", "pw"),
    }
    for page in pages.values():
        live(page)

    complaint = open_complaint(cdesk, title="Charged twice for one order")
    flush()

    page = pages[complaint.assignee_id]
    other = next(p for pk, p in pages.items() if pk != complaint.assignee_id)
    line = complaint_row(page, complaint.pk)
    expect(line).to_be_visible(timeout=AT_ONCE_MS)
    expect(complaint_row(other, complaint.pk)).to_have_count(0)
    expect(line.locator(".title")).to_have_text("Charged twice for one order")
    expect(line.locator("a.number")).to_have_text(complaint.number)
    expect(line.locator("a.number")).to_have_attribute("href", f"/complaints/{complaint.pk}/")
    expect(line.locator(".priority .prio")).to_have_text("S3")
    expect(line.locator(".priority .prio")).to_have_attribute("title", "S3 moderate")
    expect(line.locator(".status")).to_have_text("Received")

    # "c" claims a ticket through /api/tickets/: a complaint is taken on its own page.
    line.click()
    page.keyboard.press("c")
    expect(page.locator("#toast")).to_contain_text(f"{complaint.number} is a complaint")

    page.keyboard.press("Enter")
    page.wait_for_url(f"**/complaints/{complaint.pk}/")
    page.go_back()
    live(page)
    complaint_row(page, complaint.pk).dblclick()
    page.wait_for_url(f"**/complaints/{complaint.pk}/")
    page.go_back()
    live(page)

    # The handler's notification names the complaint and opens its page.
    expect(page.locator("#unread")).to_have_text("1")
    page.click("#bell")
    item = page.get_by_role("button", name=f"Complaint {complaint.number} was assigned to you")
    item.click()
    page.wait_for_url(f"**/complaints/{complaint.pk}/")


def test_the_approval_reaches_the_supervisors_queue_and_the_board_counts_complaints(
    browser: Any, server: str, cdesk: Any
) -> None:
    from complaints import services
    from tests.factories.complaints import open_complaint

    board = login(browser, server, "c-supervisor", "pw")
    assert board.url.endswith("/board/")
    queue = login(browser, server, "c-supervisor", "pw")
    queue.goto("/queue/")
    live(board)
    live(queue)
    panel = board.locator("#complaint-counters")
    expect(panel.locator("[data-count=open]")).to_have_text("0")

    complaint = open_complaint(cdesk, title="Refund never arrived")
    flush()

    expect(panel.locator("[data-count=open]")).to_have_text("1", timeout=AT_ONCE_MS)
    expect(panel.locator("[data-count=S3]")).to_have_text("1")
    expect(panel.locator("[data-count=awaiting_approval]")).to_have_text("0")
    # On the board the row has no ticket actions (assign, priority, acknowledge), no drag.
    on_board = complaint_row(board, complaint.pk)
    expect(on_board).to_be_visible()
    expect(on_board.locator("select.assign")).to_have_count(0)
    expect(on_board.locator("a.open-complaint")).to_have_attribute(
        "href", f"/complaints/{complaint.pk}/"
    )
    expect(on_board).to_have_attribute("draggable", "false")
    # Not the supervisor's own work yet.
    expect(complaint_row(queue, complaint.pk)).to_have_count(0)

    services.acknowledge_complaint(complaint_id=complaint.pk, actor=complaint.assignee)
    services.propose_resolution(
        complaint_id=complaint.pk,
        actor=complaint.assignee,
        outcome="upheld",
        resolution="We refund the order.",
        root_cause="system-defect",
        compensation_amount="500.00",
        compensation_kind="refund",
    )
    flush()

    line = complaint_row(queue, complaint.pk)
    expect(line).to_be_visible(timeout=AT_ONCE_MS)
    expect(line.locator(".status")).to_have_text("Awaiting approval")
    expect(line.locator(".assignee")).to_have_text("c-supervisor")
    expect(panel.locator("[data-count=awaiting_approval]")).to_have_text("1", timeout=AT_ONCE_MS)
    line.dblclick()
    queue.wait_for_url(f"**/complaints/{complaint.pk}/")


def test_the_ticket_page_escalates_into_a_linked_complaint(
    browser: Any, server: str, desk: Any, cdesk: Any
) -> None:
    from complaints.models import Complaint
    from processes.links import links_of
    from tests.factories import open_ticket

    # The ticket's agent is also in the complaints team: never the complaint's handler.
    cdesk.team.members.add(desk.agent1)
    ticket = open_ticket(desk, subject="Router broken twice", description="Third router.")
    assert ticket.assignee_id in (desk.agent1.pk, desk.agent2.pk)
    agent = desk.agent1 if ticket.assignee_id == desk.agent1.pk else desk.agent2
    page = login(browser, server, agent.username, "pw")
    page.goto(f"/tickets/{ticket.pk}/")
    expect(page.locator("#linked-list")).to_contain_text("Nothing linked.")

    page.click("#escalate summary")
    page.select_option("#escalate-category", "billing")
    page.select_option("#escalate-impact", "high")
    page.select_option("#escalate-urgency", "high")
    page.fill("#escalate-outcome", "A working router and a refund.")
    page.click("#escalate-submit")

    page.wait_for_url("**/complaints/*/")
    complaint = Complaint.objects.get()
    assert page.url.endswith(f"/complaints/{complaint.pk}/")
    assert complaint.title == "Router broken twice" and complaint.channel == "ticket"
    assert complaint.assignee_id not in (None, ticket.assignee_id)
    assert complaint.about_user_id == ticket.assignee_id
    assert links_of("complaint", complaint.pk)[0]["number"] == ticket.number

    page.goto(f"/tickets/{ticket.pk}/")
    link = page.locator("#linked-list a")
    expect(link).to_have_text(complaint.number)
    expect(link).to_have_attribute("href", f"/complaints/{complaint.pk}/")
    # At most one open complaint a ticket: the page links it instead of offering the form.
    escalated = page.locator("#escalated-into a")
    expect(escalated).to_have_text(complaint.number)
    expect(escalated).to_have_attribute("href", f"/complaints/{complaint.pk}/")
    expect(page.locator("#escalate-form")).to_have_count(0)
    expect(page.locator("#escalate-submit")).to_have_count(0)
    escalated.click()
    page.wait_for_url(f"**/complaints/{complaint.pk}/")


def test_a_ticket_escalated_meanwhile_is_not_escalated_twice(
    browser: Any, server: str, desk: Any, cdesk: Any
) -> None:
    from complaints import services
    from complaints.models import Complaint
    from tests.factories import open_ticket

    ticket = open_ticket(desk, subject="Router broken twice")
    page = login(browser, server, "agent1", "pw")
    page.goto(f"/tickets/{ticket.pk}/")
    page.click("#escalate summary")
    page.select_option("#escalate-category", "billing")
    # Someone else escalates the ticket while the form is open.
    first = services.open_complaint(
        data=services.NewComplaint(
            category="service",
            title=ticket.subject,
            description=ticket.subject,
            impact="medium",
            urgency="medium",
            customer_id=ticket.customer_id,
            contact_id=ticket.contact_id,
            from_ticket=services.FromTicket(ticket.pk, ticket.number, ticket.assignee_id),
        ),
        actor=cdesk.supervisor,
    )
    page.click("#escalate-submit")

    errors = page.locator("#escalate-errors")
    expect(errors).to_contain_text("already escalated into a complaint that is not closed")
    expect(errors).to_contain_text(f"Already escalated into complaint {first.number}.")
    expect(page.locator("#escalated-into a")).to_have_text(first.number)
    expect(page.locator("#escalate-submit")).to_have_count(0)
    assert page.url.endswith(f"/tickets/{ticket.pk}/escalate/")
    assert list(Complaint.objects.values_list("pk", flat=True)) == [first.pk]


def test_a_bad_escalation_keeps_the_form_open_with_the_problem(
    browser: Any, server: str, desk: Any, cdesk: Any
) -> None:
    from complaints.models import ComplaintCategory
    from tests.factories import open_ticket

    ticket = open_ticket(desk)
    page = login(browser, server, "agent1", "pw")
    page.goto(f"/tickets/{ticket.pk}/")
    page.click("#escalate summary")
    page.select_option("#escalate-category", "billing")
    ComplaintCategory.objects.filter(code="billing").update(is_active=False)  # meanwhile
    page.click("#escalate-submit")

    expect(page.locator("#escalate-errors")).to_contain_text("The complaint is not valid.")
    expect(page.locator("#escalate details")).to_have_attribute("open", "")
    assert page.url.endswith(f"/tickets/{ticket.pk}/escalate/")
