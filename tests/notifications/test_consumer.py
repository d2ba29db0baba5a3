"""``/ws/queue/`` through the real ASGI application and the Redis channel layer.

Each test drives ``project.asgi.application`` with Channels' communicator: the
same routing, authentication middleware and consumer as uvicorn serves.
Where a test shows that a socket did NOT get something, it does so by order,
not by waiting: a later event that the socket should get arrives first.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client
from django.utils import timezone
from rest_framework.authtoken.models import Token

from notifications import presence
from notifications.models import Connection
from notifications.realtime import wait_for_pending
from notifications.schema import EVENT_NAMES, QueueEvent, QueueRow
from org.models import AgentProfile
from project.asgi import application
from tests.factories import AgentFactory, make_due, open_ticket

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]

ORIGIN = b"http://testserver"


def socket(
    *,
    token: str | None = None,
    cookie: str | None = None,
    origin: bytes | None = ORIGIN,
    language: str | None = None,
) -> WebsocketCommunicator:
    headers = [(b"host", b"testserver")]
    if origin is not None:
        headers.append((b"origin", origin))
    if cookie is not None:
        headers.append((b"cookie", cookie.encode()))
    if language is not None:
        headers.append((b"accept-language", language.encode()))
    path = "/ws/queue/" + (f"?token={token}" if token else "")
    return WebsocketCommunicator(application, path, headers=headers)


def token_of(user: Any) -> str:
    return str(Token.objects.get_or_create(user=user)[0].key)


def run(body: Callable[[], Awaitable[None]]) -> None:
    async_to_sync(body)()


async def connect(user: Any, **kwargs: Any) -> tuple[WebsocketCommunicator, dict[str, Any]]:
    token = await sync_to_async(token_of)(user)
    ws = socket(token=token, **kwargs)
    connected, _ = await ws.connect(timeout=5)
    assert connected
    hello = await ws.receive_json_from(timeout=5)
    assert hello["type"] == "hello"
    return ws, hello


async def next_message(ws: WebsocketCommunicator, *types: str) -> dict[str, Any]:
    """The next message of one of ``types``; messages of other types are skipped."""
    while True:
        message: dict[str, Any] = await ws.receive_json_from(timeout=10)
        if message["type"] in types:
            return message


async def closed_with(ws: WebsocketCommunicator) -> int:
    output = await ws.receive_output(timeout=5)
    assert output["type"] == "websocket.close"
    return int(output["code"])


def in_thread(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Awaitable[Any]:
    """Runs a service (sync, ORM) from the test's event loop; pushes leave after commit."""

    def call() -> Any:
        result = fn(*args, **kwargs)
        wait_for_pending()
        return result

    return sync_to_async(call)()


# --- refusals -----------------------------------------------------------------------
def test_anonymous_socket_is_closed_with_4401(desk: Any) -> None:
    async def body() -> None:
        for origin in (ORIGIN, None, b"https://evil.example"):
            ws = socket(origin=origin)
            connected, _ = await ws.connect(timeout=5)
            assert connected  # accepted only to say why it closes
            assert await closed_with(ws) == 4401

    run(body)
    assert not Connection.objects.exists()


def test_unknown_token_is_closed_with_4401(desk: Any) -> None:
    async def body() -> None:
        ws = socket(token="0" * 40, origin=None)
        await ws.connect(timeout=5)
        assert await closed_with(ws) == 4401

    run(body)


def test_session_socket_from_another_origin_is_closed_with_4403(desk: Any) -> None:
    client = Client()
    client.force_login(desk.agent1)
    cookie = f"sessionid={client.cookies['sessionid'].value}"

    async def body() -> None:
        ws = socket(cookie=cookie, origin=b"https://evil.example")
        await ws.connect(timeout=5)
        assert await closed_with(ws) == 4403
        # A cookie without any Origin is not a browser on this site either.
        ws = socket(cookie=cookie, origin=None)
        await ws.connect(timeout=5)
        assert await closed_with(ws) == 4403

    run(body)
    assert not Connection.objects.exists()


