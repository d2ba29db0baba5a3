"""The new-ticket page and the ticket page's email thread over Django's test client: who gets
them, what they embed, both languages (the browser tests drive them in Chromium)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.utils import translation

from mail import attachments
from tests.factories import CategoryFactory, UserFactory, open_ticket
from tests.web.test_views import embedded, logged_in

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english_afterwards() -> Any:
    yield
    translation.deactivate()


def test_new_ticket_page_offers_categories_priorities_and_the_phone_channel(desk: Any) -> None:
    CategoryFactory(code="billing", name="Billing questions")

    response = logged_in(desk.agent1).get("/tickets/new/")

    assert response.status_code == 200
    html = response.content.decode()
    assert '<option value="billing">Billing questions</option>' in html
    assert '<option value="P3" selected>P3 - Normal</option>' in html
    assert '<option value="phone" selected>Phone</option>' in html
    assert 'src="/static/web/new_ticket.js"' in html
    config = embedded(response, "kefu-config")
    assert (config["page"], config["search_limit"], config["search_max"]) == ("new_ticket", 20, 100)
    assert config["teams"] == [desk.team.pk]
    assert embedded(response, "intake-strings")["none_found"] == "No contact found."


def test_new_ticket_page_is_in_chinese_when_asked(desk: Any) -> None:
    client = logged_in(desk.agent1)
    client.cookies["django_language"] = "zh-hans"

    response = client.get("/tickets/new/")

    html = response.content.decode()
    assert "新建工单" in html
    assert '<option value="phone" selected>电话</option>' in html
    assert embedded(response, "intake-strings")["none_found"] == "未找到联系人。"


def test_new_ticket_page_is_for_staff(desk: Any) -> None:
    assert Client().get("/tickets/new/")["Location"] == "/login/?next=/tickets/new/"
    assert logged_in(UserFactory(username="integration")).get("/tickets/new/").status_code == 403
    for person in (desk.supervisor, desk.admin):
        assert logged_in(person).get("/tickets/new/").status_code == 200


def test_every_page_links_to_the_new_ticket_screen(desk: Any) -> None:
    html = logged_in(desk.agent1).get("/queue/").content.decode()

    assert '<a href="/tickets/new/" >New ticket</a>' in html


def test_ticket_page_offers_the_quote_button_and_the_ticket_files(
    desk: Any, settings: Any, tmp_path: Path
) -> None:
    settings.MEDIA_ROOT = tmp_path
    ticket = open_ticket(desk, channel="web", description="My screen is blank.\nSince today.")
    form_file = attachments.store(
        subject_kind="ticket", object_id=ticket.pk, name="screen.png", data=b"\x89PNG"
    )

    response = logged_in(desk.agent1).get(f"/tickets/{ticket.pk}/")

    html = response.content.decode()
    assert 'id="reply-quote"' in html
    assert f'href="/api/attachments/{form_file.pk}/" download="screen.png">screen.png</a>' in html
    # a web form's description is the customer's own first message: the quote falls back to it
    assert embedded(response, "ticket-opening-words") == "My screen is blank.\nSince today."
    strings = embedded(response, "kefu-strings")["thread"]
    assert strings["direction"] == {
        "inbound": "From the customer",
        "outbound": "To the customer",
        "internal": "Internal note",
    }


def test_a_phone_tickets_description_is_the_agents_not_a_quote(desk: Any) -> None:
    ticket = open_ticket(desk, channel="phone", description="Caller says the screen is blank.")

    html = logged_in(desk.agent1).get(f"/tickets/{ticket.pk}/").content.decode()

    assert 'id="ticket-opening-words"' not in html


def test_ticket_page_thread_texts_are_in_chinese(desk: Any) -> None:
    ticket = open_ticket(desk)
    client = logged_in(desk.agent1)
    client.cookies["django_language"] = "zh-hans"

    response = client.get(f"/tickets/{ticket.pk}/")

    strings = embedded(response, "kefu-strings")["thread"]
    assert strings["direction"]["inbound"] == "来自客户"
    assert strings["delivery"] == {"queued": "排队中", "sent": "已发送", "failed": "未送达"}
    assert "引用客户最近一条消息" in response.content.decode()
