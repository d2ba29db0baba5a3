"""``Idempotency-Key`` on complaints (docs/api.md, "Beyond the contract"): intake, every
action and the escalation of a ticket act once per key; and a ticket is escalated into at
most one complaint that is not closed (docs/complaints.md, "Intake")."""

from __future__ import annotations

from typing import Any

import pytest

from audit.models import AuditEvent
from complaints import services
from complaints.models import Complaint, ComplaintNote
from processes.links import links_of
from processes.models import RequestKey
from tests.concurrency import run_together
from tests.conftest import client_for
from tests.factories import build_desk, open_ticket
from tests.factories.complaints import ComplaintsDesk, build_complaints_desk, open_complaint


@pytest.fixture
def cd(db: Any) -> ComplaintsDesk:
    return build_complaints_desk()


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


def post(user: Any, path: str, body: dict[str, Any], key: str | None = None) -> Any:
    extra = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    return client_for(user).post(path, body, format="json", **extra)


def escalate_url(ticket: Any) -> str:
    return f"/api/tickets/{ticket.pk}/escalate-to-complaint/"


def close(complaint_id: int) -> None:
    complaint = Complaint.objects.get(pk=complaint_id)
    handler = complaint.assignee
    services.acknowledge_complaint(complaint_id=complaint_id, actor=handler)
    services.propose_resolution(
        complaint_id=complaint_id,
        actor=handler,
        outcome="not_upheld",
        resolution="Delivered on time.",
        root_cause="customer-expectation",
    )
    services.close_complaint(complaint_id=complaint_id, actor=handler)
    assert Complaint.objects.get(pk=complaint_id).status == "closed"


# --- intake --------------------------------------------------------------------------------
@pytest.mark.django_db
def test_an_intake_replayed_with_its_key_answers_the_same_complaint_and_creates_nothing(
    cd: ComplaintsDesk,
) -> None:
    first = post(cd.supervisor, "/api/complaints/", intake(cd), key="in-1")
    assert first.status_code == 201, first.content
    audit = AuditEvent.objects.count()
    again = post(cd.supervisor, "/api/complaints/", intake(cd), key="in-1")
    assert again.status_code == 200, again.content
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["number"] == first.json()["number"]
    assert Complaint.objects.count() == 1
    assert AuditEvent.objects.count() == audit
    # Another key is another complaint (the same words may be meant twice).
    assert post(cd.supervisor, "/api/complaints/", intake(cd), key="in-2").status_code == 201
    assert Complaint.objects.count() == 2


@pytest.mark.django_db
def test_an_intake_key_reused_with_another_body_is_409_and_changes_nothing(
    cd: ComplaintsDesk,
) -> None:
    assert post(cd.supervisor, "/api/complaints/", intake(cd), key="k").status_code == 201
    audit = AuditEvent.objects.count()
    other = post(cd.supervisor, "/api/complaints/", intake(cd, title="Another"), key="k")
    assert other.status_code == 409, other.content
    assert "idempotency_key" in other.json()["errors"]
    assert Complaint.objects.count() == 1 and not Complaint.objects.filter(title="Another")
    assert AuditEvent.objects.count() == audit


@pytest.mark.django_db
def test_keys_are_per_user(cd: ComplaintsDesk) -> None:
    one = post(cd.supervisor, "/api/complaints/", intake(cd), key="same")
    two = post(cd.manager, "/api/complaints/", intake(cd), key="same")
    assert one.status_code == two.status_code == 201
    assert one.json()["id"] != two.json()["id"]
    assert Complaint.objects.count() == 2


@pytest.mark.django_db
def test_a_failed_intake_frees_its_key(cd: ComplaintsDesk) -> None:
    refused = post(cd.supervisor, "/api/complaints/", intake(cd, category="nope"), key="f")
    assert refused.status_code == 400
    assert not RequestKey.objects.exists()
    # The corrected request (another body) may use the key: it was never spent.
    assert post(cd.supervisor, "/api/complaints/", intake(cd), key="f").status_code == 201


@pytest.mark.django_db
def test_an_invalid_key_is_refused(cd: ComplaintsDesk) -> None:
    for key in ("", "x" * 256):
        response = post(cd.supervisor, "/api/complaints/", intake(cd), key=key)
        assert response.status_code == 400
        assert "idempotency_key" in response.json()["errors"]
    assert not Complaint.objects.exists()