def test_token_socket_with_a_foreign_origin_is_closed_with_4403(desk: Any) -> None:
    token = token_of(desk.agent1)

    async def body() -> None:
        ws = socket(token=token, origin=b"http://testserver.evil.example")
        await ws.connect(timeout=5)
        assert await closed_with(ws) == 4403

    run(body)


# --- who joins what -----------------------------------------------------------------
def test_session_socket_joins_own_and_team_groups(desk: Any) -> None:
    client = Client()
    client.force_login(desk.agent1)
    cookie = f"sessionid={client.cookies['sessionid'].value}"

    async def body() -> None:
        ws = socket(cookie=cookie)
        connected, _ = await ws.connect(timeout=5)
        assert connected
        hello = await ws.receive_json_from(timeout=5)
        assert hello["user"] == desk.agent1.pk
        assert hello["groups"] == [f"agent.{desk.agent1.pk}", f"team.{desk.team.pk}"]
        assert hello["heartbeat"] == presence.heartbeat_seconds()
        await ws.disconnect()

    run(body)


def test_supervisor_joins_the_supervisors_group(desk: Any) -> None:
    async def body() -> None:
        ws, hello = await connect(desk.supervisor, origin=None)
        assert "supervisors" in hello["groups"]
        assert f"team.{desk.other_team.pk}" not in hello["groups"]
        await ws.disconnect()

    run(body)


def test_no_event_leaks_to_another_team(desk: Any) -> None:
    """The outsider (Billing) hears nothing of Support's ticket; their next message is
    Billing's own ticket, which was opened after Support's."""
    from tests.factories import ContactFactory, CustomerFactory
    from tickets.models import RoutingRule

    RoutingRule.objects.create(team=desk.other_team, position=1, customer_tier="bronze")
    billing_contact: Any = ContactFactory(customer=CustomerFactory(tier="bronze"))

    async def body() -> None:
        outsider, _ = await connect(desk.outsider)
        agent, _ = await connect(desk.agent1)
        support_ticket = await in_thread(open_ticket, desk)
        seen = await next_message(agent, "queue.event")
        assert seen["object"]["object_id"] == support_ticket.pk

        billing_ticket = await in_thread(open_ticket, desk, contact_id=billing_contact.pk)
        first = await next_message(outsider, "queue.event")
        assert first["object"]["object_id"] == billing_ticket.pk
        assert first["object"]["team"] == desk.other_team.pk
        await outsider.disconnect()
        await agent.disconnect()

    run(body)


# --- events ---------------------------------------------------------------------------
def _check_schema(message: dict[str, Any]) -> None:
    assert set(message) == set(QueueEvent.__annotations__)
    assert message["event"] in EVENT_NAMES
    assert set(message["object"]) == set(QueueRow.__annotations__)
    assert message["version"] == message["object"]["version"]


