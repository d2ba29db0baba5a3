"""Bad input answers 4xx in the API's error shape, never 500 (issue 8, item 6): JSON nested
too deep, null characters, forged cursors, dates at the end of the calendar, deleting what is
still in use, a partial escalation ladder, bodies over the limit, and Django's own errors
(unknown URL, wrong method, CSRF) under /api/."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from org.models import Team
from sla.models import BusinessCalendar
from surveys.models import Invitation, SurveyResponse
from tests.conftest import client_for
from tests.factories import CalendarFactory, SurveyTemplateFactory, TeamFactory, open_ticket
from tickets import services as tickets
from tickets.models import SlaPolicy

pytestmark = pytest.mark.django_db

DEEP = "[" * 10_000 + "]" * 10_000
DEEP_OBJECT = '{"a":' * 10_000 + "1" + "}" * 10_000


def assert_error_shape(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = response.json()
    assert set(body) == {"detail", "errors"}, body
    assert isinstance(body["detail"], str) and body["detail"]
    assert isinstance(body["errors"], dict)
    for field, messages in body["errors"].items():
        assert isinstance(field, str)
        assert isinstance(messages, list) and all(isinstance(m, str) for m in messages)
    return body


def cursor_of(data: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


# --- JSON nested too deep ---------------------------------------------------------------
@pytest.mark.parametrize("body", [DEEP, DEEP_OBJECT], ids=["arrays", "objects"])
def test_deep_json_on_intake_is_400(desk: Any, body: str) -> None:
    response = client_for(desk.agent1).post("/api/tickets/", body, content_type="application/json")
    assert_error_shape(response, 400)


@pytest.mark.parametrize("body", [DEEP, DEEP_OBJECT], ids=["arrays", "objects"])
def test_deep_json_on_the_unauthenticated_login_is_400(desk: Any, body: str) -> None:
    response = APIClient().post("/api/auth/token/", body, content_type="application/json")
    assert_error_shape(response, 400)


def test_json_nested_past_the_limit_but_within_pythons_is_400(desk: Any) -> None:
    """200 levels parse in Python, yet no Kefu input nests that deep."""
    body = {"subject": "s", "description": "d", "priority": "P2", "contact": {"email": "a@b.c"}}
    nested: Any = "x"
    for _ in range(200):
        nested = [nested]
    body["category"] = nested
    response = client_for(desk.agent1).post("/api/tickets/", body, format="json")
    assert "nested" in assert_error_shape(response, 400)["detail"]


@pytest.mark.parametrize("format_", ["multipart", "form"])
def test_deep_json_text_in_a_form_field_is_400(desk: Any, format_: str) -> None:
    """A JSON field (a calendar's hours) may come as text in a form: same bounds."""
    data = {"name": "Deep", "timezone": "UTC", "hours": DEEP}
    client = client_for(desk.admin)
    if format_ == "multipart":
        response = client.post("/api/calendars/", data, format="multipart")
    else:
        response = client.post(
            "/api/calendars/",
            "&".join(f"{k}={v}" for k, v in data.items()),
            content_type="application/x-www-form-urlencoded",
        )
    body = assert_error_shape(response, 400)
    assert "hours" in body["errors"]
    assert not BusinessCalendar.objects.filter(name="Deep").exists()


# --- null characters --------------------------------------------------------------------
def test_null_character_in_a_query_parameter_is_400(desk: Any) -> None:
    open_ticket(desk)
    response = client_for(desk.agent1).get("/api/tickets/", {"q": "print\x00er"})
    body = assert_error_shape(response, 400)
    assert "q" in body["errors"]


def test_null_character_in_a_query_parameter_name_is_400(desk: Any) -> None:
    response = client_for(desk.agent1).get("/api/tickets/?a%00b=1")
    assert_error_shape(response, 400)


def test_null_character_in_a_json_string_is_400(desk: Any) -> None:
    response = client_for(desk.admin).post(
        "/api/calendars/",
        {"name": "Week", "timezone": "UTC", "hours": {"mon\x00": [["09:00", "17:00"]]}},
        format="json",
    )
    assert_error_shape(response, 400)
    assert not BusinessCalendar.objects.filter(name="Week").exists()


def test_null_character_in_a_json_field_value_is_400(desk: Any) -> None:
    ticket = open_ticket(desk)
    response = client_for(desk.agent1).post(
        f"/api/tickets/{ticket.pk}/reply/", {"body": "hi\x00", "internal": True}, format="json"
    )
    body = assert_error_shape(response, 400)
    assert "body" in body["errors"]


def test_null_character_in_json_text_of_a_form_field_is_400(desk: Any) -> None:
    response = client_for(desk.admin).post(
        "/api/calendars/",
        {"name": "Nul", "timezone": "UTC", "hours": "{}", "holidays": '["\\u0000"]'},
        format="multipart",
    )
    body = assert_error_shape(response, 400)
    assert "holidays" in body["errors"]


def test_null_character_in_an_idempotency_key_is_400(desk: Any) -> None:
    response = client_for(desk.agent1).post(
        "/api/tickets/",
        {"subject": "s", "description": "d", "priority": "P2", "contact_id": desk.contact.pk},
        format="json",
        HTTP_IDEMPOTENCY_KEY="a\x00b",
    )
    body = assert_error_shape(response, 400)
    assert "idempotency_key" in body["errors"]


def test_null_character_in_a_path_is_400_and_not_a_server_error(desk: Any) -> None:
    page = Client().get("/s/abc%00def/")
    assert page.status_code in (400, 404)


def invite(desk: Any) -> tuple[Invitation, str]:
    SurveyTemplateFactory(name="CSAT", scale="csat", is_default=True)
    ticket = open_ticket(desk)
    tickets.close_ticket(ticket_id=ticket.pk, actor=desk.supervisor)
    invitation = Invitation.objects.get(ticket=ticket)
    assert invitation.message is not None
    token = invitation.message.body_text.split("/s/")[1].split("/")[0]
    return invitation, token


def test_null_character_in_a_survey_comment_is_a_400_page(desk: Any) -> None:
    _invitation, token = invite(desk)
    page = Client().post(f"/s/{token}/", {"score": "4", "comment": "fine\x00"})
    assert page.status_code == 400
    assert page["Content-Type"].startswith("text/html")
    assert not SurveyResponse.objects.exists()


# --- cursors ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "cursor",
    [
        cursor_of({"v": "not a date", "i": 1}),
        cursor_of({"v": 12, "i": 1}),
        cursor_of({"v": [1, 2], "i": 1}),
        cursor_of({"v": {"dt": "2026-01-01T00:00:00+00:00"}, "i": 10**30}),
        cursor_of({"v": {"dt": "2026-01-01T00:00:00"}, "i": 1}),
        cursor_of({"v": {"dt": "2026-01-01T00:00:00+00:00"}, "i": 1, "b": "yes"}),
        cursor_of({"v": "a\x00b", "i": 1}),
        cursor_of([1, 2]),
        cursor_of("text"),
        "***",
        "\u00e9t\u00e9",
    ],
)
@pytest.mark.parametrize(
    "url", ["/api/tickets/", "/api/queue/", "/api/notifications/", "/api/surveys/responses/"]
)
def test_a_cursor_of_the_wrong_type_is_400(desk: Any, url: str, cursor: str) -> None:
    open_ticket(desk)
    response = client_for(desk.supervisor).get(url, {"cursor": cursor})
    body = assert_error_shape(response, 400)
    assert "cursor" in body["errors"]