# --- actions -------------------------------------------------------------------------------
@pytest.mark.django_db
def test_an_action_replayed_with_its_key_acts_once_and_is_not_refused(
    cd: ComplaintsDesk,
) -> None:
    complaint = open_complaint(cd)
    handler = complaint.assignee
    ack = f"/api/complaints/{complaint.pk}/acknowledge/"
    first = post(handler, ack, {}, key="ack-1")
    assert first.status_code == 200 and first.json()["status"] == "investigating"
    # Without the key a second acknowledgement is refused: it is already acknowledged.
    assert post(handler, ack, {}).status_code == 409
    again = post(handler, ack, {}, key="ack-1")
    assert again.status_code == 200 and again.json()["id"] == complaint.pk
    assert again.json()["status"] == "investigating"
    assert AuditEvent.objects.filter(complaint=complaint, verb="acknowledged").count() == 1

    note = f"/api/complaints/{complaint.pk}/note/"
    for _ in range(2):
        assert post(handler, note, {"body": "Bank confirms."}, key="n-1").status_code == 200
    assert ComplaintNote.objects.filter(complaint=complaint, body="Bank confirms.").count() == 1


@pytest.mark.django_db
def test_an_action_key_reused_for_another_request_is_409_and_changes_nothing(
    cd: ComplaintsDesk,
) -> None:
    complaint = open_complaint(cd)
    other = open_complaint(cd, title="Another order")
    boss = cd.supervisor  # sees and may note both
    note = f"/api/complaints/{complaint.pk}/note/"
    assert post(boss, note, {"body": "one"}, key="k").status_code == 200
    version = Complaint.objects.get(pk=complaint.pk).version
    audit = AuditEvent.objects.count()
    refusals = [
        post(boss, note, {"body": "two"}, key="k"),  # another body
        post(boss, f"/api/complaints/{other.pk}/note/", {"body": "one"}, key="k"),  # elsewhere
        post(boss, f"/api/complaints/{complaint.pk}/claim/", {}, key="k"),  # another action
        post(boss, "/api/complaints/", intake(cd), key="k"),  # intake
    ]
    for refused in refusals:
        assert refused.status_code == 409, refused.content
        assert "idempotency_key" in refused.json()["errors"]
    assert Complaint.objects.get(pk=complaint.pk).version == version
    assert Complaint.objects.count() == 2 and AuditEvent.objects.count() == audit
    assert not ComplaintNote.objects.filter(body="two").exists()
    assert not ComplaintNote.objects.filter(complaint=other).exists()
    # the handler's own keys are theirs: the same key string acts for them
    handler = complaint.assignee
    assert post(handler, note, {"body": "three"}, key="k").status_code == 200


@pytest.mark.django_db
def test_a_refused_action_frees_its_key(cd: ComplaintsDesk) -> None:
    complaint = open_complaint(cd)
    handler = complaint.assignee
    reopen = f"/api/complaints/{complaint.pk}/reopen/"
    refused = post(handler, reopen, {"reason": "Not fixed"}, key="r")
    assert refused.status_code == 409  # it is not closed
    assert not RequestKey.objects.exists()
    close(complaint.pk)
    again = post(handler, reopen, {"reason": "Not fixed"}, key="r")
    assert again.status_code == 200, again.content
    assert again.json()["status"] == "investigating"


# --- escalation of a ticket --------------------------------------------------------------
@pytest.mark.django_db
def test_an_escalation_replayed_with_its_key_answers_the_same_complaint(
    cd: ComplaintsDesk,
) -> None:
    desk = build_desk()
    ticket = open_ticket(desk)
    body = {"reason": "Third failed visit."}
    first = post(desk.supervisor, escalate_url(ticket), body, key="e-1")
    assert first.status_code == 201, first.content
    again = post(desk.supervisor, escalate_url(ticket), body, key="e-1")
    # a replay, not a second escalation: no 409 from the one-open-complaint rule
    assert again.status_code == 200, again.content
    assert again.json()["id"] == first.json()["id"]
    assert Complaint.objects.count() == 1
    assert ComplaintNote.objects.filter(body="Third failed visit.").count() == 1
    other = post(desk.supervisor, escalate_url(ticket), {"reason": "Other"}, key="e-1")
    assert other.status_code == 409 and "idempotency_key" in other.json()["errors"]


