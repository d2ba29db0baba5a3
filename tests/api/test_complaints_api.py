"""The complaint endpoints of docs/api.md ("Complaints"): every action, and every refusal a
clear 4xx that changes nothing (the complaint's row, its audit rows, the outbox)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.forms.models import model_to_dict

from audit.models import AuditEvent
from complaints.models import Complaint, ComplaintNote, Extension, Proposal
from org.choices import AssignmentStrategy
from outbox.models import OutboxMessage
from processes.links import links_of
from tests.conftest import client_for
from tests.factories import build_desk, open_ticket, update_ticket
from tests.factories.complaints import ComplaintsDesk, build_complaints_desk, open_complaint

pytestmark = pytest.mark.django_db

DETAIL_KEYS = {
    # API.md's names
    "handler",
    "repeat",
    "clocks",
    "proposal",
    "escalation_level",
    "id",
    "number",
    "title",
    "description",
    "desired_outcome",
    "product_ref",
    "status",
    "status_label",
    "node",
    "channel",
    "profile",
    "category",
    "subcategory",
    "customer",
    "contact",
    "team",
    "assignee",
    "about_user",
    "ticket",
    "impact",
    "urgency",
    "severity",
    "derived_severity",
    "severity_reason",
    "regulatory",
    "repeat_of",
    "received_at",
    "acknowledged_at",
    "first_contact_at",
    "answered_at",
    "response_due_at",
    "customer_response",
    "responded_at",
    "dispute_reason",
    "disputes",
    "reviewed_at",
    "closed_at",
    "outcome",
    "resolution",
    "root_cause",
    "corrective_action",
    "compensation_amount",
    "compensation_kind",
    "approved_level",
    "extensions_used",
    "extensions_allowed",
    "clock",
    "notes",
    "proposals",
    "extensions",
    "links",
    "customer_history",
    "people",
    "actions",
    "version",
    "created",
    "updated",
    "history_url",
}


@pytest.fixture
def cd() -> ComplaintsDesk:
    return build_complaints_desk()


def url(complaint: Complaint, action: str = "") -> str:
    return f"/api/complaints/{complaint.pk}/" + (f"{action}/" if action else "")


def intake(cd: ComplaintsDesk, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "category": "billing",
        "subcategory": "billing-wrong",
        "title": "Charged twice for one order",
        "description": "My card was charged twice for order 8812.",
        "impact": "medium",
        "urgency": "medium",
        "channel": "phone",
        "customer_id": cd.customer.pk,
        "contact_id": cd.contact.pk,
    }
    body.update(overrides)
    return body


def state(complaint: Complaint) -> tuple[Any, ...]:
    """Everything a refusal must leave as it was."""
    row = Complaint.objects.get(pk=complaint.pk)
    clock = row.sla_clock
    return (
        model_to_dict(row),
        clock.targets if clock else None,
        clock.escalation_level if clock else None,
        AuditEvent.objects.filter(complaint=complaint).count(),
        OutboxMessage.objects.count(),
        ComplaintNote.objects.filter(complaint=complaint).count(),
        list(Proposal.objects.filter(complaint=complaint).values()),
        Extension.objects.filter(complaint=complaint).count(),
    )


@contextmanager
def unchanged(complaint: Complaint) -> Iterator[None]:
    before = state(complaint)
    yield
    assert state(complaint) == before


def refused(
    user: Any, complaint: Complaint, action: str, body: dict[str, Any], code: int
) -> dict[str, Any]:
    with unchanged(complaint):
        response = client_for(user).post(url(complaint, action), body, format="json")
    assert response.status_code == code, response.json()
    data: dict[str, Any] = response.json()
    assert data["detail"] and isinstance(data["errors"], dict)
    return data


def act(user: Any, complaint: Complaint, action: str, body: dict[str, Any] | None = None) -> Any:
    response = client_for(user).post(url(complaint, action), body or {}, format="json")
    assert response.status_code == 200, response.json()
    data = response.json()
    assert set(data) == DETAIL_KEYS
    return data


def propose_body(amount: str | None = None, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "outcome": "upheld",
        "resolution": "We refund the second charge.",
        "root_cause": "system-defect",
        "corrective_action": "Fix the retry of the payment gateway.",
    }
    if amount is not None:
        body |= {"compensation_amount": amount, "compensation_kind": "refund"}
    return body | overrides


# --- intake, list, detail, history -------------------------------------------------------
def test_intake_opens_the_complaint_and_answers_its_detail(cd: ComplaintsDesk) -> None:
    response = client_for(cd.handler1).post("/api/complaints/", intake(cd), format="json")

    assert response.status_code == 201, response.json()
    data = response.json()
    assert set(data) == DETAIL_KEYS
    complaint = Complaint.objects.get(pk=data["id"])
    assert data["number"] == complaint.number and data["number"].startswith("C-")
    assert data["status"] == "received" and data["node"] == "handle"
    assert data["category"]["code"] == "billing"
    assert data["subcategory"]["code"] == "billing-wrong"
    assert data["severity"] == data["derived_severity"] == "S3"
    assert data["profile"]["code"] == "standard"
    assert data["customer"]["id"] == cd.customer.pk
    assert data["assignee"] in (cd.handler1.pk, cd.handler2.pk)
    clock = data["clock"]
    assert [t["name"] for t in clock["targets"]] == ["acknowledge", "first_contact", "final_answer"]
    assert all(t["due"] and t["met_at"] is None for t in clock["targets"])
    assert clock["calendar"] == "business" and clock["escalation_level"] == 0
    assert [s["state"] for s in clock["ladder"]] == ["pending"] * len(clock["ladder"])
    assert {s["action"] for s in clock["ladder"] if s["kind"] == "level"} >= {"notify_manager"}
    assert data["history_url"] == f"/api/complaints/{complaint.pk}/history/"
    assert data["customer_history"] == {"complaints": [], "open_work": []}
    assert data["extensions_allowed"] == 1
    assert data["people"]


def test_actions_offered_follow_the_person_and_the_state(cd: ComplaintsDesk) -> None:
    complaint = open_complaint(cd, about_user_id=cd.handler1.pk)
    assert complaint.assignee_id == cd.handler2.pk

    def actions(user: Any) -> list[str]:
        response = client_for(user).get(url(complaint))
        assert response.status_code == 200
        result: list[str] = response.json()["actions"]
        return result

    assert actions(cd.handler2) == ["acknowledge", "contact", "note", "escalate"]
    assert actions(cd.handler1) == ["note"]  # it is about them
    assert actions(cd.supervisor) == [
        "assign",
        "acknowledge",
        "contact",
        "note",
        "extend",
        "escalate",
    ]
    act(cd.handler2, complaint, "acknowledge")
    assert "propose" in actions(cd.handler2) and "acknowledge" not in actions(cd.handler2)
    act(cd.handler2, complaint, "propose", propose_body("500.00"))
    assert actions(cd.handler2) == ["note", "escalate"]
    assert actions(cd.supervisor) == ["note", "approve", "reject", "extend", "escalate"]
    assert "approve" in actions(cd.manager)


def test_the_list_shows_what_the_caller_may_see_with_filters(cd: ComplaintsDesk) -> None:
    first = open_complaint(cd)
    second = open_complaint(
        cd, title="Rude agent on the phone", category="service", subcategory="", impact="high"
    )
    client = client_for(cd.handler1)

    rows = client.get("/api/complaints/").json()
    assert [r["id"] for r in rows["results"]] == [second.pk, first.pk]
    assert rows["next"] is None and rows["previous"] is None
    assert client.get("/api/complaints/?severity=S2").json()["results"][0]["id"] == second.pk
    assert [r["id"] for r in client.get("/api/complaints/?category=billing").json()["results"]] == [
        first.pk
    ]
    assert [r["id"] for r in client.get("/api/complaints/?q=rude").json()["results"]] == [second.pk]
    found = client.get(f"/api/complaints/?q={first.number}").json()["results"]
    assert [r["id"] for r in found] == [first.pk]
    mine = client.get("/api/complaints/?assignee=me").json()["results"]
    assert {r["id"] for r in mine} == {
        c.pk
        for c in (first, second)
        if Complaint.objects.get(pk=c.pk).assignee_id == cd.handler1.pk
    }
    assert client.get("/api/complaints/?overdue=true").json()["results"] == []
    assert len(client.get("/api/complaints/?overdue=false").json()["results"]) == 2
    assert client.get("/api/complaints/?status=closed").json()["results"] == []
    assert (
        len(client.get(f"/api/complaints/?team={cd.team.pk}&ordering=due").json()["results"]) == 2
    )
    # an agent of another team sees none of them
    assert client_for(cd.outsider).get("/api/complaints/").json()["results"] == []


def test_the_list_pages_by_cursor(cd: ComplaintsDesk, monkeypatch: Any) -> None:
    from complaints.api import views

    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    made = [open_complaint(cd, title=f"Complaint {i}") for i in range(3)]
    client = client_for(cd.supervisor)
    page = client.get("/api/complaints/").json()
    assert [r["id"] for r in page["results"]] == [made[2].pk, made[1].pk]
    rest = client.get(page["next"]).json()
    assert [r["id"] for r in rest["results"]] == [made[0].pk]
    assert rest["next"] is None and rest["previous"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ("status=nope", "status"),
        ("severity=S9", "severity"),
        ("assignee=someone", "assignee"),
        ("overdue=maybe", "overdue"),
        ("ordering=sideways", "ordering"),
        ("team=0", "team"),
        ("cursor=!!", "cursor"),
    ],
)
def test_bad_list_parameters_are_400(cd: ComplaintsDesk, params: str, field: str) -> None:
    response = client_for(cd.supervisor).get(f"/api/complaints/?{params}")
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_history_reads_each_verb_in_the_readers_language(cd: ComplaintsDesk) -> None:
    complaint = open_complaint(cd)
    act(cd.supervisor, complaint, "note", {"body": "Checked the payment log."})

    rows = client_for(cd.supervisor).get(url(complaint, "history")).json()
    assert [r["verb"] for r in rows][:1] == ["created"]
    assert rows[-1]["verb"] == "noted"
    assert rows[-1]["label"] == "added an internal note"
    zh = client_for(cd.supervisor).get(url(complaint, "history"), HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert zh.json()[-1]["label"] != "added an internal note"


def test_an_agent_of_another_team_gets_404_for_everything(cd: ComplaintsDesk) -> None:
    complaint = open_complaint(cd)
    client = client_for(cd.outsider)
    with unchanged(complaint):
        assert client.get(url(complaint)).status_code == 404
        assert client.get(url(complaint, "history")).status_code == 404
    refused(cd.outsider, complaint, "note", {"body": "peek"}, 404)
    refused(cd.outsider, complaint, "acknowledge", {}, 404)
    missing = client.get("/api/complaints/987654321/")
    assert missing.status_code == 404
    assert missing.json() == client.get(url(complaint)).json()


# --- each action -------------------------------------------------------------------------
def test_claim_and_assign(cd: ComplaintsDesk) -> None:
    cd.team.assignment = AssignmentStrategy.MANUAL
    cd.team.save()
    complaint = open_complaint(cd, about_user_id=cd.handler2.pk)
    assert complaint.assignee_id is None
    assert "claim" in client_for(cd.handler1).get(url(complaint)).json()["actions"]
    refused(cd.handler2, complaint, "claim", {}, 403)  # it is about them
    refused(cd.handler1, complaint, "assign", {"assignee": cd.handler1.pk}, 403)

    data = act(cd.handler1, complaint, "claim")
    assert data["assignee"] == cd.handler1.pk
    refused(cd.handler1, complaint, "claim", {}, 409)
    refused(cd.supervisor, complaint, "assign", {"assignee": cd.handler2.pk}, 403)
    refused(cd.supervisor, complaint, "assign", {"assignee": 987654321}, 400)

    data = act(cd.supervisor, complaint, "assign", {"assignee": cd.supervisor.pk})
    assert data["assignee"] == cd.supervisor.pk


def test_handling_through_to_close_and_reopen(cd: ComplaintsDesk) -> None:
    complaint = open_complaint(cd)
    handler: Any = Complaint.objects.get(pk=complaint.pk).assignee
    outbox = OutboxMessage.objects.count()

    data = act(handler, complaint, "acknowledge")
    assert data["status"] == "investigating" and data["acknowledged_at"]
    assert data["clock"]["targets"][0]["met_at"]
    assert OutboxMessage.objects.count() == outbox + 1
    refused(handler, complaint, "acknowledge", {}, 409)

    data = act(handler, complaint, "contact", {"channel": "phone", "summary": "Called back"})
    assert data["first_contact_at"] and data["notes"][-1]["kind"] == "contact"
    data = act(handler, complaint, "note", {"body": "Bank confirms the double charge."})
    assert data["notes"][-1] == {
        "id": data["notes"][-1]["id"],
        "kind": "note",
        "channel": "",
        "body": "Bank confirms the double charge.",
        "author": handler.pk,
        "created": data["notes"][-1]["created"],
    }

    data = act(handler, complaint, "propose", propose_body("50"))
    assert data["status"] == "awaiting_customer" and data["node"] == "answered"
    assert data["proposals"][-1]["status"] == "decided"
    assert data["proposals"][-1]["level"] == "handler"
    assert data["compensation_amount"] == "50.00" and data["outcome"] == "upheld"
    assert data["root_cause"]["code"] == "system-defect"
    assert "close" in data["actions"]

    data = act(handler, complaint, "close", {"note": "The customer accepted on the phone."})
    assert data["status"] == "closed" and data["node"] == "closed"
    assert data["actions"] == ["note", "reopen"]
    refused(handler, complaint, "reopen", {"reason": ""}, 400)
    refused(handler, complaint, "close", {}, 409)

    data = act(handler, complaint, "reopen", {"reason": "The refund never arrived."})
    assert data["status"] == "investigating" and data["clock"]["escalation_level"] == 2
    assert data["severity"] == "S2"


def test_escalate_raises_a_level_and_may_hand_over(cd: ComplaintsDesk) -> None:
    complaint = open_complaint(cd)
    handler = Complaint.objects.get(pk=complaint.pk).assignee
    data = act(handler, complaint, "escalate", {"reason": "The customer threatens to go public."})
    assert data["clock"]["escalation_level"] == 1 and data["severity"] == "S2"
    # only a supervisor hands it over
    refused(handler, complaint, "escalate", {"reason": "x", "assignee": cd.supervisor.pk}, 403)
    data = act(
        cd.supervisor, complaint, "escalate", {"reason": "Mine now", "assignee": cd.supervisor.pk}
    )
    assert data["assignee"] == cd.supervisor.pk and data["clock"]["escalation_level"] == 2


def test_approval_within_limits_and_rejection(cd: ComplaintsDesk) -> None:
    complaint = open_complaint(cd)
    handler = Complaint.objects.get(pk=complaint.pk).assignee
    act(handler, complaint, "acknowledge")
    data = act(handler, complaint, "propose", propose_body("500.00"))
    assert data["status"] == "awaiting_approval" and data["node"] == "approval"
    proposal = data["proposals"][-1]
    assert proposal["status"] == "pending" and proposal["level"] == "supervisor"
    assert proposal["approver"] == cd.supervisor.pk and proposal["due"]

    refused(cd.supervisor, complaint, "reject", {"reason": ""}, 400)
    data = act(cd.supervisor, complaint, "reject", {"reason": "Offer a credit instead."})
    assert data["status"] == "investigating"
    assert data["proposals"][-1]["status"] == "rejected"
    assert data["proposals"][-1]["decision_reason"] == "Offer a credit instead."

    act(handler, complaint, "propose", propose_body("400.00", compensation_kind="credit"))
    data = act(cd.supervisor, complaint, "approve", {"reason": "Fair."})
    assert data["status"] == "awaiting_customer"
    assert data["proposals"][-1]["status"] == "approved"
    assert data["proposals"][-1]["decided_by"] == cd.supervisor.pk
    assert data["approved_level"] == "supervisor"


# --- refusals ----------------------------------------------------------------------------
def test_approving_above_ones_limit_is_403_and_changes_nothing(cd: ComplaintsDesk) -> None:
    complaint = open_complaint(cd)
    handler = Complaint.objects.get(pk=complaint.pk).assignee
    other = cd.handler2 if handler == cd.handler1 else cd.handler1
    act(handler, complaint, "acknowledge")
    data = act(handler, complaint, "propose", propose_body("5000.00"))
    assert data["proposals"][-1]["level"] == "manager"
    assert data["proposals"][-1]["approver"] == cd.manager.pk

    for person in (cd.supervisor, other):
        body = refused(person, complaint, "approve", {}, 403)
        assert body["detail"]
        refused(person, complaint, "reject", {"reason": "No."}, 403)
    # the handler cannot approve their own proposal either
    refused(handler, complaint, "approve", {}, 403)

    data = act(cd.manager, complaint, "approve")
    assert data["approved_level"] == "manager" and data["status"] == "awaiting_customer"


def test_a_handler_proposing_on_a_complaint_about_themselves_is_403(cd: ComplaintsDesk) -> None:
    complaint = open_complaint(cd, about_user_id=cd.handler1.pk)
    act(cd.handler2, complaint, "acknowledge")
    body = refused(cd.handler1, complaint, "propose", propose_body(), 403)
    assert "about you" in body["detail"]


def test_proposing_before_acknowledging_is_409(cd: ComplaintsDesk) -> None:
    complaint = open_complaint(cd)
    handler = Complaint.objects.get(pk=complaint.pk).assignee
    body = refused(handler, complaint, "propose", propose_body("10"), 409)
    assert "Acknowledge" in body["detail"]


def test_no_extension_under_cn_telecom() -> None:
    cd = build_complaints_desk("cn-telecom")
    complaint = open_complaint(cd)
    assert client_for(cd.supervisor).get(url(complaint)).json()["extensions_allowed"] == 0
    refused(cd.supervisor, complaint, "extend", {"reason": "Waiting on the carrier."}, 409)


def test_two_extensions_under_cn_banking_insurance_then_409() -> None:
    cd = build_complaints_desk("cn-banking-insurance")
    complaint = open_complaint(cd)
    handler = Complaint.objects.get(pk=complaint.pk).assignee
    refused(handler, complaint, "extend", {"reason": "More time"}, 403)  # supervisors only
    refused(cd.supervisor, complaint, "extend", {"reason": " "}, 400)

    first = act(cd.supervisor, complaint, "extend", {"reason": "Waiting on the insurer."})
    final = next(t for t in first["clock"]["targets"] if t["name"] == "final_answer")
    assert first["extensions_used"] == 1 and first["extensions_allowed"] == 2
    assert first["extensions"][0]["due_after"] == final["due"]
    assert first["extensions"][0]["due_before"] < final["due"]
    second = act(cd.supervisor, complaint, "extend", {"reason": "Still waiting."})
    assert second["extensions_used"] == 2 and "extend" not in second["actions"]
    body = refused(cd.supervisor, complaint, "extend", {"reason": "Once more?"}, 409)
    assert "2" in body["detail"]


@pytest.mark.parametrize(
    ("action", "body", "field"),
    [
        ("assign", {"assignee": "x"}, "assignee"),
        ("contact", {"channel": "pigeon", "summary": "Hi"}, "channel"),
        ("contact", {"channel": "phone"}, "note"),
        ("note", {"body": ""}, "body"),
        ("propose", propose_body(outcome="maybe"), "outcome"),
        ("propose", propose_body("-5"), "compensation_amount"),
        ("propose", propose_body("1e30"), "compensation_amount"),
        ("propose", propose_body(root_cause="no-such-cause"), "root_cause"),
        ("propose", propose_body("10", compensation_kind="gold"), "compensation_kind"),
        ("reject", {}, "reason"),
        ("extend", {"reason": "x" * 3000}, "reason"),
        ("escalate", {}, "reason"),
        ("reopen", {}, "reason"),
    ],
)
def test_bad_input_is_400_with_field_errors_and_changes_nothing(
    cd: ComplaintsDesk, action: str, body: dict[str, Any], field: str
) -> None:
    complaint = open_complaint(cd)
    act(cd.supervisor, complaint, "acknowledge")
    data = refused(cd.supervisor, complaint, action, body, 400)
    assert field in data["errors"], data


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"category": "nope"}, "category"),
        ({"category": None}, "category"),
        ({"subcategory": "service-attitude"}, "subcategory"),
        ({"impact": "huge"}, "impact"),
        ({"urgency": "soon"}, "urgency"),
        ({"title": ""}, "title"),
        ({"customer_id": 987654321}, "customer_id"),
        ({"customer_id": None, "contact_id": None}, "contact_id"),
        ({"severity": "S1"}, "severity_reason"),
        ({"severity": "S7"}, "severity"),
        ({"profile": "mars"}, "profile"),
        ({"channel": "ticket"}, "channel"),
        ({"regulatory": "perhaps"}, "regulatory"),
    ],
)
def test_bad_intake_is_400_and_opens_nothing(
    cd: ComplaintsDesk, overrides: dict[str, Any], field: str
) -> None:
    audit = AuditEvent.objects.count()
    response = client_for(cd.handler1).post(
        "/api/complaints/", intake(cd, **overrides), format="json"
    )
    assert response.status_code == 400, response.json()
    assert field in response.json()["errors"], response.json()
    assert Complaint.objects.count() == 0 and AuditEvent.objects.count() == audit


# --- escalation from a ticket ------------------------------------------------------------
def test_a_ticket_escalated_into_a_complaint_links_both_ways(cd: ComplaintsDesk) -> None:
    desk = build_desk()
    ticket = open_ticket(desk, subject="Refund not received", description="Three weeks now")
    # the ticket's agent is one of the complaints handlers: the complaint is about them
    update_ticket(ticket.pk, assignee=cd.handler1)

    response = client_for(cd.supervisor).post(
        "/api/complaints/",
        {"ticket": ticket.pk, "category": "billing", "impact": "high", "urgency": "high"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["ticket"] == ticket.pk and data["channel"] == "ticket"
    assert data["title"] == "Refund not received"
    assert data["description"] == "Three weeks now"
    assert data["contact"]["id"] == ticket.contact_id
    assert data["about_user"] == cd.handler1.pk
    assert data["assignee"] == cd.handler2.pk  # never the person it is about
    assert data["links"] == [
        {"kind": "ticket", "id": ticket.pk, "number": ticket.number, "relation": "escalated_from"}
    ]
    assert links_of("ticket", ticket.pk)[0]["id"] == data["id"]
    seen = client_for(desk.supervisor).get(f"/api/tickets/{ticket.pk}/").json()
    assert seen["links"] == [
        {
            "kind": "complaint",
            "id": data["id"],
            "number": data["number"],
            "relation": "escalated_from",
        }
    ]


def test_escalating_a_ticket_one_cannot_see_is_404(cd: ComplaintsDesk) -> None:
    desk = build_desk()
    ticket = open_ticket(desk)
    for ticket_id in (ticket.pk, 987654321):
        response = client_for(cd.handler1).post(
            "/api/complaints/",
            intake(cd, ticket=ticket_id),
            format="json",
        )
        assert response.status_code == 404
    assert Complaint.objects.count() == 0
    assert links_of("ticket", ticket.pk) == []


# --- support for the screens -------------------------------------------------------------
def test_intake_context_flags_a_repeat_and_raises_the_severity(cd: ComplaintsDesk) -> None:
    client = client_for(cd.handler1)
    fresh = client.get(
        f"/api/complaints/intake-context/?customer={cd.customer.pk}"
        "&category=billing&impact=medium&urgency=medium"
    ).json()
    assert fresh["repeat_of"] is None
    assert fresh["matrix_severity"] == fresh["severity"] == "S3"
    assert fresh["repeat_window_days"] == 90

    earlier = open_complaint(cd)
    again = client.get(
        f"/api/complaints/intake-context/?contact={cd.contact.pk}"
        "&category=billing&impact=medium&urgency=medium"
    ).json()
    assert again["customer"] == cd.customer.pk
    assert again["repeat_of"]["number"] == earlier.number
    assert again["matrix_severity"] == "S3" and again["severity"] == "S2"
    assert [c["id"] for c in again["customer_history"]["complaints"]] == [earlier.pk]
    other = client.get(
        f"/api/complaints/intake-context/?customer={cd.customer.pk}&category=service"
    ).json()
    assert other["repeat_of"] is None and other["severity"] is None

    bad = client.get("/api/complaints/intake-context/?impact=huge&category=nope")
    assert bad.status_code == 400
    assert set(bad.json()["errors"]) == {"impact", "category"}


def test_config_lists_everything_an_intake_and_proposal_form_needs(cd: ComplaintsDesk) -> None:
    data = client_for(cd.handler1).get("/api/complaint-config/").json()
    billing = next(c for c in data["categories"] if c["code"] == "billing")
    assert {"code": "billing-wrong", "label": billing["subcategories"][0]["label"]} in billing[
        "subcategories"
    ]
    assert {r["code"] for r in data["root_causes"]} >= {"system-defect"}
    assert len(data["severity_matrix"]) == 12
    assert [a["level"] for a in data["authority_limits"]] == ["handler", "supervisor", "manager"]
    assert [a["max_amount"] for a in data["authority_limits"]] == ["200.00", "2000.00", None]
    profiles = {p["code"]: p for p in data["profiles"]}
    assert set(profiles) >= {"standard", "cn-banking-insurance", "cn-telecom", "uk-fca", "au-asic"}
    banking = profiles["cn-banking-insurance"]["policies"][0]
    assert len(banking["extensions"]) == 2 and set(banking["targets"]) == {
        "acknowledge",
        "first_contact",
        "final_answer",
    }
    assert {k["value"] for k in data["compensation_kinds"]} == {
        "refund",
        "credit",
        "voucher",
        "goodwill",
    }
    assert {o["value"] for o in data["outcomes"]} == {"upheld", "partially_upheld", "not_upheld"}

    zh = client_for(cd.handler1).get("/api/complaint-config/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    zh_billing = next(c for c in zh.json()["categories"] if c["code"] == "billing")
    assert zh_billing["label"] != billing["label"]


def test_a_caller_without_a_role_may_not_record_complaints(cd: ComplaintsDesk) -> None:
    from tests.factories import UserFactory

    nobody: Any = UserFactory(username="nobody")
    assert client_for(nobody).post("/api/complaints/", intake(cd), format="json").status_code == 403
    assert client_for(nobody).get("/api/complaint-config/").status_code == 403
    assert Complaint.objects.count() == 0


def test_overdue_lists_complaints_past_a_target(cd: ComplaintsDesk) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from sla.models import SlaClock

    late = open_complaint(cd)
    on_time = open_complaint(cd, title="Another one")
    SlaClock.objects.filter(kind="complaint", object_id=late.pk).update(
        due=timezone.now() - timedelta(hours=1)
    )
    client = client_for(cd.supervisor)
    assert [r["id"] for r in client.get("/api/complaints/?overdue=true").json()["results"]] == [
        late.pk
    ]
    assert [r["id"] for r in client.get("/api/complaints/?overdue=0").json()["results"]] == [
        on_time.pk
    ]
    ordered = client.get("/api/complaints/?ordering=due").json()["results"]
    assert [r["id"] for r in ordered] == [late.pk, on_time.pk]


def test_the_ticket_s_own_agent_escalates_it_and_gets_a_receipt(cd: ComplaintsDesk) -> None:
    """The agent of the ticket (outside the complaints team, and the person the complaint
    may be about) records it with their reason as its first note, then may not read it: the
    answer is a receipt with its number, not a 404 after the fact."""
    desk = build_desk()
    ticket = open_ticket(desk, subject="Rude on the phone")
    update_ticket(ticket.pk, assignee=desk.agent1)

    response = client_for(desk.agent1).post(
        f"/api/tickets/{ticket.pk}/escalate-to-complaint/",
        {"reason": "The customer asks for a formal complaint."},
        format="json",
    )

    assert response.status_code == 201, response.json()
    complaint = Complaint.objects.get()
    assert response.json() == {
        "id": complaint.pk,
        "number": complaint.number,
        "status": "received",
        "visible": False,
        "detail": f"Complaint {complaint.number} went to a team you do not see.",
    }
    assert complaint.about_user_id == desk.agent1.pk and complaint.assignee_id != desk.agent1.pk
    note = ComplaintNote.objects.get(complaint=complaint)
    assert note.body == "The customer asks for a formal complaint."
    assert note.author_id == desk.agent1.pk
    assert client_for(desk.agent1).get(f"/api/complaints/{complaint.pk}/").status_code == 404
    # a supervisor reads the whole complaint
    full = client_for(desk.supervisor).get(f"/api/complaints/{complaint.pk}/")
    assert full.status_code == 200 and full.json()["ticket"] == ticket.pk


def test_an_escalation_with_an_empty_reason_records_nothing(cd: ComplaintsDesk) -> None:
    desk = build_desk()
    ticket = open_ticket(desk)
    response = client_for(desk.supervisor).post(
        f"/api/tickets/{ticket.pk}/escalate-to-complaint/", {"reason": "   "}, format="json"
    )
    assert response.status_code == 400, response.json()
    assert Complaint.objects.count() == 0 and links_of("ticket", ticket.pk) == []
