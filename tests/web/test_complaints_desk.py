"""Complaints on the agent desk over Django's test client: the board's complaints panel and
its selector, the ticket page's links and its escalation into a complaint, and the
customer's accept-or-dispute page (its states, refusals, throttle and language)."""

# ruff: noqa: RUF001

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from complaints import services
from complaints.models import Complaint
from outbox.models import OutboxMessage
from processes.links import links_of
from processes.models import WorkItem
from tests.factories import open_ticket
from tests.factories.complaints import build_complaints_desk, open_complaint
from web import selectors as web_selectors

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english_afterwards() -> Any:
    yield
    translation.deactivate()


@pytest.fixture
def cdesk() -> Any:
    return build_complaints_desk()


def logged_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def answered(cdesk: Any, **overrides: Any) -> tuple[Complaint, str]:
    """A complaint whose final answer went out (the handler decided within their limit);
    the path of the respond link as the outcome email in the outbox has it."""
    complaint = open_complaint(cdesk, **overrides)
    handler = complaint.assignee
    services.acknowledge_complaint(complaint_id=complaint.pk, actor=handler)
    services.propose_resolution(
        complaint_id=complaint.pk,
        actor=handler,
        outcome="partially_upheld",
        resolution="We refund the second charge.",
        root_cause="system-defect",
        compensation_amount="50.00",
        compensation_kind="refund",
    )
    complaint.refresh_from_db()
    assert complaint.status == "awaiting_customer"
    email = OutboxMessage.objects.get(kind="complaint.outcome", object_id=complaint.pk)
    token = email.body_text.split("/help/complaints/")[1].split("/")[0]
    return complaint, f"/help/complaints/{token}/"


# --- the board's complaints panel ---------------------------------------------------
def test_complaint_counters_count_severity_overdue_approval_and_breach_in_one_statement(
    cdesk: Any,
) -> None:
    first = open_complaint(cdesk)  # S3
    second = open_complaint(cdesk, impact="critical", urgency="high", title="Outage")
    WorkItem.objects.filter(kind="complaint", object_id=first.pk).update(
        due=timezone.now() - timedelta(minutes=1), breached=True
    )
    WorkItem.objects.filter(kind="complaint", object_id=second.pk).update(
        status="awaiting_approval"
    )

    with CaptureQueriesContext(connection) as queries:
        counts = web_selectors.complaint_counters()

    assert len(queries) == 1
    assert counts["open"] == 2
    assert counts["S3"] == 1 and counts[second.severity] == 1
    assert counts["overdue"] == 1 and counts["breached"] == 1
    assert counts["awaiting_approval"] == 1


def test_the_board_shows_the_complaints_panel_and_serves_it_to_supervisors_only(
    cdesk: Any,
) -> None:
    open_complaint(cdesk)
    board = logged_in(cdesk.supervisor).get("/board/")
    assert board.status_code == 200
    assert 'id="complaint-counters"' in board.content.decode()
    assert '<td data-count="open">1</td>' in board.content.decode()

    panel = logged_in(cdesk.supervisor).get("/board/complaints/")
    assert panel.status_code == 200 and panel.json()["open"] == 1
    assert logged_in(cdesk.handler1).get("/board/complaints/").status_code == 403


# --- the ticket page: links and escalation ------------------------------------------
def test_escalating_a_ticket_opens_a_linked_complaint_never_handled_by_its_assignee(
    desk: Any, cdesk: Any
) -> None:
    # The ticket's agent is the complaints team's only member: excluded, nobody handles it.
    cdesk.team.members.set([desk.agent1])
    ticket = open_ticket(desk)
    ticket.assignee = desk.agent1
    ticket.save(update_fields=["assignee"])

    response = logged_in(desk.agent1).post(
        f"/tickets/{ticket.pk}/escalate/",
        {"category": "billing", "impact": "high", "urgency": "medium", "desired_outcome": "Refund"},
    )

    complaint = Complaint.objects.get()
    assert response.status_code == 303
    assert response["Location"] == f"/complaints/{complaint.pk}/"
    assert complaint.channel == "ticket" and complaint.title == ticket.subject
    assert complaint.contact_id == ticket.contact_id and complaint.desired_outcome == "Refund"
    assert complaint.assignee_id is None and complaint.about_user_id == desk.agent1.pk
    assert links_of("ticket", ticket.pk) == [
        {
            "kind": "complaint",
            "id": complaint.pk,
            "number": complaint.number,
            "relation": "escalated_from",
        }
    ]
    assert links_of("complaint", complaint.pk)[0]["id"] == ticket.pk

    page = logged_in(desk.agent1).get(f"/tickets/{ticket.pk}/").content.decode()
    assert f'<a href="/complaints/{complaint.pk}/">{complaint.number}</a>' in page


