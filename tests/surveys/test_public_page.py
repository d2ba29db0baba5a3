"""The public page /s/<token>/: GET records nothing, POST records and updates, 404 / 410,
validation, CSRF, throttling, and no customer data beyond the ticket number and subject."""

# ruff: noqa: RUF001

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from surveys.models import Invitation, SurveyResponse, SurveyTemplate
from tests.factories import open_ticket
from tickets import services as tickets


def invite(desk: Any) -> tuple[Invitation, str]:
    ticket = open_ticket(desk, description="Secret: the customer's VPN password is hunter2")
    tickets.close_ticket(ticket_id=ticket.pk, actor=desk.supervisor)
    invitation = Invitation.objects.get(ticket=ticket)
    assert invitation.message is not None
    token = invitation.message.body_text.split("/s/")[1].split("/")[0]
    return invitation, token


@pytest.fixture
def browser() -> Client:
    return Client(enforce_csrf_checks=True)


def csrf_post(browser: Client, url: str, data: dict[str, Any]) -> Any:
    page = browser.get(url)
    token = page.cookies["csrftoken"].value
    return browser.post(url, {**data, "csrfmiddlewaretoken": token})


def test_get_shows_the_form_with_the_score_preselected_and_records_nothing(
    desk: Any, browser: Client
) -> None:
    invitation, token = invite(desk)
    before = Invitation.objects.filter(pk=invitation.pk).values().get()

    page = browser.get(f"/s/{token}/?score=4")

    assert page.status_code == 200
    html = page.content.decode()
    assert 'value="4" checked' in html
    assert html.count(" checked") == 1
    assert invitation.subject_number in html and invitation.subject_title in html
    # nothing about the customer beyond number and subject
    for secret in ("li.lei@example.com", desk.customer.name, "hunter2", desk.contact.name):
        assert secret not in html
    assert page["Cache-Control"] == "no-store"
    assert page["Referrer-Policy"] == "same-origin"
    assert not SurveyResponse.objects.exists()
    assert Invitation.objects.filter(pk=invitation.pk).values().get() == before


def test_head_and_scanner_fetches_of_every_link_record_nothing(desk: Any) -> None:
    _invitation, token = invite(desk)
    scanner = Client()
    for score in range(1, 6):
        assert scanner.get(f"/s/{token}/?score={score}").status_code == 200
    assert scanner.head(f"/s/{token}/").status_code == 200
    assert not SurveyResponse.objects.exists()


def test_post_records_and_a_second_post_updates(desk: Any, browser: Client) -> None:
    invitation, token = invite(desk)
    url = f"/s/{token}/"

    first = csrf_post(browser, url, {"score": "2", "comment": "Took a while"})
    assert first.status_code == 303
    assert first["Location"] == f"/s/{token}/?saved=1"
    response = SurveyResponse.objects.get()
    assert (response.score, response.comment) == (2, "Took a while")
    thanks = browser.get(first["Location"])
    assert "Thank you! Your answer is saved." in thanks.content.decode()
    assert 'value="2" checked' in thanks.content.decode()

    again = csrf_post(browser, url, {"score": "5", "comment": ""})
    assert again.status_code == 303
    assert SurveyResponse.objects.count() == 1
    response.refresh_from_db()
    assert (response.score, response.comment) == (5, "")
    invitation.refresh_from_db()
    assert invitation.remind_at is None


def test_post_without_csrf_token_is_refused(desk: Any, browser: Client) -> None:
    _, token = invite(desk)
    refused = browser.post(f"/s/{token}/", {"score": "5"})
    assert refused.status_code == 403
    assert not SurveyResponse.objects.exists()


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"score": "9"}, "score", "Choose a score from 1 to 5."),
        ({"score": "abc"}, "score", "Choose a score from 1 to 5."),
        ({"comment": "no score"}, "score", "Please choose a score."),
        ({"score": "3", "comment": "x" * 4001}, "comment", "At most 4000 characters."),
    ],
)
def test_invalid_answers_are_400_with_a_message_and_change_nothing(
    desk: Any, browser: Client, data: dict[str, str], field: str, message: str
) -> None:
    _, token = invite(desk)
    refused = csrf_post(browser, f"/s/{token}/", data)
    assert refused.status_code == 400
    assert message in refused.content.decode()
    assert not SurveyResponse.objects.exists()


def test_designed_questions_are_shown_checked_and_saved(desk: Any, csat: Any) -> None:
    csat.questions = [
        {
            "id": "channel",
            "type": "single",
            "required": True,
            "text": {"en": "How did you reach us?", "zh-hans": "您如何联系我们？"},
            "options": [
                {"value": "phone", "text": {"en": "Phone", "zh-hans": "电话"}},
                {"value": "email", "text": {"en": "Email", "zh-hans": "邮件"}},
            ],
        },
        {
            "id": "liked",
            "type": "multiple",
            "text": {"en": "What went well?", "zh-hans": "哪些方面做得好？"},
            "options": [
                {"value": "speed", "text": {"en": "Speed", "zh-hans": "速度"}},
                {"value": "tone", "text": {"en": "Tone", "zh-hans": "态度"}},
            ],
        },
        {"id": "idea", "type": "text", "text": {"en": "Ideas?", "zh-hans": "建议？"}},
    ]
    csat.full_clean()
    csat.save()
    _, token = invite(desk)
    browser = Client(enforce_csrf_checks=True)
    page = browser.get(f"/s/{token}/")
    assert "How did you reach us?" in page.content.decode()

    missing = csrf_post(browser, f"/s/{token}/", {"score": "4"})
    assert missing.status_code == 400
    assert "This question needs an answer." in missing.content.decode()
    wrong = csrf_post(browser, f"/s/{token}/", {"score": "4", "channel": "fax"})
    assert wrong.status_code == 400
    assert not SurveyResponse.objects.exists()

    ok = csrf_post(
        browser,
        f"/s/{token}/",
        {"score": "4", "channel": "email", "liked": ["tone", "speed"], "idea": " More docs "},
    )
    assert ok.status_code == 303
    assert SurveyResponse.objects.get().answers == {
        "channel": "email",
        "liked": ["speed", "tone"],
        "idea": "More docs",
    }


