"""The complaints API as API.md writes it: a contact by email, the severity given without a
matrix cell, `contact {"note"}`, `propose {"compensation": {amount, currency, kind}}`,
`approve {"note"}`, the detail's `handler`, `repeat`, `clocks`, `proposal` and
`escalation_level`, and `POST /api/tickets/{id}/escalate-to-complaint/`."""

from __future__ import annotations

from typing import Any

import pytest

from complaints.models import Complaint, ComplaintNote
from processes.links import links_of
from tests.conftest import client_for
from tests.factories import build_desk, open_ticket
from tests.factories.complaints import build_complaints_desk

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk() -> Any:
    return build_complaints_desk()


def test_a_complaint_as_api_md_writes_it(desk: Any) -> None:
    supervisor = client_for(desk.supervisor)
    created = supervisor.post(
        "/api/complaints/",
        {
            "title": "Rude engineer",
            "description": "The engineer shouted at my mother.",
            "contact": {"email": "zhao.min@example.com", "name": "Zhao Min"},
            "severity": "S2",
            "regulatory": True,
            "desired_outcome": "An apology",
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["number"].startswith("C-")
    assert body["severity"] == body["derived_severity"] == "S2"  # assessed, no override
    assert body["category"]["code"] == "service"
    assert body["contact"]["name"] == "Zhao Min"
    assert body["handler"] in (desk.handler1.pk, desk.handler2.pk)
    assert body["repeat"] is False
    assert set(body["clocks"]) == {"acknowledge", "first_contact", "final_answer"}
    assert body["clocks"]["acknowledge"]["met_at"] is None
    assert body["proposal"] is None and body["escalation_level"] == 0

    handler = client_for(Complaint.objects.get(pk=body["id"]).assignee)
    pk = body["id"]
    assert handler.post(f"/api/complaints/{pk}/acknowledge/").status_code == 200
    contacted = handler.post(
        f"/api/complaints/{pk}/contact/", {"note": "Called Ms Zhao"}, format="json"
    )
    assert contacted.status_code == 200, contacted.content
    note = ComplaintNote.objects.get(complaint_id=pk, kind="contact")
    assert (note.channel, note.body) == ("phone", "Called Ms Zhao")
    assert contacted.json()["clocks"]["first_contact"]["met_at"] is not None

    wrong_currency = handler.post(
        f"/api/complaints/{pk}/propose/",
        {
            "resolution": "We apologise and credit your account.",
            "root_cause": "staff-error",
            "compensation": {"amount": "800.00", "currency": "USD", "kind": "credit"},
        },
        format="json",
    )
    assert wrong_currency.status_code == 400
    assert "compensation" in wrong_currency.json()["errors"]
    proposed = handler.post(
        f"/api/complaints/{pk}/propose/",
        {
            "resolution": "We apologise and credit your account.",
            "root_cause": "staff-error",
            "compensation": {"amount": "800.00", "currency": "CNY", "kind": "credit"},
        },
        format="json",
    )
    assert proposed.status_code == 200, proposed.content
    proposal = proposed.json()["proposal"]
    assert proposal["approval"] == "pending"
    assert proposal["compensation"] == {"amount": "800.00", "currency": "CNY", "kind": "credit"}

    approved = supervisor.post(f"/api/complaints/{pk}/approve/", {"note": "Fair"}, format="json")
    assert approved.status_code == 200, approved.content
    assert approved.json()["proposal"]["approval"] == "approved"
    assert approved.json()["status"] == "awaiting_customer"
    assert approved.json()["clocks"]["final_answer"]["met_at"] is not None


def test_a_ticket_escalated_to_a_complaint_by_api_md_s_route() -> None:
    ticket_desk = build_desk()
    build_complaints_desk()
    ticket = open_ticket(ticket_desk)
    supervisor = client_for(ticket_desk.supervisor)

    refused = supervisor.post(f"/api/tickets/{ticket.pk}/escalate-to-complaint/", {}, format="json")
    assert refused.status_code == 400 and "reason" in refused.json()["errors"]
    assert not Complaint.objects.exists()
    outsider = client_for(ticket_desk.outsider)
    hidden = outsider.post(
        f"/api/tickets/{ticket.pk}/escalate-to-complaint/", {"reason": "x"}, format="json"
    )
    assert hidden.status_code == 404 and not Complaint.objects.exists()

    created = supervisor.post(
        f"/api/tickets/{ticket.pk}/escalate-to-complaint/",
        {"reason": "Third failed visit; the customer wants to complain."},
        format="json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["channel"] == "ticket" and body["ticket"] == ticket.pk
    assert body["title"] == ticket.subject
    assert [link["number"] for link in links_of("ticket", ticket.pk)] == [body["number"]]
    assert ComplaintNote.objects.get(complaint_id=body["id"]).body.startswith("Third failed")
