"""The customers-360 demo (``load_demo`` runs ``load_demo_customers`` last): every model has
rows, both languages are there, the demo's tickets' customers are reused, the audit rows make
a timeline, and a second run changes nothing."""

from __future__ import annotations

import re
from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.utils import timezone

from audit.models import AuditEvent
from customers import models as m
from customers.phones import normalise_phone
from tickets.models import Ticket

MODELS: list[Any] = [
    m.Customer, m.Contact, m.ContactPoint, m.CustomField, m.Contract, m.Consent, m.Suppression,
    m.Segment, m.SegmentMember, m.SegmentSnapshot, m.SnapshotMember, m.ImportJob, m.ImportRow,
    m.ExportJob, m.MergeLog, m.LegalHold, m.PrivacyRequest,
]  # fmt: skip
HAN = re.compile(r"[\u4e00-\u9fff]")


def counts() -> dict[str, int]:
    found = {model.__name__: model.objects.count() for model in MODELS}
    found["AuditEvent"] = AuditEvent.objects.count()
    return found


def load_demo() -> str:
    out = StringIO()
    call_command("load_demo", stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_the_demo_fills_every_customers_model_in_both_languages_once() -> None:
    output = load_demo()
    assert "Demo customers / 演示客户" in output
    first = counts()
    assert all(n > 0 for n in first.values()), first

    again = StringIO()
    call_command("load_demo_customers", stdout=again)
    assert again.getvalue().strip() == "demo customers already loaded"
    assert counts() == first

    names = list(m.Customer.objects.values_list("name", flat=True))
    assert any(HAN.search(n) for n in names) and any(n.isascii() for n in names)
    regions = set(m.Customer.objects.values_list("region", flat=True))
    assert {"华东", "华北", "华南"} <= regions and {"Europe", "UK"} <= regions
    fields = {f.key: f for f in m.CustomField.objects.all()}
    assert fields["credit_limit"].label_zh == "信用额度"
    assert fields["contract_type"].type == "choice"


@pytest.mark.django_db
def test_the_demo_users_marketing_and_analyst_sign_in_with_their_roles() -> None:
    load_demo()
    for username in ("marketing", "analyst"):
        user = authenticate(username=username, password=username)
        assert user is not None, username
        assert list(user.groups.values_list("name", flat=True)) == [username]


@pytest.mark.django_db
def test_the_demo_reuses_the_work_customers_and_tells_a_story() -> None:
    load_demo()
    today = timezone.localdate()
    # a group customer with three subsidiaries
    group = m.Customer.objects.get(name="鼎盛控股集团 Dingsheng Holdings")
    assert group.subsidiaries.count() == 3
    # the customers of the demo's tickets gained owners, industries and contracts
    huadong = m.Customer.objects.get(name__startswith="华东精密")
    assert Ticket.objects.filter(customer=huadong).exists()
    assert huadong.owner is not None and huadong.industry
    assert huadong.custom["account_number"] == "KF-SH-0001"
    ending = m.Contract.objects.filter(ends_on__gte=today, ends_on__lte=today + timedelta(30))
    assert ending.count() >= 4
    # phones in E.164, birthdays and preferred channels
    for phone in m.Contact.objects.exclude(phone="").values_list("phone", flat=True)[:50]:
        assert phone == normalise_phone(phone), phone
    assert m.Contact.objects.exclude(birthday=None).count() >= 10
    assert m.Contact.objects.exclude(preferred_channel="").count() >= 10
    # consent for every purpose, from several sources; suppression for every reason
    assert set(m.Consent.objects.values_list("purpose", flat=True)) == {
        "service_email", "marketing_email", "phone", "sms",
    }  # fmt: skip
    assert len(set(m.Consent.objects.values_list("source", flat=True))) >= 4
    assert {"bounced", "complained", "unsubscribed"} <= set(
        m.Suppression.objects.values_list("reason", flat=True)
    )
    # segments: dynamic, contract ending, static; one frozen
    kinds = set(m.Segment.objects.values_list("kind", flat=True))
    assert kinds == {"dynamic", "static"}
    snapshot = m.SegmentSnapshot.objects.get()
    assert snapshot.size == snapshot.members.count() > 0
    # a finished import with an error row, an export
    job = m.ImportJob.objects.get()
    assert job.status == "committed"
    assert set(job.rows.values_list("action", flat=True)) >= {"create", "update", "error"}
    assert m.ExportJob.objects.get().status == "done"
    # privacy: access done, erasure open near its deadline, erasure refused under a hold
    requests = {(r.kind, r.status): r for r in m.PrivacyRequest.objects.all()}
    assert ("access", "done") in requests and ("erasure", "refused") in requests
    open_one = requests[("erasure", "in_progress")]
    assert timezone.now() < open_one.due_at < timezone.now() + timedelta(days=3)
    refused = requests[("erasure", "refused")]
    assert m.LegalHold.objects.filter(customer=refused.contact.customer).exists()
    assert m.MergeLog.objects.get().target == "customer"
    # the audit rows are dated as the story goes, and name their customer
    rows = AuditEvent.objects.filter(customer=huadong).exclude(ticket__isnull=False)
    assert rows.filter(subject_kind="customer").exists()
    assert rows.filter(created_at__lt=timezone.now() - timedelta(days=7)).exists()
    assert AuditEvent.objects.filter(subject_kind="privacy").count() >= 7
