"""Issue 11's journey end to end, in Chromium against the real ASGI server, a real Celery
worker (with beat) delivering the outbox and a real SMTP server: an agent records a
complaint at the phone screen → acknowledges it → proposes compensation above their limit →
the supervisor approves from the live queue → the customer's email arrives → they dispute
through its link → the complaint is back with its handler at escalation level 2."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import expect, live, login
from tests.e2e.conftest import WorkerProcess, worker_env

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.redis]

RESPOND_LINK = re.compile(r"https?://[^\s\"'<>]+(/help/complaints/[A-Za-z0-9_:\-]+/)")
MAIL_TIMEOUT = 90


@pytest.fixture
def sink() -> Iterator[Any]:
    from tests.smtp_sink import running_sink

    with running_sink() as found:
        yield found


@pytest.fixture
def worker(server: str, live_layer: str, sink: Any) -> Iterator[WorkerProcess]:
    """The outbox's deliverer, on the broker the server publishes to."""
    process = WorkerProcess(
        worker_env(broker=live_layer, KEFU_EMAIL_URL=sink.url, KEFU_OUTBOX_SWEEP_SECONDS="0.5"),
        Path(tempfile.mkdtemp(prefix="kefu-complaint-journey-")),
    )
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture
def cdesk(transactional_db: Any) -> Any:
    from org.models import AgentProfile
    from tests.factories import RoutingRuleFactory
    from tests.factories.complaints import build_complaints_desk
    from tickets.services import open_ticket

    desk = build_complaints_desk()
    # handler1 takes the call; handler2 is away, so handler1 handles it too
    AgentProfile.objects.filter(user=desk.handler2).update(presence="offline")
    # a customer the desk knows: an earlier ticket in the complaints team (agents find the
    # contacts of their teams' work)
    RoutingRuleFactory(team=desk.team, position=100)
    open_ticket(
        actor=desk.supervisor,
        subject="Card charged twice",
        description="Asked on the phone",
        priority="P2",
        channel="phone",
        contact_id=desk.contact.pk,
    )
    return desk


def _about(sink: Any, number: str) -> list[Any]:
    """The emails to the customer about the complaint, in the order they arrived."""
    return [
        m
        for m in sink.messages
        if "wang.fang@example.com" in str(m["To"]) and number in str(m["Subject"])
    ]


def _text(message: Any) -> str:
    from tests.smtp_sink import body_text

    return body_text(message)


def test_phone_intake_to_a_dispute_through_the_emailed_link(
    browser: Any, server: str, cdesk: Any, sink: Any, worker: WorkerProcess
) -> None:
    from complaints.models import Complaint

    # 1. The agent records the complaint at the phone screen.
    agent = login(browser, server, "handler1", "pw")
    agent.goto("/complaints/new/")
    expect(agent.locator("#contact-search")).to_be_focused()
    agent.keyboard.type("wang.f")
    expect(agent.locator("#contact-results [role=option]")).to_have_count(1)
    agent.keyboard.press("Enter")
    expect(agent.locator("#chosen-email")).to_have_text("wang.fang@example.com")
    agent.select_option("#category", "billing")
    agent.select_option("#subcategory", "billing-wrong")
    agent.fill("#title", "Charged twice for order 8812")
    agent.fill("#description", "The card was charged twice for one order.")
    agent.fill("#desired-outcome", "A refund of the second charge.")
    agent.click("#record-complaint")
    agent.wait_for_url(re.compile(r"/complaints/\d+/$"))
    complaint = Complaint.objects.get(title="Charged twice for order 8812")
    assert complaint.assignee_id == cdesk.handler1.pk and complaint.channel == "phone"

    # 2. Acknowledged: the customer hears of it by email.
    agent.click("#form-acknowledge button")
    expect(agent.locator("#complaint-status")).to_have_text("Investigating")
    # (the ticket's own acknowledgement went first)
    sink.wait_for(2, timeout=MAIL_TIMEOUT, on_timeout=worker.log)
    (acknowledgement,) = _about(sink, complaint.number)
    assert "received your complaint" in str(acknowledgement["Subject"])

    # 3. A proposal above the handler's limit waits for a supervisor.
    agent.select_option("#propose-outcome", "upheld")
    agent.select_option("#propose-root-cause", "system-defect")
    agent.fill("#propose-resolution", "We refund the second charge of 500.")
    agent.fill("#propose-amount", "500")
    agent.select_option("#propose-kind", "refund")
    expect(agent.locator("#propose-limit")).to_have_attribute("data-level", "supervisor")
    agent.click("#form-propose button[type=submit]")
    expect(agent.locator("#complaint-status")).to_have_text("Awaiting approval")

    # 4. The supervisor finds it in their live queue and approves it.
    boss = login(browser, server, "c-supervisor", "pw")
    boss.goto("/queue/")
    live(boss)
    row = boss.locator(f"tbody tr[data-kind='complaint'][data-id='{complaint.pk}']")
    expect(row).to_be_visible()
    expect(row.locator(".status")).to_have_text("Awaiting approval")
    row.dblclick()
    boss.wait_for_url(f"**/complaints/{complaint.pk}/")
    boss.fill("#approve-reason", "Within policy: a double charge.")
    boss.click("#form-approve button")
    expect(boss.locator("#complaint-status")).to_have_text("Answered, awaiting the customer")

    # 5. The final answer arrives by email with the link to accept or dispute.
    sink.wait_for(3, timeout=MAIL_TIMEOUT, on_timeout=worker.log)
    answer = _about(sink, complaint.number)[-1]
    assert "Our answer to your complaint" in str(answer["Subject"])
    body = _text(answer)
    assert "We refund the second charge of 500." in body
    found = RESPOND_LINK.search(body)
    assert found is not None, body

    # 6. The customer disputes through the link (no login).
    context = browser.new_context(base_url=server, locale="en-US")
    customer = context.new_page()
    customer.goto(found.group(1))
    expect(customer.locator("#complaint-number")).to_have_text(complaint.number)
    customer.fill("#id_reason", "Only half of the money came back.")
    customer.get_by_role("button", name="Dispute the answer").click()
    expect(customer.locator("#answered")).to_be_visible()
    context.close()

    # 7. Back with its handler, one level up (level 2), with a fresh final-answer target.
    complaint.refresh_from_db()
    assert complaint.status == "investigating" and complaint.customer_response == "disputed"
    assert complaint.sla_clock is not None and complaint.sla_clock.escalation_level == 2
    agent.goto(f"/complaints/{complaint.pk}/")
    expect(agent.locator("#complaint-status")).to_have_text("Investigating")
    expect(agent.locator("#escalation-level")).to_have_text("level 2")
    expect(agent.locator("#form-propose")).to_be_visible()