def test_every_event_type_reaches_a_supervisor_socket_from_its_service(desk: Any) -> None:
    """created/assigned (intake), updated (a note), sla_warning/sla_breached/escalated
    (a checkpoint), closed (close), each from the service that causes it."""
    from processes import dispatcher
    from tickets import services

    desk.policy.escalation = [{"at_percent": 50, "target": "first_response", "action": "warn"}]
    desk.policy.save()
    received: list[dict[str, Any]] = []

    async def body() -> None:
        ws, _ = await connect(desk.supervisor)

        async def expect(*names: str) -> None:
            for name in names:
                message = await next_message(ws, "queue.event")
                _check_schema(message)
                assert message["event"] == name
                received.append(message)

        ticket = await in_thread(open_ticket, desk)
        assignee = desk.agent1 if ticket.assignee_id == desk.agent1.pk else desk.agent2
        await expect("assigned", "created")
        await in_thread(
            services.reply_to_ticket,
            ticket_id=ticket.pk,
            actor=assignee,
            body="Looking",
            internal=True,
        )
        await expect("updated")
        await in_thread(make_due, ticket, started_ago=timedelta(minutes=35))
        await in_thread(dispatcher.drain)
        await expect("escalated")  # level 1 at 50 % of the first response
        await in_thread(make_due, ticket, started_ago=timedelta(minutes=50))
        await in_thread(dispatcher.drain)
        await expect("sla_warning")  # the warning at 80 %
        await in_thread(make_due, ticket, started_ago=timedelta(hours=2))
        await in_thread(dispatcher.drain)
        await expect("sla_breached")
        await in_thread(
            services.resolve_ticket, ticket_id=ticket.pk, actor=assignee, resolution="Fixed"
        )
        await expect("updated")
        await in_thread(services.close_ticket, ticket_id=ticket.pk, actor=assignee)
        await expect("closed")
        await ws.disconnect()

    run(body)
    versions = [m["version"] for m in received]
    assert versions == sorted(versions)
    assert {m["event"] for m in received} == set(EVENT_NAMES)
    breached = next(m for m in received if m["event"] == "sla_breached")
    assert breached["object"]["breached"] is True
    resolved = [m for m in received if m["event"] == "updated"][-1]
    assert resolved["object"]["warning"] is False  # the target is met: no longer amber
    warned = next(m for m in received if m["event"] == "sla_warning")
    assert warned["object"]["warning"] is True and warned["object"]["escalation_level"] >= 0


def test_checkpoints_of_one_sweep_make_one_event_per_ticket(desk: Any) -> None:
    """An incident storm: a warning, a breach and an escalation level of each ticket fall due
    together; each ticket's work item changes once and its one event names the most
    significant (escalated), the row carrying all of it."""
    from processes import dispatcher

    desk.policy.escalation = [{"at_percent": 90, "target": "first_response", "action": "warn"}]
    desk.policy.save()

    received: list[dict[str, Any]] = []

    async def body() -> None:
        ws, _ = await connect(desk.supervisor)
        tickets = []
        for _ in range(3):
            tickets.append(await in_thread(open_ticket, desk))
            for _name in ("assigned", "created"):
                await next_message(ws, "queue.event")
        for ticket in tickets:
            await in_thread(make_due, ticket, started_ago=timedelta(minutes=61))
        assert await in_thread(dispatcher.drain) == 9  # three checkpoints of three tickets
        events = [await next_message(ws, "queue.event") for _ in tickets]
        await in_thread(open_ticket, desk)  # a marker: nothing else came before it
        following = await next_message(ws, "queue.event")
        await ws.disconnect()
        received.extend([*events, following])

    run(body)
    *events, marker = received
    assert [m["event"] for m in events] == ["escalated"] * 3
    assert all(m["object"]["breached"] and m["object"]["escalation_level"] == 1 for m in events)
    assert marker["event"] == "assigned"


def test_a_socket_in_two_groups_of_an_event_gets_it_once(desk: Any) -> None:
    """The assignee is in both the agent and the team group of their ticket's events."""
    from tickets import services

    async def body() -> None:
        ticket = await in_thread(open_ticket, desk)
        assignee = desk.agent1 if ticket.assignee_id == desk.agent1.pk else desk.agent2
        ws, hello = await connect(assignee)
        assert {f"agent.{assignee.pk}", f"team.{desk.team.pk}"} <= set(hello["groups"])
        for body_text in ("one", "two"):
            await in_thread(
                services.reply_to_ticket,
                ticket_id=ticket.pk,
                actor=desk.supervisor,
                body=body_text,
                internal=True,
            )
        first = await next_message(ws, "queue.event")
        second = await next_message(ws, "queue.event")
        assert second["version"] == first["version"] + 1  # not the first one's copy
        await ws.disconnect()

    run(body)


