"""Kefu's timer dispatcher and the viewflow boundary-timer work-around."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.db.models.signals import post_save
from django.utils import timezone
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from processes import boundaries, dispatcher
from tests.concurrency import run_together
from tests.factories import make_due, open_ticket
from tests.probe.flows import BoundaryProbeFlow
from tickets import services
from tickets.models import Ticket


def _due_now(**filters: Any) -> int:
    return Task.objects.filter(flow_task_type="TIMER", status=STATUS.SCHEDULED, **filters).update(
        scheduled=timezone.now() - timedelta(seconds=1)
    )


def _clock_back(tickets: list[Ticket], minutes: int) -> None:
    """The tickets' SLA clocks started ``minutes`` ago (their warnings fall due at 48)."""
    for ticket in tickets:
        make_due(ticket, started_ago=timedelta(minutes=minutes))


def _probe_tasks(process: Any) -> dict[str, str]:
    return {t.flow_task.name: t.status for t in Task.objects.filter(process=process)}


@pytest.mark.django_db
def test_interrupting_boundary_cancels_its_sibling_timer() -> None:
    process = BoundaryProbeFlow.start.run()
    _due_now(process=process, flow_task=BoundaryProbeFlow.host__timeout_2)

    assert dispatcher.drain() == 1

    tasks = _probe_tasks(process)
    assert tasks["host"] == STATUS.CANCELED
    assert tasks["host__timeout_2"] == STATUS.DONE
    # without Kefu's work-around this sibling would stay SCHEDULED and fire later
    assert tasks["host__timeout"] == STATUS.CANCELED


@pytest.mark.django_db
def test_viewflow_alone_leaves_the_sibling_timer_armed() -> None:
    """Documents the upstream bug the work-around exists for (VIEWFLOW.md §3)."""
    post_save.disconnect(dispatch_uid="kefu-cancel-orphan-boundaries")
    try:
        process = BoundaryProbeFlow.start.run()
        _due_now(process=process, flow_task=BoundaryProbeFlow.host__timeout_2)
        dispatcher.drain()
        assert _probe_tasks(process)["host__timeout"] == STATUS.SCHEDULED
    finally:
        post_save.connect(
            boundaries.cancel_orphan_boundaries, dispatch_uid="kefu-cancel-orphan-boundaries"
        )


@pytest.mark.django_db
def test_drain_fires_only_due_timers(desk: Any) -> None:
    tickets = [open_ticket(desk) for _ in range(3)]
    for ticket in tickets:
        services.put_on_hold(ticket_id=ticket.pk, actor=ticket.assignee)
    _due_now(process__ticketprocess__ticket=tickets[0])  # its auto-close

    assert dispatcher.due_timers_count() == 1
    assert dispatcher.drain() == 1
    assert dispatcher.due_timers_count() == 0
    assert (
        Task.objects.filter(
            process__ticketprocess__ticket__in=tickets[1:],
            flow_task_type="TIMER",
            status=STATUS.SCHEDULED,
        ).count()
        == 2
    )


@pytest.mark.django_db
def test_drain_fires_only_due_checkpoints(desk: Any) -> None:
    tickets = [open_ticket(desk) for _ in range(3)]
    _clock_back(tickets[:1], 50)

    assert dispatcher.due_timers_count() == 1
    assert dispatcher.drain() == 1
    assert dispatcher.due_timers_count() == 0
    done = {t.pk: Ticket.objects.get(pk=t.pk).sla_done for t in tickets}
    assert done == {tickets[0].pk: ["first_response:warning"], tickets[1].pk: [], tickets[2].pk: []}


@pytest.mark.django_db
def test_drain_works_through_several_batches(desk: Any, settings: Any) -> None:
    settings.KEFU_SLA_BATCH = 2
    tickets = [open_ticket(desk) for _ in range(5)]
    _clock_back(tickets, 50)

    assert dispatcher.drain() == 5
    for ticket in tickets:
        ticket.refresh_from_db()
        assert ticket.sla_done == ["first_response:warning"]


@pytest.mark.django_db
def test_a_checkpoint_that_only_marks_keeps_the_task_and_costs_the_same_for_many(
    desk: Any,
) -> None:
    """Set-wise: the statements a sweep runs do not grow with the checkpoints it fires, and
    the work task is the same one before and after (nothing is re-created)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    statements = {}
    for count in (3, 12):
        tickets = [open_ticket(desk) for _ in range(count)]
        tasks_before = {t.pk: _work_task_id(t) for t in tickets}
        _clock_back(tickets, 50)
        with CaptureQueriesContext(connection) as queries:
            assert dispatcher.drain() == count
        statements[count] = len(queries)
        assert {t.pk: _work_task_id(t) for t in tickets} == tasks_before
        assert (
            Task.objects.filter(
                process__ticketprocess__ticket__in=tickets, flow_task_type="TIMER"
            ).count()
            == 0
        )
    assert statements[3] == statements[12]


def _work_task_id(ticket: Ticket) -> int:
    return Task.objects.get(
        process__ticketprocess__ticket=ticket, flow_task_type="HUMAN", status=STATUS.ASSIGNED
    ).pk


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_dispatchers_fire_each_checkpoint_exactly_once(desk: Any, settings: Any) -> None:
    settings.KEFU_SLA_BATCH = 5
    tickets = [open_ticket(desk) for _ in range(40)]
    _clock_back(tickets, 50)
    fired = run_together(dispatcher.drain, dispatcher.drain)

    assert sum(fired) == 40
    for ticket in tickets:
        ticket.refresh_from_db()
        assert ticket.sla_done == ["first_response:warning"]
        assert ticket.events.filter(verb="sla_warning").count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_checkpoint_whose_process_is_busy_waits_for_the_next_sweep(desk: Any) -> None:
    from flows.ticket import TicketFlow

    ticket = open_ticket(desk)
    _clock_back([ticket], 50)
    holding = threading.Event()
    release = threading.Event()

    def hold_lock() -> None:
        try:
            with TicketFlow.lock(ticket.process.pk):
                holding.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_lock)
    holder.start()
    assert holding.wait(timeout=30)
    try:
        assert dispatcher.drain() == 0  # busy: skipped, not waited for
    finally:
        release.set()
        holder.join()
    assert dispatcher.drain() == 1  # the next sweep fires it
