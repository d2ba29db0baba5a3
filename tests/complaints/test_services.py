"""The complaint services' contract (their docstrings): every action succeeds for the
person it is meant for, and each refusal is a clear error that leaves the database as it
was — the complaint's row, its clock, its work item, its audit trail and the outbox."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from complaints import services
from complaints.models import (
    Complaint,
    ComplaintNote,
    Extension,
    Proposal,
)
from complaints.selectors import complaints_visible_to
from core.errors import Conflict, Forbidden, Gone, InvalidInput, KefuError, NotFound
from outbox.models import OutboxMessage
from processes.models import WorkItem
from project.api_errors import STATUS_OF
from sla import clock as clocks
from sla.models import SlaClock
from tests.factories import ContactFactory, CustomerFactory, SupervisorFactory
from tests.factories.complaints import (
    ComplaintsDesk,
    ManagerFactory,
    build_complaints_desk,
    open_complaint,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def cdesk(db: Any) -> ComplaintsDesk:
    return build_complaints_desk()


def snapshot(complaint_id: int | None = None) -> dict[str, Any]:
    """Everything a complaint action may write."""
    state: dict[str, Any] = {
        "complaints": Complaint.objects.count(),
        "audit": AuditEvent.objects.count(),
        "outbox": OutboxMessage.objects.count(),
        "proposals": list(Proposal.objects.order_by("id").values()),
        "extensions": Extension.objects.count(),
        "notes": ComplaintNote.objects.count(),
    }
    if complaint_id is not None:
        row = Complaint.objects.filter(pk=complaint_id).values().get()
        state["row"] = row
        state["clock"] = SlaClock.objects.filter(pk=row["sla_clock_id"]).values().first()
        state["work"] = WorkItem.objects.filter(kind="complaint", object_id=complaint_id).values(
            "assignee_id", "status", "priority", "due", "escalation_level", "version"
        )
        state["work"] = list(state["work"])
    return state


@contextmanager
def refused(
    error: type[KefuError], complaint: Complaint | None = None, **fields: str
) -> Iterator[None]:
    """The block raises ``error`` (naming ``fields`` when given) and nothing changed."""
    before = snapshot(complaint.pk if complaint is not None else None)
    with pytest.raises(error) as caught:
        yield
    if fields:
        assert isinstance(caught.value, InvalidInput)
        assert set(fields) <= set(caught.value.errors), caught.value.errors
    assert snapshot(complaint.pk if complaint is not None else None) == before


def fresh(complaint: Complaint) -> Any:
    return Complaint.objects.select_related("sla_clock").get(pk=complaint.pk)


def acknowledged(desk: ComplaintsDesk, **overrides: Any) -> Any:
    complaint = open_complaint(desk, **overrides)
    services.acknowledge_complaint(complaint_id=complaint.pk, actor=complaint.assignee)
    return fresh(complaint)


def propose(complaint: Complaint, amount: Any, actor: Any = None, **overrides: Any) -> Proposal:
    params: dict[str, Any] = {
        "complaint_id": complaint.pk,
        "actor": actor or complaint.assignee,
        "outcome": "upheld",
        "resolution": "We refund the charge.",
        "root_cause": "system-defect",
        "compensation_amount": amount,
        "compensation_kind": "refund" if amount not in (None, "") else "",
    }
    params.update(overrides)
    return services.propose_resolution(**params)


def answered(desk: ComplaintsDesk, **overrides: Any) -> Any:
    complaint = acknowledged(desk, **overrides)
    propose(complaint, "50")
    return fresh(complaint)


# --- conflict of interest --------------------------------------------------------------
def test_the_person_complained_about_is_never_auto_assigned(cdesk: ComplaintsDesk) -> None:
    handlers = {
        open_complaint(cdesk, about_user_id=cdesk.handler1.pk).assignee_id for _ in range(4)
    }
    assert handlers == {cdesk.handler2.pk}


def test_the_person_complained_about_cannot_act_on_it(cdesk: ComplaintsDesk) -> None:
    complaint = open_complaint(cdesk, about_user_id=cdesk.handler1.pk)
    with refused(Forbidden, complaint):
        services.acknowledge_complaint(complaint_id=complaint.pk, actor=cdesk.handler1)
    with refused(Forbidden, complaint):
        services.claim_complaint(complaint_id=complaint.pk, actor=cdesk.handler1)
    with refused(Forbidden, complaint):
        services.assign_complaint(
            complaint_id=complaint.pk, actor=cdesk.supervisor, assignee_id=cdesk.handler1.pk
        )
    services.acknowledge_complaint(complaint_id=complaint.pk, actor=cdesk.handler2)
    complaint = fresh(complaint)
    with refused(Forbidden, complaint):
        propose(complaint, "10", actor=cdesk.handler1)
    with refused(Forbidden, complaint):
        services.log_contact(
            complaint_id=complaint.pk, actor=cdesk.handler1, channel="phone", summary="Hi"
        )


def test_a_supervisor_complained_about_can_neither_approve_nor_review(
    cdesk: ComplaintsDesk,
) -> None:
    other: Any = SupervisorFactory(username="other-supervisor")
    cdesk.team.supervisors.add(other)
    complaint = acknowledged(cdesk, about_user_id=cdesk.supervisor.pk, regulatory=True)

    proposal = propose(complaint, "500")

    assert proposal.approver_id == other.pk  # never the person complained about
    with refused(Forbidden, complaint):
        services.approve_proposal(complaint_id=complaint.pk, actor=cdesk.supervisor)
    with refused(Forbidden, complaint):
        services.reject_proposal(complaint_id=complaint.pk, actor=cdesk.supervisor, reason="No")
    services.approve_proposal(complaint_id=complaint.pk, actor=other)
    complaint = fresh(complaint)
    services.respond_as_customer(
        complaint_id=complaint.pk, contact_id=complaint.contact_id, answer=0, accept=True
    )
    complaint = fresh(complaint)
    assert complaint.status == "quality_review"
    assert services.choose_reviewer(complaint) == other
    with refused(Forbidden, complaint):
        services.close_complaint(complaint_id=complaint.pk, actor=cdesk.supervisor)
    services.close_complaint(complaint_id=complaint.pk, actor=other)
    assert fresh(complaint).status == "closed"


# --- limits of authority -----------------------------------------------------------------
def test_a_supervisor_cannot_approve_a_manager_level_amount(cdesk: ComplaintsDesk) -> None:
    complaint = acknowledged(cdesk)
    proposal = propose(complaint, "2500.00")
    assert (proposal.required_level, proposal.approver_id) == ("manager", cdesk.manager.pk)
    assert proposal.rule == {"level": "manager", "max_amount": None, "approval_hours": 48}
    complaint = fresh(complaint)

    with refused(Forbidden, complaint):
        services.approve_proposal(complaint_id=complaint.pk, actor=cdesk.supervisor)
    with refused(Forbidden, complaint):
        services.approve_proposal(complaint_id=complaint.pk, actor=cdesk.handler2)

    services.approve_proposal(complaint_id=complaint.pk, actor=cdesk.manager, reason="Fair")
    complaint = fresh(complaint)
    assert (complaint.status, complaint.approved_level) == ("awaiting_customer", "manager")
    approved = AuditEvent.objects.get(complaint=complaint, verb="approved")
    assert approved.actor_id == cdesk.manager.pk
    assert approved.after["amount"] == "2500.00"
    assert approved.after["level"] == "manager" and approved.after["approver_level"] == "manager"
    assert approved.after["rule"]["level"] == "manager"


def test_the_proposer_cannot_approve_their_own_proposal(cdesk: ComplaintsDesk) -> None:
    complaint = acknowledged(cdesk)
    # a supervisor handling it proposes more than their own limit
    proposal = propose(complaint, "3000", actor=cdesk.supervisor)
    assert proposal.required_level == "manager" and proposal.approver_id == cdesk.manager.pk
    complaint = fresh(complaint)
    with refused(Forbidden, complaint):
        services.approve_proposal(complaint_id=complaint.pk, actor=cdesk.supervisor)


def test_the_limits_decide_who_approves(cdesk: ComplaintsDesk) -> None:
    assert services.required_level(None)[0] == "handler"
    assert services.required_level(Decimal("200"))[0] == "handler"
    assert services.required_level(Decimal("200.01"))[0] == "supervisor"
    assert services.required_level(Decimal("2000"))[0] == "supervisor"
    assert services.required_level(Decimal("2000.01"))[0] == "manager"
    # within a supervisor's own limit they decide it at once
    complaint = acknowledged(cdesk)
    proposal = propose(complaint, "1500", actor=cdesk.supervisor)
    assert proposal.status == "decided" and proposal.decided_by_id == cdesk.supervisor.pk


def test_approver_choice(cdesk: ComplaintsDesk) -> None:
    second_manager: Any = ManagerFactory(username="c-manager-2")
    complaint = acknowledged(cdesk, about_user_id=cdesk.manager.pk)
    proposal = propose(complaint, "5000")
    # a manager for the manager level, never the person complained about
    assert proposal.approver_id == second_manager.pk
    services.reject_proposal(complaint_id=complaint.pk, actor=second_manager, reason="Too much")
    # the team's supervisor for the supervisor level, never the proposer
    proposal = propose(fresh(complaint), "300")
    assert proposal.approver_id == cdesk.supervisor.pk
    services.reject_proposal(complaint_id=complaint.pk, actor=cdesk.supervisor, reason="No")
    proposal = propose(fresh(complaint), "300", actor=cdesk.supervisor)
    assert proposal.status == "decided"  # within their own limit: nobody else approves


def test_an_approver_from_the_supervisors_when_the_team_has_none(cdesk: ComplaintsDesk) -> None:
    cdesk.team.supervisors.clear()
    complaint = acknowledged(cdesk)
    proposal = propose(complaint, "300")
    assert proposal.approver_id == cdesk.supervisor.pk  # any supervisor


# --- bad input -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"compensation_amount": "-5"}, "compensation_amount"),
        ({"compensation_amount": "lots"}, "compensation_amount"),
        ({"compensation_amount": "NaN"}, "compensation_amount"),
        ({"compensation_amount": "1e12"}, "compensation_amount"),
        ({"compensation_amount": "20", "compensation_kind": ""}, "compensation_kind"),
        ({"compensation_amount": "20", "compensation_kind": "cash"}, "compensation_kind"),
        ({"root_cause": "gremlins"}, "root_cause"),
        ({"outcome": "maybe"}, "outcome"),
        ({"resolution": "  "}, "resolution"),
    ],
)
def test_a_bad_proposal_is_refused(cdesk: ComplaintsDesk, overrides: Any, field: str) -> None:
    complaint = acknowledged(cdesk)
    amount = overrides.pop("compensation_amount", "20")
    with refused(InvalidInput, complaint, **{field: ""}):
        propose(complaint, amount, **overrides)


def test_proposing_before_acknowledging_is_refused(cdesk: ComplaintsDesk) -> None:
    complaint = open_complaint(cdesk)
    with refused(Conflict, complaint):
        propose(complaint, None)


def test_blank_reasons_are_refused(cdesk: ComplaintsDesk) -> None:
    complaint = acknowledged(cdesk)
    with refused(InvalidInput, complaint, reason=""):
        services.extend_deadline(complaint_id=complaint.pk, actor=cdesk.supervisor, reason=" ")
    with refused(InvalidInput, complaint, reason=""):
        services.escalate_complaint(complaint_id=complaint.pk, actor=cdesk.supervisor, reason="")
    with refused(InvalidInput, complaint, summary=""):
        services.log_contact(
            complaint_id=complaint.pk, actor=complaint.assignee, channel="phone", summary=" "
        )
    with refused(InvalidInput, complaint, channel=""):
        services.log_contact(
            complaint_id=complaint.pk, actor=complaint.assignee, channel="pigeon", summary="Hi"
        )
    with refused(InvalidInput, complaint, body=""):
        services.add_note(complaint_id=complaint.pk, actor=complaint.assignee, body="\n")
    propose(complaint, "500")
    complaint = fresh(complaint)
    with refused(InvalidInput, complaint, reason=""):
        services.reject_proposal(complaint_id=complaint.pk, actor=cdesk.supervisor, reason="")
    services.approve_proposal(complaint_id=complaint.pk, actor=cdesk.supervisor)
    complaint = fresh(complaint)
    with refused(InvalidInput, complaint, reason=""):
        services.respond_as_customer(
            complaint_id=complaint.pk,
            contact_id=complaint.contact_id,
            answer=0,
            accept=False,
            reason=" ",
        )
    services.close_complaint(complaint_id=complaint.pk, actor=complaint.assignee)
    complaint = fresh(complaint)
    with refused(InvalidInput, complaint, reason=""):
        services.reopen_complaint(complaint_id=complaint.pk, actor=complaint.assignee, reason="")


# --- extensions --------------------------------------------------------------------------
def test_an_extension_moves_the_deadline_once_and_tells_the_customer(
    cdesk: ComplaintsDesk,
) -> None:
    complaint = acknowledged(cdesk)
    before: Any = clocks.target_due(complaint.sla_clock, "final_answer")

    extension = services.extend_deadline(
        complaint_id=complaint.pk, actor=cdesk.supervisor, reason="Waiting for the bank"
    )

    complaint = fresh(complaint)
    assert complaint.extensions_used == 1
    assert extension.due_before == before
    assert extension.due_after == clocks.target_due(complaint.sla_clock, "final_answer")
    assert extension.due_after - before >= timedelta(days=14)  # 10 working days
    sent = OutboxMessage.objects.get(kind="complaint.extended")
    assert complaint.number in sent.subject and "Waiting for the bank" in sent.body_text
    audit = AuditEvent.objects.get(complaint=complaint, verb="extended")
    assert (audit.after["used"], audit.after["allowed"]) == (1, 1)
    # the standard profile allows one
    with refused(Conflict, complaint):
        services.extend_deadline(complaint_id=complaint.pk, actor=cdesk.supervisor, reason="More")


def test_only_a_supervisor_extends(cdesk: ComplaintsDesk) -> None:
    complaint = acknowledged(cdesk)
    with refused(Forbidden, complaint):
        services.extend_deadline(complaint_id=complaint.pk, actor=complaint.assignee, reason="x")


def test_no_extension_after_the_deadline(cdesk: ComplaintsDesk) -> None:
    complaint = acknowledged(cdesk)
    clock = complaint.sla_clock
    clock.started_at -= timedelta(days=40)
    clocks.save(clock)
    with refused(Conflict, complaint):
        services.extend_deadline(complaint_id=complaint.pk, actor=cdesk.supervisor, reason="x")


def test_no_extension_once_answered(cdesk: ComplaintsDesk) -> None:
    complaint = answered(cdesk)
    with refused(Conflict, complaint):
        services.extend_deadline(complaint_id=complaint.pk, actor=cdesk.supervisor, reason="x")


# --- the customer's answer ---------------------------------------------------------------
def test_a_dispute_after_the_window_is_gone(cdesk: ComplaintsDesk) -> None:
    complaint = answered(cdesk)
    Complaint.objects.filter(pk=complaint.pk).update(
        response_due_at=timezone.now() - timedelta(seconds=1)
    )
    complaint = fresh(complaint)
    with refused(Gone, complaint):
        services.respond_as_customer(
            complaint_id=complaint.pk,
            contact_id=complaint.contact_id,
            answer=0,
            accept=False,
            reason="Too little",
        )


def test_a_stale_link_is_a_conflict(cdesk: ComplaintsDesk) -> None:
    complaint = answered(cdesk)
    services.respond_as_customer(
        complaint_id=complaint.pk,
        contact_id=complaint.contact_id,
        answer=0,
        accept=False,
        reason="Too little",
    )
    propose(fresh(complaint), "120")
    complaint = fresh(complaint)
    assert complaint.status == "awaiting_customer" and complaint.disputes == 1
    # the first answer's link (answer 0) cannot answer the second
    with refused(Conflict, complaint):
        services.respond_as_customer(
            complaint_id=complaint.pk, contact_id=complaint.contact_id, answer=0, accept=True
        )
    # another contact's link finds nothing
    other: Any = ContactFactory(customer=cdesk.customer)
    with refused(NotFound, complaint):
        services.respond_as_customer(
            complaint_id=complaint.pk, contact_id=other.pk, answer=1, accept=True
        )
    services.respond_as_customer(
        complaint_id=complaint.pk, contact_id=complaint.contact_id, answer=1, accept=True
    )
    assert fresh(complaint).status == "closed"


# --- intake --------------------------------------------------------------------------------
def test_a_severity_override_needs_a_reason(cdesk: ComplaintsDesk) -> None:
    with refused(InvalidInput, None, severity_reason=""):
        open_complaint(cdesk, severity="S1")
    complaint = open_complaint(cdesk, severity="S1", severity_reason="Press involved")
    assert (complaint.severity, complaint.derived_severity) == ("S1", "S3")
    override = AuditEvent.objects.get(complaint=complaint, verb="severity_overridden")
    assert override.after == {"severity": "S1", "reason": "Press involved"}
    # the same severity as the matrix needs no reason
    assert (
        open_complaint(cdesk, category="product", subcategory="", severity="S3").severity_reason
        == ""
    )


def test_a_repeat_within_the_window_raises_the_severity_a_step(cdesk: ComplaintsDesk) -> None:
    first = open_complaint(cdesk)
    assert (first.severity, first.repeat_of_id) == ("S3", None)

    second = open_complaint(cdesk)

    assert (second.derived_severity, second.severity) == ("S2", "S2")
    assert second.repeat_of_id == first.pk
    assert AuditEvent.objects.filter(complaint=second, verb="repeat").count() == 1
    # another category is no repeat
    assert open_complaint(cdesk, category="product", subcategory="").repeat_of_id is None


def test_no_repeat_outside_the_profiles_window(cdesk: ComplaintsDesk) -> None:
    cdesk.profile.repeat_window_days = 30
    cdesk.profile.save()
    first = open_complaint(cdesk)
    Complaint.objects.filter(pk=first.pk).update(received_at=timezone.now() - timedelta(days=31))
    second = open_complaint(cdesk)
    assert (second.repeat_of_id, second.severity) == (None, "S3")
    Complaint.objects.filter(pk=first.pk).update(received_at=timezone.now() - timedelta(days=29))
    assert open_complaint(cdesk).repeat_of_id in (first.pk, second.pk)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"category": "weather"}, "category"),
        ({"category": "billing-wrong", "subcategory": ""}, "category"),  # not a top level
        ({"subcategory": "product-defect"}, "subcategory"),  # of another category
        ({"impact": "huge"}, "impact"),
        ({"urgency": "now"}, "urgency"),
        ({"channel": "fax"}, "channel"),
        ({"title": " "}, "title"),
        ({"description": ""}, "description"),
        ({"profile": "mars"}, "profile"),
        ({"severity": "S9"}, "severity"),
        ({"customer_id": None, "contact_id": None}, "contact"),
        ({"customer_id": 10**9}, "customer"),
        ({"about_user_id": 10**9}, "about_user"),
    ],
)
def test_bad_intake_is_refused(cdesk: ComplaintsDesk, overrides: Any, field: str) -> None:
    with refused(InvalidInput, None, **{field: ""}):
        open_complaint(cdesk, **overrides)


def test_a_contact_of_another_customer_is_refused(cdesk: ComplaintsDesk) -> None:
    stranger: Any = ContactFactory(customer=CustomerFactory())
    with refused(InvalidInput, None, contact=""):
        open_complaint(cdesk, contact_id=stranger.pk)


def test_a_contact_alone_brings_its_customer(cdesk: ComplaintsDesk) -> None:
    complaint = open_complaint(cdesk, customer_id=None)
    assert complaint.customer_id == cdesk.customer.pk


def test_only_staff_record_complaints(cdesk: ComplaintsDesk) -> None:
    from tests.factories import UserFactory

    with refused(Forbidden, None):
        open_complaint(cdesk, actor=UserFactory(username="customer-user"))


# --- visibility --------------------------------------------------------------------------
def test_who_sees_which_complaint(cdesk: ComplaintsDesk) -> None:
    complaint = open_complaint(cdesk)

    assert not complaints_visible_to(cdesk.outsider).exists()
    assert list(complaints_visible_to(cdesk.handler1)) == [complaint]
    assert list(complaints_visible_to(cdesk.manager)) == [complaint]
    assert list(complaints_visible_to(cdesk.supervisor)) == [complaint]
    with refused(NotFound, complaint):
        services.acknowledge_complaint(complaint_id=complaint.pk, actor=cdesk.outsider)
    with refused(NotFound, complaint):
        services.add_note(complaint_id=complaint.pk, actor=cdesk.outsider, body="peek")


def test_an_approver_of_another_team_sees_the_complaint_they_must_approve(
    cdesk: ComplaintsDesk,
) -> None:
    complaint = acknowledged(cdesk)
    propose(complaint, "300")
    Proposal.objects.filter(complaint=complaint).update(approver=cdesk.outsider)
    assert list(complaints_visible_to(cdesk.outsider)) == [complaint]


# --- the other actions' success ----------------------------------------------------------
def test_claim_assign_note_contact_escalate(cdesk: ComplaintsDesk) -> None:
    for agent in (cdesk.handler1, cdesk.handler2):
        agent.agent_profile.presence = "away"
        agent.agent_profile.save()
    complaint = open_complaint(cdesk)
    assert complaint.assignee_id is None

    services.claim_complaint(complaint_id=complaint.pk, actor=cdesk.handler1)
    complaint = fresh(complaint)
    assert complaint.assignee_id == cdesk.handler1.pk
    with refused(Conflict, complaint):
        services.claim_complaint(complaint_id=complaint.pk, actor=cdesk.handler2)

    services.assign_complaint(
        complaint_id=complaint.pk, actor=cdesk.supervisor, assignee_id=cdesk.handler2.pk
    )
    complaint = fresh(complaint)
    assert complaint.assignee_id == cdesk.handler2.pk
    work = WorkItem.objects.get(kind="complaint", object_id=complaint.pk)
    assert work.assignee_id == cdesk.handler2.pk
    with refused(Forbidden, complaint):
        services.assign_complaint(
            complaint_id=complaint.pk, actor=cdesk.handler2, assignee_id=cdesk.handler1.pk
        )

    note = services.add_note(complaint_id=complaint.pk, actor=cdesk.handler1, body="Seen it")
    assert note.kind == "note"
    contact = services.log_contact(
        complaint_id=complaint.pk, actor=cdesk.handler2, channel="phone", summary="Called"
    )
    complaint = fresh(complaint)
    assert contact.kind == "contact" and complaint.first_contact_at is not None
    assert clocks.is_met(complaint.sla_clock, "first_contact")
    assert not clocks.is_met(complaint.sla_clock, "acknowledge")

    services.escalate_complaint(
        complaint_id=complaint.pk, actor=cdesk.handler2, reason="Customer threatens to sue"
    )
    complaint = fresh(complaint)
    assert (complaint.severity, complaint.sla_clock.escalation_level) == ("S2", 1)
    assert cdesk.supervisor.notifications.filter(kind="escalated").count() == 1
    services.escalate_complaint(complaint_id=complaint.pk, actor=cdesk.supervisor, reason="Again")
    services.escalate_complaint(
        complaint_id=complaint.pk,
        actor=cdesk.supervisor,
        reason="Manager now",
        assignee_id=cdesk.handler1.pk,
    )
    complaint = fresh(complaint)
    assert (complaint.severity, complaint.sla_clock.escalation_level) == ("S1", 3)
    assert complaint.assignee_id == cdesk.handler1.pk
    assert cdesk.manager.notifications.filter(kind="escalated").count() == 1
    assert list(
        AuditEvent.objects.filter(complaint=complaint).order_by("id").values_list("verb", flat=True)
    )[-5:] == ["contacted", "escalated", "escalated", "escalated", "assigned"]


def test_acknowledging_twice_is_a_conflict(cdesk: ComplaintsDesk) -> None:
    complaint = acknowledged(cdesk)
    with refused(Conflict, complaint):
        services.acknowledge_complaint(complaint_id=complaint.pk, actor=complaint.assignee)


# --- the customer's emails ---------------------------------------------------------------
@pytest.mark.parametrize(
    ("language", "acknowledged_subject", "extended_subject", "outcome_subject"),
    [
        ("en", "We have received your complaint", "More time needed", "Our answer to"),
        ("zh-hans", "我们已收到您的投诉", "需要延长处理时间", "的答复"),
    ],
)
def test_the_customers_emails_are_in_their_language(
    cdesk: ComplaintsDesk,
    language: str,
    acknowledged_subject: str,
    extended_subject: str,
    outcome_subject: str,
) -> None:
    cdesk.contact.language = language
    cdesk.contact.save()
    complaint = acknowledged(cdesk)
    services.extend_deadline(complaint_id=complaint.pk, actor=cdesk.supervisor, reason="Bank")
    propose(fresh(complaint), "50")

    sent = {m.kind: m for m in OutboxMessage.objects.filter(object_id=complaint.pk)}
    assert set(sent) == {"complaint.acknowledged", "complaint.extended", "complaint.outcome"}
    for kind, words in (
        ("complaint.acknowledged", acknowledged_subject),
        ("complaint.extended", extended_subject),
        ("complaint.outcome", outcome_subject),
    ):
        message = sent[kind]
        assert words in message.subject, message.subject
        assert complaint.number in message.subject
        assert message.to == cdesk.contact.email
    assert "/help/complaints/" in sent["complaint.outcome"].body_text


# --- concurrency -------------------------------------------------------------------------
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_approvals_at_once_one_wins() -> None:
    from tests.concurrency import run_together

    desk = build_complaints_desk()
    complaint = acknowledged(desk)
    propose(complaint, "500")

    def approve(actor: Any) -> Any:
        def call() -> Any:
            try:
                services.approve_proposal(complaint_id=complaint.pk, actor=actor)
            except Conflict as exc:
                return exc
            return "approved"

        return call

    results = run_together(approve(desk.supervisor), approve(desk.manager))

    assert sorted(map(str, results)).count("approved") == 1
    loser = next(r for r in results if r != "approved")
    assert isinstance(loser, Conflict) and STATUS_OF[type(loser)] == 409
    complaint = fresh(complaint)
    assert complaint.status == "awaiting_customer"
    assert Proposal.objects.get(complaint=complaint).status == "approved"
    assert AuditEvent.objects.filter(complaint=complaint, verb="approved").count() == 1
    assert OutboxMessage.objects.filter(kind="complaint.outcome").count() == 1


def test_an_escalation_refused_part_way_changes_nothing(cdesk: ComplaintsDesk) -> None:
    complaint = open_complaint(cdesk, about_user_id=cdesk.handler1.pk)
    # only a supervisor hands it on; never to the person complained about
    with refused(Forbidden, complaint):
        services.escalate_complaint(
            complaint_id=complaint.pk,
            actor=complaint.assignee,
            reason="Take it",
            assignee_id=cdesk.handler1.pk,
        )
    with refused(InvalidInput, complaint, assignee=""):
        services.escalate_complaint(
            complaint_id=complaint.pk,
            actor=cdesk.supervisor,
            reason="Take it",
            assignee_id=cdesk.handler1.pk,
        )
    assert not cdesk.supervisor.notifications.exists()
    assert not cdesk.manager.notifications.exists()


def test_the_link_of_an_answer_before_a_reopen_cannot_answer_the_next_one(
    cdesk: ComplaintsDesk,
) -> None:
    from complaints.links import read_respond_token

    def link_of_latest_answer() -> Any:
        outcome = OutboxMessage.objects.filter(kind="complaint.outcome").latest("id")
        return read_respond_token(outcome.body_text.split("/help/complaints/")[1].split("/")[0])

    complaint = answered(cdesk)
    first = link_of_latest_answer()
    services.respond_as_customer(
        complaint_id=complaint.pk, contact_id=first.contact_id, answer=first.answer, accept=True
    )
    services.reopen_complaint(
        complaint_id=complaint.pk, actor=complaint.assignee, reason="The refund bounced"
    )
    propose(fresh(complaint), "60")
    complaint = fresh(complaint)
    assert complaint.status == "awaiting_customer"
    second = link_of_latest_answer()
    assert second.answer != first.answer

    # the first answer's link, still within its window, cannot answer the second answer
    with refused(Conflict, complaint):
        services.respond_as_customer(
            complaint_id=complaint.pk,
            contact_id=first.contact_id,
            answer=first.answer,
            accept=False,
            reason="Old link",
        )
    services.respond_as_customer(
        complaint_id=complaint.pk, contact_id=second.contact_id, answer=second.answer, accept=True
    )
    assert fresh(complaint).status == "closed"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_approval_and_a_rejection_at_once_one_wins() -> None:
    from tests.concurrency import run_together

    desk = build_complaints_desk()
    complaint = acknowledged(desk)
    propose(complaint, "500")

    def attempt(call: Any) -> Any:
        def run() -> Any:
            try:
                call()
            except Conflict as exc:
                return exc
            return "done"

        return run

    results = run_together(
        attempt(lambda: services.approve_proposal(complaint_id=complaint.pk, actor=desk.manager)),
        attempt(
            lambda: services.reject_proposal(
                complaint_id=complaint.pk, actor=desk.supervisor, reason="No"
            )
        ),
    )

    assert [r == "done" for r in results].count(True) == 1
    proposal = Proposal.objects.get(complaint=complaint)
    complaint = fresh(complaint)
    if results[0] == "done":
        assert (proposal.status, complaint.status) == ("approved", "awaiting_customer")
    else:
        assert (proposal.status, complaint.status) == ("rejected", "investigating")
    decided = AuditEvent.objects.filter(complaint=complaint, verb__in=["approved", "rejected"])
    assert decided.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_dispute_and_the_silence_timer_at_once_one_wins() -> None:
    from viewflow.workflow.models import Task
    from viewflow.workflow.status import STATUS

    from processes import dispatcher
    from tests.concurrency import run_together

    desk = build_complaints_desk()
    complaint = answered(desk)
    Task.objects.filter(
        process__complaintprocess__complaint=complaint,
        flow_task_type="TIMER",
        status=STATUS.SCHEDULED,
    ).update(scheduled=timezone.now() - timedelta(seconds=1))

    def dispute() -> Any:
        try:
            services.respond_as_customer(
                complaint_id=complaint.pk,
                contact_id=complaint.contact_id,
                answer=0,
                accept=False,
                reason="No",
            )
        except Conflict as exc:
            return exc
        return "disputed"

    disputed, fired = run_together(dispute, lambda: dispatcher.drain(budget_seconds=2))
    if fired == 0:  # the timer found the process busy, or cancelled: a later sweep
        dispatcher.drain()

    complaint = fresh(complaint)
    verbs = list(
        AuditEvent.objects.filter(complaint=complaint, verb__in=["disputed", "silent"]).values_list(
            "verb", flat=True
        )
    )
    assert len(verbs) == 1
    if disputed == "disputed":
        assert verbs == ["disputed"] and complaint.status == "investigating"
    else:
        assert isinstance(disputed, Conflict)
        assert verbs == ["silent"] and complaint.status == "closed"
