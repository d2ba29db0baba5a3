"""The tickets screen (``/tickets/``) over Django's test client, and its saved views: the
service (validation, privacy, the limit) and ``/api/saved-views/``."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.utils import translation

from core.errors import InvalidInput, NotFound
from tests.conftest import client_for
from tests.factories import CategoryFactory, ContactFactory, CustomerFactory, open_ticket
from tests.factories import update_ticket as update
from web import services
from web.models import SavedView

pytestmark = pytest.mark.django_db


# factory_boy factories are untyped: what they build, as Any
def make_contact(**fields: Any) -> Any:
    return ContactFactory(**fields)


def make_customer(**fields: Any) -> Any:
    return CustomerFactory(**fields)


def make_category(**fields: Any) -> Any:
    return CategoryFactory(**fields)


@pytest.fixture(autouse=True)
def _english_afterwards() -> Any:
    yield
    translation.deactivate()


def logged_in(user: Any, language: str = "en") -> Client:
    client = Client(headers={"accept-language": language})
    client.force_login(user)
    return client


def listed(response: Any) -> list[int]:
    """The ticket ids of the page's rows, in order."""
    return [int(i) for i in re.findall(r'<tr data-id="(\d+)"', response.content.decode())]


# --- the screen ----------------------------------------------------------------------------
def test_the_screen_needs_a_login_and_is_in_the_top_navigation(desk: Any) -> None:
    response = Client().get("/tickets/")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/tickets/"

    queue = logged_in(desk.agent1).get("/queue/").content.decode()
    assert '<a href="/tickets/" >Tickets</a>' in queue
    page = logged_in(desk.agent1).get("/tickets/").content.decode()
    assert '<a href="/tickets/" aria-current="page">Tickets</a>' in page


def test_the_screen_lists_what_the_reader_may_see_newest_first(desk: Any) -> None:
    ours = open_ticket(desk, subject="Ours")
    theirs = open_ticket(desk, subject="Theirs")
    update(theirs.pk, team_id=desk.other_team.pk, assignee_id=desk.outsider.pk)
    newest = open_ticket(desk, subject="Newest")

    assert listed(logged_in(desk.agent1).get("/tickets/")) == [newest.pk, ours.pk]
    assert listed(logged_in(desk.outsider).get("/tickets/")) == [theirs.pk]
    assert listed(logged_in(desk.supervisor).get("/tickets/")) == [newest.pk, theirs.pk, ours.pk]


def test_filters_come_from_the_url_and_show_in_the_form(desk: Any) -> None:
    make_category(code="network", name="Network")
    vpn = open_ticket(desk, subject="VPN 断线", priority="P1", category_code="network")
    open_ticket(desk, subject="Printer")
    client = logged_in(desk.supervisor)

    response = client.get("/tickets/?search=断线&priority=P1&status=new&status=open")

    assert response.status_code == 200
    assert listed(response) == [vpn.pk]
    html = response.content.decode()
    assert 'name="search" value="断线"' in html
    assert '<option value="P1" selected>' in html
    assert 'value="new" checked' in html and 'value="open" checked' in html
    assert listed(client.get("/tickets/?category=network")) == [vpn.pk]
    assert listed(client.get("/tickets/?assignee=none&priority=P4")) == []


def test_a_row_links_its_customer_as_a_filter_and_the_chip_removes_it(desk: Any) -> None:
    acme = make_customer(name="Acme 贸易")
    theirs = open_ticket(desk, contact_id=make_contact(customer=acme).pk, subject="Acme's")
    open_ticket(desk, subject="Someone else's")
    client = logged_in(desk.supervisor)

    html = client.get("/tickets/?priority=P2").content.decode()
    assert f'href="/tickets/?priority=P2&amp;customer={acme.pk}"' in html

    response = client.get(f"/tickets/?priority=P2&customer={acme.pk}")
    assert listed(response) == [theirs.pk]
    chip = response.content.decode()
    assert "<strong>Acme 贸易</strong>" in chip
    assert 'href="/tickets/?priority=P2" aria-label="Remove the customer filter Acme 贸易"' in chip