def test_a_second_escalation_is_refused_while_the_first_complaint_is_open(
    desk: Any, cdesk: Any
) -> None:
    ticket = open_ticket(desk)
    form = {"category": "billing", "impact": "high", "urgency": "medium"}
    assert logged_in(desk.agent1).post(f"/tickets/{ticket.pk}/escalate/", form).status_code == 303
    complaint = Complaint.objects.get()
    page = logged_in(desk.agent1).get(f"/tickets/{ticket.pk}/").content.decode()
    assert 'id="escalate-form"' not in page
    assert f'<a href="/complaints/{complaint.pk}/">{complaint.number}</a>.' in page

    again = logged_in(desk.supervisor).post(f"/tickets/{ticket.pk}/escalate/", form)

    assert again.status_code == 409
    page = again.content.decode()
    assert f"Already escalated into complaint {complaint.number}." in page
    assert 'id="escalate-form"' not in page
    assert list(Complaint.objects.values_list("pk", flat=True)) == [complaint.pk]
    assert len(links_of("ticket", ticket.pk)) == 1


def test_a_bad_escalation_shows_the_form_again_and_opens_nothing(desk: Any, cdesk: Any) -> None:
    ticket = open_ticket(desk)

    response = logged_in(desk.agent1).post(
        f"/tickets/{ticket.pk}/escalate/", {"category": "no-such", "impact": "high"}
    )

    assert response.status_code == 400
    page = response.content.decode()
    assert "Unknown category." in page and "<details open>" in page
    assert not Complaint.objects.exists()
    assert links_of("ticket", ticket.pk) == []


def test_escalation_needs_a_ticket_the_user_may_see(desk: Any, cdesk: Any) -> None:
    ticket = open_ticket(desk)
    response = logged_in(desk.outsider).post(
        f"/tickets/{ticket.pk}/escalate/",
        {"category": "billing", "impact": "high", "urgency": "high"},
    )
    assert response.status_code == 404
    assert not Complaint.objects.exists()
    assert logged_in(desk.agent1).get(f"/tickets/{ticket.pk}/escalate/").status_code == 405


# --- the customer's respond page ----------------------------------------------------
def test_the_respond_page_shows_the_answer_and_accepting_records_it_once(cdesk: Any) -> None:
    complaint, path = answered(cdesk)
    page = Client().get(path)
    assert page.status_code == 200
    html = page.content.decode()
    assert complaint.number in html and "We refund the second charge." in html
    assert "50.00" in html and "Refund" in html and "Partially upheld" in html
    assert page["Cache-Control"] == "private, no-store"

    client = Client(enforce_csrf_checks=False)
    first = client.post(path, {"choice": "accept"})
    assert first.status_code == 303 and first["Location"] == f"{path}?done=accept"
    second = client.post(path, {"choice": "accept"})
    assert second.status_code == 409
    assert "already recorded" in second.content.decode()
    complaint.refresh_from_db()
    assert complaint.customer_response == "accepted"
    assert complaint.status in ("closed", "quality_review")
    thanks = client.get(f"{path}?done=accept").content.decode()
    assert "You accepted our answer" in thanks


def test_a_dispute_needs_a_reason_and_then_reopens_at_level_two(cdesk: Any) -> None:
    complaint, path = answered(cdesk)
    empty = Client().post(path, {"choice": "dispute", "reason": "  "})
    assert empty.status_code == 400
    assert "Tell us what you disagree with." in empty.content.decode()
    complaint.refresh_from_db()
    assert complaint.status == "awaiting_customer"

    done = Client().post(path, {"choice": "dispute", "reason": "Not enough."})

    assert done.status_code == 303
    complaint.refresh_from_db()
    assert complaint.status == "investigating" and complaint.dispute_reason == "Not enough."
    assert complaint.sla_clock is not None and complaint.sla_clock.escalation_level == 2
    assert "You told us you disagree" in Client().get(path).content.decode()


