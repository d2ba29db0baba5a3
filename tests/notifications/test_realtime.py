"""Events leave through the one funnel after commit and reach the channel layer's groups."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import get_channel_layer

from notifications import latency
from notifications.realtime import (
    SUPERVISORS_GROUP,
    agent_group,
    team_group,
    wait_for_pending,
)
from notifications.schema import EVENT_NAMES, QueueEvent, QueueRow
from tests.factories import open_ticket


def _listen(groups: list[str], action: Callable[[], Any], count: int) -> tuple[Any, list[Any]]:
    """Subscribes a fresh channel to ``groups``, runs ``action`` (sync, in a thread) and
    returns its result with the next ``count`` messages. One event loop holds the channel
    throughout: the pub/sub layer keeps its subscriptions per loop."""

    async def body() -> tuple[Any, list[Any]]:
        await sync_to_async(wait_for_pending)()  # earlier pushes of this process have left
        layer = get_channel_layer()
        channel = await layer.new_channel()
        for group in groups:
            await layer.group_add(group, channel)
        try:

            def act() -> Any:
                result = action()
                wait_for_pending()
                return result

            result = await sync_to_async(act)()
            out = []
            for _ in range(count):
                message = await asyncio.wait_for(layer.receive(channel), timeout=10)
                # The layer's copy carries the moment it was pushed; sockets strip it.
                clean, pushed_at = latency.unstamp(message)
                assert pushed_at is not None
                out.append(clean)
        finally:
            for group in groups:
                await layer.group_discard(group, channel)
        return result, out

    return async_to_sync(body)()


def _matches_schema(event: dict[str, Any]) -> None:
    assert set(event) == set(QueueEvent.__annotations__)
    assert event["type"] == "queue.event"
    assert event["event"] in EVENT_NAMES
    assert set(event["object"]) == set(QueueRow.__annotations__)
    assert event["version"] == event["object"]["version"]


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_intake_pushes_assigned_then_created_through_redis(desk: Any) -> None:
    ticket, events = _listen([SUPERVISORS_GROUP], lambda: open_ticket(desk), 2)

    assert [e["event"] for e in events] == ["assigned", "created"]
    for event in events:
        _matches_schema(event)
        assert event["object"]["object_id"] == ticket.pk
    created = events[1]["object"]
    assert created["assignee"] == ticket.assignee_id
    assert created["team"] == desk.team.pk
    assert created["number"] == ticket.number
    assert created["task_id"] is not None


@pytest.mark.django_db(transaction=True)
def test_events_reach_the_assignee_and_team_groups(desk: Any) -> None:
    from tickets import services

    ticket = open_ticket(desk)
    _, (notice, event) = _listen(
        [agent_group(ticket.assignee_id), team_group(desk.team.pk)],
        lambda: services.urge_ticket(ticket_id=ticket.pk, actor=desk.supervisor, note="VIP"),
        2,
    )

    assert notice["type"] == "notification.created"
    _matches_schema(event)
    assert event["event"] == "updated"
    assert event["object"]["version"] == type(ticket).objects.get(pk=ticket.pk).version


@pytest.mark.django_db(transaction=True)
def test_nothing_is_pushed_when_the_transaction_rolls_back(desk: Any) -> None:
    from django.db import transaction

    from tickets import services

    ticket = open_ticket(desk)

    def abort_then_note() -> None:
        with pytest.raises(RuntimeError), transaction.atomic():
            services.urge_ticket(ticket_id=ticket.pk, actor=desk.supervisor)
            raise RuntimeError("abort")
        services.reply_to_ticket(
            ticket_id=ticket.pk, actor=desk.supervisor, body="x", internal=True
        )

    _, (event,) = _listen([SUPERVISORS_GROUP], abort_then_note, 1)
    assert event["event"] == "updated"
    assert event["object"]["version"] == ticket.version + 1  # the urge never happened