def test_reassignment_reaches_both_agents(desk: Any) -> None:
    from tickets import services

    async def body() -> None:
        one, _ = await connect(desk.agent1)
        two, _ = await connect(desk.agent2)
        ticket = await in_thread(open_ticket, desk)
        previous = ticket.assignee_id
        other = desk.agent2 if previous == desk.agent1.pk else desk.agent1
        await in_thread(
            services.assign_ticket, ticket_id=ticket.pk, actor=desk.supervisor, assignee_id=other.pk
        )
        for ws in (one, two):
            while True:
                message = await next_message(ws, "queue.event")
                if message["event"] == "assigned" and message["object"]["assignee"] == other.pk:
                    break
        await one.disconnect()
        await two.disconnect()

    run(body)


# --- notifications ------------------------------------------------------------------
def test_assignment_notification_is_pushed_in_the_readers_language(desk: Any) -> None:
    from tickets import services

    async def body() -> None:
        ticket = await in_thread(open_ticket, desk)
        other = desk.agent2 if ticket.assignee_id == desk.agent1.pk else desk.agent1
        ws, hello = await connect(other, language="zh-CN,zh;q=0.9")
        await in_thread(
            services.assign_ticket, ticket_id=ticket.pk, actor=desk.supervisor, assignee_id=other.pk
        )
        message = await next_message(ws, "notification")
        assert message["unread"] == hello["unread"] + 1
        assert message["notification"]["ticket"] == ticket.pk
        assert message["notification"]["title"] == f"工单 {ticket.number} 已指派给您"
        await ws.disconnect()

    run(body)


# --- presence -----------------------------------------------------------------------
def after_grace() -> Any:
    return timezone.now() + presence.grace() + timedelta(seconds=1)


def test_presence_follows_sockets_and_supervisors_see_it(desk: Any) -> None:
    AgentProfile.objects.filter(user=desk.agent1).update(presence="offline")

    async def body() -> None:
        boss, _ = await connect(desk.supervisor)
        first, hello = await connect(desk.agent1)
        assert hello["presence"] == "online"
        change = await next_message(boss, "presence")
        assert change["agent"]["id"] == desk.agent1.pk
        assert change["agent"]["presence"] == "online"

        second, _ = await connect(desk.agent1)  # a second tab
        await first.send_json_to({"type": "presence", "status": "away"})
        ack = await next_message(first, "presence.ack")
        assert ack["presence"] == "away"
        assert (await next_message(boss, "presence"))["agent"]["presence"] == "away"
        # The agent's other tab hears of the switch too, so its own switch follows.
        assert (await next_message(second, "presence"))["agent"]["presence"] == "away"

        await first.disconnect()
        await second.disconnect()
        # Gone for good only once the grace period has passed.
        assert await sync_to_async(presence.sweep_dead_connections)(after_grace()) == 2
        assert (await next_message(boss, "presence"))["agent"]["presence"] == "offline"
        await boss.disconnect()

    run(body)
    assert AgentProfile.objects.get(user=desk.agent1).presence == "offline"
    assert not Connection.objects.filter(user=desk.agent1).exists()


def test_moving_to_another_page_is_not_leaving(desk: Any) -> None:
    """The queue page's socket closes and the ticket page's opens a moment later: the agent
    stays online throughout, and supervisors are told nothing."""

    async def body() -> None:
        queue_page, _ = await connect(desk.agent1)
        boss, _ = await connect(desk.supervisor)
        await queue_page.disconnect()
        assert await sync_to_async(presence.sweep_dead_connections)() == 0
        assert (
            await sync_to_async(lambda: AgentProfile.objects.get(user=desk.agent1).presence)()
            == "online"
        )
        ticket_page, hello = await connect(desk.agent1)
        assert hello["presence"] == "online"
        # Past the grace period only the old page's socket goes; the agent stays online.
        assert await sync_to_async(presence.sweep_dead_connections)(after_grace()) == 1
        assert (
            await sync_to_async(lambda: AgentProfile.objects.get(user=desk.agent1).presence)()
            == "online"
        )
        # Nothing was pushed about agent1: the next presence the board hears is agent2's.
        agent2, _ = await connect(desk.agent2)
        change = await next_message(boss, "presence")
        while change["agent"]["id"] == desk.supervisor.pk:  # the board's own user, if an agent
            change = await next_message(boss, "presence")
        assert change["agent"]["id"] == desk.agent2.pk
        for ws in (ticket_page, agent2, boss):
            await ws.disconnect()

    AgentProfile.objects.filter(user=desk.agent2).update(presence="offline")
    run(body)


