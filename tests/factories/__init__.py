"""factory_boy factories, one per model, and a ready-made desk for most tests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import factory
from django.contrib.auth.models import Group, User

from customers.models import Contact, Customer
from org.models import AgentProfile, Team
from sla.models import BusinessCalendar, SlaPolicy
from surveys.models import SurveyTemplate
from tickets.models import Category, RoutingRule


def role(name: str) -> Group:
    group, _ = Group.objects.get_or_create(name=name)
    return group


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("pw")


class AgentFactory(UserFactory):
    @factory.post_generation
    def profile(self: Any, create: bool, extracted: Any, **kwargs: Any) -> None:
        if not create:
            return
        self.groups.add(role("agent"))
        AgentProfile.objects.update_or_create(
            user=self,
            defaults={
                "presence": kwargs.get("presence", "online"),
                "capacity": 20,
                "skills": kwargs.get("skills", []),
            },
        )


class SupervisorFactory(UserFactory):
    @factory.post_generation
    def roles(self: Any, create: bool, extracted: Any, **kwargs: Any) -> None:
        if create:
            self.groups.add(role("supervisor"))


class AdministratorFactory(UserFactory):
    @factory.post_generation
    def roles(self: Any, create: bool, extracted: Any, **kwargs: Any) -> None:
        if create:
            self.groups.add(role("administrator"))


class MarketingFactory(UserFactory):
    @factory.post_generation
    def roles(self: Any, create: bool, extracted: Any, **kwargs: Any) -> None:
        if create:
            self.groups.add(role("marketing"))


class AnalystFactory(UserFactory):
    @factory.post_generation
    def roles(self: Any, create: bool, extracted: Any, **kwargs: Any) -> None:
        if create:
            self.groups.add(role("analyst"))


class CalendarFactory(factory.django.DjangoModelFactory[BusinessCalendar]):
    class Meta:
        model = BusinessCalendar

    name = factory.Sequence(lambda n: f"calendar {n}")
    timezone = "Asia/Shanghai"
    hours = factory.LazyFunction(
        lambda: {
            d: [["09:00", "12:00"], ["13:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")
        }
    )
    holidays = factory.LazyFunction(list)


class TeamFactory(factory.django.DjangoModelFactory[Team]):
    class Meta:
        model = Team

    name = factory.Sequence(lambda n: f"team {n}")
    assignment = "round_robin"


class CategoryFactory(factory.django.DjangoModelFactory[Category]):
    class Meta:
        model = Category
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"cat{n}")
    name = factory.LazyAttribute(lambda o: o.code.title())


class RoutingRuleFactory(factory.django.DjangoModelFactory[RoutingRule]):
    class Meta:
        model = RoutingRule

    team: Any = factory.SubFactory(TeamFactory)


class SlaPolicyFactory(factory.django.DjangoModelFactory[SlaPolicy]):
    class Meta:
        model = SlaPolicy

    class Params:
        first_response_seconds = 3600
        resolution_seconds = 8 * 3600

    name = factory.Sequence(lambda n: f"policy {n}")
    priority = "P2"
    customer_tier = None
    targets = factory.LazyAttribute(
        lambda o: {"first_response": o.first_response_seconds, "resolution": o.resolution_seconds}
    )
    warning_percent = 80
    escalation = factory.LazyFunction(list)


class CustomerFactory(factory.django.DjangoModelFactory[Customer]):
    class Meta:
        model = Customer

    kind = "company"
    name = factory.Sequence(lambda n: f"Customer {n}")
    tier = "standard"
    region = ""


class ContactFactory(factory.django.DjangoModelFactory[Contact]):
    class Meta:
        model = Contact

    customer: Any = factory.SubFactory(CustomerFactory)
    email = factory.Sequence(lambda n: f"contact{n}@example.com")
    name = factory.Sequence(lambda n: f"Contact {n}")


class SurveyTemplateFactory(factory.django.DjangoModelFactory[SurveyTemplate]):
    class Meta:
        model = SurveyTemplate
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"survey {n}")
    scale = "csat"
    questions = factory.LazyFunction(list)


@dataclass
class Desk:
    team: Team
    other_team: Team
    agent1: User
    agent2: User
    outsider: User
    supervisor: User
    admin: User
    policy: SlaPolicy
    customer: Customer
    contact: Contact


def build_desk() -> Desk:
    agent1: Any = AgentFactory(username="agent1")
    agent2: Any = AgentFactory(username="agent2")
    outsider: Any = AgentFactory(username="outsider")
    supervisor: Any = SupervisorFactory(username="supervisor")
    admin: Any = AdministratorFactory(username="admin")
    team: Any = TeamFactory(name="Support")
    team.members.add(agent1, agent2)
    team.supervisors.add(supervisor)
    other: Any = TeamFactory(name="Billing")
    other.members.add(outsider)
    RoutingRuleFactory(team=team, position=100)
    policy: Any = SlaPolicyFactory(priority="P2")
    for priority in ("P1", "P3", "P4"):
        SlaPolicyFactory(priority=priority)
    customer: Any = CustomerFactory(tier="gold")
    contact: Any = ContactFactory(customer=customer, email="li.lei@example.com")
    return Desk(team, other, agent1, agent2, outsider, supervisor, admin, policy, customer, contact)


def open_ticket(desk: Desk, **overrides: Any) -> Any:
    from tickets import services

    params: dict[str, Any] = {
        "actor": desk.admin,
        "subject": "Printer on fire",
        "description": "Smoke everywhere",
        "priority": "P2",
        "channel": "api",
        "contact_id": desk.contact.pk,
    }
    params.update(overrides)
    ticket, _ = services.open_ticket(**params)
    ticket.refresh_from_db()
    return ticket


def make_due(ticket: Any, *, started_ago: Any) -> None:
    """Moves the SLA clock's start back, as if the ticket had opened ``started_ago``: its
    due moments and next checkpoint move with it (the ladder fires what is due now)."""
    from django.utils import timezone

    from sla import clock as clocks
    from tickets.events import refresh_work_item
    from tickets.models import Ticket

    row = Ticket.objects.select_related("customer", "sla_clock").get(pk=ticket.pk)
    assert row.clock is not None, "the ticket has no SLA clock"
    row.clock.started_at = timezone.now() - started_ago
    clocks.save(row.clock)
    refresh_work_item(row)


# A test's names for the clock's columns (the ticket reads them through its clock).
CLOCK_COLUMNS = {
    "sla_started_at": "started_at",
    "sla_paused_at": "paused_at",
    "sla_paused_seconds": "paused_seconds",
    "sla_due": "due",
    "sla_warning": "warning",
    "sla_done": "done",
    "escalation_level": "escalation_level",
    "escalation_acknowledged": "acknowledged_level",
}


def update_ticket(ticket_id: int, **fields: Any) -> Any:
    """Puts a ticket into a state a test needs (breached, unassigned, …) as a service would
    have left it: the row, its SLA clock and its work item in the queue (tickets.events)."""
    from sla.models import SlaClock
    from tickets.events import refresh_work_item
    from tickets.models import Ticket

    clock_values = {CLOCK_COLUMNS[k]: fields.pop(k) for k in list(fields) if k in CLOCK_COLUMNS}
    breached = {
        target: fields.pop(f"{target}_breached")
        for target in ("first_response", "resolution")
        if f"{target}_breached" in fields
    }
    if fields:
        Ticket.objects.filter(pk=ticket_id).update(**fields)
    ticket = Ticket.objects.select_related("customer", "sla_clock").get(pk=ticket_id)
    if clock_values or breached:
        clock = ticket.clock
        assert clock is not None, "the ticket has no SLA clock"
        for target, flag in breached.items():
            clock.targets[target]["breached"] = flag
        if breached:
            clock_values["targets"] = clock.targets
            clock_values["breached"] = any(t["breached"] for t in clock.targets.values())
        SlaClock.objects.filter(pk=clock.pk).update(**clock_values)
        ticket = Ticket.objects.select_related("customer", "sla_clock").get(pk=ticket_id)
    refresh_work_item(ticket)
    return ticket