@pytest.mark.django_db
def test_a_ticket_is_escalated_into_one_open_complaint_at_a_time(cd: ComplaintsDesk) -> None:
    desk = build_desk()
    ticket = open_ticket(desk)
    first = post(desk.supervisor, escalate_url(ticket), {"reason": "Third failed visit."})
    assert first.status_code == 201, first.content
    number = first.json()["number"]
    audit = AuditEvent.objects.count()

    second = post(desk.supervisor, escalate_url(ticket), {"reason": "Again"})
    by_intake = post(
        cd.supervisor,
        "/api/complaints/",
        {"ticket": ticket.pk, "category": "billing", "impact": "high", "urgency": "high"},
    )
    for refused in (second, by_intake):
        assert refused.status_code == 409, refused.content
        assert refused.json()["errors"]["ticket"] == [f"Already escalated into complaint {number}."]
    assert Complaint.objects.count() == 1
    assert AuditEvent.objects.count() == audit
    assert not ComplaintNote.objects.filter(body="Again").exists()
    assert len(links_of("ticket", ticket.pk)) == 1

    # Once that complaint is closed, the ticket may be escalated again.
    close(first.json()["id"])
    third = post(desk.supervisor, escalate_url(ticket), {"reason": "It broke again."})
    assert third.status_code == 201, third.content
    assert third.json()["id"] != first.json()["id"]
    assert Complaint.objects.filter(ticket_id=ticket.pk).count() == 2


@pytest.mark.django_db
def test_the_service_refuses_a_second_escalation(cd: ComplaintsDesk) -> None:
    from core.errors import Conflict

    desk = build_desk()
    ticket = open_ticket(desk)
    data = services.NewComplaint(
        category="billing",
        title="t",
        description="d",
        impact="medium",
        urgency="medium",
        customer_id=ticket.customer_id,
        contact_id=ticket.contact_id,
        from_ticket=services.FromTicket(ticket.pk, ticket.number, ticket.assignee_id),
    )
    first = services.open_complaint(data=data, actor=cd.supervisor)
    with pytest.raises(Conflict) as refused:
        services.escalate_ticket(data=data, actor=cd.supervisor, reason="again")
    assert refused.value.errors == {"ticket": [f"Already escalated into complaint {first.number}."]}
    assert Complaint.objects.count() == 1


# --- concurrency (PostgreSQL: separate connections, real locks) --------------------------
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_intakes_with_one_key_make_one_complaint() -> None:
    cd = build_complaints_desk()
    body = intake(cd)

    def send() -> int:
        return int(post(cd.supervisor, "/api/complaints/", body, key="dbl").status_code)

    assert sorted(run_together(send, send, send)) == [200, 200, 201]
    assert Complaint.objects.count() == 1
    assert RequestKey.objects.get().object_id == Complaint.objects.get().pk


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_actions_with_one_key_act_once() -> None:
    cd = build_complaints_desk()
    complaint = open_complaint(cd)
    handler = complaint.assignee

    def send() -> int:
        path = f"/api/complaints/{complaint.pk}/note/"
        return int(post(handler, path, {"body": "double click"}, key="dbl").status_code)

    assert run_together(send, send, send) == [200, 200, 200]
    assert ComplaintNote.objects.filter(complaint=complaint, body="double click").count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_escalations_of_one_ticket_make_one_complaint() -> None:
    build_complaints_desk()
    desk = build_desk()
    ticket = open_ticket(desk)

    def escalate(user: Any) -> Any:
        def send() -> int:
            return int(post(user, escalate_url(ticket), {"reason": "At once"}).status_code)

        return send

    # two people, no key: the lock, not the key, keeps it to one complaint
    assert sorted(run_together(escalate(desk.supervisor), escalate(desk.agent1))) == [201, 409]
    assert Complaint.objects.filter(ticket_id=ticket.pk).count() == 1
    assert ComplaintNote.objects.filter(body="At once").count() == 1
    assert len(links_of("ticket", ticket.pk)) == 1
