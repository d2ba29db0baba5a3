"""Open sockets follow revocation (issue 8, item 3; docs/security.md, "Tokens and live sockets").

A socket's groups are recomputed when its user's access changes (team membership, roles),
and the socket is closed with 4401 when the user is deactivated or deleted, or the
credential it opened with (token, session) is gone. Where a test shows that a socket did NOT
get something, it does so by order (see tests/notifications/test_consumer.py): the
``access`` message says the socket's groups changed, and a later event to a group the user
still has arrives before anything of the group they left.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone
from rest_framework.authtoken.models import Token

from notifications import consumers
from notifications.models import Connection
from project.authentication import token_lifetime
from tests.conftest import client_for
from tests.factories import AgentFactory, ContactFactory, CustomerFactory, open_ticket
from tests.notifications.test_consumer import (
    connect,
    in_thread,
    next_message,
    run,
    socket,
)
from tickets.models import RoutingRule

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]


def _billing_contact(desk: Any) -> Any:
    """A contact whose tickets go to Billing (the other team)."""
    RoutingRule.objects.create(team=desk.other_team, position=1, customer_tier="bronze")
    return ContactFactory(customer=CustomerFactory(tier="bronze"))


async def closed_with(ws: Any) -> int:
    """The close code; messages sent before the close (a presence change) are skipped."""
    while True:
        output = await ws.receive_output(timeout=5)
        if output["type"] == "websocket.close":
            return int(output["code"])


def _session_cookie(user: Any) -> tuple[Client, str]:
    client = Client()
    client.force_login(user)
    return client, f"sessionid={client.cookies['sessionid'].value}"


def _remove_through_the_api(desk: Any) -> None:
    response = client_for(desk.admin).patch(
        f"/api/teams/{desk.team.pk}/", {"members": [desk.agent2.pk]}, format="json"
    )
    assert response.status_code == 200, response.content


def _remove_from_the_users_side(desk: Any) -> None:
    desk.agent1.kefu_teams.remove(desk.team)


def _clear_the_team(desk: Any) -> None:
    desk.team.members.clear()


@pytest.mark.parametrize(
    "remove",
    [_remove_through_the_api, _remove_from_the_users_side, _clear_the_team],
    ids=["api", "reverse", "clear"],
)
def test_agent_removed_from_a_team_stops_hearing_it(desk: Any, remove: Any) -> None:
    billing = _billing_contact(desk)
    desk.other_team.members.add(desk.agent1)  # agent1 stays in Billing

    async def body() -> None:
        ws, hello = await connect(desk.agent1)
        assert f"team.{desk.team.pk}" in hello["groups"]
        await in_thread(remove, desk)
        access = await next_message(ws, "access")
        assert access["groups"] == [f"agent.{desk.agent1.pk}", f"team.{desk.other_team.pk}"]

        support_ticket = await in_thread(open_ticket, desk)
        assert support_ticket.assignee_id != desk.agent1.pk
        billing_ticket = await in_thread(open_ticket, desk, contact_id=billing.pk)
        first = await next_message(ws, "queue.event")
        assert first["object"]["object_id"] == billing_ticket.pk
        await ws.disconnect()

    run(body)


def test_agent_added_to_a_team_hears_it_at_once(desk: Any) -> None:
    async def body() -> None:
        ws, hello = await connect(desk.outsider)
        assert f"team.{desk.team.pk}" not in hello["groups"]
        await in_thread(desk.team.members.add, desk.outsider)
        access = await next_message(ws, "access")
        assert f"team.{desk.team.pk}" in access["groups"]
        ticket = await in_thread(open_ticket, desk)
        first = await next_message(ws, "queue.event")
        assert first["object"]["object_id"] == ticket.pk
        await ws.disconnect()

    run(body)


@pytest.mark.parametrize("side", ["user", "group"])
def test_supervisor_who_loses_the_role_leaves_supervisors(desk: Any, side: str) -> None:
    from notifications.services import notify_users

    role = Group.objects.get(name="supervisor")

    def demote() -> None:
        if side == "user":
            desk.supervisor.groups.remove(role)
        else:
            role.user_set.remove(desk.supervisor)

    async def body() -> None:
        ws, hello = await connect(desk.supervisor)
        assert "supervisors" in hello["groups"]
        await in_thread(demote)
        access = await next_message(ws, "access")
        assert access["groups"] == [f"agent.{desk.supervisor.pk}"]

        await in_thread(open_ticket, desk)  # pushed to `supervisors`: not theirs any more
        notes = await in_thread(
            notify_users,
            recipient_ids=[desk.supervisor.pk],
            kind="urged",
            data={"number": "T-1", "by": "admin"},
        )
        first = await next_message(ws, "queue.event", "notification")
        assert first["type"] == "notification"
        assert first["notification"]["id"] == notes[0].pk
        await ws.disconnect()

    run(body)


def test_deactivating_a_user_closes_their_sockets(desk: Any) -> None:
    _client, cookie = _session_cookie(desk.agent1)

    def deactivate() -> None:
        user = User.objects.get(pk=desk.agent1.pk)
        user.is_active = False
        user.save()

    async def body() -> None:
        by_token, _ = await connect(desk.agent1)
        by_session = socket(cookie=cookie)
        assert (await by_session.connect(timeout=5))[0]
        assert (await next_message(by_session, "hello"))["user"] == desk.agent1.pk
        await in_thread(deactivate)
        assert await closed_with(by_token) == consumers.CLOSE_UNAUTHENTICATED == 4401
        assert await closed_with(by_session) == 4401
        await by_token.disconnect()
        await by_session.disconnect()

    run(body)
    assert not Connection.objects.filter(user=desk.agent1, closed_at__isnull=True).exists()


def test_deleting_a_user_closes_their_sockets(desk: Any) -> None:
    leaver: Any = AgentFactory(username="leaver")

    async def body() -> None:
        ws, _ = await connect(leaver)
        await in_thread(User.objects.filter(pk=leaver.pk).delete)
        assert await closed_with(ws) == 4401
        await ws.disconnect()

    run(body)


def test_deleting_a_token_closes_the_sockets_it_opened_only(desk: Any) -> None:
    _client, cookie = _session_cookie(desk.agent1)

    async def body() -> None:
        by_token, _ = await connect(desk.agent1)
        by_session = socket(cookie=cookie)
        assert (await by_session.connect(timeout=5))[0]
        await next_message(by_session, "hello")
        await in_thread(Token.objects.filter(user=desk.agent1).delete)
        assert await closed_with(by_token) == 4401
        # The session socket stays: it still answers (and nothing closed it first).
        await by_session.send_json_to({"type": "ping"})
        assert (await by_session.receive_json_from(timeout=5))["type"] in {"pong", "access"}
        await by_token.disconnect()
        await by_session.disconnect()

    run(body)


def test_logging_out_closes_the_sessions_sockets(desk: Any) -> None:
    client, cookie = _session_cookie(desk.agent1)

    async def body() -> None:
        ws = socket(cookie=cookie)
        assert (await ws.connect(timeout=5))[0]
        await next_message(ws, "hello")
        response = await in_thread(client.post, "/logout/")
        assert response.status_code == 302
        assert await closed_with(ws) == 4401
        await ws.disconnect()

    run(body)


def test_deleting_a_session_closes_its_sockets(desk: Any) -> None:
    client, cookie = _session_cookie(desk.agent1)
    key = client.cookies["sessionid"].value

    async def body() -> None:
        ws = socket(cookie=cookie)
        assert (await ws.connect(timeout=5))[0]
        await next_message(ws, "hello")
        await in_thread(Session.objects.filter(session_key=key).delete)
        assert await closed_with(ws) == 4401
        await ws.disconnect()

    run(body)


def test_an_expired_token_closes_its_socket_at_the_next_check(
    desk: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Expiry has no signal: each socket re-reads its access on a ping every few minutes."""
    monkeypatch.setattr(consumers, "RECHECK_SECONDS", 0.0)

    def expire() -> None:
        Token.objects.filter(user=desk.agent1).update(created=timezone.now() - token_lifetime())

    async def body() -> None:
        ws, _ = await connect(desk.agent1)
        await in_thread(expire)
        await ws.send_json_to({"type": "ping"})
        assert await closed_with(ws) == 4401
        await ws.disconnect()

    run(body)
