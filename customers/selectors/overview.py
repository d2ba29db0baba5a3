"""A customer at a glance (the 360 page's tiles, ``GET /api/customers/{id}/summary/``):
open work per kind, CSAT of the last twelve months, contacts, contracts ending soon, the
last activity (docs/customers-360.md).

Open work is the work queue's read model (``processes.models.WorkItem``: one row per object
waiting on a person), which has no customer column: the customer's work objects are read
from the audit trail (every work row carries its customer), so customers imports no
process app.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Avg, Count, Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext

from audit.models import AuditEvent
from core.errors import NotFound
from processes.models import WorkItem
from surveys.choices import Scale
from surveys.models import SurveyResponse

from ..models import Contact, Contract, Customer
from . import customers_visible_to
from .timeline import customer_events

CSAT_DAYS = 365
CONTRACT_DAYS = 60


@dataclass(frozen=True)
class Overview:
    open_work: dict[str, int]
    csat_average: float | None
    csat_count: int
    contacts: int
    contracts_ending: int
    last_activity: datetime | None


def open_work(customer_id: int) -> dict[str, int]:
    """Open work items per kind among the customer's objects (those its audit rows name)."""
    events = AuditEvent.objects.filter(customer_id=customer_id)
    named = Q(
        kind="ticket",
        object_id__in=events.filter(ticket__isnull=False).values("ticket_id"),
    ) | Q(
        kind="complaint",
        object_id__in=events.filter(complaint__isnull=False).values("complaint_id"),
    )
    other = Exists(events.filter(subject_kind=OuterRef("kind"), object_id=OuterRef("object_id")))
    rows = (
        WorkItem.objects.filter(named | (~Q(kind__in=["ticket", "complaint"]) & Q(other)))
        .values("kind")
        .annotate(n=Count("id"))
        .order_by("kind")
    )
    return {row["kind"]: row["n"] for row in rows}


def csat(customer_id: int, now: datetime | None = None) -> tuple[float | None, int]:
    """The average CSAT score (1-5) and the number of scored answers of the customer's
    contacts in the last twelve months."""
    since = (now or timezone.now()) - timedelta(days=CSAT_DAYS)
    found = SurveyResponse.objects.filter(
        invitation__contact__customer_id=customer_id,
        invitation__scale=Scale.CSAT,
        score__isnull=False,
        answered_at__gte=since,
    ).aggregate(avg=Avg("score"), n=Count("id"))
    average = found["avg"]
    return (round(float(average), 2) if average is not None else None), int(found["n"])


def contracts_ending(customer_id: int, today: date | None = None) -> int:
    today = today or timezone.localdate()
    return Contract.objects.filter(
        customer_id=customer_id,
        ends_on__isnull=False,
        ends_on__gte=today,
        ends_on__lte=today + timedelta(days=CONTRACT_DAYS),
    ).count()


def last_activity(customer_id: int) -> datetime | None:
    """The newest audit row's time: the first row of the timeline's index."""
    row = customer_events(customer_id).order_by("-created_at", "-id").values("created_at")[:1]
    found = list(row)
    return found[0]["created_at"] if found else None


def overview_for(user: Any, customer_id: int) -> Overview:
    """404 for a customer the user may not see."""
    customer: Customer | None = customers_visible_to(user).filter(pk=customer_id).first()
    if customer is None:
        raise NotFound(gettext("Customer not found."))
    average, count = csat(customer.pk)
    return Overview(
        open_work=open_work(customer.pk),
        csat_average=average,
        csat_count=count,
        contacts=Contact.objects.filter(customer=customer, merged_into__isnull=True).count(),
        contracts_ending=contracts_ending(customer.pk),
        last_activity=last_activity(customer.pk),
    )
