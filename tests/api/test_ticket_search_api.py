"""``GET /api/tickets/`` with the text search (``search=``) and the category filter, beside
the filters it had (``q`` keeps its meaning: the number, or text in the subject)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import client_for
from tests.factories import CategoryFactory, open_ticket, update_ticket

pytestmark = pytest.mark.django_db


def test_search_and_category_filter_the_list(desk: Any) -> None:
    CategoryFactory(code="network", name="Network")
    printer = open_ticket(desk, subject="打印机无法连接", description="Printer offline")
    vpn = open_ticket(desk, subject="VPN 掉线", category_code="network")
    client = client_for(desk.agent1)

    def ids(query: str) -> list[int]:
        response = client.get(f"/api/tickets/?{query}")
        assert response.status_code == 200, response.json()
        return [t["id"] for t in response.json()["results"]]

    assert ids("search=打印机") == [printer.pk]
    assert ids("search=print") == [printer.pk]  # the description's English word, by prefix
    assert ids("search=vpn&category=network") == [vpn.pk]
    assert ids("category=network") == [vpn.pk]
    assert ids(f"search={printer.number}") == [printer.pk]
    assert ids("search=掉线&status=closed") == []
    # q keeps its meaning: a substring of the subject (mid-word too), or the number
    assert ids("q=rinter") == []
    assert ids("q=无法连") == [printer.pk]
    assert ids("search=无法连") == [printer.pk]


def test_search_sees_no_further_than_the_reader(desk: Any) -> None:
    theirs = open_ticket(desk, subject="打印机 theirs")
    update_ticket(theirs.pk, team_id=desk.other_team.pk, assignee_id=desk.outsider.pk)

    assert client_for(desk.agent1).get("/api/tickets/?search=打印机").json()["results"] == []
    found = client_for(desk.outsider).get("/api/tickets/?search=打印机").json()["results"]
    assert [t["id"] for t in found] == [theirs.pk]


@pytest.mark.parametrize(
    ("query", "field"), [("search=" + "长" * 201, "search"), ("category=nope", "category")]
)
def test_bad_search_or_category_answers_400_naming_it(desk: Any, query: str, field: str) -> None:
    response = client_for(desk.admin).get(f"/api/tickets/?{query}")

    assert response.status_code == 400
    assert list(response.json()["errors"]) == [field]


def test_the_schema_documents_search_and_category(desk: Any) -> None:
    schema = client_for(desk.admin).get("/api/schema/?format=json").json()
    names = {p["name"] for p in schema["paths"]["/api/tickets/"]["get"]["parameters"]}

    assert {"search", "category", "q"} <= names
    assert {"get", "post"} <= set(schema["paths"]["/api/saved-views/"])
    assert "delete" in schema["paths"]["/api/saved-views/{id}/"]
