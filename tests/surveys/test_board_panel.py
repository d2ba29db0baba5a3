"""The supervisor board shows the last 30 days of survey results per team."""

from __future__ import annotations

from typing import Any

from django.test import Client

from tests.surveys.test_api import answered


def _board(user: Any, language: str = "en") -> str:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user)
    response = client.get("/board/")
    assert response.status_code == 200
    return response.content.decode()


def test_board_shows_csat_nps_and_response_rate_per_team(desk: Any) -> None:
    for score in (5, 4, 2):
        answered(desk, score)
    answered(desk, None)  # sent, unanswered

    html = _board(desk.supervisor)

    panel = html[html.index('id="satisfaction"') :]
    panel = panel[: panel.index("</table>")]
    assert "Customer satisfaction, last 30 days" in panel
    assert '<th scope="row">Support</th><td>4</td><td>3</td>' in panel
    assert "75.0 %" in panel  # response rate 3 of 4
    assert "66.7 %" in panel  # CSAT: 2 of 3 scored 4 or 5


def test_board_says_when_no_survey_was_sent(desk: Any) -> None:
    html = _board(desk.supervisor, "zh-hans")
    assert "最近 30 天的客户满意度" in html
    assert "此期间尚未发送调查。" in html
