"""The browser screens over Django's test client: login and its throttle, who sees which
page, and both languages."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from django.utils import translation

from tests.factories import open_ticket

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english_afterwards() -> Any:
    yield
    translation.deactivate()


def logged_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def embedded(response: Any, element_id: str) -> Any:
    html = response.content.decode()
    start = html.index(f'<script id="{element_id}" type="application/json">') + len(
        f'<script id="{element_id}" type="application/json">'
    )
    return json.loads(html[start : html.index("</script>", start)])


# --- login ------------------------------------------------------------------------
def test_home_sends_anonymous_visitors_to_the_login_page() -> None:
    response = Client().get("/")

    assert response.status_code == 302
    assert response["Location"] == "/login/"


def test_home_sends_agents_to_their_queue_and_supervisors_to_the_board(desk: Any) -> None:
    assert logged_in(desk.agent1).get("/")["Location"] == "/queue/"
    assert logged_in(desk.supervisor).get("/")["Location"] == "/board/"


def test_pages_need_a_login(desk: Any) -> None:
    ticket = open_ticket(desk)
    for path in ("/queue/", "/board/", f"/tickets/{ticket.pk}/"):
        response = Client().get(path)
        assert response.status_code == 302
        assert response["Location"] == f"/login/?next={path}"


def test_login_with_the_right_password_opens_a_session(desk: Any) -> None:
    client = Client()

    response = client.post("/login/", {"username": "agent1", "password": "pw"})

    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.get("/queue/").status_code == 200


def test_login_with_a_wrong_password_says_so(desk: Any) -> None:
    response = Client().post("/login/", {"username": "agent1", "password": "nope"})

    assert response.status_code == 200
    assert b"Please enter a correct" in response.content
    assert "_auth_user_id" not in Client().session


def test_login_after_five_failures_is_refused_even_with_the_right_password(
    desk: Any,
) -> None:
    """KEFU_LOGIN_ACCOUNT_FAILURES (5) locks the account; tests/security has the rest."""
    client = Client()
    for _ in range(4):
        assert client.post("/login/", {"username": "agent1", "password": "x"}).status_code == 200
    assert client.post("/login/", {"username": "agent1", "password": "x"}).status_code == 429

    blocked = client.post("/login/", {"username": "agent1", "password": "pw"})

    assert blocked.status_code == 429
    assert b"Too many failed logins" in blocked.content
    assert client.get("/queue/").status_code == 302  # still logged out


def test_throttle_counts_per_user_name(desk: Any) -> None:
    client = Client()
    for _ in range(10):
        client.post("/login/", {"username": "agent1", "password": "x"})

    other = client.post("/login/", {"username": "agent2", "password": "pw"})

    assert other.status_code == 302


def test_throttled_login_is_in_chinese_when_asked(desk: Any) -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    for _ in range(10):
        client.post("/login/", {"username": "agent1", "password": "x"})

    blocked = client.post("/login/", {"username": "agent1", "password": "x"})

    assert blocked.status_code == 429
    assert "登录失败次数过多" in blocked.content.decode()


def test_logout_ends_the_session(desk: Any) -> None:
    client = logged_in(desk.agent1)

    response = client.post("/logout/")

    assert response.status_code == 302
    assert client.get("/queue/").status_code == 302


def test_language_switch_sets_the_language_cookie(desk: Any) -> None:
    client = logged_in(desk.agent1)

    response = client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/queue/"})

    assert response.status_code == 302
    assert response["Location"] == "/queue/"
    assert "我的队列" in client.get("/queue/").content.decode()


# --- the queue --------------------------------------------------------------------
def test_queue_embeds_my_rows_most_urgent_first(desk: Any) -> None:
    first = open_ticket(desk, subject="First")
    second = open_ticket(desk, subject="Second")
    me = first.assignee

    response = logged_in(me).get("/queue/")

    assert response.status_code == 200
    config = embedded(response, "kefu-config")
    assert config["page"] == "queue"
    assert config["me"] == me.pk
    assert config["teams"] == [desk.team.pk]
    mine = [t for t in (first, second) if t.assignee_id == me.pk]
    assert [r["object_id"] for r in config["rows"]] == [t.pk for t in mine]
    assert config["directory"]["teams"] == {str(desk.team.pk): "Support"}
    assert config["directory"]["users"][str(me.pk)] == me.username
    strings = embedded(response, "kefu-strings")
    assert strings["priority"]["P1"] == "P1 - Urgent"


def test_queue_renders_in_chinese(desk: Any) -> None:
    response = logged_in(desk.agent1).get("/queue/", HTTP_ACCEPT_LANGUAGE="zh-hans")

    html = response.content.decode()
    assert response["Content-Language"] == "zh-hans"
    assert "我的队列" in html
    assert '<html lang="zh-hans">' in html
    assert embedded(response, "kefu-strings")["priority"]["P1"] == "P1 - 紧急"


def test_queue_renders_in_english(desk: Any) -> None:
    html = logged_in(desk.agent1).get("/queue/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "My queue" in html
    assert "Keyboard shortcuts" in html


# --- the ticket page ----------------------------------------------------------------
def test_ticket_page_shows_the_ticket_its_customer_and_its_process(desk: Any) -> None:
    ticket = open_ticket(desk)

    response = logged_in(ticket.assignee).get(f"/tickets/{ticket.pk}/")

    html = response.content.decode()
    assert response.status_code == 200
    assert ticket.number in html
    assert "Printer on fire" in html
    assert "li.lei@example.com" in html
    assert "Gold" in html
    assert "Work the ticket" in html  # the open human task of the flow
    config = embedded(response, "kefu-config")
    assert config["ticket"] == ticket.pk
    assert config["customer"] == desk.customer.pk


def test_ticket_page_names_everyone_and_everything_its_history_refers_to(desk: Any) -> None:
    # given a ticket the administrator opened: routed to a team with a policy, then assigned
    ticket = open_ticket(desk)
    agent = ticket.assignee
    queue_names = embedded(logged_in(agent).get("/queue/"), "kefu-config")["directory"]["users"]
    assert str(desk.admin.pk) not in queue_names  # not in the agent's teams

    # when its assignee opens it
    config = embedded(logged_in(agent).get(f"/tickets/{ticket.pk}/"), "kefu-config")

    # then the history's ids all have names: the creator, the assignee, the team, the policy
    directory = config["directory"]
    assert directory["users"][str(desk.admin.pk)] == "admin"
    assert directory["users"][str(agent.pk)] == agent.username
    assert directory["teams"][str(desk.team.pk)] == "Support"
    assert directory["policies"] == {str(desk.policy.pk): desk.policy.name}


def test_ticket_page_hands_the_script_its_form_and_history_texts_in_chinese(desk: Any) -> None:
    ticket = open_ticket(desk)

    response = logged_in(ticket.assignee).get(
        f"/tickets/{ticket.pk}/", HTTP_ACCEPT_LANGUAGE="zh-hans"
    )

    strings = embedded(response, "kefu-strings")
    assert strings["action_form"]["resolve"]["title"] == "解决工单"
    assert strings["field"]["assignee"] == "处理人"
    assert strings["field"]["resolution_due"] == "解决截止时间"
    assert 'id="action-form"' in response.content.decode()
    assert "取消" in response.content.decode()


def test_ticket_page_of_another_team_is_not_found(desk: Any) -> None:
    ticket = open_ticket(desk)

    response = logged_in(desk.outsider).get(f"/tickets/{ticket.pk}/")

    assert response.status_code == 404


def test_ticket_page_of_a_missing_ticket_is_not_found(desk: Any) -> None:
    assert logged_in(desk.agent1).get("/tickets/999999/").status_code == 404


def test_ticket_page_renders_in_chinese(desk: Any) -> None:
    ticket = open_ticket(desk)

    html = (
        logged_in(desk.supervisor)
        .get(f"/tickets/{ticket.pk}/", HTTP_ACCEPT_LANGUAGE="zh-hans")
        .content.decode()
    )

    assert "对话" in html
    assert "内部备注" in html


# --- the board ----------------------------------------------------------------------
def test_board_is_forbidden_to_agents(desk: Any) -> None:
    assert logged_in(desk.agent1).get("/board/").status_code == 403


def test_board_shows_every_teams_open_work_to_supervisors(desk: Any) -> None:
    ticket = open_ticket(desk)

    response = logged_in(desk.supervisor).get("/board/")

    assert response.status_code == 200
    config = embedded(response, "kefu-config")
    assert config["page"] == "board"
    assert config["supervisor"] is True
    assert [r["object_id"] for r in config["rows"]] == [ticket.pk]
    assert set(config["directory"]["teams"]) == {str(desk.team.pk), str(desk.other_team.pk)}


def test_board_renders_in_both_languages(desk: Any) -> None:
    client = logged_in(desk.admin)

    assert "Supervisor board" in client.get("/board/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "主管看板" in client.get("/board/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()


def test_api_docs_stay_reachable() -> None:
    assert Client().get("/api/docs/").status_code == 200
