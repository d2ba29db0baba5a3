"""``GET /api/contacts/?search=``: the new-ticket screen's contact search (docs/api.md)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.utils import translation
from rest_framework.test import APIClient

from customers import selectors as customer_selectors
from customers.models import Contact
from tests.conftest import client_for
from tests.factories import ContactFactory, CustomerFactory, UserFactory, open_ticket

pytestmark = pytest.mark.django_db


def search(user: Any, text: str, **extra: Any) -> Any:
    return client_for(user).get("/api/contacts/", {"search": text}, **extra)


def found(user: Any, text: str) -> list[int]:
    response = search(user, text)
    assert response.status_code == 200, response.json()
    return [row["id"] for row in response.json()["results"]]


@pytest.fixture
def people(desk: Any) -> dict[str, Any]:
    """Contacts of three customers and two walk-ins; Support sees Acme and Li Lei's customer
    (a ticket each), and one walk-in (her ticket)."""
    acme = CustomerFactory(name="Acme Trading", tier="standard")
    globex = CustomerFactory(name="Globex", tier="standard")
    wang = ContactFactory(
        customer=acme, name="王芳", email="wang.fang@acme.example", phone="+86 138 0013 8000"
    )
    zhang: Any = ContactFactory(
        customer=acme, name="Zhang Wei", email="zhang@acme.example", phone="(021) 5555-0101"
    )
    hidden = ContactFactory(
        customer=globex, name="Wanda Maximoff", email="wanda@globex.example", phone="138001"
    )
    walk_in = Contact.objects.create(name="Walker Seen", email="walk.seen@example.com")
    stranger = Contact.objects.create(name="Walker Unseen", email="walk.unseen@example.com")
    open_ticket(desk, contact_id=zhang.pk)  # routed to Support: Acme becomes visible to it
    open_ticket(desk, contact_id=walk_in.pk)
    return {
        "acme": acme,
        "wang": wang,
        "zhang": zhang,
        "hidden": hidden,
        "walk_in": walk_in,
        "stranger": stranger,
        "li_lei": desk.contact,
    }


def test_search_answers_the_contacts_shape(desk: Any, people: dict[str, Any]) -> None:
    response = search(desk.agent1, "wang.fang@")

    assert response.status_code == 200
    assert response.json() == {
        "results": [
            {
                "id": people["wang"].pk,
                "name": "王芳",
                "email": "wang.fang@acme.example",
                "phone": "+86 138 0013 8000",
                "customer": {"id": people["acme"].pk, "name": "Acme Trading"},
            }
        ]
    }


def test_search_matches_the_start_of_an_email_in_any_case(
    desk: Any, people: dict[str, Any]
) -> None:
    assert found(desk.supervisor, "WANG.F") == [people["wang"].pk]
    assert found(desk.supervisor, "acme.example") == []  # a prefix, not a substring


def test_search_matches_the_start_of_a_name_latin_or_chinese(
    desk: Any, people: dict[str, Any]
) -> None:
    assert found(desk.supervisor, "zhang w") == [people["zhang"].pk]
    assert found(desk.supervisor, "王") == [people["wang"].pk]
    assert found(desk.supervisor, "walker") == [people["walk_in"].pk, people["stranger"].pk]


def test_search_matches_the_customers_name(desk: Any, people: dict[str, Any]) -> None:
    assert found(desk.supervisor, "acme t") == [people["wang"].pk, people["zhang"].pk]


def test_search_matches_phone_digits_from_the_start_and_from_the_end(
    desk: Any, people: dict[str, Any]
) -> None:
    # Punctuation is ignored on both sides; the country code may be left out (from 7 digits).
    assert found(desk.supervisor, "+86 138") == [people["wang"].pk]
    assert found(desk.supervisor, "021-5555") == [people["zhang"].pk]
    assert found(desk.supervisor, "13800138000") == [people["wang"].pk]
    assert found(desk.supervisor, "138") == [people["hidden"].pk]  # "138001" starts with it
    assert found(desk.supervisor, "55550101") == [people["zhang"].pk]


def test_search_treats_wildcards_as_text(desk: Any, people: dict[str, Any]) -> None:
    assert found(desk.supervisor, "%") == []
    assert found(desk.supervisor, "_") == []
    assert found(desk.supervisor, "w%") == []


def test_search_answers_at_most_twenty_email_matches_first(desk: Any) -> None:
    customer = CustomerFactory(name="Many")
    by_email: list[Any] = [
        ContactFactory(customer=customer, email=f"many{n:02}@example.com", name=f"X {n}")
        for n in range(15)
    ]
    by_name: list[Any] = [
        ContactFactory(customer=customer, email=f"x{n:02}@example.com", name=f"Many {n:02}")
        for n in range(15)
    ]

    ids = found(desk.supervisor, "many")

    assert len(ids) == 20
    assert ids[:15] == [c.pk for c in by_email]  # in address order
    assert ids[15:] == [c.pk for c in by_name[:5]]  # then names, in name order


def test_an_agent_finds_only_contacts_they_may_see(desk: Any, people: dict[str, Any]) -> None:
    """The rule of ``can_see_contact``: a customer seen through one of its tickets, a walk-in
    through their own; a supervisor sees everyone."""
    assert found(desk.agent1, "wa") == [people["walk_in"].pk, people["wang"].pk]
    assert found(desk.agent1, "walker") == [people["walk_in"].pk]
    assert found(desk.agent1, "138") == []  # Globex's number
    assert found(desk.agent1, "13800138000") == [people["wang"].pk]
    assert found(desk.outsider, "wa") == []  # Billing sees no ticket of these
    assert set(found(desk.supervisor, "wa")) == {
        people["wang"].pk,
        people["hidden"].pk,
        people["walk_in"].pk,
        people["stranger"].pk,
    }


def test_an_agent_sees_contacts_of_tickets_assigned_to_them_in_another_team(
    desk: Any, people: dict[str, Any]
) -> None:
    from tests.factories import update_ticket

    ticket = open_ticket(desk, contact_id=people["hidden"].pk)
    update_ticket(ticket.pk, team=desk.other_team, assignee=desk.agent2)

    assert found(desk.agent2, "wanda") == [people["hidden"].pk]
    assert found(desk.agent1, "wanda") == []


def test_every_contact_offered_can_be_chosen_for_intake(desk: Any, people: dict[str, Any]) -> None:
    """The search and the intake hold contacts to the same rule: what the agent is offered,
    ``POST /api/tickets/`` takes as ``contact_id``."""
    client = client_for(desk.agent1)
    for contact_id in found(desk.agent1, "w"):
        response = client.post(
            "/api/tickets/",
            {"subject": "Call", "priority": "P3", "channel": "phone", "contact_id": contact_id},
            format="json",
        )
        assert response.status_code == 201, response.json()
        assert response.json()["contact"] == contact_id


def test_search_needs_a_staff_member(desk: Any, people: dict[str, Any]) -> None:
    anonymous = APIClient().get("/api/contacts/", {"search": "wa"})
    nobody = search(UserFactory(username="integration"), "wa")

    assert anonymous.status_code == 401
    assert nobody.status_code == 403
    assert nobody.json()["detail"] == "Only agents, supervisors and administrators may do this."


def test_search_without_text_or_with_too_much_is_refused(desk: Any) -> None:
    # Without ``search`` at all, GET /api/contacts/ is the contacts list (docs/api.md).
    for params in ({"search": ""}, {"search": "   "}, {"search": "x" * 101}):
        response = client_for(desk.agent1).get("/api/contacts/", params)
        assert response.status_code == 400, params
        assert set(response.json()["errors"]) == {"search"}


def test_search_refusal_is_in_chinese_when_asked(desk: Any) -> None:
    response = client_for(desk.agent1).get(
        "/api/contacts/", {"search": ""}, HTTP_ACCEPT_LANGUAGE="zh-hans"
    )
    translation.deactivate()

    assert response.status_code == 400
    assert response.json()["detail"] == "请说明要搜索什么。"


def test_search_reads_a_fixed_number_of_statements(
    desk: Any, people: dict[str, Any], django_assert_max_num_queries: Any
) -> None:
    client = client_for(desk.agent1)
    client.get("/api/contacts/", {"search": "x"})
    for n in range(30):
        ContactFactory(customer=people["acme"], name=f"Wa {n}", email=f"wa{n}@acme.example")

    # token, up to three criteria, the rows with their customers
    with django_assert_max_num_queries(5):
        response = client.get("/api/contacts/", {"search": "wa"})

    assert len(response.json()["results"]) == 20


def test_successor_of_a_prefix() -> None:
    assert customer_selectors.successor("ab") == "ac"
    assert customer_selectors.successor("王") == "玌"
    assert customer_selectors.successor("a\U0010ffff") == "b"
    assert customer_selectors.successor("\ud7ff") == "\ue000"
    assert customer_selectors.successor("\U0010ffff") is None


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("text", "index"),
    [
        ("wang.f", "contact_email_search_idx"),
        ("zhang", "contact_name_search_idx"),
        ("acme", "customer_name_search_idx"),
        ("138", "contact_phone_search_idx"),
        ("13800138000", "contact_phone_end_search_idx"),
    ],
)
def test_each_criterion_is_an_index_range_scan(
    desk: Any, people: dict[str, Any], text: str, index: str
) -> None:
    """The planner may read a small table whole; told not to, it must find the index, so the
    expressions the selector writes are those migration 0002 indexed."""
    from customers.selectors import (
        customer_name_key,
        email_key,
        name_key,
        phone_key,
        phone_reversed_key,
        starts_with,
    )

    key, prefix = {
        "contact_email_search_idx": (email_key(), text),
        "contact_name_search_idx": (name_key(), text),
        "customer_name_search_idx": (customer_name_key(), text),
        "contact_phone_search_idx": (phone_key(), text),
        "contact_phone_end_search_idx": (phone_reversed_key(), text[::-1]),
    }[index]
    query = starts_with(Contact.objects.all(), key, prefix).values_list("pk", flat=True)[:20]
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        plan = query.explain()

    assert index in plan, plan
    if index != "customer_name_search_idx":
        assert "Sort" not in plan, plan  # read in the index's order, up to the limit


def test_an_agents_rule_is_checked_on_the_first_matches_and_more_text_finds_the_rest(
    desk: Any, people: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A prefix that many contacts share costs the same as any other: the reader's rule is
    checked on the first ``SCAN_LIMIT`` matches of each criterion."""
    monkeypatch.setattr(customer_selectors, "SCAN_LIMIT", 2)
    # not seen by Support, and before wang.fang@ in address order ("+" < ".")
    globex: list[Any] = [
        ContactFactory(customer=people["hidden"].customer, email=f"wang+{n}@globex.example")
        for n in range(3)
    ]

    assert found(desk.agent1, "wang") == []
    assert found(desk.agent1, "wang.") == [people["wang"].pk]
    assert found(desk.supervisor, "wang") == [*(c.pk for c in globex), people["wang"].pk]
