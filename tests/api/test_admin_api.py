"""Authentication, /api/me/, and the administration resources."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from org.models import Team
from sla.models import BusinessCalendar
from tests.conftest import client_for
from tests.factories import open_ticket
from tickets.models import SlaPolicy

pytestmark = pytest.mark.django_db


def test_token_login_then_token_auth(desk: Any) -> None:
    client = APIClient()
    response = client.post(
        "/api/auth/token/", {"username": "agent1", "password": "pw"}, format="json"
    )
    assert response.status_code == 200
    token = response.json()["token"]

    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    me = client.get("/api/me/").json()

    assert me == {
        "id": desk.agent1.pk,
        "username": "agent1",
        "roles": ["agent"],
        "teams": [desk.team.pk],
    }


def test_wrong_password_is_400_without_a_token(desk: Any) -> None:
    response = APIClient().post(
        "/api/auth/token/", {"username": "agent1", "password": "nope"}, format="json"
    )

    assert response.status_code == 400
    assert "token" not in response.json()
    assert response.json()["errors"]


def test_token_login_is_throttled(desk: Any, settings: Any) -> None:
    """The fifth failure locks the account (KEFU_LOGIN_ACCOUNT_FAILURES; tests/security)."""
    client = APIClient()
    codes = [
        client.post(
            "/api/auth/token/", {"username": "agent1", "password": "guess"}, format="json"
        ).status_code
        for _ in range(5)
    ]

    assert codes[:4] == [400] * 4
    assert codes[4] == 429
    refused = client.post(
        "/api/auth/token/", {"username": "agent1", "password": "pw"}, format="json"
    )
    assert refused.status_code == 429
    assert "too many failed logins" in refused.json()["detail"].lower()


def test_supervisor_reads_teams_but_may_not_change_them(desk: Any) -> None:
    supervisor = client_for(desk.supervisor)

    teams = supervisor.get("/api/teams/").json()
    assert [t["name"] for t in teams] == ["Support", "Billing"]
    support = teams[0]
    assert sorted(support["members"]) == sorted([desk.agent1.pk, desk.agent2.pk])
    assert support["supervisors"] == [desk.supervisor.pk]
    assert support["assignment"] == "round_robin"
    assert supervisor.post("/api/teams/", {"name": "X"}, format="json").status_code == 403
    assert client_for(desk.agent1).get("/api/teams/").status_code == 403


def test_administrator_creates_a_team(desk: Any) -> None:
    response = client_for(desk.admin).post(
        "/api/teams/",
        {"name": "VIP 贵宾", "members": [desk.agent1.pk], "assignment": "least_loaded"},
        format="json",
    )

    assert response.status_code == 201, response.data
    team = Team.objects.get(name="VIP 贵宾")
    assert list(team.members.all()) == [desk.agent1]


def test_calendar_validation(desk: Any) -> None:
    admin = client_for(desk.admin)
    good = {
        "name": "Shanghai",
        "timezone": "Asia/Shanghai",
        "hours": {"mon": [["09:00", "12:00"], ["13:00", "18:00"]]},
        "holidays": ["2027-02-06"],
    }
    # the complaints' working-days calendar ships with the migrations
    before = BusinessCalendar.objects.count()
    assert admin.post("/api/calendars/", good, format="json").status_code == 201

    for bad in (
        {**good, "name": "a", "timezone": "Mars/Olympus"},
        {**good, "name": "b", "hours": {"mon": [["18:00", "09:00"]]}},
        {**good, "name": "c", "hours": {"someday": [["09:00", "10:00"]]}},
        {**good, "name": "d", "holidays": ["2027-02-30"]},
        {**good, "name": "e", "hours": ["mon"]},
    ):
        response = admin.post("/api/calendars/", bad, format="json")
        assert response.status_code == 400, bad
        assert response.json()["errors"]
    assert BusinessCalendar.objects.count() == before + 1


def test_sla_policy_crud_and_retire(desk: Any) -> None:
    admin = client_for(desk.admin)
    body = {
        "name": "Gold P1",
        "priority": "P1",
        "customer_tier": "gold",
        "first_response_seconds": 900,
        "resolution_seconds": 14400,
        "escalation": [
            {"at_percent": 50, "target": "resolution", "action": "warn"},
            {
                "at_percent": 100,
                "target": "resolution",
                "action": "reassign",
                "team": desk.other_team.pk,
            },
        ],
    }
    created = admin.post("/api/sla-policies/", body, format="json")
    assert created.status_code == 201, created.data
    policy_id = created.json()["id"]
    assert created.json()["escalation"][1] == {
        "at_percent": 100,
        "target": "resolution",
        "action": "reassign",
        "team": desk.other_team.pk,
    }

    ticket = open_ticket(desk, priority="P1")
    assert ticket.sla_policy_id == policy_id

    assert admin.delete(f"/api/sla-policies/{policy_id}/").status_code == 204
    retired = SlaPolicy.objects.get(pk=policy_id)
    assert retired.is_active is False
    assert open_ticket(desk, priority="P1").sla_policy_id != policy_id
    assert admin.get(f"/api/sla-policies/{policy_id}/").status_code == 404


@pytest.mark.parametrize(
    "change",
    [
        {"priority": "P0"},
        {"customer_tier": "diamond"},
        {"first_response_seconds": 0},
        {"first_response_seconds": 99999, "resolution_seconds": 10},
        {"escalation": [{"at_percent": 50, "target": "resolution", "action": "explode"}]},
        {"escalation": [{"at_percent": 50, "target": "resolution", "action": "reassign"}]},
        {"escalation": [{"at_percent": 50, "target": "lunch", "action": "warn"}]},
    ],
)
def test_sla_policy_validation(desk: Any, change: dict[str, Any]) -> None:
    body = {"name": "x", "priority": "P2", "first_response_seconds": 60, "resolution_seconds": 600}
    before = SlaPolicy.objects.count()

    response = client_for(desk.admin).post("/api/sla-policies/", {**body, **change}, format="json")

    assert response.status_code == 400
    assert response.json()["errors"]
    assert SlaPolicy.objects.count() == before


def test_openapi_schema_and_docs_are_served(desk: Any) -> None:
    schema = APIClient().get("/api/schema/", HTTP_ACCEPT="application/json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    for path in (
        "/api/tickets/",
        "/api/tickets/{id}/",
        "/api/tickets/{id}/claim/",
        "/api/tickets/{id}/reopen/",
        "/api/queue/",
        "/api/me/",
        "/api/teams/",
        "/api/calendars/",
        "/api/sla-policies/",
        "/api/auth/token/",
    ):
        assert path in paths, path
    docs = APIClient().get("/api/docs/")
    assert docs.status_code == 200
    assert b"swagger-ui" in docs.content
    assert b"cdn" not in docs.content.lower()


def test_openapi_schema_validates_without_warnings(desk: Any) -> None:
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=out)

    assert "/api/tickets/{id}/resolve/" in out.getvalue()
