"""The demo loader of ``make run``: what it creates, and that a second run changes nothing."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command
from viewflow.workflow.models import Task

from audit.models import AuditEvent
from customers.models import Contact, Customer
from flows.models import TicketProcess
from org.models import AgentProfile, Team
from sla.models import BusinessCalendar
from tickets.models import Category, RoutingRule, SlaPolicy, Ticket, TicketMessage

# 40 tickets played through services, 2 more opened by the demo's emails
EXPECTED_STATUSES = {"new": 6, "open": 16, "pending_customer": 6, "resolved": 7, "closed": 7}


def load_demo() -> str:
    out = StringIO()
    call_command("load_demo", stdout=out)
    return out.getvalue()


def status_counts() -> dict[str, int]:
    counts: dict[str, int] = {}
    for status in Ticket.objects.values_list("status", flat=True):
        counts[status] = counts.get(status, 0) + 1
    return counts


def row_counts() -> dict[str, int]:
    models: list[Any] = [
        get_user_model(),
        AgentProfile,
        Team,
        BusinessCalendar,
        Category,
        RoutingRule,
        SlaPolicy,
        Customer,
        Contact,
        Ticket,
        TicketMessage,
        AuditEvent,
        TicketProcess,
        Task,
    ]
    return {model.__name__: model.objects.count() for model in models}


@pytest.mark.django_db
def test_demo_users_sign_in_with_their_demo_passwords() -> None:
    load_demo()

    for username, role in [
        ("admin", "administrator"),
        ("supervisor", "supervisor"),
        ("agent1", "agent"),
        ("agent2", "agent"),
        ("manager", "manager"),
        ("handler1", "agent"),
    ]:
        user = authenticate(username=username, password=username)
        assert user is not None, username
        assert list(user.groups.values_list("name", flat=True)) == [role]
    admin = get_user_model().objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff
    assert get_user_model().objects.get(username="supervisor").is_staff
    assert not get_user_model().objects.get(username="agent1").is_staff


@pytest.mark.django_db
def test_demo_teams_hold_both_agents_and_the_supervisor() -> None:
    load_demo()

    teams = list(Team.objects.exclude(name__startswith="Complaints").order_by("name"))
    assert [t.assignment for t in teams] == ["least_loaded", "round_robin"]
    for team in teams:
        members = set(team.members.values_list("username", flat=True))
        assert members == {"agent1", "agent2", "supervisor"}
        assert list(team.supervisors.values_list("username", flat=True)) == ["supervisor"]
    profiles = {p.user.username: p for p in AgentProfile.objects.select_related("user")}
    # handler1 and handler2 are the complaints team's (tests/complaints/test_demo.py)
    assert set(profiles) == {"agent1", "agent2", "supervisor", "handler1", "handler2"}
    assert profiles["agent1"].presence == profiles["agent2"].presence == "online"
    assert profiles["agent1"].capacity == 25
    assert profiles["agent2"].skills == ["network", "billing"]


@pytest.mark.django_db
def test_demo_has_an_sla_policy_for_every_priority_and_tier_variants() -> None:
    load_demo()

    any_tier = set(
        SlaPolicy.objects.filter(kind="ticket", customer_tier__isnull=True).values_list(
            "priority", flat=True
        )
    )
    assert any_tier == {"P1", "P2", "P3", "P4"}
    tiered = set(
        SlaPolicy.objects.filter(kind="ticket", customer_tier__isnull=False).values_list(
            "priority", "customer_tier"
        )
    )
    assert tiered == {("P1", "gold"), ("P2", "gold"), ("P1", "platinum"), ("P2", "platinum")}
    reassign = [
        level
        for policy in SlaPolicy.objects.filter(priority="P1")
        for level in policy.escalation
        if level["action"] == "reassign"
    ]
    support = Team.objects.get(name__startswith="Support")
    assert [level["team"] for level in reassign] == [support.pk] * 3
    calendar = BusinessCalendar.objects.get(name="Shanghai office")
    assert calendar.timezone == "Asia/Shanghai"
    assert calendar.hours["mon"] == [["09:00", "12:00"], ["13:00", "18:00"]]
    assert "sat" not in calendar.hours


@pytest.mark.django_db
def test_demo_tickets_cover_every_status_and_are_processes() -> None:
    output = load_demo()

    assert status_counts() == EXPECTED_STATUSES
    assert "42 tickets" in output
    assert TicketProcess.objects.count() == 42
    new = Ticket.objects.filter(status="new")
    assert not new.filter(assignee__isnull=False).exists()
    assert not Ticket.objects.exclude(status="new").filter(assignee__isnull=True).exists()
    assert not Ticket.objects.filter(sla_clock__policy__isnull=True).exists()
    assert Ticket.objects.filter(urge_count__gt=0).count() == 3
    assert AuditEvent.objects.filter(verb="reopened").count() == 2
    assert TicketMessage.objects.filter(internal=True).count() == 5
    # walk-ins: 5 by the intake API, 2 by email from addresses no customer has
    assert Ticket.objects.filter(customer__isnull=True).count() == 7
    assert set(Customer.objects.values_list("tier", flat=True)) == {"standard", "gold", "platinum"}
    assert set(Contact.objects.values_list("language", flat=True)) == {"en", "zh-hans"}


@pytest.mark.django_db
def test_demo_email_went_through_the_inbound_pipeline() -> None:
    from mail.models import AddressState, Attachment, InboundEmail, Mailbox
    from outbox.models import OutboxMessage

    output = load_demo()

    assert "Demo email / 演示邮件: ignored: 1, processed: 4, quarantined: 1" in output
    assert list(
        InboundEmail.objects.filter(status="quarantined").values_list("reason", flat=True)
    ) == ["no_sender"]
    assert AddressState.objects.get(address="offers@spam.example.net").blocked
    assert not Mailbox.objects.get().enabled  # a demo server that does not exist: not polled
    scanner = Ticket.objects.get(subject="仓库扫码枪无法连接系统")
    # the customer's answer to the acknowledgement threaded onto the same ticket
    assert [m.channel for m in scanner.messages.all()] == ["email", "email"]
    assert Attachment.objects.filter(object_id=scanner.pk, name="scanner.log").exists()
    ack = OutboxMessage.objects.get(
        subject_kind="ticket", object_id=scanner.pk, kind="ticket.acknowledged"
    )
    assert "[" + scanner.number + "]" in ack.subject
    # the out-of-office answer threaded and changed nothing: no ticket of its own
    grace = Ticket.objects.get(subject="Order confirmation emails are delayed")
    assert grace.messages.count() == 2
    assert not Ticket.objects.filter(subject__startswith="Automatic reply").exists()


@pytest.mark.django_db
def test_loading_the_demo_twice_changes_nothing() -> None:
    load_demo()
    before = row_counts()

    output = load_demo()

    assert output.split() == [
        "demo",
        "data",
        "already",
        "loaded",
        "demo",
        "complaints",
        "already",
        "loaded",
        "demo",
        "customers",
        "already",
        "loaded",
    ]
    assert row_counts() == before
