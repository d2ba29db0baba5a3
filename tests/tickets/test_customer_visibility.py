"""Who may see a customer (issue 8, item 4): an id of another team's contact or customer
opens nothing; the ticket page shows a customer only with a ticket the reader may see."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from customers.models import Contact, Customer
from tests.conftest import client_for
from tests.factories import open_ticket, update_ticket
from tickets import selectors
from tickets.models import Ticket

pytestmark = pytest.mark.django_db


def billing_customer(desk: Any) -> tuple[Customer, Contact]:
    """A platinum customer whose only ticket is in the Billing team (not the agents')."""
    customer = Customer.objects.create(name="Secret Corp", tier="platinum")
    contact = Contact.objects.create(
        customer=customer, email="ceo@secret.example.com", phone="+86 10 5555 0100"
    )
    ticket = open_ticket(desk, contact_id=contact.pk)
    update_ticket(ticket.pk, team=desk.other_team, assignee=desk.outsider)
    return customer, contact


def test_an_agent_cannot_open_a_ticket_on_another_teams_contact_by_id(desk: Any) -> None:
    customer, contact = billing_customer(desk)
    before = Ticket.objects.count()
    client = client_for(desk.agent1)

    by_contact = client.post(
        "/api/tickets/", {"subject": "x", "priority": "P3", "contact_id": contact.pk}, format="json"
    )
    by_customer = client.post(
        "/api/tickets/",
        {
            "subject": "x",
            "priority": "P3",
            "customer_id": customer.pk,
            "contact": {"email": "a@b.cn"},
        },
        format="json",
    )
    unknown = client.post(
        "/api/tickets/", {"subject": "x", "priority": "P3", "contact_id": 999999}, format="json"
    )

    assert by_contact.status_code == by_customer.status_code == unknown.status_code == 400
    # Refused exactly as an id that does not exist: nothing tells the contact is there.
    assert by_contact.json() == unknown.json()
    assert by_customer.json()["errors"] == {"customer_id": ["No such customer."]}
    assert Ticket.objects.count() == before
    assert not Contact.objects.filter(email="a@b.cn").exists()


def test_the_rule_follows_the_tickets_one_may_see(desk: Any) -> None:
    customer, contact = billing_customer(desk)
    walk_in = Contact.objects.create(email="walk.in@example.com")
    assert not selectors.can_see_customer(desk.agent1, customer.pk)
    assert not selectors.can_see_contact(desk.agent1, contact)
    assert not selectors.can_see_contact(desk.agent1, walk_in)
    assert selectors.can_see_customer(desk.outsider, customer.pk)  # Billing's agent
    assert selectors.can_see_contact(desk.supervisor, walk_in)
    assert selectors.can_see_contact(desk.admin, contact)

    # A ticket of the customer in the agent's own team (a caller who gave their address)
    # makes the customer theirs too.
    open_ticket(desk, contact_id=walk_in.pk)
    open_ticket(
        desk, customer_id=customer.pk, contact_id=None, contact_email="cfo@secret.example.com"
    )
    assert selectors.can_see_customer(desk.agent1, customer.pk)
    assert selectors.can_see_contact(desk.agent1, contact)
    assert selectors.can_see_contact(desk.agent1, walk_in)


def test_supervisors_and_kefus_own_intake_may_name_any_contact(desk: Any) -> None:
    _customer, contact = billing_customer(desk)
    response = client_for(desk.supervisor).post(
        "/api/tickets/", {"subject": "x", "priority": "P3", "contact_id": contact.pk}, format="json"
    )
    assert response.status_code == 201, response.json()
    assert open_ticket(desk, actor=None, contact_id=contact.pk).contact_id == contact.pk


def test_the_ticket_page_of_another_team_shows_nothing_of_its_customer(desk: Any) -> None:
    _customer, contact = billing_customer(desk)
    theirs = Ticket.objects.get(contact=contact)
    browser = Client()
    browser.force_login(desk.agent1)
    page = browser.get(f"/tickets/{theirs.pk}/")
    assert page.status_code == 404
    assert b"ceo@secret.example.com" not in page.content
