"""A customer at a glance: open work per kind from the work queue, CSAT of the last twelve
months from the survey answers, contacts, contracts ending within 60 days, last activity;
a survey answer recorded on the timeline."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from customers.models import Contract
from customers.selectors.overview import overview_for
from customers.selectors.timeline import timeline_for
from surveys.models import Invitation, SurveyResponse
from surveys.questions import Answer
from surveys.services import record_response
from tests.factories import (
    ContactFactory,
    CustomerFactory,
    SurveyTemplateFactory,
    build_desk,
    open_ticket,
)

pytestmark = pytest.mark.django_db


def _invitation(desk: Any, ticket: Any, n: int) -> Invitation:
    now = timezone.now()
    template: Any = SurveyTemplateFactory()
    invitation: Invitation = Invitation.objects.create(
        subject_kind="ticket",
        subject_id=ticket.pk,
        round=n,
        ticket=ticket,
        subject_number=ticket.number,
        subject_title=ticket.subject,
        contact=desk.contact,
        email=desk.contact.email,
        language="en",
        template=template,
        scale="csat",
        token_hash=f"{n:064d}",
        expires_at=now + timedelta(days=7),
    )
    return invitation


def test_overview_counts_work_csat_contacts_contracts() -> None:
    desk = build_desk()
    other: Any = CustomerFactory()
    ContactFactory(customer=desk.customer)
    first = open_ticket(desk)
    open_ticket(desk)
    walk: Any = ContactFactory(customer=other)
    open_ticket(desk, contact_id=walk.pk)
    today = timezone.localdate()
    Contract.objects.create(
        customer=desk.customer, name="soon", starts_on=today, ends_on=today + timedelta(days=59)
    )
    Contract.objects.create(
        customer=desk.customer, name="later", starts_on=today, ends_on=today + timedelta(days=90)
    )
    a = _invitation(desk, first, 1)
    b = _invitation(desk, first, 2)
    c = _invitation(desk, first, 3)
    record_response(invitation_id=a.pk, answer=Answer(score=5, comment="", answers={}))
    record_response(invitation_id=b.pk, answer=Answer(score=2, comment="", answers={}))
    record_response(invitation_id=c.pk, answer=Answer(score=1, comment="", answers={}))
    SurveyResponse.objects.filter(invitation=c).update(
        answered_at=timezone.now() - timedelta(days=400)
    )

    found = overview_for(desk.supervisor, desk.customer.pk)
    assert found.open_work == {"ticket": 2}
    assert found.csat_average == 3.5 and found.csat_count == 2
    assert found.contacts == 2
    assert found.contracts_ending == 1
    assert found.last_activity is not None

    # the answers are on the timeline, with their score and the ticket they rate
    answers = [
        e for e in timeline_for(desk.supervisor, desk.customer.pk).entries if e.kind == "survey"
    ]
    assert sorted(e.score or 0 for e in answers) == [1, 2, 5]
    assert all(e.subject is not None and e.subject.id == first.pk for e in answers)

    client = Client()
    client.force_login(desk.supervisor)
    summary = client.get(f"/api/customers/{desk.customer.pk}/summary/").json()
    assert summary["open_work"] == {"ticket": 2}
    assert summary["csat_count"] == 2 and summary["contracts_ending"] == 1
    assert overview_for(desk.supervisor, other.pk).open_work == {"ticket": 1}
