"""The complaint screens over Django's test client: who sees what, the intake form (by field
refusals, one complaint per form token, no JavaScript needed), the actions as forms (a
refusal changes nothing), the list's filters, the process chart, both languages."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.test import Client
from django.utils import translation

from complaints.models import Complaint, ComplaintNote
from tests.factories.complaints import build_complaints_desk, open_complaint

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english_afterwards() -> Any:
    yield
    translation.deactivate()


def logged_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def token_of(html: str, form_id: str | None = None) -> str:
    if form_id is not None:
        html = html[html.index(f'id="{form_id}"') :]
    match = re.search(r'name="form_token" value="([^"]+)"', html)
    assert match is not None
    return match.group(1)


def intake(client: Client, desk: Any, **fields: Any) -> Any:
    page = client.get("/complaints/new/")
    data = {
        "form_token": token_of(page.content.decode()),
        "contact_id": str(desk.contact.pk),
        "channel": "phone",
        "category": "billing",
        "subcategory": "billing-wrong",
        "impact": "medium",
        "urgency": "medium",
        "title": "Charged twice",
        "description": "Two charges for order 8812.",
        "profile": "standard",
    }
    data.update(fields)
    return client.post("/complaints/new/", data), data


def test_intake_records_one_complaint_per_form_even_when_sent_twice() -> None:
    desk = build_complaints_desk()
    client = logged_in(desk.supervisor)
    response, data = intake(client, desk)
    complaint = Complaint.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/complaints/{complaint.pk}/"
    assert (complaint.channel, complaint.severity, complaint.contact_id) == (
        "phone",
        "S3",
        desk.contact.pk,
    )
    again = client.post("/complaints/new/", data)
    assert again.status_code == 302 and again["Location"] == f"/complaints/{complaint.pk}/"
    assert Complaint.objects.count() == 1


def test_intake_without_javascript_finds_the_contact_by_email() -> None:
    desk = build_complaints_desk()
    client = logged_in(desk.supervisor)
    response, _ = intake(client, desk, contact_id="", contact_lookup="WANG.FANG@example.com")
    assert response.status_code == 302
    assert Complaint.objects.get().contact_id == desk.contact.pk


def test_intake_refusals_are_shown_by_field_and_create_nothing() -> None:
    desk = build_complaints_desk()
    client = logged_in(desk.supervisor)
    response, _ = intake(client, desk, title="", category="nonsense")
    html = response.content.decode()
    assert response.status_code == 400
    assert re.search(r'id="title-problem"\s*>This field may not be blank', html)
    assert re.search(r'id="category-problem"\s*>Unknown category', html)
    response, data = intake(client, desk, severity="S1")
    assert response.status_code == 400
    assert "A reason is required to override the severity." in response.content.decode()
    assert not Complaint.objects.exists()
    # the corrected form is sent with the same token
    data["severity_reason"] = "Vulnerable customer"
    assert client.post("/complaints/new/", data).status_code == 302
    complaint = Complaint.objects.get()
    assert (complaint.severity, complaint.derived_severity) == ("S1", "S3")


def test_the_context_shows_history_and_the_repeat_flag() -> None:
    desk = build_complaints_desk()
    earlier = open_complaint(desk)
    client = logged_in(desk.supervisor)
    answer = client.get(
        f"/complaints/new/context/?contact={desk.contact.pk}&category=billing&profile=standard"
    ).json()
    assert [c["number"] for c in answer["complaints"]] == [earlier.number]
    assert answer["repeat"]["number"] == earlier.number
    other = client.get(f"/complaints/new/context/?contact={desk.contact.pk}&category=privacy")
    assert other.json()["repeat"] is None
    assert logged_in(desk.outsider).get(
        f"/complaints/new/context/?contact={desk.contact.pk}"
    ).status_code in (404,)


def test_the_page_is_404_for_an_agent_of_another_team_and_shows_the_clocks() -> None:
    desk = build_complaints_desk()
    complaint = open_complaint(desk)
    assert logged_in(desk.outsider).get(f"/complaints/{complaint.pk}/").status_code == 404
    assert logged_in(desk.outsider).get(f"/complaints/{complaint.pk}/process/").status_code == 404
    page = logged_in(desk.handler1).get(f"/complaints/{complaint.pk}/")
    html = page.content.decode()
    assert page.status_code == 200
    for target in ("acknowledge", "first_contact", "final_answer"):
        assert f'data-target="{target}"' in html
    assert 'id="form-acknowledge"' in html or 'id="form-take"' in html
    chart = logged_in(desk.handler1).get(f"/complaints/{complaint.pk}/process/")
    assert chart.status_code == 200 and b"<svg" in chart.content
    assert b'data-key="acknowledge:breach"' in chart.content


def test_actions_go_through_the_services_and_a_refusal_changes_nothing() -> None:
    desk = build_complaints_desk()
    complaint = open_complaint(desk)
    handler = desk.handler1 if complaint.assignee_id == desk.handler1.pk else desk.handler2
    client = logged_in(handler)
    html = client.get(f"/complaints/{complaint.pk}/").content.decode()
    # proposing before acknowledging is not offered; forced, it is refused with 409
    assert 'id="form-propose"' not in html
    refused = client.post(
        f"/complaints/{complaint.pk}/act/",
        {
            "action": "propose",
            "form_token": token_of(html, "form-note").replace("note", "propose"),
            "outcome": "upheld",
            "resolution": "x",
            "root_cause": "policy",
        },
    )
    assert refused.status_code == 400  # a token of another form is not this form's
    ack = client.post(
        f"/complaints/{complaint.pk}/act/",
        {"action": "acknowledge", "form_token": token_of(html, "form-acknowledge")},
    )
    assert ack.status_code == 302
    html = client.get(f"/complaints/{complaint.pk}/").content.decode()
    note_token = token_of(html, "form-note")
    for _ in range(2):
        client.post(
            f"/complaints/{complaint.pk}/act/",
            {"action": "note", "form_token": note_token, "body": "Once"},
        )
    assert ComplaintNote.objects.filter(body="Once").count() == 1
    bad = client.post(
        f"/complaints/{complaint.pk}/act/",
        {
            "action": "propose",
            "form_token": token_of(html, "form-propose"),
            "outcome": "upheld",
            "resolution": "We refund.",
            "root_cause": "nonsense",
            "compensation_amount": "500",
            "compensation_kind": "refund",
        },
    )
    assert bad.status_code == 400
    assert "Unknown root cause." in bad.content.decode()
    assert 'value="We refund."' not in bad.content.decode()  # a textarea keeps it instead
    assert "We refund.</textarea>" in bad.content.decode()
    assert not complaint.proposals.exists()


def test_the_list_filters_and_searches() -> None:
    desk = build_complaints_desk()
    first = open_complaint(desk, title="Wrong bill")
    second = open_complaint(
        desk, title="Rude agent", category="service", subcategory="", impact="high", urgency="high"
    )
    client = logged_in(desk.supervisor)

    def numbers(query: str) -> set[str]:
        html = client.get(f"/complaints/?{query}").content.decode()
        return set(re.findall(r"C-\d{4}-\d{6}", html))

    assert numbers("") == {first.number, second.number}
    assert numbers("severity=S1") == {second.number}
    assert numbers("category=billing") == {first.number}
    assert numbers(f"search={second.number}") == {second.number}
    assert numbers("search=bill") == {first.number}
    assert numbers("status=closed") == set()
    assert numbers("overdue=1") == set()
    assert client.get("/complaints/?status=lost").status_code == 400
    assert logged_in(desk.outsider).get("/complaints/").content.decode().count("C-") == 0


def test_pages_in_chinese() -> None:
    desk = build_complaints_desk()
    complaint = open_complaint(desk)
    client = logged_in(desk.supervisor)
    client.cookies["django_language"] = "zh-hans"
    for url in (
        "/complaints/",
        "/complaints/new/",
        f"/complaints/{complaint.pk}/",
        f"/complaints/{complaint.pk}/process/",
    ):
        response = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans")
        assert response.status_code == 200, url
        assert "投诉" in response.content.decode(), url
    data = json.loads(
        client.get(f"/complaints/new/context/?contact={desk.contact.pk}").content.decode()
    )
    assert data["complaints"][0]["status_label"] != "Received"


def test_a_contact_the_agent_may_not_see_is_refused_and_not_shown() -> None:
    desk = build_complaints_desk()
    client = logged_in(desk.outsider)
    response, _ = intake(client, desk)
    html = response.content.decode()
    assert response.status_code == 400
    assert re.search(r'id="contact-problem"\s*>Unknown contact', html)
    assert "wang.fang@example.com" not in html
    assert not Complaint.objects.exists()


@pytest.mark.postgres  # two writers at once: SQLite would serialise them in one test process
@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_sends_of_one_form_record_one_complaint() -> None:
    """The second request waits on the first's lock on the token, then answers with its
    complaint (two threads, two database connections)."""
    import threading

    from django.db import connection

    desk = build_complaints_desk()
    first = logged_in(desk.supervisor)
    page = first.get("/complaints/new/")
    data = {
        "form_token": token_of(page.content.decode()),
        "contact_id": str(desk.contact.pk),
        "category": "billing",
        "impact": "medium",
        "urgency": "medium",
        "title": "Sent twice at once",
        "description": "Two tabs, one form.",
    }
    barrier = threading.Barrier(2)
    answers: list[Any] = []

    def send() -> None:
        client = logged_in(desk.supervisor)
        barrier.wait()
        try:
            answers.append(client.post("/complaints/new/", data))
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    complaint = Complaint.objects.get(title="Sent twice at once")
    assert [a.status_code for a in answers] == [302, 302]
    assert {a["Location"] for a in answers} == {f"/complaints/{complaint.pk}/"}


def test_the_list_pages_keep_the_filters(monkeypatch: pytest.MonkeyPatch) -> None:
    from web import views_complaints

    monkeypatch.setattr(views_complaints, "PAGE_SIZE", 1)
    desk = build_complaints_desk()
    older = open_complaint(desk, title="Older")
    newer = open_complaint(desk, title="Newer", category="privacy", subcategory="")
    client = logged_in(desk.supervisor)
    html = client.get("/complaints/?severity=S3").content.decode()
    assert newer.number in html and older.number not in html
    following = re.search(r'href="([^"]+)" rel="next"', html)
    assert following is not None and "severity=S3" in following.group(1)
    html = client.get(following.group(1).replace("&amp;", "&")).content.decode()
    assert older.number in html and newer.number not in html
    assert 'rel="prev"' in html and 'rel="next"' not in html