def test_after_the_window_the_page_says_so_and_nothing_changes(cdesk: Any) -> None:
    complaint, path = answered(cdesk)
    Complaint.objects.filter(pk=complaint.pk).update(
        response_due_at=timezone.now() - timedelta(minutes=1)
    )
    assert Client().get(path).status_code == 410
    refused = Client().post(path, {"choice": "accept"})
    assert refused.status_code == 410
    assert "The time to answer is over" in refused.content.decode()
    complaint.refresh_from_db()
    assert complaint.status == "awaiting_customer" and complaint.customer_response == ""


def test_a_bad_link_is_a_404_and_a_choice_is_required(cdesk: Any) -> None:
    _complaint, path = answered(cdesk)
    assert Client().get("/help/complaints/not-a-token/").status_code == 404
    tampered = path[:-3] + ("A" if path[-3] != "A" else "B") + path[-2:]
    assert Client().get(tampered).status_code == 404
    assert Client().post(path, {"choice": "maybe"}).status_code == 400


def test_the_respond_page_speaks_the_contacts_language(cdesk: Any) -> None:
    cdesk.contact.language = "zh-hans"
    cdesk.contact.save(update_fields=["language"])
    _complaint, path = answered(cdesk)
    html = Client().get(path).content.decode()
    assert "您是否接受这一答复？" in html and 'lang="zh-hans"' in html
    # the visitor's own choice (the language switch's cookie) wins
    client = Client()
    client.cookies["django_language"] = "en"
    assert "Do you accept this answer?" in client.get(path).content.decode()


def test_the_respond_page_is_throttled_and_csrf_protected(cdesk: Any, settings: Any) -> None:
    from django.core.cache import cache

    cache.clear()
    settings.KEFU_HELP_THROTTLE = "2/hour"
    _complaint, path = answered(cdesk)
    assert Client(enforce_csrf_checks=True).post(path, {"choice": "maybe"}).status_code == 403
    client = Client()
    assert client.post(path, {"choice": "maybe"}).status_code == 400
    assert client.post(path, {"choice": "maybe"}).status_code == 400
    throttled = client.post(path, {"choice": "accept"})
    assert throttled.status_code == 429 and "Retry-After" in throttled
    cache.clear()


# --- the queue page -------------------------------------------------------------------
def test_the_queue_page_carries_complaint_rows_and_their_labels_in_chinese(cdesk: Any) -> None:
    import json

    complaint = open_complaint(cdesk)
    client = logged_in(complaint.assignee)
    html = client.get("/queue/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()

    def embedded(element_id: str) -> Any:
        start = html.index(f'<script id="{element_id}" type="application/json">')
        start = html.index(">", start) + 1
        return json.loads(html[start : html.index("</script>", start)])

    rows = embedded("kefu-config")["rows"]
    assert [(r["kind"], r["object_id"], r["priority"]) for r in rows] == [
        ("complaint", complaint.pk, "S3")
    ]
    strings = embedded("kefu-strings")
    assert strings["severity"]["S3"] == "S3 一般"
    assert strings["complaint_status"]["received"] == "已接收"
    assert strings["complaint_status"]["awaiting_approval"] == "待审批"
    assert strings["open_complaint"] == "打开投诉"


def test_an_agent_escalating_their_own_ticket_returns_to_it_with_the_number(
    desk: Any, cdesk: Any
) -> None:
    """The complaint goes to the complaints team (and may be about the ticket's agent): the
    agent who escalated it is sent back to the ticket with its number, not to a 404."""
    ticket = open_ticket(desk)
    ticket.assignee = desk.agent1
    ticket.save(update_fields=["assignee"])
    client = logged_in(desk.agent1)

    response = client.post(
        f"/tickets/{ticket.pk}/escalate/",
        {"category": "billing", "impact": "high", "urgency": "medium"},
    )

    complaint = Complaint.objects.get()
    assert response.status_code == 303
    assert response["Location"] == f"/tickets/{ticket.pk}/"
    page = client.get(response["Location"]).content.decode()
    assert f"Complaint {complaint.number} went to a team you do not see." in page
    assert client.get(f"/complaints/{complaint.pk}/").status_code == 404
