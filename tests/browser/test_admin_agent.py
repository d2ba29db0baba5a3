"""An administrator adds an agent the way they can: the Django admin (a user, the agent role),
then the teams API. The agent must be on the board and in the reassign menu, and get work as
soon as they are online (issue 13, item 5)."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import pytest

from tests.browser.conftest import STEP_TIMEOUT_MS, VIEWPORT, login

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.redis]

PASSWORD = "Kefu-newcomer-2027"


def expect(locator: Any) -> Any:
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(locator)


@pytest.fixture
def desk(transactional_db: Any) -> Any:
    from django.contrib.auth.models import User

    from tests.factories import build_desk

    desk = build_desk()
    User.objects.create_superuser("root", "root@example.com", "pw")
    return desk


@pytest.fixture
def vip(desk: Any) -> Any:
    """A team nobody is in yet, with its own routing rule: the newcomer's only."""
    from tests.factories import CategoryFactory, RoutingRuleFactory, TeamFactory

    team: Any = TeamFactory(name="VIP")
    RoutingRuleFactory(team=team, category=CategoryFactory(code="vip"))
    return team


def call(server: str, user: Any, method: str, path: str, body: Any = None) -> Any:
    from rest_framework.authtoken.models import Token

    token, _ = Token.objects.get_or_create(user=user)
    request = urllib.request.Request(
        f"{server}{path}",
        data=None if body is None else json.dumps(body).encode(),
        method=method,
        headers={"Authorization": f"Token {token.key}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def admin_page(browser: Any, server: str) -> tuple[Any, Any]:
    """A browser context signed in to the Django admin as the superuser, and its page."""
    context = browser.new_context(base_url=server, viewport=VIEWPORT, locale="en")
    context.set_default_timeout(STEP_TIMEOUT_MS)
    page = context.new_page()
    page.goto("/admin/login/?next=/admin/")
    page.fill("#id_username", "root")
    page.fill("#id_password", "pw")
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/")
    return context, page


def add_agent_in_django_admin(browser: Any, server: str) -> None:
    context, page = admin_page(browser, server)

    page.goto("/admin/auth/user/add/")
    page.fill("#id_username", "newcomer")
    page.fill("#id_password1", PASSWORD)
    page.fill("#id_password2", PASSWORD)
    page.click("input[name=_continue]")
    page.wait_for_url("**/admin/auth/user/*/change/")
    page.fill("#id_first_name", "Xiao")
    page.fill("#id_last_name", "Wang")
    page.select_option("#id_groups_from", label="agent")
    page.click("#id_groups_add")
    expect(page.locator("#id_groups_to option")).to_have_text(["agent"])
    page.click("input[name=_save]")
    page.wait_for_url("**/admin/auth/user/")
    expect(page.locator(".messagelist .success")).to_contain_text("newcomer")
    context.close()


def test_an_agent_added_in_the_admin_then_to_a_team_is_on_the_board_and_gets_work(
    browser: Any, server: str, desk: Any, vip: Any
) -> None:
    from django.contrib.auth.models import User

    add_agent_in_django_admin(browser, server)
    newcomer = User.objects.get(username="newcomer")
    assert list(newcomer.groups.values_list("name", flat=True)) == ["agent"]

    team = call(server, desk.admin, "PATCH", f"/api/teams/{vip.pk}/", {"members": [newcomer.pk]})
    assert team["members"] == [newcomer.pk]

    board = call(server, desk.supervisor, "GET", "/api/board/")
    agents = {agent["username"]: agent for agent in board["agents"]}
    assert agents["newcomer"]["teams"] == [vip.pk]
    assert agents["newcomer"]["name"] == "Xiao Wang"

    # Online the way the app makes anyone online: their queue page's live socket.
    queue = login(browser, server, "newcomer", PASSWORD)
    expect(queue.locator("#connection")).to_have_attribute("data-state", "live")
    supervisor = login(browser, server, "supervisor", "pw")
    expect(supervisor.locator("#connection")).to_have_attribute("data-state", "live")
    entry = supervisor.locator(f"#agent-list li[data-agent='{newcomer.pk}']")
    expect(entry).to_have_attribute("data-presence", "online")

    ticket = call(
        server,
        desk.admin,
        "POST",
        "/api/tickets/",
        {
            "subject": "VIP cannot log in",
            "priority": "P2",
            "category": "vip",
            "contact_id": desk.contact.pk,
        },
    )

    assert ticket["team"] == vip.pk
    assert ticket["assignee"] == newcomer.pk
    expect(queue.locator(f"tbody tr[data-id='{ticket['id']}']")).to_be_visible()
    reassign = supervisor.locator(f"tbody tr[data-id='{ticket['id']}'] select.assign")
    expect(reassign.locator(f"option[value='{newcomer.pk}']")).to_have_text("Xiao Wang")


def test_an_sla_policy_written_in_the_admin_times_the_next_ticket(
    browser: Any, server: str, desk: Any
) -> None:
    """The policy form shows a ticket policy's two targets (kept in ``targets``), refuses
    what the API refuses, and the next ticket of that priority and tier runs on it."""
    from sla.models import SlaPolicy

    context, page = admin_page(browser, server)

    page.goto("/admin/sla/slapolicy/add/")
    page.fill("#id_name", "P1 gold, fast")
    page.select_option("#id_priority", "P1")
    page.select_option("#id_customer_tier", "gold")
    page.fill("#id_first_response_seconds", "9000")
    page.fill("#id_resolution_seconds", "600")  # shorter than the first response
    page.click("input[name=_save]")
    expect(page.locator(".errorlist")).to_contain_text("Must not exceed resolution_seconds")
    page.fill("#id_first_response_seconds", "300")
    page.fill("#id_resolution_seconds", "7200")
    page.click("input[name=_save]")
    page.wait_for_url("**/admin/sla/slapolicy/")
    expect(page.locator("#result_list")).to_contain_text("P1 gold, fast")
    policy = SlaPolicy.objects.get(name="P1 gold, fast")
    assert (policy.kind, policy.targets) == ("ticket", {"first_response": 300, "resolution": 7200})
    assert (policy.priority, policy.customer_tier) == ("P1", "gold")

    page.goto(f"/admin/sla/slapolicy/{policy.pk}/change/")
    expect(page.locator("#id_first_response_seconds")).to_have_value("300")
    expect(page.locator("#id_resolution_seconds")).to_have_value("7200")
    context.close()

    ticket = call(
        server,
        desk.admin,
        "POST",
        "/api/tickets/",
        {"subject": "VIP down", "priority": "P1", "contact_id": desk.contact.pk},
    )
    assert ticket["sla"]["policy"] == policy.pk  # the desk's contact is a gold customer
