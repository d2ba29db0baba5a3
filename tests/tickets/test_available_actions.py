"""What a screen offers: the actions a user may take on a ticket in its state."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from tests.factories import open_ticket, update_ticket
from tickets import services
from tickets.permissions import available_actions

pytestmark = pytest.mark.django_db


def _assignee_and_colleague(desk: Any, ticket: Any) -> tuple[Any, Any]:
    if ticket.assignee_id == desk.agent1.pk:
        return desk.agent1, desk.agent2
    return desk.agent2, desk.agent1


def test_actions_follow_the_state_and_the_user(desk: Any) -> None:
    ticket = open_ticket(desk)
    mine, colleague = _assignee_and_colleague(desk, ticket)

    assert available_actions(mine, ticket) == ["hold", "resolve", "close"]
    assert available_actions(colleague, ticket) == []
    assert available_actions(desk.supervisor, ticket) == ["hold", "resolve", "close", "priority"]

    services.put_on_hold(ticket_id=ticket.pk, actor=mine)
    ticket.refresh_from_db()
    assert available_actions(mine, ticket) == ["resume", "close"]

    services.resume_ticket(ticket_id=ticket.pk, actor=mine)
    services.resolve_ticket(ticket_id=ticket.pk, actor=mine, resolution="Fixed")
    ticket.refresh_from_db()
    assert available_actions(mine, ticket) == ["close", "reopen"]

    services.close_ticket(ticket_id=ticket.pk, actor=mine)
    ticket.refresh_from_db()
    assert available_actions(mine, ticket) == ["reopen"]
    assert available_actions(mine, ticket, now=timezone.now() + timedelta(days=31)) == []


def test_an_unassigned_ticket_offers_claim_to_its_team_only(desk: Any) -> None:
    ticket = open_ticket(desk)
    update_ticket(ticket.pk, assignee=None)
    ticket.refresh_from_db()

    assert available_actions(desk.agent1, ticket) == ["claim", "hold", "resolve", "close"]
    assert available_actions(desk.outsider, ticket) == []


def test_an_unacknowledged_escalation_offers_acknowledge_to_supervisors(desk: Any) -> None:
    ticket = open_ticket(desk)
    update_ticket(ticket.pk, escalation_level=1)
    ticket.refresh_from_db()
    mine, _ = _assignee_and_colleague(desk, ticket)

    assert "acknowledge" in available_actions(desk.supervisor, ticket)
    assert "acknowledge" not in available_actions(mine, ticket)


def test_the_ticket_page_shows_only_the_offered_buttons(desk: Any) -> None:
    ticket = open_ticket(desk)
    mine, colleague = _assignee_and_colleague(desk, ticket)
    client = Client()
    client.force_login(mine)

    html = client.get(f"/tickets/{ticket.pk}/").content.decode()

    buttons = html[html.index('id="actions"') : html.index('id="action-error"')]
    assert 'data-act="resolve"' in buttons and 'data-act="hold"' in buttons
    assert 'data-act="claim"' not in buttons and 'data-act="reopen"' not in buttons
    client.force_login(colleague)
    html = client.get(f"/tickets/{ticket.pk}/").content.decode()
    assert "data-act=" not in html[html.index('id="actions"') : html.index('id="action-error"')]