def test_a_cursor_of_the_wrong_type_for_the_ordering_is_400(desk: Any) -> None:
    open_ticket(desk)
    client = client_for(desk.agent1)
    by_created = cursor_of({"v": {"dt": "2026-01-01T00:00:00+00:00"}, "i": 1})
    response = client.get("/api/tickets/", {"ordering": "priority", "cursor": by_created})
    assert_error_shape(response, 400)


def test_real_cursors_still_page(desk: Any) -> None:
    for _ in range(3):
        open_ticket(desk)
    client = client_for(desk.agent1)
    ids = []
    url: str | None = "/api/tickets/?ordering=priority"
    while url:
        with_limit = client.get(url)
        assert with_limit.status_code == 200
        ids += [t["id"] for t in with_limit.json()["results"]]
        url = with_limit.json()["next"]
    assert len(ids) == len(set(ids)) == 3


def test_an_id_past_bigint_in_an_action_url_is_404(desk: Any) -> None:
    """Found by the schema fuzz: an Idempotency-Key row was written with the URL's id."""
    response = client_for(desk.agent1).post(
        f"/api/tickets/{2**64}/claim/", format="json", HTTP_IDEMPOTENCY_KEY="k-1"
    )
    assert_error_shape(response, 404)


# --- dates at the ends of the calendar ----------------------------------------------------
@pytest.mark.parametrize(
    "params",
    [
        {"until": "9999-12-31"},
        {"until": "9999-12-31T23:59:59-05:00"},
        {"since": "0001-01-01T00:00:00+14:00"},
        {"until": "2026-13-01"},
    ],
)
@pytest.mark.parametrize("url", ["/api/surveys/responses/", "/api/reports/csat/"])
def test_dates_out_of_range_are_400(desk: Any, url: str, params: dict[str, str]) -> None:
    response = client_for(desk.supervisor).get(url, params)
    body = assert_error_shape(response, 400)
    assert set(body["errors"]) & {"since", "until"}


