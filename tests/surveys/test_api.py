"""GET /api/surveys/responses/ and GET /api/reports/csat/: filters, visibility, errors."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from outbox.models import OutboxMessage
from surveys import services
from surveys.models import Invitation, SurveyResponse, SurveyTemplate
from surveys.questions import Answer
from tests.conftest import client_for
from tests.factories import ContactFactory, open_ticket
from tickets import services as tickets


def answered(
    desk: Any, score: int | None, *, team: Any = None, sent: bool = True, **kw: Any
) -> Any:
    contact: Any = ContactFactory()
    ticket = open_ticket(desk, contact_id=contact.pk, **kw)
    if team is not None:
        type(ticket).objects.filter(pk=ticket.pk).update(team=team, assignee=None)
    tickets.close_ticket(ticket_id=ticket.pk, actor=desk.supervisor)
    invitation = Invitation.objects.get(ticket=ticket)
    if sent:
        OutboxMessage.objects.filter(pk=invitation.message_id or 0).update(
            status="sent", sent_at=timezone.now()
        )
    if score is not None:
        services.record_response(invitation_id=invitation.pk, answer=Answer(score, "c", {}))
    return invitation


def test_supervisor_lists_responses_newest_first_with_filters(desk: Any) -> None:
    a = answered(desk, 5)
    b = answered(desk, 2)
    api = client_for(desk.supervisor)

    listed = api.get("/api/surveys/responses/")
    assert listed.status_code == 200
    rows = listed.json()["results"]
    assert [r["number"] for r in rows] == [b.subject_number, a.subject_number]
    assert rows[0]["score"] == 2
    assert rows[0]["ticket"] == b.ticket_id
    assert rows[0]["scale"] == "csat"
    assert rows[0]["agent"] == b.agent_id
    assert listed.json()["next"] is None

    by_ticket = api.get(f"/api/surveys/responses/?ticket={a.ticket_id}").json()["results"]
    assert [r["ticket"] for r in by_ticket] == [a.ticket_id]
    by_agent = api.get(f"/api/surveys/responses/?agent={a.agent_id}").json()["results"]
    assert {r["agent"] for r in by_agent} == {a.agent_id}
    later = (timezone.now() + timedelta(minutes=1)).isoformat()
    assert api.get("/api/surveys/responses/", {"since": later}).json()["results"] == []
    assert len(api.get("/api/surveys/responses/", {"team": desk.team.pk}).json()["results"]) == 2


def test_cursor_pagination_walks_every_response_once(
    desk: Any, django_assert_max_num_queries: Any
) -> None:
    for score in (1, 2, 3):
        answered(desk, score)
    from surveys.api import views

    views.PAGE_SIZE, old = 2, views.PAGE_SIZE
    try:
        api = client_for(desk.supervisor)
        with django_assert_max_num_queries(6):
            first = api.get("/api/surveys/responses/").json()
        second = api.get(first["next"]).json()
    finally:
        views.PAGE_SIZE = old
    scores = [r["score"] for r in first["results"] + second["results"]]
    assert sorted(scores) == [1, 2, 3]
    assert second["next"] is None


def test_an_agent_of_another_team_sees_nothing(desk: Any) -> None:
    invitation = answered(desk, 4)
    outsider = client_for(desk.outsider)

    assert outsider.get("/api/surveys/responses/").json()["results"] == []
    hidden = outsider.get(f"/api/surveys/responses/?ticket={invitation.ticket_id}")
    assert hidden.status_code == 404
    assert hidden.json() == {"detail": "Ticket not found.", "errors": {}}
    response_id = SurveyResponse.objects.get().pk
    assert outsider.get(f"/api/surveys/responses/{response_id}/").status_code == 404
    assert client_for(desk.agent1).get(f"/api/surveys/responses/{response_id}/").status_code == 200
    report = outsider.get("/api/reports/csat/").json()
    assert report["total"]["invitations"] == 0


def test_bad_parameters_are_400_with_the_error_shape(desk: Any) -> None:
    api = client_for(desk.supervisor)
    cases = {
        "/api/surveys/responses/?team=abc": "team",
        "/api/surveys/responses/?since=yesterday": "since",
        "/api/surveys/responses/?cursor=@@@": "cursor",
        "/api/reports/csat/?group_by=planet": "group_by",
        "/api/reports/csat/?tz=Mars/Olympus": "tz",
        "/api/reports/csat/?since=2026-05-02&until=2026-05-01": "until",
    }
    for url, field in cases.items():
        response = api.get(url)
        assert response.status_code == 400, url
        body = response.json()
        assert set(body) == {"detail", "errors"}
        assert field in body["errors"], (url, body)


def test_anonymous_is_401() -> None:
    from rest_framework.test import APIClient

    assert APIClient().get("/api/surveys/responses/").status_code == 401
    assert APIClient().get("/api/reports/csat/").status_code == 401


def test_csat_report_per_team_agent_and_day(desk: Any) -> None:
    for score in (5, 4, 3, 1):
        answered(desk, score)
    answered(desk, None)  # sent, not answered
    answered(desk, None, sent=False)  # still in the outbox: not counted
    api = client_for(desk.supervisor)

    total = api.get("/api/reports/csat/").json()["total"]
    assert total["invitations"] == 5
    assert total["responses"] == 4
    assert total["response_rate"] == 80.0
    assert total["csat"] == {"responses": 4, "satisfied": 2, "percent": 50.0}
    assert total["nps"]["score"] is None

    by_team = api.get("/api/reports/csat/?group_by=team").json()["results"]
    assert [(r["key"], r["label"], r["invitations"]) for r in by_team] == [
        (desk.team.pk, "Support", 5)
    ]
    by_agent = api.get("/api/reports/csat/?group_by=agent").json()["results"]
    assert sum(r["responses"] for r in by_agent) == 4
    assert {r["label"] for r in by_agent} <= {"agent1", "agent2"}
    today = timezone.now().astimezone(timezone.get_current_timezone()).date().isoformat()
    by_day = api.get(f"/api/reports/csat/?group_by=day&since={today}&until={today}").json()
    assert [r["key"] for r in by_day["results"]] == [today]
    assert by_day["results"][0]["csat"]["percent"] == 50.0
    month = api.get("/api/reports/csat/?group_by=month&tz=Asia/Shanghai").json()
    assert month["timezone"] == "Asia/Shanghai"
    assert month["results"][0]["key"].endswith("-01")
    empty = api.get("/api/reports/csat/?since=2000-01-01&until=2000-01-31").json()
    assert empty["total"]["invitations"] == 0
    assert empty["total"]["response_rate"] is None


def test_nps_report(desk: Any, csat: Any) -> None:
    csat.is_default = False
    csat.save()
    SurveyTemplate.objects.update_or_create(
        name="NPS", defaults={"scale": "nps", "is_default": True}
    )
    for score in (10, 9, 8, 6, 0):
        answered(desk, score)
    nps = client_for(desk.admin).get("/api/reports/csat/").json()["total"]["nps"]
    assert nps == {"responses": 5, "promoters": 2, "passives": 1, "detractors": 2, "score": 0.0}
