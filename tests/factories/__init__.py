"""factory_boy factories, one per model, and a ready-made desk for most tests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import factory
from django.contrib.auth.models import Group, User

from customers.models import Contact, Customer
from org.models import AgentProfile, Team
from sla.models import BusinessCalendar
from surveys.models import SurveyTemplate
from tickets.models import Category, RoutingRule, SlaPolicy


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

    name = factory.Sequence(lambda n: f"policy {n}")
    priority = "P2"
    customer_tier = None
    first_response_seconds = 3600
    resolution_seconds = 8 * 3600
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
    """Moves the SLA clock's start back and makes the armed checkpoint due now."""
    from datetime import timedelta

    from django.utils import timezone
    from viewflow.workflow.models import Task
    from viewflow.workflow.status import STATUS

    from tickets.models import Ticket

    row = Ticket.objects.get(pk=ticket.pk)
    start = timezone.now() - started_ago
    # The due moments move with the clock's start, as if the ticket had opened then.
    shift = start - row.sla_started_at if row.sla_started_at else timedelta(0)

    def moved(value: Any) -> Any:
        return value + shift if value is not None else None

    update_ticket(
        ticket.pk,
        sla_started_at=start,
        first_response_due=moved(row.first_response_due),
        resolution_due=moved(row.resolution_due),
        sla_due=moved(row.sla_due),
    )
    Task.objects.filter(
        process__ticketprocess__ticket=ticket, flow_task_type="TIMER", status=STATUS.SCHEDULED
    ).update(scheduled=timezone.now() - timedelta(seconds=1))


def update_ticket(ticket_id: int, **fields: Any) -> Any:
    """Puts a ticket into a state a test needs (breached, unassigned, …) as a service would
    have left it: the row and its work item in the queue (tickets.events)."""
    from tickets.events import refresh_work_item
    from tickets.models import Ticket

    Ticket.objects.filter(pk=ticket_id).update(**fields)
    ticket = Ticket.objects.select_related("customer").get(pk=ticket_id)
    refresh_work_item(ticket)
    return ticket
