"""The agent's complaint screens in Chromium, at 1366x768: the phone intake (the caller found
by typing, their earlier complaints and open tickets, the repeat flag, the severity the
matrix gives changing with impact and urgency, one complaint however often it is sent), the
complaint page's walk (acknowledge, log a contact, propose above the handler's limit, the
supervisor approves; a rejection's reason reaches the handler), who may not see it, the
list's filters, the process chart, and Chinese.

``KEFU_SCREENSHOTS=docs/screenshots`` keeps the pages' images (complaint-*.png)."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest

from complaints import services
from complaints.models import Complaint
from tests.browser.conftest import expect, login
from tests.factories import RoutingRuleFactory
from tests.factories.complaints import build_complaints_desk, open_complaint

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.redis]
COMPLAINT_PAGE = re.compile(r"/complaints/\d+/$")


@pytest.fixture
def cdesk(transactional_db: Any) -> Any:
    """The complaints desk on the shipped configuration (put back after a flush)."""
    return build_complaints_desk()


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    return Path(os.environ.get("KEFU_SCREENSHOTS") or tmp_path)


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


def handler_of(desk: Any, complaint: Complaint) -> Any:
    return desk.handler1 if complaint.assignee_id == desk.handler1.pk else desk.handler2


def a_ticket_of_the_customer(desk: Any) -> Any:
    """An open ticket of the customer in the complaints team (so its agents see the caller)."""
    from tickets.services import open_ticket

    RoutingRuleFactory(team=desk.team, position=100)
    ticket, _ = open_ticket(
        actor=desk.supervisor,
        subject="Card charged twice",
        description="Asked on the phone",
        priority="P2",
        channel="phone",
        contact_id=desk.contact.pk,
    )
    return ticket


def test_phone_intake_shows_history_repeat_and_severity_and_records_one_complaint(
    browser: Any, server: str, cdesk: Any, shots: Path
) -> None:
    desk = cdesk
    earlier = open_complaint(desk, title="Wrong bill in May")
    ticket = a_ticket_of_the_customer(desk)
    page = login(browser, server, "handler1", "pw")
    problems = watch(page)
    page.click("nav.mainnav >> text=Complaints")
    page.wait_for_url("**/complaints/")
    page.click("#new-complaint-link")
    page.wait_for_url("**/complaints/new/")
    expect(page.locator("#contact-search")).to_be_focused()
    expect(page.locator("#profile")).to_have_value("standard")  # the default, preselected

    page.keyboard.type("wang.f")
    options = page.locator("#contact-results [role=option]")
    expect(options).to_have_count(1)
    expect(options.nth(0)).to_contain_text("wang.fang@example.com")
    page.keyboard.press("Enter")
    expect(page.locator("#chosen-email")).to_have_text("wang.fang@example.com")
    expect(page.locator("#history-complaints")).to_contain_text(earlier.number)
    expect(page.locator("#history-work")).to_contain_text(ticket.number)
    expect(page.locator("#repeat-flag")).to_have_attribute("data-repeat", "0")

    preview = page.locator("#severity-preview")
    expect(preview).to_have_attribute("data-severity", "S3")  # medium by medium
    page.select_option("#category", "billing")
    expect(page.locator("#repeat-flag")).to_have_attribute("data-repeat", "1")
    expect(page.locator("#repeat-flag")).to_contain_text(earlier.number)
    expect(preview).to_have_attribute("data-severity", "S2")  # a repeat: one step up
    expect(preview).to_contain_text("raised one step")
    page.select_option("#impact", "low")
    page.select_option("#urgency", "low")
    expect(preview).to_have_attribute("data-severity", "S3")  # S4, raised
    page.select_option("#impact", "critical")
    page.select_option("#urgency", "high")
    expect(preview).to_have_attribute("data-severity", "S1")
    page.select_option("#category", "privacy")
    expect(page.locator("#repeat-flag")).to_have_attribute("data-repeat", "0")
    expect(preview).to_have_attribute("data-severity", "S1")
    page.select_option("#impact", "medium")
    page.select_option("#urgency", "low")
    expect(preview).to_have_attribute("data-severity", "S3")
    # only the chosen category's subcategories
    expect(page.locator("#subcategory option[value='billing-wrong']")).to_be_disabled()
    page.select_option("#category", "billing")
    expect(preview).to_have_attribute("data-severity", "S2")
    page.select_option("#subcategory", "billing-wrong")
    page.fill("#title", "Charged again for order 8812")
    page.fill("#description", "A second charge appeared on the card today.")
    page.fill("#desired-outcome", "A refund of the second charge.")
    page.fill("#product-ref", "8812")
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(shots / "complaint-new.png"), full_page=True)

    sent: list[Any] = []
    page.on(
        "request",
        lambda r: sent.append(r) if r.method == "POST" and "/complaints/new/" in r.url else None,
    )
    page.dblclick("#record-complaint")
    page.wait_for_url(COMPLAINT_PAGE)
    created = Complaint.objects.get(title="Charged again for order 8812")
    assert page.url.endswith(f"/complaints/{created.pk}/")
    assert (created.severity, created.repeat_of_id, created.channel) == ("S2", earlier.pk, "phone")
    assert created.product_ref == "8812" and created.contact_id == desk.contact.pk
    expect(page.locator("#flash")).to_contain_text(f"Complaint {created.number} is recorded.")
    expect(page.locator("#repeat-of")).to_contain_text(earlier.number)
    # The same form sent once more (a resend after a lost answer): still one complaint.
    assert sent
    again = page.request.post(
        f"{server}/complaints/new/",
        data=sent[0].post_data,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert again.ok and again.url.endswith(f"/complaints/{created.pk}/")
    assert Complaint.objects.filter(title="Charged again for order 8812").count() == 1
    assert problems == []


def test_refused_intake_shows_the_problems_by_field(browser: Any, server: str, cdesk: Any) -> None:
    page = login(browser, server, "c-supervisor", "pw")
    page.goto("/complaints/new/")
    page.keyboard.type("wang")
    page.locator("#contact-results [role=option]").first.click()
    page.select_option("#category", "service")
    page.select_option("#severity", "S1")
    expect(page.locator("#severity-reason-field")).to_have_attribute("data-required", "1")
    page.click("#record-complaint")
    expect(page.locator("#title-problem")).to_have_text("This field may not be blank.")
    expect(page.locator("#description-problem")).to_be_visible()
    expect(page.locator("#chosen-email")).to_have_text("wang.fang@example.com")  # kept
    assert not Complaint.objects.exists()


def test_the_complaint_page_walk_to_approval_and_a_rejection(
    browser: Any, server: str, cdesk: Any, shots: Path
) -> None:
    desk = cdesk
    complaint = open_complaint(desk)
    handler = handler_of(desk, complaint)
    page = login(browser, server, handler.username, "pw")
    problems = watch(page)
    page.goto(f"/complaints/{complaint.pk}/")
    clocks = page.locator("#clock-table tbody tr")
    expect(clocks).to_have_count(3)
    expect(page.locator("tr[data-target='acknowledge'] td.countdown")).to_contain_text("left")
    expect(page.locator("#escalation-level")).to_have_text("level 0")
    expect(page.locator("#extensions-used")).to_have_text("0 of 1 used")
    expect(page.locator("#form-propose")).to_have_count(0)  # not before acknowledging

    page.click("#form-acknowledge button")
    expect(page.locator("#flash")).to_contain_text("Acknowledged")
    expect(page.locator("#complaint-status")).to_have_text("Investigating")
    expect(page.locator("tr[data-target='acknowledge'] .clock-state")).to_have_text("Met")

    page.select_option("#contact-channel", "phone")
    page.fill("#contact-summary", "Called back; promised an answer by Friday.")
    page.click("#form-contact button")
    expect(page.locator("#notes")).to_contain_text("promised an answer by Friday")
    expect(page.locator("tr[data-target='first_contact'] .clock-state")).to_have_text("Met")

    page.select_option("#propose-outcome", "upheld")
    page.select_option("#propose-root-cause", "system-defect")
    page.fill("#propose-resolution", "We refund the second charge.")
    page.fill("#propose-corrective", "Fix the retry of card payments.")
    page.fill("#propose-amount", "150")
    expect(page.locator("#propose-limit")).to_have_attribute("data-within", "1")
    page.fill("#propose-amount", "500")
    expect(page.locator("#propose-limit")).to_have_attribute("data-level", "supervisor")
    expect(page.locator("#propose-limit")).to_contain_text("a Supervisor must approve")
    page.select_option("#propose-kind", "refund")
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(shots / "complaint.png"), full_page=True)
    page.click("#form-propose button[type=submit]")
    expect(page.locator("#complaint-status")).to_have_text("Awaiting approval")
    proposal = page.locator("#proposals .proposal").first
    expect(proposal.locator(".required-level")).to_have_text("Supervisor")
    expect(page.locator("#form-approve")).to_have_count(0)  # not the handler's to approve

    boss = login(browser, server, "c-supervisor", "pw")
    boss.goto(f"/complaints/{complaint.pk}/")
    boss.fill("#extend-reason", "Waiting for the bank's statement.")
    boss.click("#form-extend button")
    expect(boss.locator("#extensions-used")).to_have_text("1 of 1 used")
    expect(boss.locator("#extensions")).to_contain_text("Waiting for the bank's statement.")
    expect(boss.locator("#form-extend")).to_have_count(0)  # none left
    boss.fill("#approve-reason", "Within policy.")
    boss.click("#form-approve button")
    expect(boss.locator("#complaint-status")).to_have_text("Answered, awaiting the customer")
    expect(boss.locator("#final-answer")).to_contain_text("We refund the second charge.")
    complaint.refresh_from_db()
    assert complaint.status == "awaiting_customer" and complaint.approved_level == "supervisor"

    # The rejection path: its reason reaches the handler.
    second = open_complaint(desk, title="Another charge")
    second_handler = handler_of(desk, second)
    services.acknowledge_complaint(complaint_id=second.pk, actor=second_handler)
    services.propose_resolution(
        complaint_id=second.pk,
        actor=second_handler,
        outcome="upheld",
        resolution="A voucher.",
        root_cause="policy",
        compensation_amount="900",
        compensation_kind="voucher",
    )
    boss.goto(f"/complaints/{second.pk}/")
    boss.click("#form-reject button")  # no reason: refused, nothing changed
    expect(boss.locator("#form-reject #action-problem")).to_contain_text(
        "Say why the proposal is rejected."
    )
    expect(boss.locator("#complaint-status")).to_have_text("Awaiting approval")
    boss.fill("#reject-reason", "Too much for a first complaint; offer 200.")
    boss.click("#form-reject button")
    expect(boss.locator("#complaint-status")).to_have_text("Investigating")
    mine = (
        page if second_handler == handler else login(browser, server, second_handler.username, "pw")
    )
    mine.goto(f"/complaints/{second.pk}/")
    expect(mine.locator("#proposals .proposal-rejected .decision-reason")).to_have_text(
        "Too much for a first complaint; offer 200."
    )
    expect(mine.locator("#form-propose")).to_be_visible()

    # An agent of another team does not see it.
    outsider = login(browser, server, "c-outsider", "pw")
    assert outsider.goto(f"/complaints/{complaint.pk}/").status == 404
    assert outsider.goto(f"/complaints/{complaint.pk}/process/").status == 404

    # The process chart, with the clock's ladder.
    page.goto(f"/complaints/{complaint.pk}/")
    page.click("#process-link")
    page.wait_for_url(f"**/complaints/{complaint.pk}/process/")
    expect(page.locator("figure.chart svg")).to_be_visible()
    expect(page.locator("#sla-ladder tr[data-key='final_answer:breach']")).to_have_count(1)
    expect(page.locator("#process-tasks li").first).to_be_visible()
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(shots / "complaint-process.png"), full_page=True)
    assert problems == []


def test_the_list_filters_and_the_screens_in_chinese(
    browser: Any, server: str, cdesk: Any, shots: Path
) -> None:
    desk = cdesk
    billing = open_complaint(desk, title="Wrong bill")
    rude = open_complaint(
        desk, title="Rude agent", category="service", subcategory="", impact="high", urgency="high"
    )
    page = login(browser, server, "c-supervisor", "pw")
    page.goto("/complaints/")
    rows = page.locator("#complaints tbody tr")
    expect(rows).to_have_count(2)
    page.select_option("#filter-severity", "S1")
    page.click("#complaint-filters button[type=submit]")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(rude.number)
    assert "severity=S1" in page.url
    page.goto("/complaints/?category=billing")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(billing.number)
    page.fill("#filter-search", rude.number)
    page.select_option("#filter-category", "")
    page.click("#complaint-filters button[type=submit]")
    expect(rows).to_have_count(1)
    page.goto("/complaints/?mine=1")
    expect(page.locator("#complaints-empty")).to_be_visible()
    page.goto("/complaints/?overdue=1")
    expect(page.locator("#complaints-empty")).to_be_visible()
    page.goto("/complaints/")
    page.click(f"#complaints a:text('{billing.number}')")
    page.wait_for_url(f"**/complaints/{billing.pk}/")
    page.goto("/complaints/")
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(shots / "complaints.png"), full_page=True)

    zh = login(browser, server, "c-supervisor", "pw", language="zh-CN")
    zh.goto("/complaints/")
    expect(zh.locator("h1")).to_have_text("投诉")
    expect(zh.locator("nav.mainnav")).to_contain_text("投诉")
    zh.goto(f"/complaints/{billing.pk}/")
    expect(zh.locator("#complaint-status")).to_have_text(zh_status())
    expect(zh.locator("#clocks-title")).to_contain_text("时限")
    expect(zh.locator("tr[data-target='final_answer']")).to_contain_text("最终答复")
    expect(zh.locator("#fact-category")).to_contain_text("计费与收费")
    zh.evaluate("window.scrollTo(0, 0)")
    zh.screenshot(path=str(shots / "complaint-zh.png"), full_page=True)
    zh.goto("/complaints/new/")
    expect(zh.locator("h1")).to_have_text("新建投诉")
    expect(zh.locator("#severity-preview")).to_have_text(zh_label("S3 moderate"))


def zh_status() -> str:
    from django.utils import translation

    with translation.override("zh-hans"):
        from complaints.choices import ComplaintStatus

        return str(ComplaintStatus.RECEIVED.label)


def test_take_assign_escalate_note_close_and_reopen(browser: Any, server: str, cdesk: Any) -> None:
    from org.models import AgentProfile

    desk = cdesk
    AgentProfile.objects.filter(user__in=[desk.handler1, desk.handler2]).update(presence="away")
    complaint = open_complaint(desk)
    assert complaint.assignee_id is None  # nobody online: it waits for the team
    page = login(browser, server, "handler1", "pw")
    problems = watch(page)
    page.goto(f"/complaints/{complaint.pk}/")
    expect(page.locator("#complaint-handler")).to_have_text("Unassigned")
    page.click("#form-take button")
    expect(page.locator("#complaint-handler")).to_have_text("handler1")
    expect(page.locator("#form-take")).to_have_count(0)
    expect(page.locator("#form-assign")).to_have_count(0)  # a supervisor's

    boss = login(browser, server, "c-supervisor", "pw")
    boss.goto(f"/complaints/{complaint.pk}/")
    boss.select_option("#assign-assignee", label="handler2")
    boss.click("#form-assign button")
    expect(boss.locator("#complaint-handler")).to_have_text("handler2")
    expect(boss.locator("#history li[data-verb='assigned']").last).to_contain_text("handler2")

    # handler1 no longer handles it: the page offers only a note now.
    page.reload()
    expect(page.locator("#form-acknowledge")).to_have_count(0)
    page.fill("#note-body", "The customer called twice last week.")
    page.click("#form-note button")
    expect(page.locator("#notes li[data-kind='note']")).to_contain_text("called twice")

    other = login(browser, server, "handler2", "pw")
    other.goto(f"/complaints/{complaint.pk}/")
    other.click("#form-escalate button")  # no reason: refused, nothing changed
    expect(other.locator("#form-escalate #action-problem")).to_contain_text(
        "Say why the complaint is escalated."
    )
    expect(other.locator("#escalation-level")).to_have_text("level 0")
    other.fill("#escalate-reason", "The customer mentions the regulator.")
    other.click("#form-escalate button")
    expect(other.locator("#escalation-level")).to_have_text("level 1")
    expect(other.locator("#complaint-severity")).to_have_text("S2 major")
    other.click("#form-acknowledge button")
    other.select_option("#propose-outcome", "partially_upheld")
    other.select_option("#propose-root-cause", "communication")
    other.fill("#propose-resolution", "We explain the fee and apologise.")
    expect(other.locator("#propose-limit")).to_have_attribute("data-within", "1")
    other.click("#form-propose button[type=submit]")
    expect(other.locator("#complaint-status")).to_have_text("Answered, awaiting the customer")
    other.fill("#close-note", "Accepted on the phone.")
    other.click("#form-close button")
    expect(other.locator("#complaint-status")).to_have_text("Closed")
    other.fill("#reopen-reason", "The fee was charged again.")
    other.click("#form-reopen button")
    expect(other.locator("#complaint-status")).to_have_text("Investigating")
    expect(other.locator("#escalation-level")).to_have_text("level 2")
    complaint.refresh_from_db()
    assert complaint.status == "investigating" and complaint.assignee_id == desk.handler2.pk
    assert problems == []


def zh_label(english: str) -> str:
    from django.utils import translation

    with translation.override("zh-hans"):
        return translation.gettext(english)
