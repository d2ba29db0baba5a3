"""A complaints desk: the shipped profiles (migrations), a complaints team with two
handlers and a supervisor, a manager, a customer; and a complaint opened through intake."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import factory
from django.contrib.auth.models import User

from complaints.models import Complaint, ComplaintProfile
from customers.models import Contact, Customer
from org.models import Team

from . import (
    AgentFactory,
    ContactFactory,
    CustomerFactory,
    SupervisorFactory,
    TeamFactory,
    UserFactory,
    role,
)


class ManagerFactory(UserFactory):
    @factory.post_generation
    def roles(self: Any, create: bool, extracted: Any, **kwargs: Any) -> None:
        if create:
            self.groups.add(role("manager"))


@dataclass
class ComplaintsDesk:
    team: Team
    handler1: User
    handler2: User
    outsider: User
    supervisor: User
    manager: User
    customer: Customer
    contact: Contact
    profile: ComplaintProfile


def ensure_shipped_configuration() -> None:
    """The configuration ``complaints 0002`` ships (categories, root causes, the matrix,
    limits, profiles and their clocks): a transactional test's flush removes it, so a test
    that needs it puts it back the migration's way (idempotent)."""
    import importlib

    from django.apps import apps

    if ComplaintProfile.objects.exists():
        return
    defaults = importlib.import_module("complaints.migrations.0002_defaults")
    defaults.forwards(apps, None)


def build_complaints_desk(profile: str = "standard") -> ComplaintsDesk:
    ensure_shipped_configuration()
    handler1: Any = AgentFactory(username="handler1")
    handler2: Any = AgentFactory(username="handler2")
    outsider: Any = AgentFactory(username="c-outsider")
    supervisor: Any = SupervisorFactory(username="c-supervisor")
    manager: Any = ManagerFactory(username="c-manager")
    team: Any = TeamFactory(name="Complaints")
    team.members.add(handler1, handler2)
    team.supervisors.add(supervisor)
    elsewhere: Any = TeamFactory(name="Elsewhere")
    elsewhere.members.add(outsider)
    chosen = ComplaintProfile.objects.get(code=profile)
    ComplaintProfile.objects.update(team=team)
    customer: Any = CustomerFactory(tier="gold")
    contact: Any = ContactFactory(customer=customer, email="wang.fang@example.com")
    return ComplaintsDesk(
        team, handler1, handler2, outsider, supervisor, manager, customer, contact, chosen
    )


def open_complaint(desk: ComplaintsDesk, **overrides: Any) -> Complaint:
    from complaints import services

    fields: dict[str, Any] = {
        "category": "billing",
        "subcategory": "billing-wrong",
        "title": "Charged twice for one order",
        "description": "My card was charged twice for order 8812.",
        "impact": "medium",
        "urgency": "medium",
        "channel": "phone",
        "customer_id": desk.customer.pk,
        "contact_id": desk.contact.pk,
        "profile": desk.profile.code,
    }
    actor = overrides.pop("actor", desk.supervisor)
    fields.update(overrides)
    complaint = services.open_complaint(data=services.NewComplaint(**fields), actor=actor)
    complaint.refresh_from_db()
    return complaint
