"""TicketFlow transitions driven through services, without HTTP."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from viewflow.workflow.models import Task
from viewflow.workflow.status import PROCESS, STATUS

from core.errors import Conflict, Forbidden, NotFound
from flows.models import TicketProcess
from processes import dispatcher
from tests.factories import (
    AgentFactory,
    SlaPolicyFactory,
    TeamFactory,
    make_due,
    open_ticket,
    update_ticket,
)
from tickets import services
from tickets.models import Ticket

pytestmark = pytest.mark.django_db


def live_nodes(ticket: Ticket) -> list[tuple[str, str]]:
    tasks = Task.objects.filter(
        process__ticketprocess__ticket=ticket,
        status__in=[STATUS.NEW, STATUS.ASSIGNED, STATUS.STARTED, STATUS.SCHEDULED],
    ).order_by("id")
    return [(t.flow_task.name, t.status) for t in tasks]


def test_open_ticket_routes_applies_sla_and_assigns(desk: Any) -> None:
    ticket = open_ticket(desk)

    assert ticket.number.startswith(f"T-{timezone.now().year}-")
    assert ticket.team == desk.team
    assert ticket.assignee in (desk.agent1, desk.agent2)
    assert ticket.status == "open"
    assert ticket.sla_policy == desk.policy
    assert ticket.first_response_due == ticket.created_at + timedelta(hours=1)
    assert ticket.resolution_due == ticket.created_at + timedelta(hours=8)
    assert ticket.sla_due == ticket.first_response_due
    # the human task waits for its assignee; the clock's next checkpoint is the warning
    assert live_nodes(ticket) == [("work", STATUS.ASSIGNED)]
    assert ticket.clock.next_at == ticket.created_at + timedelta(minutes=48)  # 80 % of an hour
    # two task rows started the process: the start handle and the work (no timer, no steps)
    assert Task.objects.filter(process__ticketprocess__ticket=ticket).count() == 2
    verbs = list(ticket.events.values_list("verb", flat=True))
    assert verbs == ["created", "routed", "assigned"]


def test_round_robin_alternates_between_online_agents(desk: Any) -> None:
    first = open_ticket(desk)
    second = open_ticket(desk)
    third = open_ticket(desk)

    assert first.assignee != second.assignee
    assert third.assignee == first.assignee


def test_least_loaded_picks_the_agent_with_fewer_open_tickets(desk: Any) -> None:
    desk.team.assignment = "least_loaded"
    desk.team.save()
    for _ in range(2):
        t = open_ticket(desk)
        services.assign_ticket(ticket_id=t.pk, actor=desk.supervisor, assignee_id=desk.agent1.pk)

    ticket = open_ticket(desk)

    assert ticket.assignee == desk.agent2


def test_skill_of_the_category_limits_the_candidates(desk: Any) -> None:
    from tests.factories import CategoryFactory

    CategoryFactory(code="network", required_skill="network")
    desk.agent2.agent_profile.skills = ["network"]
    desk.agent2.agent_profile.save()

    picks = {open_ticket(desk, category_code="network").assignee for _ in range(3)}

    assert picks == {desk.agent2}


def test_no_online_agent_leaves_the_ticket_new_in_the_team_queue(desk: Any) -> None:
    for agent in (desk.agent1, desk.agent2):
        agent.agent_profile.presence = "away"
        agent.agent_profile.save()

    ticket = open_ticket(desk)

    assert ticket.assignee is None
    assert ticket.status == "new"
    assert live_nodes(ticket) == [("work", STATUS.NEW)]


def test_manual_team_never_auto_assigns(desk: Any) -> None:
    desk.team.assignment = "manual"
    desk.team.save()

    ticket = open_ticket(desk)

    assert ticket.assignee is None


def test_claim_assigns_the_task_and_a_second_claim_conflicts(desk: Any) -> None:
    desk.team.assignment = "manual"
    desk.team.save()
    ticket = open_ticket(desk)

    services.claim_ticket(ticket_id=ticket.pk, actor=desk.agent1)
    with pytest.raises(Conflict):
        services.claim_ticket(ticket_id=ticket.pk, actor=desk.agent2)

    ticket.refresh_from_db()
    assert ticket.assignee == desk.agent1
    assert live_nodes(ticket)[0] == ("work", STATUS.ASSIGNED)
    work = Task.objects.get(process__ticketprocess__ticket=ticket, flow_task_type="HUMAN")
    assert work.owner == desk.agent1


def test_claim_by_an_agent_outside_the_team_is_not_found(desk: Any) -> None:
    ticket = open_ticket(desk)

    with pytest.raises(NotFound):
        services.claim_ticket(ticket_id=ticket.pk, actor=desk.outsider)


def test_agent_who_is_not_the_assignee_may_not_resolve(desk: Any) -> None:
    ticket = open_ticket(desk)
    other = desk.agent2 if ticket.assignee == desk.agent1 else desk.agent1

    with pytest.raises(Forbidden):
        services.resolve_ticket(ticket_id=ticket.pk, actor=other, resolution="x")

    ticket.refresh_from_db()
    assert ticket.status == "open"


def test_first_public_reply_meets_first_response_and_moves_the_queue_due(desk: Any) -> None:
    ticket = open_ticket(desk)

    services.reply_to_ticket(ticket_id=ticket.pk, actor=ticket.assignee, body="note", internal=True)
    ticket.refresh_from_db()
    assert ticket.first_responded_at is None

    services.reply_to_ticket(ticket_id=ticket.pk, actor=ticket.assignee, body="Hi", internal=False)
    ticket.refresh_from_db()
    assert ticket.first_responded_at is not None
    assert ticket.sla_due == ticket.resolution_due
    assert list(ticket.messages.values_list("internal", flat=True)) == [True, False]


def test_hold_pauses_and_resume_rearms_with_the_remaining_budget(desk: Any) -> None:
    ticket = open_ticket(desk)
    agent = ticket.assignee
    original_due = ticket.resolution_due

    services.put_on_hold(ticket_id=ticket.pk, actor=agent, reason="need logs")
    ticket.refresh_from_db()
    assert ticket.status == "pending_customer"
    assert ticket.sla_paused_at is not None
    assert live_nodes(ticket) == [("waiting", STATUS.NEW), ("waiting__timeout", STATUS.SCHEDULED)]

    # the customer took 2 hours (24x7 calendar): the clock stood still meanwhile
    update_ticket(ticket.pk, sla_paused_at=timezone.now() - timedelta(hours=2))
    services.resume_ticket(ticket_id=ticket.pk, actor=agent)
    ticket.refresh_from_db()

    assert ticket.status == "open"
    assert ticket.sla_paused_at is None
    assert 7200 <= ticket.sla_paused_seconds <= 7205
    assert ticket.resolution_due - original_due == timedelta(seconds=ticket.sla_paused_seconds)
    assert [n for n, _ in live_nodes(ticket)] == ["work"]
    assert ticket.clock.next_at == ticket.first_response_due - timedelta(minutes=12)


def test_customer_reply_resumes_a_waiting_ticket(desk: Any) -> None:
    ticket = open_ticket(desk)
    services.put_on_hold(ticket_id=ticket.pk, actor=ticket.assignee)

    services.record_customer_reply(ticket_id=ticket.pk, body="here are the logs")

    ticket.refresh_from_db()
    assert ticket.status == "open"
    assert ticket.messages.get().contact == ticket.contact


def test_resolve_then_reopen_then_close_then_reopen(desk: Any) -> None:
    ticket = open_ticket(desk)
    agent = ticket.assignee

    services.resolve_ticket(ticket_id=ticket.pk, actor=agent, resolution="rebooted")
    ticket.refresh_from_db()
    assert (ticket.status, ticket.resolution) == ("resolved", "rebooted")
    assert [n for n, _ in live_nodes(ticket)] == ["resolved", "resolved__timeout"]

    services.reopen_ticket(ticket_id=ticket.pk, actor=agent, reason="still broken")
    ticket.refresh_from_db()
    assert ticket.status == "open"
    assert ticket.resolved_at is None
    assert [n for n, _ in live_nodes(ticket)] == ["work"]

    services.close_ticket(ticket_id=ticket.pk, actor=agent)
    ticket.refresh_from_db()
    assert ticket.status == "closed"
    assert [n for n, _ in live_nodes(ticket)] == ["closed", "closed__timeout"]

    services.reopen_ticket(ticket_id=ticket.pk, actor=agent)
    ticket.refresh_from_db()
    assert ticket.status == "open"
    assert ticket.assignee == agent


def test_actions_the_state_does_not_allow_conflict_and_change_nothing(desk: Any) -> None:
    ticket = open_ticket(desk)
    agent = ticket.assignee

    with pytest.raises(Conflict):
        services.resume_ticket(ticket_id=ticket.pk, actor=agent)
    with pytest.raises(Conflict):
        services.reopen_ticket(ticket_id=ticket.pk, actor=agent)
    services.close_ticket(ticket_id=ticket.pk, actor=agent)
    version = Ticket.objects.get(pk=ticket.pk).version
    for action in (
        lambda: services.close_ticket(ticket_id=ticket.pk, actor=agent),
        lambda: services.put_on_hold(ticket_id=ticket.pk, actor=agent),
        lambda: services.resolve_ticket(ticket_id=ticket.pk, actor=agent, resolution="x"),
        lambda: services.reply_to_ticket(
            ticket_id=ticket.pk, actor=agent, body="x", internal=False
        ),
        lambda: services.urge_ticket(ticket_id=ticket.pk, actor=agent),
    ):
        with pytest.raises(Conflict):
            action()
    assert Ticket.objects.get(pk=ticket.pk).version == version


def test_pending_ticket_closes_itself_when_the_customer_stays_silent(desk: Any) -> None:
    ticket = open_ticket(desk)
    services.put_on_hold(ticket_id=ticket.pk, actor=ticket.assignee)
    Task.objects.filter(
        process__ticketprocess__ticket=ticket, flow_task_type="TIMER", status=STATUS.SCHEDULED
    ).update(scheduled=timezone.now() - timedelta(seconds=1))

    assert dispatcher.drain() == 1

    ticket.refresh_from_db()
    assert ticket.status == "closed"
    assert [n for n, _ in live_nodes(ticket)] == ["closed", "closed__timeout"]
    assert ticket.events.filter(verb="closed", after__auto=True).count() == 1


def test_closed_ticket_is_archived_after_the_reopen_window(desk: Any) -> None:
    ticket = open_ticket(desk)
    services.close_ticket(ticket_id=ticket.pk, actor=ticket.assignee)
    Task.objects.filter(
        process__ticketprocess__ticket=ticket, flow_task_type="TIMER", status=STATUS.SCHEDULED
    ).update(scheduled=timezone.now() - timedelta(seconds=1))

    dispatcher.drain()

    process = TicketProcess.objects.get(ticket=ticket)
    assert process.status == PROCESS.DONE
    assert live_nodes(ticket) == []
    with pytest.raises(Conflict, match="reopen window"):
        services.reopen_ticket(ticket_id=ticket.pk, actor=ticket.assignee)


def test_warning_then_breach_then_escalation_levels_fire_in_order(desk: Any) -> None:
    reserve: Any = TeamFactory(name="Escalations")
    senior = AgentFactory(username="senior")
    reserve.members.add(senior)
    desk.policy.escalation = [
        {"at_percent": 50, "target": "resolution", "action": "warn"},
        {"at_percent": 100, "target": "resolution", "action": "notify_supervisor"},
        {"at_percent": 120, "target": "resolution", "action": "raise_priority"},
        {"at_percent": 150, "target": "resolution", "action": "reassign", "team": reserve.pk},
    ]
    desk.policy.save()
    ticket = open_ticket(desk)

    # 5 h into an 8 h resolution target: FR warning+breach, level 1 (warn at 4 h)
    make_due(ticket, started_ago=timedelta(hours=5))
    dispatcher.drain()
    ticket.refresh_from_db()
    assert ticket.sla_done == [
        "first_response:warning",
        "first_response:breach",
        "level:0",
    ]
    assert ticket.first_response_breached and not ticket.resolution_breached
    assert ticket.escalation_level == 1
    # the same work task goes on (a checkpoint that only marks never re-creates it)
    assert [n for n, _ in live_nodes(ticket)] == ["work"]
    assert ticket.clock.next_at == ticket.sla_started_at + timedelta(hours=8 * 0.8)

    # 12.5 h: resolution warning, breach, supervisor notified, priority raised, reassigned
    make_due(ticket, started_ago=timedelta(hours=12, minutes=30))
    dispatcher.drain()
    ticket.refresh_from_db()
    assert ticket.resolution_breached
    assert ticket.escalation_level == 4
    assert ticket.priority == "P1"
    assert ticket.team == reserve
    assert ticket.assignee == senior  # auto-assigned within the escalation team
    escalations = list(
        ticket.events.filter(verb="escalated").values_list("after__action", flat=True)
    )
    assert escalations == ["warn", "notify_supervisor", "raise_priority", "reassign"]
    assert desk.supervisor.notifications.filter(
        kind="escalated", subject_kind="ticket", object_id=ticket.pk
    ).exists()
    assert desk.supervisor.notifications.filter(
        kind="sla_breached", subject_kind="ticket", object_id=ticket.pk
    ).exists()
    assert [n for n, _ in live_nodes(ticket)] == ["work"]


def test_policy_change_applies_only_to_tickets_opened_afterwards(desk: Any) -> None:
    before = open_ticket(desk)
    desk.policy.targets = {**desk.policy.targets, "resolution": 60}
    desk.policy.save()

    after = open_ticket(desk)

    assert before.resolution_due == before.created_at + timedelta(hours=8)
    assert after.resolution_due == after.created_at + timedelta(seconds=60)


def test_most_specific_policy_wins_and_newest_breaks_a_tie(desk: Any) -> None:
    SlaPolicyFactory(priority="P2", customer_tier="gold", first_response_seconds=600)
    newest = SlaPolicyFactory(priority="P2", customer_tier="gold", first_response_seconds=300)

    ticket = open_ticket(desk)  # the desk's contact belongs to a gold customer

    assert ticket.sla_policy == newest
    assert ticket.first_response_due == ticket.created_at + timedelta(seconds=300)


def test_ticket_numbers_are_sequential_per_year(desk: Any) -> None:
    numbers = [open_ticket(desk).number for _ in range(3)]

    serials = [int(n.rsplit("-", 1)[1]) for n in numbers]
    assert serials == [serials[0], serials[0] + 1, serials[0] + 2]


def test_an_unassigned_ticket_is_offered_again_at_its_next_checkpoint(desk: Any) -> None:
    for agent in (desk.agent1, desk.agent2):
        agent.agent_profile.presence = "away"
        agent.agent_profile.save()
    ticket = open_ticket(desk)
    assert ticket.assignee is None
    desk.agent2.agent_profile.presence = "online"
    desk.agent2.agent_profile.save()

    make_due(ticket, started_ago=timedelta(minutes=50))
    dispatcher.drain()

    ticket.refresh_from_db()
    assert ticket.assignee == desk.agent2
    assert ticket.status == "open"
    assert live_nodes(ticket) == [("work", STATUS.ASSIGNED)]


def test_customer_reply_reopens_a_resolved_ticket_and_keeps_its_attachments(desk: Any) -> None:
    from mail.inbound import IncomingAttachment
    from mail.models import Attachment

    ticket = open_ticket(desk)
    services.resolve_ticket(ticket_id=ticket.pk, actor=ticket.assignee, resolution="rebooted")

    message = services.record_customer_reply(
        ticket_id=ticket.pk,
        body="still broken",
        channel="email",
        email_message_id="<a1@example.com>",
        attachments=[IncomingAttachment("log.txt", "text/plain", b"E42")],
    )

    ticket.refresh_from_db()
    assert ticket.status == "open"
    assert ticket.resolved_at is None
    assert [n for n, _ in live_nodes(ticket)] == ["work"]
    assert (message.channel, message.email_message_id) == ("email", "<a1@example.com>")
    stored = Attachment.objects.get(subject_kind="ticket", object_id=ticket.pk)
    assert (stored.message_id, stored.name, stored.file.read()) == (message.pk, "log.txt", b"E42")
    assert list(ticket.events.values_list("verb", flat=True))[-2:] == [
        "customer_replied",
        "reopened",
    ]


def test_customer_reply_reopens_a_closed_ticket_within_the_window_only(desk: Any) -> None:
    ticket = open_ticket(desk)
    services.close_ticket(ticket_id=ticket.pk, actor=ticket.assignee)

    services.record_customer_reply(ticket_id=ticket.pk, body="one more thing")
    ticket.refresh_from_db()
    assert ticket.status == "open"

    services.close_ticket(ticket_id=ticket.pk, actor=ticket.assignee)
    Task.objects.filter(
        process__ticketprocess__ticket=ticket, flow_task_type="TIMER", status=STATUS.SCHEDULED
    ).update(scheduled=timezone.now() - timedelta(seconds=1))
    dispatcher.drain()
    with pytest.raises(Conflict, match="reopen window"):
        services.record_customer_reply(ticket_id=ticket.pk, body="and another")
    assert ticket.messages.count() == 1


def test_an_empty_customer_message_is_refused_and_changes_nothing(desk: Any) -> None:
    from core.errors import InvalidInput

    ticket = open_ticket(desk)
    with pytest.raises(InvalidInput):
        services.record_customer_reply(ticket_id=ticket.pk, body="  ")
    assert ticket.messages.count() == 0


def test_a_refused_attachment_rolls_the_whole_message_back(desk: Any, settings: Any) -> None:
    from core.errors import InvalidInput
    from mail.inbound import IncomingAttachment

    settings.KEFU_ATTACHMENT_MAX_BYTES = 10
    ticket = open_ticket(desk)
    services.put_on_hold(ticket_id=ticket.pk, actor=ticket.assignee)
    with pytest.raises(InvalidInput, match="too large"):
        services.record_customer_reply(
            ticket_id=ticket.pk,
            body="logs attached",
            attachments=[IncomingAttachment("big.log", "text/plain", b"x" * 11)],
        )
    ticket.refresh_from_db()
    assert ticket.status == "pending_customer"
    assert ticket.messages.count() == 0
