"""The work queue: one table of every open human task, kept by the services in their own
transaction, read by the queue, the board, the sockets and assignment.

A second kind of work (``probe``, written through the platform's funnel as any process
app would, with no ticket code involved) shows that the queue is not about tickets.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone

from org import assignment
from processes.models import WorkItem
from processes.queue import publish_work_item
from processes.selectors import COLUMNS, ROW
from tests.conftest import client_for
from tests.factories import AgentFactory, open_ticket
from tests.notifications.test_consumer import connect, next_message, run
from tickets import selectors, services
from tickets.events import work_row
from tickets.models import Ticket

pytestmark = pytest.mark.django_db


def stored(kind: str, object_id: int) -> dict[str, Any] | None:
    """The work item as a queue row, or None."""
    values = WorkItem.objects.filter(kind=kind, object_id=object_id).values(*COLUMNS).first()
    if values is None:
        return None
    return {key: values[column] for key, column in ROW.items() if key != "id"}


def expected(ticket_id: int) -> dict[str, Any] | None:
    """What the queue must say of the ticket as it stands (None: not waiting on anyone)."""
    ticket = Ticket.objects.select_related("customer").get(pk=ticket_id)
    if ticket.status not in ("new", "open"):
        return None
    task = selectors.current_task_ids([ticket.pk]).get(ticket.pk)
    return dict(work_row(ticket, task))


def test_every_step_of_a_ticket_keeps_its_work_item(desk: Any) -> None:
    ticket = open_ticket(desk)
    agent = desk.agent1 if ticket.assignee_id == desk.agent1.pk else desk.agent2
    steps = [
        lambda: services.reply_to_ticket(
            ticket_id=ticket.pk, actor=agent, body="On it", internal=False
        ),
        lambda: services.change_priority(ticket_id=ticket.pk, actor=desk.supervisor, priority="P1"),
        lambda: services.put_on_hold(ticket_id=ticket.pk, actor=agent, reason="Waiting"),
        lambda: services.resume_ticket(ticket_id=ticket.pk, actor=agent),
        lambda: services.assign_ticket(
            ticket_id=ticket.pk, actor=desk.supervisor, assignee_id=desk.agent2.pk
        ),
        lambda: services.resolve_ticket(ticket_id=ticket.pk, actor=desk.agent2, resolution="Done"),
        lambda: services.reopen_ticket(ticket_id=ticket.pk, actor=desk.supervisor, reason="Back"),
        lambda: services.close_ticket(ticket_id=ticket.pk, actor=desk.supervisor),
    ]
    seen_absent = seen_present = 0
    assert stored("ticket", ticket.pk) == expected(ticket.pk) is not None
    for step in steps:
        step()
        want = expected(ticket.pk)
        assert stored("ticket", ticket.pk) == want
        seen_present += want is not None
        seen_absent += want is None
    assert seen_present >= 3 and seen_absent >= 3  # the walk left and re-entered the queue
    assert stored("ticket", ticket.pk) is None  # closed: off the queue


def probe_row(
    *, object_id: int, assignee: int | None, team: int | None, due: Any, warning: bool = False
) -> dict[str, Any]:
    now = timezone.now()
    return {
        "task_id": None,
        "kind": "probe",
        "object_id": object_id,
        "number": f"P-{object_id}",
        "title": "Probe work",
        "priority": "P1",
        "status": "handling",
        "assignee": assignee,
        "team": team,
        "due": due,
        "breached": False,
        "warning": warning,
        "paused": False,
        "escalation_level": 0,
        "acknowledged": False,
        "customer_tier": None,
        "created": now,
        "version": 1,
    }


def publish_probe(**kwargs: Any) -> None:
    with transaction.atomic():
        publish_work_item("created", probe_row(**kwargs), waiting=True)


def test_a_second_kind_is_in_the_queue_the_board_and_the_load(desk: Any) -> None:
    desk.team.assignment = "least_loaded"
    desk.team.save()
    ticket = open_ticket(desk)
    mine = desk.agent1 if ticket.assignee_id == desk.agent1.pk else desk.agent2
    other = desk.agent2 if mine == desk.agent1 else desk.agent1
    sooner = (ticket.sla_due or timezone.now()) - timedelta(minutes=5)
    publish_probe(object_id=7, assignee=mine.pk, team=desk.team.pk, due=sooner, warning=True)
    publish_probe(object_id=8, assignee=None, team=desk.team.pk, due=None)

    rows = client_for(mine).get("/api/queue/").json()["results"]
    assert [(r["kind"], r["object_id"]) for r in rows] == [
        ("probe", 7),
        ("ticket", ticket.pk),
        ("probe", 8),
    ]
    assert rows[0]["number"] == "P-7" and rows[0]["warning"] is True

    board = client_for(desk.supervisor).get("/api/board/").json()
    support = next(t for t in board["teams"] if t["id"] == desk.team.pk)
    assert (support["open"], support["unassigned"], support["near_breach"]) == (3, 1, 1)
    loads = {a["id"]: a["load"] for a in board["agents"]}
    assert loads[mine.pk] == 2 and loads[other.pk] == 0

    # Least loaded: the probe work counts, so the next ticket goes to the other agent.
    assert assignment.choose_agent(desk.team) == other


def test_an_agent_at_capacity_with_other_work_gets_no_ticket(desk: Any) -> None:
    busy: Any = AgentFactory(username="busy")
    desk.team.members.set([busy])
    busy.agent_profile.capacity = 1
    busy.agent_profile.presence = "online"
    busy.agent_profile.save()
    assert assignment.choose_agent(desk.team) == busy
    publish_probe(object_id=9, assignee=busy.pk, team=desk.team.pk, due=None)
    assert assignment.choose_agent(desk.team) is None


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_second_kind_reaches_the_sockets(desk: Any) -> None:
    from asgiref.sync import sync_to_async

    received: list[dict[str, Any]] = []

    async def body() -> None:
        ws, _hello = await connect(desk.agent1)
        await sync_to_async(publish_probe)(
            object_id=11, assignee=desk.agent1.pk, team=desk.team.pk, due=None
        )
        received.append(await next_message(ws, "queue.event"))
        await ws.disconnect()

    run(body)
    event = received[0]
    assert event["event"] == "created"
    assert (event["object"]["kind"], event["object"]["object_id"]) == ("probe", 11)
    assert event["object"]["number"] == "P-11"


def test_the_load_counted_in_sql_is_the_load_counted_in_python(desk: Any) -> None:
    """Assignment reads each candidate's load in its own query (``load_expression``); the
    board sums the registered counters in Python: the same figures."""
    from django.contrib.auth import get_user_model

    from org import workload

    for _ in range(3):
        open_ticket(desk)
    publish_probe(object_id=11, assignee=desk.agent2.pk, team=desk.team.pk, due=None)
    ids = [desk.agent1.pk, desk.agent2.pk, desk.outsider.pk]

    expression = workload.load_expression()
    assert expression is not None
    in_sql = dict(
        get_user_model()
        .objects.filter(pk__in=ids)
        .annotate(load=expression)
        .values_list("pk", "load")
    )
    in_python = workload.load_by_agent(ids)
    assert in_sql == {pk: in_python.get(pk, 0) for pk in ids}
    assert sum(in_sql.values()) == 4


def test_a_kind_counting_only_in_python_still_weighs_in_assignment(
    desk: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from org import workload

    monkeypatch.setattr(workload, "_counters", dict(workload._counters))
    monkeypatch.setattr(workload, "_expressions", dict(workload._expressions))
    desk.team.assignment = "least_loaded"
    desk.team.save()
    workload.register("legacy", lambda ids: {desk.agent1.pk: 5})

    assert workload.load_expression() is None
    assert assignment.choose_agent(desk.team) == desk.agent2
