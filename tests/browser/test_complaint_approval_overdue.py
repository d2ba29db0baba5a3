# ruff: noqa: RUF001
"""An overdue approval in Chromium (docs/complaints.md, "Overdue approvals"): after the
ladder escalated it, the approver's queue row is overdue, the complaint page shows the
approval's clock overdue and whom it was escalated to, its history the ladder's steps; the
manager's notification opens the complaint; approving it clears the overdue approval. In
English and in Chinese."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest

from complaints import services
from complaints.models import APPROVAL_KIND, Complaint, Proposal
from sla import clock as clocks
from sla import ladder
from sla.models import SlaClock
from tests.browser.conftest import expect, live, login
from tests.factories.complaints import build_complaints_desk, open_complaint

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.redis]


@pytest.fixture
def cdesk(transactional_db: Any) -> Any:
    return build_complaints_desk()


def flush() -> None:
    """The events of this process's commits, on their way to the server's layer."""
    from notifications.realtime import wait_for_pending

    wait_for_pending()


def overdue_approval(desk: Any) -> tuple[Complaint, Proposal]:
    """A complaint whose supervisor-level approval was asked 25 hours ago (24 allowed), and
    the ladder's sweep that escalated it."""
    complaint = open_complaint(desk, title="Refund never arrived")
    services.acknowledge_complaint(complaint_id=complaint.pk, actor=complaint.assignee)
    proposal = services.propose_resolution(
        complaint_id=complaint.pk,
        actor=complaint.assignee,
        outcome="upheld",
        resolution="We refund the order.",
        root_cause="system-defect",
        compensation_amount="500.00",
        compensation_kind="refund",
    )
    assert proposal.due_at is not None
    ago = timedelta(hours=25)
    Proposal.objects.filter(pk=proposal.pk).update(due_at=proposal.due_at - ago)
    clock = SlaClock.objects.get(kind=APPROVAL_KIND, object_id=complaint.pk)
    assert clock.started_at is not None
    clock.started_at -= ago
    clocks.save(clock)
    assert ladder.fire_batch() == (1, 2)
    flush()
    return complaint, proposal


def test_an_overdue_approval_is_shown_escalated_and_cleared_by_approving(
    browser: Any, server: str, cdesk: Any
) -> None:
    complaint, _proposal = overdue_approval(cdesk)

    # The approver's queue: the row is theirs and overdue.
    queue = login(browser, server, "c-supervisor", "pw")
    queue.goto("/queue/")
    live(queue)
    line = queue.locator(f"tbody tr[data-kind='complaint'][data-id='{complaint.pk}']")
    expect(line).to_be_visible()
    expect(line.locator(".assignee")).to_have_text("c-supervisor")
    expect(line).to_have_class(re.compile(r"\bbreached\b"))

    # The complaint page: the approval's clock overdue, escalated to the managers.
    page = login(browser, server, "c-supervisor", "pw")
    page.goto(f"/complaints/{complaint.pk}/")
    approval = page.locator("#clock-table tr[data-target='approval']")
    expect(approval.locator("td").first).to_have_text("Approval")
    expect(approval.locator(".clock-state")).to_have_text("Overdue")
    expect(approval.locator("td.countdown")).to_contain_text("overdue by")
    expect(page.locator("#approval-overdue")).to_have_text("Overdue: escalated to the managers")
    expect(page.locator("#history")).to_contain_text(
        "warned the approver: the approval is due soon"
    )
    expect(page.locator("#history")).to_contain_text("escalated the overdue approval")
    expect(page.locator("#history")).to_contain_text("Amount: 500.00")

    # The manager's notification names the overdue approval and opens the complaint.
    boss = login(browser, server, "c-manager", "pw")
    boss.goto("/queue/")
    live(boss)
    expect(boss.locator("#unread")).to_have_text("1")
    boss.click("#bell")
    boss.get_by_role(
        "button", name=f"The approval of complaint {complaint.number} (500.00 CNY) is overdue"
    ).click()
    boss.wait_for_url(f"**/complaints/{complaint.pk}/")
    expect(boss.locator("#approval-overdue")).to_be_visible()

    # In Chinese.
    zh = login(browser, server, "c-manager", "pw", language="zh-CN")
    zh.goto(f"/complaints/{complaint.pk}/")
    expect(zh.locator("#clock-table tr[data-target='approval'] td").first).to_have_text("审批")
    expect(zh.locator("#clock-table tr[data-target='approval'] .clock-state")).to_have_text(
        "已逾期"
    )
    expect(zh.locator("#approval-overdue")).to_have_text("已逾期：已上报给经理")

    # Approving clears it: no approval clock running, nothing overdue on the page.
    page.fill("#approve-reason", "Within policy.")
    page.click("#form-approve button")
    expect(page.locator("#complaint-status")).to_have_text("Answered, awaiting the customer")
    expect(page.locator("#clock-table tr[data-target='approval']")).to_have_count(0)
    expect(page.locator("#approval-overdue")).to_have_count(0)
    clock = SlaClock.objects.get(kind=APPROVAL_KIND, object_id=complaint.pk)
    assert clock.stopped_at is not None and clock.next_at is None
    assert clock.targets["approval"]["breached"]  # decided late, and recorded so
