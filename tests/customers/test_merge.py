"""Merge and un-merge of contacts and customers, references checked in the tables
(docs/customers-merge.md)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from audit.services import record
from complaints.models import Complaint
from core.errors import Conflict, Forbidden
from customers.models import (
    Consent,
    Contact,
    ContactPoint,
    Contract,
    Customer,
    MergeLog,
    Segment,
    SegmentMember,
)
from customers.services.merge import merge_contacts, merge_customers, relations, undo_merge
from tests.factories import ContactFactory, CustomerFactory, build_desk, open_ticket
from tests.factories.complaints import build_complaints_desk, open_complaint
from tickets.models import Ticket

pytestmark = pytest.mark.django_db
MERGE_VERBS = ("merged", "unmerged")


def references(model: Any, *pks: int) -> dict[str, dict[int, int]]:
    """Every row of every table that points at one of ``pks``: {relation: {row pk: target}}
    (the merge's own audit rows left out)."""
    out: dict[str, dict[int, int]] = {}
    for rel in relations(model):
        rows = rel.model._default_manager.filter(**{f"{rel.field.attname}__in": pks})
        if rel.model is AuditEvent:
            rows = rows.exclude(verb__in=MERGE_VERBS)
        out[rel.key] = dict(rows.values_list("pk", rel.field.attname))
    return out


def fields(obj: Any) -> dict[str, Any]:
    obj.refresh_from_db()
    return {f.attname: f.value_from_object(obj) for f in obj._meta.concrete_fields}


def a_contact_with_history() -> dict[str, Any]:
    desk = build_desk()
    merged = desk.contact  # li.lei@example.com, with the history below
    merged.phone = "+8613800138000"
    merged.title = "Buyer"
    merged.save()
    kept: Any = ContactFactory(
        customer=desk.customer, email="lei.li@example.com", name="Li Lei", title=""
    )
    tickets = [open_ticket(desk), open_ticket(desk, subject="Second")]
    cdesk = build_complaints_desk()
    complaint = open_complaint(cdesk, customer_id=desk.customer.pk, contact_id=merged.pk)
    now = timezone.now()
    older = Consent.objects.create(
        contact=kept,
        purpose="marketing_email",
        granted=False,
        source="form",
        at=now - timedelta(days=3),
    )
    newer = Consent.objects.create(
        contact=merged, purpose="marketing_email", granted=True, source="form", at=now
    )
    service = Consent.objects.create(
        contact=merged, purpose="service_email", granted=True, source="agent", at=now
    )
    both = Segment.objects.create(name="Both", kind="static")
    only = Segment.objects.create(name="Only merged", kind="static")
    SegmentMember.objects.create(segment=both, contact=kept)
    twin = SegmentMember.objects.create(segment=both, contact=merged)
    moved_member = SegmentMember.objects.create(segment=only, contact=merged)
    point = ContactPoint.objects.create(contact=merged, kind="email", value="lilei@home.example")
    record(kind="contact", verb="changed", actor=desk.admin, contact_id=merged.pk)
    return {
        "desk": desk,
        "kept": kept,
        "merged": merged,
        "tickets": tickets,
        "complaint": complaint,
        "older": older,
        "newer": newer,
        "service": service,
        "twin": twin,
        "moved_member": moved_member,
        "point": point,
    }


def test_merge_moves_every_reference_and_undo_puts_each_back() -> None:
    s = a_contact_with_history()
    kept, merged, admin = s["kept"], s["merged"], s["desk"].admin
    before = references(Contact, kept.pk, merged.pk)
    kept_before, merged_before = fields(kept), fields(merged)
    assert before["tickets.Ticket.contact"] and before["complaints.Complaint.contact"]

    log = merge_contacts(admin, kept, merged, {"title": "merged"})

    # every reference now on the kept contact, checked in the tables
    after = references(Contact, kept.pk, merged.pk)
    for key, rows in after.items():
        assert merged.pk not in rows.values(), key
    assert set(Ticket.objects.filter(contact=kept).values_list("pk", flat=True)) == {
        t.pk for t in s["tickets"]
    }
    assert Complaint.objects.get(pk=s["complaint"].pk).contact_id == kept.pk
    assert ContactPoint.objects.get(pk=s["point"].pk).contact_id == kept.pk
    assert SegmentMember.objects.get(pk=s["moved_member"].pk).contact_id == kept.pk
    # conflicts: the newer consent kept, the older one (the kept contact's) dropped;
    # the merged contact's second membership of one list dropped
    assert not Consent.objects.filter(pk=s["older"].pk).exists()
    assert Consent.objects.get(pk=s["newer"].pk).contact_id == kept.pk
    assert Consent.objects.get(pk=s["service"].pk).contact_id == kept.pk
    assert not SegmentMember.objects.filter(pk=s["twin"].pk).exists()
    assert {d["model"] for d in log.before["deleted"]} == {
        "customers.Consent",
        "customers.SegmentMember",
    }
    # fields: blank phone filled, title chosen from the merged contact, name kept
    kept.refresh_from_db()
    merged.refresh_from_db()
    assert kept.phone == "+8613800138000"
    assert kept.title == "Buyer"
    assert kept.name == "Li Lei"
    assert merged.merged_into_id == kept.pk
    assert log.moved["tickets.Ticket.contact"] == sorted(t.pk for t in s["tickets"])
    assert (
        AuditEvent.objects.filter(
            subject_kind="contact", verb="merged", contact_id__in=[kept.pk, merged.pk]
        ).count()
        == 2
    )

    undo_merge(admin, log)

    assert references(Contact, kept.pk, merged.pk) == before
    assert fields(kept) | {"updated_at": None} == kept_before | {"updated_at": None}
    assert fields(merged) | {"updated_at": None} == merged_before | {"updated_at": None}
    restored = Consent.objects.get(pk=s["older"].pk)
    assert (restored.contact_id, restored.granted, restored.at) == (
        kept.pk,
        False,
        s["older"].at,
    )
    assert SegmentMember.objects.get(pk=s["twin"].pk).contact_id == merged.pk
    log.refresh_from_db()
    assert log.undone_at is not None and log.undone_by_id == admin.pk
    assert AuditEvent.objects.filter(subject_kind="contact", verb="unmerged").count() == 2


def test_a_reference_made_after_the_merge_stays_on_the_kept_contact() -> None:
    s = a_contact_with_history()
    kept, merged, desk = s["kept"], s["merged"], s["desk"]
    log = merge_contacts(desk.admin, kept, merged, {})
    later = open_ticket(desk, contact_id=kept.pk)

    undo_merge(desk.admin, log)

    assert Ticket.objects.get(pk=later.pk).contact_id == kept.pk
    assert set(Ticket.objects.filter(contact=merged).values_list("pk", flat=True)) == {
        t.pk for t in s["tickets"]
    }


def snapshot() -> dict[str, Any]:
    return {
        "contacts": list(Contact.objects.order_by("pk").values()),
        "customers": list(Customer.objects.order_by("pk").values()),
        "tickets": list(
            Ticket.objects.order_by("pk").values_list("pk", "contact_id", "customer_id")
        ),
        "consents": list(Consent.objects.order_by("pk").values()),
        "members": list(SegmentMember.objects.order_by("pk").values()),
        "logs": list(MergeLog.objects.order_by("pk").values()),
        "audit": AuditEvent.objects.count(),
    }


def test_an_agent_may_not_merge_and_nothing_changes() -> None:
    s = a_contact_with_history()
    before = snapshot()
    with pytest.raises(Forbidden):
        merge_contacts(s["desk"].agent1, s["kept"], s["merged"], {})
    assert snapshot() == before


def test_undo_twice_is_refused_and_changes_nothing() -> None:
    s = a_contact_with_history()
    log = merge_contacts(s["desk"].admin, s["kept"], s["merged"], {})
    undo_merge(s["desk"].admin, log)
    before = snapshot()
    with pytest.raises(Conflict):
        undo_merge(s["desk"].admin, log)
    assert snapshot() == before


def test_undo_is_refused_while_a_later_merge_of_either_record_is_in_force() -> None:
    s = a_contact_with_history()
    admin = s["desk"].admin
    third: Any = ContactFactory(customer=s["desk"].customer, email="third@example.com")
    first = merge_contacts(admin, s["kept"], s["merged"], {})
    second = merge_contacts(admin, third, s["kept"], {})
    before = snapshot()
    with pytest.raises(Conflict):
        undo_merge(admin, first)
    assert snapshot() == before
    undo_merge(admin, second)
    undo_merge(admin, first)
    assert Ticket.objects.filter(contact=s["merged"]).count() == 2


def test_merging_an_already_merged_contact_is_refused() -> None:
    s = a_contact_with_history()
    admin = s["desk"].admin
    merge_contacts(admin, s["kept"], s["merged"], {})
    other: Any = ContactFactory(customer=s["desk"].customer)
    before = snapshot()
    with pytest.raises(Conflict):
        merge_contacts(admin, other, s["merged"], {})
    assert snapshot() == before


def test_customers_with_contacts_of_one_address_are_refused_naming_them() -> None:
    desk = build_desk()
    other: Any = CustomerFactory(name="Acme Ltd")
    twin: Any = ContactFactory(customer=other, email="LI.LEI@example.com")
    before = snapshot()
    with pytest.raises(Conflict) as refused:
        merge_customers(desk.admin, desk.customer, other, {})
    assert "merge these contacts first" in refused.value.message
    assert refused.value.errors["contacts"] == [f"{desk.contact.pk},{twin.pk}"]
    assert snapshot() == before


def test_customer_merge_moves_contacts_tickets_contracts_subsidiaries_and_undo() -> None:
    desk = build_desk()
    kept = desk.customer
    merged: Any = CustomerFactory(name="Acme", region="Shanghai", external_id="CRM-1")
    contact: Any = ContactFactory(customer=merged, email="zhang.wei@acme.example")
    ticket = open_ticket(desk, contact_id=contact.pk)
    assert ticket.customer_id == merged.pk
    contract = Contract.objects.create(customer=merged, name="Care", starts_on="2026-01-01")
    subsidiary: Any = CustomerFactory(name="Acme Shenzhen", parent=merged)
    before = references(Customer, kept.pk, merged.pk)

    log = merge_customers(desk.admin, kept, merged, {"name": "merged"})

    kept.refresh_from_db()
    assert kept.name == "Acme" and kept.region == "Shanghai" and kept.external_id == "CRM-1"
    merged.refresh_from_db()
    assert merged.merged_into_id == kept.pk and merged.external_id == ""
    assert Contact.objects.get(pk=contact.pk).customer_id == kept.pk
    assert Ticket.objects.get(pk=ticket.pk).customer_id == kept.pk
    assert Contract.objects.get(pk=contract.pk).customer_id == kept.pk
    assert Customer.objects.get(pk=subsidiary.pk).parent_id == kept.pk
    for key, rows in references(Customer, kept.pk, merged.pk).items():
        assert merged.pk not in rows.values(), key

    undo_merge(desk.admin, log)

    assert references(Customer, kept.pk, merged.pk) == before
    kept.refresh_from_db()
    merged.refresh_from_db()
    assert (kept.name, kept.region, kept.external_id) == (desk.customer.name, "", "")
    assert (merged.name, merged.external_id, merged.merged_into_id) == ("Acme", "CRM-1", None)


def test_the_merge_screen_merges_once_however_often_the_form_is_sent() -> None:
    import re

    from django.test import Client

    from tests.factories import SupervisorFactory

    acme: Any = CustomerFactory(name="Acme")
    a: Any = ContactFactory(customer=acme, name="Li Lei", title="")
    b: Any = ContactFactory(customer=acme, name="Lei Li", title="Buyer")
    browser = Client()
    supervisor: Any = SupervisorFactory()
    browser.force_login(supervisor)
    url = f"/customers/duplicates/contacts/{a.pk}/{b.pk}/"
    page = browser.get(url)
    assert page.status_code == 200
    token = re.search(r'name="form_token" value="([^"]+)"', page.content.decode())
    assert token is not None
    form = {"form_token": token.group(1), "keep": str(a.pk), "field_name": str(b.pk)}

    first = browser.post(url, form)
    second = browser.post(url, form)  # a double click

    assert first.status_code == second.status_code == 303
    assert first["Location"] == second["Location"] == "/customers/merges/"
    assert MergeLog.objects.count() == 1
    a.refresh_from_db()
    assert (a.name, a.title) == ("Lei Li", "Buyer")
    assert browser.get("/customers/merges/").status_code == 200


def test_an_agent_does_not_see_the_duplicate_screens() -> None:
    from django.test import Client

    from tests.factories import AgentFactory

    acme: Any = CustomerFactory(name="Acme")
    a: Any = ContactFactory(customer=acme, name="Li Lei")
    b: Any = ContactFactory(customer=acme, name="Li Lei")
    browser = Client()
    agent: Any = AgentFactory()
    browser.force_login(agent)
    before = snapshot()
    assert browser.get("/customers/duplicates/").status_code == 403
    assert browser.get("/customers/merges/").status_code == 403
    url = f"/customers/duplicates/contacts/{a.pk}/{b.pk}/"
    assert browser.post(url, {"keep": str(a.pk)}).status_code == 403
    assert snapshot() == before
