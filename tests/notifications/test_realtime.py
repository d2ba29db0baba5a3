"""Events leave through the one funnel after commit and reach the channel layer's groups."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from notifications.realtime import (
    SUPERVISORS_GROUP,
    agent_group,
    team_group,
    wait_for_pending,
)
from notifications.schema import EVENT_NAMES, QueueEvent, QueueRow
from tests.factories import open_ticket


def _subscribe(*groups: str) -> tuple[Any, str]:
    """A fresh channel in ``groups``, after earlier pushes of this process have left."""
    wait_for_pending()
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    for group in groups:
        async_to_sync(layer.group_add)(group, channel)
    return layer, channel


def _receive(layer: Any, channel: str, count: int) -> list[dict[str, Any]]:
    async def read() -> list[dict[str, Any]]:
        import asyncio

        out = []
        for _ in range(count):
            out.append(await asyncio.wait_for(layer.receive(channel), timeout=10))
        return out

    return async_to_sync(read)()


def _matches_schema(event: dict[str, Any]) -> None:
    assert set(event) == set(QueueEvent.__annotations__)
    assert event["type"] == "queue.event"
    assert event["event"] in EVENT_NAMES
    assert set(event["object"]) == set(QueueRow.__annotations__)
    assert event["version"] == event["object"]["version"]


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_intake_pushes_assigned_then_created_through_redis(desk: Any) -> None:
    layer, channel = _subscribe(SUPERVISORS_GROUP)
    try:
        ticket = open_ticket(desk)
        events = _receive(layer, channel, 2)
    finally:
        async_to_sync(layer.group_discard)(SUPERVISORS_GROUP, channel)

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
    layer, channel = _subscribe(agent_group(ticket.assignee_id), team_group(desk.team.pk))
    services.urge_ticket(ticket_id=ticket.pk, actor=desk.supervisor, note="VIP")

    # The assignee's notification, then the event: one delivery each, though in two groups.
    notice, event = _receive(layer, channel, 2)

    assert notice["type"] == "notification.created"
    _matches_schema(event)
    assert event["event"] == "updated"
    assert event["object"]["version"] == type(ticket).objects.get(pk=ticket.pk).version


@pytest.mark.django_db(transaction=True)
def test_nothing_is_pushed_when_the_transaction_rolls_back(desk: Any) -> None:
    from django.db import transaction

    from tickets import services

    ticket = open_ticket(desk)
    layer, channel = _subscribe(SUPERVISORS_GROUP)

    with pytest.raises(RuntimeError), transaction.atomic():
        services.urge_ticket(ticket_id=ticket.pk, actor=desk.supervisor)
        raise RuntimeError("abort")
    services.reply_to_ticket(ticket_id=ticket.pk, actor=desk.supervisor, body="x", internal=True)

    (event,) = _receive(layer, channel, 1)
    assert event["event"] == "updated"
    assert event["object"]["version"] == ticket.version + 1  # the urge never happened