def test_the_away_switch_holds_across_pages_and_returns(desk: Any) -> None:
    async def body() -> None:
        page, _ = await connect(desk.agent1)
        await page.send_json_to({"type": "presence", "status": "away"})
        assert (await next_message(page, "presence.ack"))["presence"] == "away"
        await page.disconnect()
        await sync_to_async(presence.sweep_dead_connections)(after_grace())
        later, hello = await connect(desk.agent1)
        assert hello["presence"] == "away"
        await later.send_json_to({"type": "presence", "status": "online"})
        assert (await next_message(later, "presence.ack"))["presence"] == "online"
        await later.disconnect()

    run(body)
    assert AgentProfile.objects.get(user=desk.agent1).presence == "online"


def test_a_silent_socket_is_swept_and_its_agent_goes_offline(desk: Any) -> None:
    presence.connection_opened(user_id=desk.agent1.pk, channel_name="specific.dead!1")
    presence.connection_opened(user_id=desk.agent2.pk, channel_name="specific.live!1")
    assert AgentProfile.objects.get(user=desk.agent1).presence == "online"
    stale = timezone.now() - presence.dead_after() - timedelta(seconds=1)
    Connection.objects.filter(channel_name="specific.dead!1").update(last_seen=stale)

    assert presence.sweep_dead_connections() == 1

    assert AgentProfile.objects.get(user=desk.agent1).presence == "offline"
    assert AgentProfile.objects.get(user=desk.agent2).presence == "online"


def test_offline_agents_get_no_new_work(desk: Any) -> None:
    """Auto-assignment reads the presence the sockets keep."""
    presence.connection_opened(user_id=desk.agent1.pk, channel_name="specific.a!1")
    presence.connection_closed(channel_name="specific.a!1")
    presence.sweep_dead_connections(after_grace())
    assert AgentProfile.objects.get(user=desk.agent1).presence == "offline"
    ticket = open_ticket(desk)
    assert ticket.assignee_id == desk.agent2.pk


def test_ping_refreshes_the_heartbeat_and_unknown_messages_get_an_error(desk: Any) -> None:
    async def body() -> None:
        ws, _ = await connect(desk.agent1)
        await sync_to_async(
            lambda: Connection.objects.filter(user=desk.agent1).update(
                last_seen=timezone.now() - timedelta(minutes=5)
            )
        )()
        await ws.send_json_to({"type": "ping"})
        assert (await ws.receive_json_from(timeout=5)) == {"type": "pong"}
        seen = await sync_to_async(lambda: Connection.objects.get(user=desk.agent1).last_seen)()
        assert seen > timezone.now() - timedelta(minutes=1)
        await ws.send_to(text_data="not json")
        error = await ws.receive_json_from(timeout=5)
        assert error["type"] == "error" and "ping" in error["detail"]
        await ws.disconnect()

    run(body)


def test_heartbeat_keeps_a_socket_out_of_the_sweep(desk: Any) -> None:
    presence.connection_opened(user_id=desk.agent1.pk, channel_name="specific.beat!1")
    stale = timezone.now() - presence.dead_after() - timedelta(seconds=1)
    Connection.objects.filter(channel_name="specific.beat!1").update(last_seen=stale)
    presence.heartbeat(channel_name="specific.beat!1")
    assert presence.sweep_dead_connections() == 0
    assert AgentProfile.objects.get(user=desk.agent1).presence == "online"


def test_an_agent_in_no_team_joins_only_their_own_group(desk: Any) -> None:
    lonely: Any = AgentFactory(username="lonely")

    async def body() -> None:
        ws, hello = await connect(lonely)
        assert hello["groups"] == [f"agent.{lonely.pk}"]
        await ws.disconnect()

    run(body)
