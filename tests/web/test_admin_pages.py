"""The Django admin: a page for everything an administrator configures, every page opens, and
writes through it are held to the same rules as the administration API."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group, User
from django.test import Client
from django.urls import reverse
from django.utils import translation

from customers.models import Contact, Customer
from org.models import AgentProfile, Team
from sla.models import BusinessCalendar
from tests.factories import CalendarFactory, CategoryFactory, open_ticket, role
from tickets.models import Category, RoutingRule, SlaPolicy

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english_afterwards() -> Any:
    """A request activates its language in this thread; later tests expect the default."""
    yield
    translation.deactivate()


@pytest.fixture
def root(desk: Any) -> Client:
    """A superuser's browser on a desk with a ticket, a calendar and a category in it."""
    open_ticket(desk)
    CalendarFactory(name="Shanghai")
    CategoryFactory(code="billing", required_skill="billing")
    client = Client()
    client.force_login(User.objects.create_superuser("root", "root@example.com", "pw"))
    return client


def url(model: Any, view: str, *args: Any) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def test_every_configuration_model_has_an_admin_page() -> None:
    registered = set(admin.site._registry)

    for model in (
        User,
        Group,
        Team,
        AgentProfile,
        SlaPolicy,
        BusinessCalendar,
        Category,
        RoutingRule,
        Customer,
        Contact,
    ):
        assert model in registered, model


def test_every_admin_page_opens(root: Client) -> None:
    failures = []
    for model, model_admin in admin.site._registry.items():
        pages = [url(model, "changelist")]
        if model_admin.search_fields:
            pages.append(url(model, "changelist") + "?q=a")
        if model_admin.has_add_permission(_request_of(root)):
            pages.append(url(model, "add"))
        # the rows this admin shows (ticket SLA policies: complaints edit theirs elsewhere)
        first = model_admin.get_queryset(_request_of(root)).order_by("pk").first()
        if first is not None:
            pages.append(url(model, "change", first.pk))
        for page in pages:
            response = root.get(page)
            if response.status_code != 200:
                failures.append((page, response.status_code))
    assert failures == []


def test_the_changelist_filters_open(root: Client, desk: Any) -> None:
    for page in (
        url(User, "changelist") + f"?groups__id__exact={role('agent').pk}",
        url(User, "changelist") + f"?kefu_teams__id__exact={desk.team.pk}",
        url(AgentProfile, "changelist") + "?presence__exact=online",
        url(AgentProfile, "changelist") + f"?user__kefu_teams__id__exact={desk.team.pk}",
        url(SlaPolicy, "changelist") + "?priority__exact=P2",
        url(RoutingRule, "changelist") + f"?team__id__exact={desk.team.pk}",
    ):
        response = root.get(page)
        assert response.status_code == 200, page
        assert b"errornote" not in response.content, page


def _request_of(client: Client) -> Any:
    from django.test import RequestFactory

    request = RequestFactory().get("/admin/")
    request.user = User.objects.get(username="root")
    return request


# --- users and roles --------------------------------------------------------------------
def test_the_user_list_shows_roles_and_teams(root: Client, desk: Any) -> None:
    response = root.get(url(User, "changelist") + "?q=agent1")

    row = response.content.decode()
    assert "agent1" in row
    assert '<td class="field-roles">agent</td>' in row
    assert '<td class="field-team_names">Support</td>' in row


def test_adding_users_to_the_agent_role_on_the_group_page_makes_them_agents(
    root: Client, desk: Any
) -> None:
    mei = User.objects.create_user("mei")
    agents = role("agent")
    members = list(agents.user_set.values_list("pk", flat=True))

    response = root.post(
        url(Group, "change", agents.pk), {"name": "agent", "users": [*members, mei.pk]}
    )

    assert response.status_code == 302, response.content.decode()[:3000]
    assert AgentProfile.objects.filter(user=mei).count() == 1
    assert mei.groups.filter(name="agent").exists()