def test_the_customer_chip_does_not_name_a_customer_the_reader_may_not_see(desk: Any) -> None:
    hidden = make_customer(name="Secret Corp")
    ticket = open_ticket(desk, contact_id=make_contact(customer=hidden).pk)
    update(ticket.pk, team_id=desk.other_team.pk, assignee_id=desk.outsider.pk)

    response = logged_in(desk.agent1).get(f"/tickets/?customer={hidden.pk}")

    assert listed(response) == []
    assert "Secret Corp" not in response.content.decode()
    assert f"Customer #{hidden.pk}" in response.content.decode()


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("status=lost", "status"),
        ("priority=P9", "priority"),
        ("team=abc", "team"),
        ("breached=maybe", "breached"),
        ("category=nope", "category"),
        ("search=" + "x" * 201, "search"),
    ],
)
def test_a_filter_that_is_not_one_answers_400_with_the_reason_and_no_rows(
    desk: Any, query: str, field: str
) -> None:
    open_ticket(desk)

    response = logged_in(desk.supervisor).get(f"/tickets/?{query}")

    assert response.status_code == 400
    assert listed(response) == []
    assert f'<li id="error-{field}"><code>{field}</code>: ' in response.content.decode()


def test_a_forged_cursor_answers_400_and_the_first_page(desk: Any) -> None:
    ticket = open_ticket(desk)

    response = logged_in(desk.supervisor).get("/tickets/?cursor=bm9wZQ")

    assert response.status_code == 400
    assert listed(response) == [ticket.pk]
    assert "Invalid cursor." in response.content.decode()


def test_pages_follow_by_cursor_links_that_keep_the_filters(desk: Any, monkeypatch: Any) -> None:
    from web import views_tickets

    monkeypatch.setattr(views_tickets, "PAGE_SIZE", 2)
    tickets = [open_ticket(desk, subject=f"打印机 {n}") for n in range(5)]
    open_ticket(desk, subject="Not a printer")
    client = logged_in(desk.supervisor)
    newest_first = [t.pk for t in reversed(tickets)]

    seen: list[int] = []
    url: str | None = "/tickets/?search=打印机"
    pages = 0
    while url:
        html = client.get(url).content.decode()
        seen += listed(client.get(url))
        pages += 1
        match = re.search(r'<a href="([^"]+)" rel="next"', html)
        url = match.group(1).replace("&amp;", "&") if match else None
        if url:
            assert "search=%E6%89%93%E5%8D%B0%E6%9C%BA" in url and "cursor=" in url
    assert seen == newest_first
    assert pages == 3


def test_the_screen_speaks_chinese(desk: Any) -> None:
    open_ticket(desk)

    html = logged_in(desk.agent1, "zh-hans").get("/tickets/").content.decode()

    assert "<h1>工单</h1>" in html
    assert "保存的视图" in html


# --- saved views: the service ----------------------------------------------------------------
def test_save_view_keeps_the_screens_filters_normalised(desk: Any) -> None:
    view, created = services.save_view(
        user=desk.agent1,
        name="  My   P1  ",
        query={"priority": "P1", "status": "new,open", "search": " 打印机 ", "team": ""},
    )

    assert created is True
    assert view.name == "My P1"
    assert view.query == {"status": "new,open", "priority": "P1", "search": "打印机"}


def test_saving_under_a_taken_name_replaces_that_view(desk: Any) -> None:
    first, _ = services.save_view(user=desk.agent1, name="Mine", query={"assignee": "me"})

    again, created = services.save_view(user=desk.agent1, name="Mine", query={"priority": "P2"})

    assert created is False and again.pk == first.pk
    assert SavedView.objects.get(pk=first.pk).query == {"priority": "P2"}
    assert SavedView.objects.count() == 1