def test_unknown_token_is_a_friendly_bilingual_404(desk: Any) -> None:
    page = Client().get("/s/" + "A" * 43 + "/")
    assert page.status_code == 404
    html = page.content.decode()
    assert "We could not find this survey" in html
    assert "未找到此调查" in html


def test_expired_link_is_410_for_get_and_post(desk: Any, browser: Client) -> None:
    invitation, token = invite(desk)
    page = browser.get(f"/s/{token}/")
    csrf = page.cookies["csrftoken"].value
    Invitation.objects.filter(pk=invitation.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )

    gone = browser.get(f"/s/{token}/?score=5")
    assert gone.status_code == 410
    assert "This survey has closed" in gone.content.decode()
    assert "此调查已结束" in gone.content.decode()
    posted = browser.post(f"/s/{token}/", {"score": "5", "csrfmiddlewaretoken": csrf})
    assert posted.status_code == 410
    assert not SurveyResponse.objects.exists()


def test_the_page_speaks_the_invitations_language(desk: Any) -> None:
    desk.contact.language = "zh-hans"
    desk.contact.save(update_fields=["language"])
    _, token = invite(desk)
    html = Client().get(f"/s/{token}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "您对我们处理您请求的方式满意吗？" in html
    assert 'lang="zh-hans"' in html


def test_nps_links_take_zero_to_ten(desk: Any, csat: Any) -> None:
    csat.is_default = False
    csat.save()
    SurveyTemplate.objects.update_or_create(
        name="NPS", defaults={"scale": "nps", "is_default": True}
    )
    invitation, token = invite(desk)
    assert invitation.message is not None
    assert invitation.message.body_text.count("?score=") == 11
    html = Client().get(f"/s/{token}/?score=0").content.decode()
    assert 'value="0" checked' in html


def test_public_pages_are_throttled_per_address(desk: Any, settings: Any) -> None:
    settings.KEFU_SURVEY_THROTTLE = "5/min"
    _, token = invite(desk)
    client = Client(REMOTE_ADDR="203.0.113.7")
    codes = [client.get(f"/s/{token}/").status_code for _ in range(5)]
    limited = client.get(f"/s/{token}/")
    assert codes == [200] * 5
    assert limited.status_code == 429
    assert int(limited["Retry-After"]) >= 1
    assert "Too many requests" in limited.content.decode()
    # guessing tokens counts too, and another address is not affected
    assert client.get("/s/" + "B" * 43 + "/").status_code == 429
    assert Client(REMOTE_ADDR="203.0.113.8").get(f"/s/{token}/").status_code == 200


def test_every_answer_of_the_page_keeps_the_token_out_of_other_sites_referers(
    desk: Any, browser: Client, settings: Any
) -> None:
    """``same-origin``, not ``no-referrer``: under ``no-referrer`` Chromium sends
    ``Origin: null`` with the form's POST and Django's CSRF check refuses every answer
    (issue 13); ``same-origin`` still sends no Referer to any other site."""
    invitation, token = invite(desk)
    url = f"/s/{token}/"
    form = browser.get(f"{url}?score=4")
    saved = csrf_post(browser, url, {"score": "4"})
    invalid = csrf_post(browser, url, {"score": "99"})
    not_found = Client().get("/s/" + "C" * 43 + "/")
    Invitation.objects.filter(pk=invitation.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    expired = browser.get(url)
    settings.KEFU_SURVEY_THROTTLE = "1/min"
    throttled = [Client(REMOTE_ADDR="203.0.113.9").get(url) for _ in range(2)][-1]

    answers = {
        200: form,
        303: saved,
        400: invalid,
        404: not_found,
        410: expired,
        429: throttled,
    }
    for status, answer in answers.items():
        assert answer.status_code == status
        assert answer["Referrer-Policy"] == "same-origin", status
        assert answer["Cache-Control"] == "no-store", status
    for status in (200, 400, 404, 410, 429):
        html = answers[status].content.decode()
        # the page's own policy says the same (a meta policy would override the header)
        assert '<meta name="referrer" content="same-origin">' in html, status
        assert "no-referrer" not in html, status


def test_the_form_posts_as_plain_html_and_loads_the_double_submit_guard(
    desk: Any, browser: Client
) -> None:
    _, token = invite(desk)
    html = browser.get(f"/s/{token}/").content.decode()
    assert '<form method="post" action="" id="survey-form">' in html
    assert '<button type="submit">' in html
    assert '<script src="/static/surveys/survey.js" defer></script>' in html
    assert "<script>" not in html  # no inline script: the site's CSP allows 'self' only