def test_the_user_page_puts_a_user_in_teams(root: Client, desk: Any) -> None:
    page = root.get(url(User, "change", desk.agent1.pk))
    assert page.status_code == 200
    form = page.context["adminform"].form
    data = {
        **{k: v for k, v in form.initial.items() if v is not None and k != "password"},
        "groups": [role("agent").pk],
        "user_permissions": [],
        "teams": [desk.team.pk, desk.other_team.pk],
        "date_joined_0": desk.agent1.date_joined.strftime("%Y-%m-%d"),
        "date_joined_1": desk.agent1.date_joined.strftime("%H:%M:%S"),
        "agent_profile-TOTAL_FORMS": "1",
        "agent_profile-INITIAL_FORMS": "1",
        "agent_profile-MIN_NUM_FORMS": "0",
        "agent_profile-MAX_NUM_FORMS": "1",
        "agent_profile-0-id": desk.agent1.agent_profile.pk,
        "agent_profile-0-user": desk.agent1.pk,
        "agent_profile-0-skills": '["billing"]',
        "agent_profile-0-capacity": "12",
    }
    data.pop("last_login", None)

    response = root.post(url(User, "change", desk.agent1.pk), data)

    assert response.status_code == 302, _errors(response)
    assert sorted(desk.agent1.kefu_teams.values_list("name", flat=True)) == ["Billing", "Support"]
    profile = AgentProfile.objects.get(user=desk.agent1)
    assert (profile.skills, profile.capacity, profile.presence) == (["billing"], 12, "online")


# --- teams and agents -------------------------------------------------------------------
def team_form(**overrides: Any) -> dict[str, Any]:
    return {
        "name": "VIP",
        "members": [],
        "supervisors": [],
        "calendar": "",
        "assignment": "least_loaded",
        **overrides,
    }


def test_a_team_saved_in_the_admin_keeps_its_members(root: Client, desk: Any) -> None:
    response = root.post(
        url(Team, "add"),
        team_form(members=[desk.agent1.pk], supervisors=[desk.supervisor.pk]),
        follow=True,
    )

    team = Team.objects.get(name="VIP")
    assert list(team.members.all()) == [desk.agent1]
    assert list(team.supervisors.all()) == [desk.supervisor]
    assert team.assignment == "least_loaded"
    assert response.status_code == 200


def test_the_team_page_warns_of_members_who_are_not_agents(root: Client, desk: Any) -> None:
    stranger = User.objects.create_user("stranger")

    response = root.post(url(Team, "add"), team_form(members=[stranger.pk]), follow=True)

    messages = [str(m) for m in response.context["messages"]]
    assert any("stranger" in m and "do not hold the agent role" in m for m in messages)
    assert not AgentProfile.objects.filter(user=stranger).exists()


def test_the_team_page_refuses_what_the_teams_api_refuses(root: Client, desk: Any) -> None:
    gone = User.objects.create_user("gone", is_active=False)

    response = root.post(url(Team, "add"), team_form(members=[gone.pk]))

    assert response.status_code == 200
    assert "members" in response.context["adminform"].form.errors
    assert not Team.objects.filter(name="VIP").exists()


def test_the_agent_profile_page_edits_skills_and_capacity_not_presence(
    root: Client, desk: Any
) -> None:
    profile = desk.agent1.agent_profile

    response = root.post(
        url(AgentProfile, "change", profile.pk),
        {"skills": '["network", "billing"]', "capacity": "5", "presence": "offline"},
    )

    assert response.status_code == 302, _errors(response)
    profile.refresh_from_db()
    assert (profile.skills, profile.capacity, profile.presence) == (
        ["network", "billing"],
        5,
        "online",
    )


def test_the_agent_profile_page_refuses_skills_that_are_not_a_list_of_codes(
    root: Client, desk: Any
) -> None:
    profile = desk.agent1.agent_profile

    response = root.post(
        url(AgentProfile, "change", profile.pk), {"skills": '{"a": 1}', "capacity": "5"}
    )

    assert response.status_code == 200
    assert "skills" in response.context["adminform"].form.errors
    profile.refresh_from_db()
    assert profile.skills == []