def test_the_first_day_east_of_utc_is_400(desk: Any) -> None:
    response = client_for(desk.supervisor).get(
        "/api/reports/csat/", {"since": "0001-01-01", "tz": "Asia/Shanghai"}
    )
    assert_error_shape(response, 400)


def test_dates_in_range_still_work(desk: Any) -> None:
    client = client_for(desk.supervisor)
    response = client.get(
        "/api/reports/csat/", {"since": "2000-01-01", "until": "2999-12-31", "group_by": "month"}
    )
    assert response.status_code == 200
    last_day = client.get("/api/surveys/responses/", {"since": "9999-12-31", "tz": "UTC"})
    assert last_day.status_code == 200


# --- deleting what is still in use ---------------------------------------------------------
def test_deleting_a_calendar_a_team_uses_is_409(desk: Any) -> None:
    calendar: Any = CalendarFactory()
    TeamFactory(name="Night", calendar=calendar)
    response = client_for(desk.admin).delete(f"/api/calendars/{calendar.pk}/")
    body = assert_error_shape(response, 409)
    assert body["errors"]["in_use"]
    assert BusinessCalendar.objects.filter(pk=calendar.pk).exists()


def test_deleting_a_calendar_a_policy_uses_is_409(desk: Any) -> None:
    calendar: Any = CalendarFactory()
    SlaPolicy.objects.filter(pk=desk.policy.pk).update(calendar=calendar)
    response = client_for(desk.admin).delete(f"/api/calendars/{calendar.pk}/")
    assert_error_shape(response, 409)


def test_deleting_an_unused_calendar_is_204(desk: Any) -> None:
    calendar: Any = CalendarFactory()
    response = client_for(desk.admin).delete(f"/api/calendars/{calendar.pk}/")
    assert response.status_code == 204
    assert not BusinessCalendar.objects.filter(pk=calendar.pk).exists()


def test_deleting_a_team_with_tickets_is_409(desk: Any) -> None:
    open_ticket(desk)
    response = client_for(desk.admin).delete(f"/api/teams/{desk.team.pk}/")
    body = assert_error_shape(response, 409)
    assert body["errors"]["in_use"]
    assert Team.objects.filter(pk=desk.team.pk).exists()


def test_deleting_a_team_an_escalation_reassigns_to_is_409(desk: Any) -> None:
    spare: Any = TeamFactory(name="Spare")
    SlaPolicy.objects.filter(pk=desk.policy.pk).update(
        escalation=[
            {"at_percent": 100, "target": "resolution", "action": "reassign", "team": spare.pk}
        ]
    )
    response = client_for(desk.admin).delete(f"/api/teams/{spare.pk}/")
    assert_error_shape(response, 409)
    assert Team.objects.filter(pk=spare.pk).exists()


def test_deleting_an_unused_team_is_204(desk: Any) -> None:
    spare: Any = TeamFactory(name="Spare")
    response = client_for(desk.admin).delete(f"/api/teams/{spare.pk}/")
    assert response.status_code == 204


# --- a partial escalation ladder ------------------------------------------------------------
@pytest.mark.parametrize(
    "level",
    [
        {"at_percent": 50},
        {"action": "warn"},
        {"target": "resolution", "action": "reassign"},
        {},
    ],
)
def test_patching_an_incomplete_escalation_level_is_400(desk: Any, level: dict[str, Any]) -> None:
    response = client_for(desk.admin).patch(
        f"/api/sla-policies/{desk.policy.pk}/", {"escalation": [level]}, format="json"
    )
    assert_error_shape(response, 400)


