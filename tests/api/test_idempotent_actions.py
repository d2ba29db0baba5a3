"""``Idempotency-Key`` on replies and actions: a double-submitted or retried request acts once."""

from __future__ import annotations

from typing import Any

import pytest

from audit.models import AuditEvent
from tests.concurrency import run_together
from tests.conftest import client_for
from tests.factories import open_ticket
from tickets.models import TicketMessage


@pytest.mark.django_db
def test_a_reply_sent_twice_with_one_key_is_stored_once(desk: Any) -> None:
    ticket = open_ticket(desk)
    client = client_for(ticket.assignee)
    body = {"body": "Please restart the router.", "internal": False}
    first = client.post(
        f"/api/tickets/{ticket.pk}/reply/", body, format="json", HTTP_IDEMPOTENCY_KEY="reply-1"
    )
    again = client.post(
        f"/api/tickets/{ticket.pk}/reply/", body, format="json", HTTP_IDEMPOTENCY_KEY="reply-1"
    )
    assert first.status_code == again.status_code == 200, (first.data, again.data)
    assert again.json()["id"] == ticket.pk
    assert TicketMessage.objects.filter(ticket=ticket, body=body["body"]).count() == 1
    # A new key is a new reply: the same words may be meant twice.
    client.post(
        f"/api/tickets/{ticket.pk}/reply/", body, format="json", HTTP_IDEMPOTENCY_KEY="reply-2"
    )
    assert TicketMessage.objects.filter(ticket=ticket, body=body["body"]).count() == 2


@pytest.mark.django_db
def test_without_a_key_each_request_acts(desk: Any) -> None:
    ticket = open_ticket(desk)
    client = client_for(ticket.assignee)
    body = {"body": "Twice on purpose", "internal": True}
    for _ in range(2):
        assert (
            client.post(f"/api/tickets/{ticket.pk}/reply/", body, format="json").status_code == 200
        )
    assert TicketMessage.objects.filter(ticket=ticket, body=body["body"]).count() == 2


@pytest.mark.django_db
def test_an_action_replayed_with_its_key_is_not_refused_and_acts_once(desk: Any) -> None:
    ticket = open_ticket(desk)
    client = client_for(ticket.assignee)
    url = f"/api/tickets/{ticket.pk}/hold/"
    first = client.post(url, {"reason": "waiting"}, format="json", HTTP_IDEMPOTENCY_KEY="hold-1")
    # Without the key the second hold is refused: the ticket already waits.
    assert client.post(url, {"reason": "waiting"}, format="json").status_code == 409
    again = client.post(url, {"reason": "waiting"}, format="json", HTTP_IDEMPOTENCY_KEY="hold-1")
    assert first.status_code == again.status_code == 200
    assert again.json()["status"] == "pending_customer"
    assert AuditEvent.objects.filter(ticket=ticket, verb="held").count() == 1


@pytest.mark.django_db
def test_a_key_reused_for_another_request_is_a_conflict_and_changes_nothing(desk: Any) -> None:
    ticket = open_ticket(desk)
    client = client_for(ticket.assignee)
    reply = f"/api/tickets/{ticket.pk}/reply/"
    client.post(reply, {"body": "one"}, format="json", HTTP_IDEMPOTENCY_KEY="k")
    other_body = client.post(reply, {"body": "two"}, format="json", HTTP_IDEMPOTENCY_KEY="k")
    other_action = client.post(
        f"/api/tickets/{ticket.pk}/priority/",
        {"priority": "P1"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k",
    )
    for response in (other_body, other_action):
        assert response.status_code == 409
        assert "idempotency_key" in response.json()["errors"]
    ticket.refresh_from_db()
    assert ticket.priority != "P1"
    assert not TicketMessage.objects.filter(ticket=ticket, body="two").exists()


@pytest.mark.django_db
def test_a_failed_action_frees_its_key(desk: Any) -> None:
    ticket = open_ticket(desk)
    client = client_for(ticket.assignee)
    url = f"/api/tickets/{ticket.pk}/resume/"
    assert client.post(url, {}, format="json", HTTP_IDEMPOTENCY_KEY="r").status_code == 409
    client.post(f"/api/tickets/{ticket.pk}/hold/", {"reason": "x"}, format="json")
    assert client.post(url, {}, format="json", HTTP_IDEMPOTENCY_KEY="r").status_code == 200


@pytest.mark.django_db
def test_an_invalid_key_is_refused(desk: Any) -> None:
    ticket = open_ticket(desk)
    response = client_for(ticket.assignee).post(
        f"/api/tickets/{ticket.pk}/reply/", {"body": "x"}, format="json", HTTP_IDEMPOTENCY_KEY=""
    )
    assert response.status_code == 400
    assert not TicketMessage.objects.filter(ticket=ticket, body="x").exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicates_of_one_reply_store_one_message(desk: Any) -> None:
    ticket = open_ticket(desk)

    def send() -> int:
        response = client_for(ticket.assignee).post(
            f"/api/tickets/{ticket.pk}/reply/",
            {"body": "double click"},
            format="json",
            HTTP_IDEMPOTENCY_KEY="dbl",
        )
        return int(response.status_code)

    assert run_together(send, send, send) == [200, 200, 200]
    assert TicketMessage.objects.filter(ticket=ticket, body="double click").count() == 1