@pytest.mark.parametrize(
    ("name", "query", "field"),
    [
        ("", {}, "name"),
        ("   ", {}, "name"),
        ("x" * 81, {}, "name"),
        (5, {}, "name"),
        ("ok", ["priority"], "query"),
        ("ok", {"cursor": "abc"}, "query"),
        ("ok", {"ordering": "-created"}, "query"),
        ("ok", {"priority": 1}, "query.priority"),
        ("ok", {"priority": "P9"}, "query.priority"),
        ("ok", {"status": "open,lost"}, "query.status"),
        ("ok", {"team": "-1"}, "query.team"),
        ("ok", {"search": "y" * 201}, "query.search"),
    ],
)
def test_save_view_refuses_bad_input_and_changes_nothing(
    desk: Any, name: Any, query: Any, field: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        services.save_view(user=desk.agent1, name=name, query=query)

    assert list(caught.value.errors) == [field]
    assert SavedView.objects.count() == 0


def test_a_user_keeps_at_most_fifty_views(desk: Any) -> None:
    for n in range(services.MAX_VIEWS):
        services.save_view(user=desk.agent1, name=f"view {n}", query={})

    with pytest.raises(InvalidInput) as caught:
        services.save_view(user=desk.agent1, name="one more", query={})

    assert list(caught.value.errors) == ["name"]
    assert SavedView.objects.filter(user=desk.agent1).count() == services.MAX_VIEWS
    services.save_view(user=desk.agent1, name="view 3", query={"priority": "P1"})  # replaces
    services.save_view(user=desk.agent2, name="one more", query={})  # another user's own


def test_views_are_private_to_their_user(desk: Any) -> None:
    mine, _ = services.save_view(user=desk.agent1, name="Mine", query={})
    services.save_view(user=desk.agent2, name="Mine", query={"priority": "P1"})  # same name

    with pytest.raises(NotFound):
        services.delete_view(user=desk.agent2, view_id=mine.pk)
    assert SavedView.objects.filter(pk=mine.pk).exists()

    services.delete_view(user=desk.agent1, view_id=mine.pk)
    assert not SavedView.objects.filter(pk=mine.pk).exists()


# --- saved views: the API and the screen -----------------------------------------------------
def test_saved_views_api_saves_lists_and_deletes(desk: Any) -> None:
    api = client_for(desk.agent1)

    created = api.post(
        "/api/saved-views/",
        {"name": "Breached P1", "query": {"priority": "P1", "breached": "true"}},
        format="json",
    )
    assert created.status_code == 201
    body = created.json()
    assert body["name"] == "Breached P1"
    assert body["query"] == {"priority": "P1", "breached": "true"}
    assert body["url"] == "/tickets/?priority=P1&breached=true"

    replaced = api.post(
        "/api/saved-views/", {"name": "Breached P1", "query": {"priority": "P2"}}, format="json"
    )
    assert replaced.status_code == 200 and replaced.json()["id"] == body["id"]

    listing = api.get("/api/saved-views/").json()
    assert [(v["id"], v["query"]) for v in listing["results"]] == [(body["id"], {"priority": "P2"})]
    assert client_for(desk.agent2).get("/api/saved-views/").json() == {"results": []}

    assert client_for(desk.agent2).delete(f"/api/saved-views/{body['id']}/").status_code == 404
    assert api.delete(f"/api/saved-views/{body['id']}/").status_code == 204
    assert api.delete(f"/api/saved-views/{body['id']}/").status_code == 404
    assert api.delete(f"/api/saved-views/{2**70}/").status_code == 404


def test_saved_views_api_answers_bad_input_with_the_field(desk: Any) -> None:
    api = client_for(desk.agent1)

    response = api.post(
        "/api/saved-views/", {"name": "x", "query": {"status": "lost"}}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["errors"] == {"query.status": ["Unknown: lost."]}
    assert api.post("/api/saved-views/", [1], format="json").status_code == 400
    assert api.post("/api/saved-views/", {"query": {}}, format="json").json()["errors"] == {
        "name": ["This field is required."]
    }
    assert SavedView.objects.count() == 0
    assert Client().get("/api/saved-views/").status_code == 401


def test_the_screen_lists_the_readers_views_and_marks_the_one_shown(desk: Any) -> None:
    mine, _ = services.save_view(user=desk.agent1, name="P1 only", query={"priority": "P1"})
    services.save_view(user=desk.agent2, name="Not mine", query={})

    html = logged_in(desk.agent1).get("/tickets/?priority=P1").content.decode()

    assert f'<li data-id="{mine.pk}"><a href="/tickets/?priority=P1" aria-current="page">' in html
    assert "Not mine" not in html