def test_patching_a_whole_escalation_ladder_works(desk: Any) -> None:
    level = {"at_percent": 80, "target": "resolution", "action": "warn"}
    response = client_for(desk.admin).patch(
        f"/api/sla-policies/{desk.policy.pk}/", {"escalation": [level]}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["escalation"] == [{**level, "team": None}]


# --- bodies over the limit -----------------------------------------------------------------
TEN_MB = 10 * 1024 * 1024


def test_a_10_mb_json_body_is_413_json(desk: Any) -> None:
    body = json.dumps({"subject": "x", "description": "y" * TEN_MB, "priority": "P2"})
    response = client_for(desk.agent1).post("/api/tickets/", body, content_type="application/json")
    assert_error_shape(response, 413)


def test_a_10_mb_body_on_the_login_is_413_json(desk: Any) -> None:
    body = json.dumps({"username": "u" * TEN_MB, "password": "p"})
    response = APIClient().post("/api/auth/token/", body, content_type="application/json")
    assert_error_shape(response, 413)


def test_a_10_mb_form_body_is_413_json(desk: Any) -> None:
    response = client_for(desk.agent1).post(
        "/api/tickets/",
        f"subject=x&description={'y' * TEN_MB}",
        content_type="application/x-www-form-urlencoded",
    )
    assert_error_shape(response, 413)


def test_a_json_body_without_a_length_over_the_limit_is_413(desk: Any) -> None:
    """The parser stops reading past the limit even when no Content-Length says so."""
    from project.parsers import KefuJSONParser

    class Stream:
        def __init__(self, data: bytes) -> None:
            self.data = data

        def read(self, size: int = -1) -> bytes:
            out = self.data if size < 0 else self.data[:size]
            self.data = self.data[len(out) :]
            return out

    from rest_framework.exceptions import APIException

    with pytest.raises(APIException) as raised:
        KefuJSONParser().parse(Stream(b'"' + b"y" * TEN_MB + b'"'))  # type: ignore[arg-type]
    assert raised.value.status_code == 413


def test_a_10_mb_survey_answer_is_refused_without_a_server_error(desk: Any) -> None:
    _invitation, token = invite(desk)
    page = Client().post(f"/s/{token}/", {"score": "4", "comment": "y" * TEN_MB})
    assert page.status_code in (400, 413)
    assert not SurveyResponse.objects.exists()


# --- Django's own errors under /api/ --------------------------------------------------------
def test_an_unknown_api_url_is_404_json(desk: Any) -> None:
    assert_error_shape(client_for(desk.agent1).get("/api/no-such-thing/"), 404)
    assert_error_shape(APIClient().get("/api/tickets/abc/"), 404)


def test_a_wrong_method_is_405_json(desk: Any) -> None:
    assert_error_shape(client_for(desk.agent1).delete("/api/tickets/"), 405)
    assert_error_shape(client_for(desk.agent1).put("/api/queue/", {}, format="json"), 405)


def test_a_session_post_without_csrf_is_403_json(desk: Any) -> None:
    browser = APIClient(enforce_csrf_checks=True)
    browser.force_login(desk.agent1)
    response = browser.post("/api/notifications/read-all/")
    assert_error_shape(response, 403)


def test_unauthenticated_is_401_json(desk: Any) -> None:
    assert_error_shape(APIClient().get("/api/tickets/"), 401)


def test_malformed_json_is_400_json(desk: Any) -> None:
    response = client_for(desk.agent1).post(
        "/api/tickets/", "{not json", content_type="application/json"
    )
    assert_error_shape(response, 400)


def test_an_unsupported_media_type_is_415_json(desk: Any) -> None:
    response = client_for(desk.agent1).post(
        "/api/tickets/", "<xml/>", content_type="application/xml"
    )
    assert_error_shape(response, 415)


def test_an_api_server_error_is_json(desk: Any, settings: Any) -> None:
    """Whatever still fails answers the error shape, not Django's HTML page."""
    from project.middleware import ApiErrorsAsJson

    def broken(request: Any) -> Any:
        from django.views.defaults import server_error

        return server_error(request)

    from django.test import RequestFactory

    request = RequestFactory().get("/api/tickets/")
    response: Any = ApiErrorsAsJson(broken)(request)
    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert json.loads(response.content) == {"detail": "A server error occurred.", "errors": {}}