# --- SLA policies and calendars -----------------------------------------------------------
def policy_form(**overrides: Any) -> dict[str, Any]:
    return {
        "name": "Gold P1",
        "priority": "P1",
        "customer_tier": "gold",
        "first_response_seconds": "900",
        "resolution_seconds": "14400",
        "warning_percent": "80",
        "calendar": "",
        "escalation": "[]",
        "is_active": "on",
        **overrides,
    }


def test_an_sla_policy_saved_in_the_admin_is_checked_like_the_api(root: Client, desk: Any) -> None:
    ladder = [
        {"at_percent": 50, "target": "resolution", "action": "warn", "team": 9},
        {"at_percent": 100, "target": "resolution", "action": "reassign", "team": desk.team.pk},
    ]

    response = root.post(url(SlaPolicy, "add"), policy_form(escalation=json.dumps(ladder)))

    assert response.status_code == 302, _errors(response)
    policy = SlaPolicy.objects.get(name="Gold P1")
    assert policy.escalation == [
        {"at_percent": 50, "target": "resolution", "action": "warn"},
        {"at_percent": 100, "target": "resolution", "action": "reassign", "team": desk.team.pk},
    ]
    assert policy.customer_tier == "gold"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (
            {"escalation": '[{"at_percent": 50, "target": "resolution", "action": "explode"}]'},
            "escalation",
        ),
        (
            {"escalation": '[{"at_percent": 50, "target": "resolution", "action": "reassign"}]'},
            "escalation",
        ),
        ({"escalation": '{"at_percent": 50}'}, "escalation"),
        ({"first_response_seconds": "99999", "resolution_seconds": "10"}, "first_response_seconds"),
        ({"warning_percent": "100"}, "warning_percent"),
    ],
)
def test_the_admin_refuses_an_sla_policy_the_api_refuses(
    root: Client, change: dict[str, str], field: str
) -> None:
    before = SlaPolicy.objects.count()

    response = root.post(url(SlaPolicy, "add"), policy_form(**change))

    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    assert SlaPolicy.objects.count() == before


def test_retiring_sla_policies_from_the_list(root: Client, desk: Any) -> None:
    response = root.post(
        url(SlaPolicy, "changelist"),
        {"action": "retire_policies", "_selected_action": [desk.policy.pk]},
    )

    assert response.status_code == 302
    desk.policy.refresh_from_db()
    assert desk.policy.is_active is False and desk.policy.retired_at is not None


def test_the_admin_refuses_a_calendar_the_api_refuses(root: Client) -> None:
    response = root.post(
        url(BusinessCalendar, "add"),
        {
            "name": "Broken",
            "timezone": "Asia/Shanghai",
            "hours": json.dumps({"mon": [["18:00", "09:00"]]}),
            "holidays": "[]",
        },
    )

    assert response.status_code == 200
    assert "hours" in response.context["adminform"].form.errors
    assert not BusinessCalendar.objects.filter(name="Broken").exists()


def _errors(response: Any) -> Any:
    context = getattr(response, "context", None)
    if not context or "adminform" not in context:
        return response.status_code
    errors = dict(context["adminform"].form.errors)
    for formset in context.get("inline_admin_formsets", []):
        errors["inline"] = [formset.formset.errors, formset.formset.non_form_errors()]
    return errors


def test_the_admin_pages_speak_chinese(root: Client, desk: Any) -> None:
    users = root.get(url(User, "changelist"), HTTP_ACCEPT_LANGUAGE="zh-hans")
    policy = root.get(url(SlaPolicy, "add"), HTTP_ACCEPT_LANGUAGE="zh-hans")

    assert "角色" in users.content.decode()
    assert (
        "停用所选 SLA 策略"
        in root.get(url(SlaPolicy, "changelist"), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    )
    assert "任意客户等级" in policy.content.decode()
