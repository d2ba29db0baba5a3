"""The records' services: each change, each refusal with nothing changed, the audit rows
(docs/customers-records.md)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.core.cache import cache

from audit.models import AuditEvent
from core.errors import Conflict, Forbidden, InvalidInput, NotFound
from customers.models import Contact, ContactPoint, Contract, Customer, CustomField, LegalHold
from customers.services import records
from tests.factories import (
    AdministratorFactory,
    AgentFactory,
    AnalystFactory,
    ContactFactory,
    CustomerFactory,
    SupervisorFactory,
)

pytestmark = pytest.mark.django_db


def rows(kind: str, verb: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(subject_kind=kind, verb=verb).order_by("id"))


def snapshot(obj: Any) -> dict[str, Any]:
    obj.refresh_from_db()
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}


def test_create_customer_normalises_tags_and_audits_every_field() -> None:
    supervisor: Any = SupervisorFactory()
    owner: Any = AgentFactory()

    customer = records.create_customer(
        actor=supervisor,
        data={
            "kind": "company",
            "name": "  上海  华为 贸易 ",
            "tier": "gold",
            "tags": ["VIP", " vip ", "Key  Account", ""],
            "owner": owner.pk,
            "external_id": "ERP-1",
        },
    )

    customer.refresh_from_db()
    assert customer.name == "上海 华为 贸易"
    assert customer.tags == ["vip", "key account"]
    assert customer.owner_id == owner.pk
    [row] = rows("customer", "created")
    assert row.customer_id == customer.pk
    assert row.actor_id == supervisor.pk
    assert row.after["tier"] == "gold"
    assert row.after["owner"] == owner.pk
    assert row.after["tags"] == ["vip", "key account"]


def test_an_agent_who_creates_a_customer_owns_it() -> None:
    agent: Any = AgentFactory()

    customer = records.create_customer(actor=agent, data={"kind": "individual", "name": "王芳"})

    assert customer.owner_id == agent.pk


def test_update_customer_audits_only_what_changed() -> None:
    supervisor: Any = SupervisorFactory()
    customer: Any = CustomerFactory(name="Acme", tier="standard", region="East")

    records.update_customer(
        actor=supervisor,
        customer_id=customer.pk,
        data={"tier": "platinum", "region": "East", "name": "Acme"},
    )

    [row] = rows("customer", "changed")
    assert row.before == {"tier": "standard"}
    assert row.after == {"tier": "platinum"}
    assert row.customer_id == customer.pk


def test_an_unchanged_update_writes_no_audit_row() -> None:
    customer: Any = CustomerFactory(name="Acme")

    records.update_customer(
        actor=SupervisorFactory(), customer_id=customer.pk, data={"name": "Acme"}
    )

    assert rows("customer", "changed") == []


def test_an_agent_may_not_edit_a_customer_they_cannot_see() -> None:
    customer: Any = CustomerFactory(name="Hidden")
    before = snapshot(customer)

    with pytest.raises(NotFound):
        records.update_customer(
            actor=AgentFactory(), customer_id=customer.pk, data={"tier": "gold"}
        )

    assert snapshot(customer) == before
    assert AuditEvent.objects.count() == 0


def test_an_agent_edits_the_accounts_they_own() -> None:
    agent: Any = AgentFactory()
    customer: Any = CustomerFactory(owner=agent)

    records.update_customer(actor=agent, customer_id=customer.pk, data={"tier": "gold"})

    customer.refresh_from_db()
    assert customer.tier == "gold"


def test_an_analyst_may_not_write() -> None:
    analyst: Any = AnalystFactory()
    customer: Any = CustomerFactory(name="Acme")
    contact: Any = ContactFactory(customer=customer)
    before = snapshot(customer), snapshot(contact)

    for call in (
        lambda: records.create_customer(actor=analyst, data={"kind": "company", "name": "X"}),
        lambda: records.update_customer(actor=analyst, customer_id=customer.pk, data={"name": "Y"}),
        lambda: records.create_contact(actor=analyst, data={"name": "Z"}),
        lambda: records.update_contact(actor=analyst, contact_id=contact.pk, data={"name": "Z"}),
        lambda: records.add_contract(
            actor=analyst,
            customer_id=customer.pk,
            data={"name": "C", "starts_on": "2026-01-01"},
        ),
    ):
        with pytest.raises(Forbidden):
            call()

    assert (snapshot(customer), snapshot(contact)) == before
    assert Customer.objects.count() == 1
    assert AuditEvent.objects.count() == 0


def test_bad_customer_fields_are_named_and_nothing_is_saved() -> None:
    supervisor: Any = SupervisorFactory()
    CustomerFactory(external_id="ERP-1")

    with pytest.raises(InvalidInput) as refused:
        records.create_customer(
            actor=supervisor,
            data={
                "kind": "robot",
                "name": "",
                "tier": "diamond",
                "tags": ["x" * 40],
                "owner": 999999,
                "external_id": "ERP-1",
                "colour": "red",
            },
        )

    assert set(refused.value.errors) == {
        "kind",
        "name",
        "tier",
        "tags",
        "owner",
        "external_id",
        "colour",
    }
    assert Customer.objects.count() == 1
    assert AuditEvent.objects.count() == 0


def test_the_group_hierarchy_refuses_self_and_cycles() -> None:
    supervisor: Any = SupervisorFactory()
    group: Any = CustomerFactory(name="Group")
    subsidiary: Any = CustomerFactory(name="Sub", parent=group)
    grandchild: Any = CustomerFactory(name="Grand", parent=subsidiary)

    with pytest.raises(InvalidInput) as itself:
        records.update_customer(actor=supervisor, customer_id=group.pk, data={"parent": group.pk})
    with pytest.raises(InvalidInput) as cycle:
        records.update_customer(
            actor=supervisor, customer_id=group.pk, data={"parent": grandchild.pk}
        )

    assert set(itself.value.errors) == {"parent"}
    assert set(cycle.value.errors) == {"parent"}
    group.refresh_from_db()
    assert group.parent_id is None
    assert AuditEvent.objects.count() == 0


def test_a_group_customer_is_a_company() -> None:
    person: Any = CustomerFactory(kind="individual")
    company: Any = CustomerFactory()

    with pytest.raises(InvalidInput) as refused:
        records.update_customer(
            actor=SupervisorFactory(), customer_id=company.pk, data={"parent": person.pk}
        )

    assert set(refused.value.errors) == {"parent"}


def test_custom_values_are_checked_by_their_definition() -> None:
    supervisor: Any = SupervisorFactory()
    CustomField.objects.create(target="customer", key="employees", label="Employees", type="number")
    customer: Any = CustomerFactory()

    with pytest.raises(InvalidInput) as refused:
        records.update_customer(
            actor=supervisor, customer_id=customer.pk, data={"custom": {"employees": "many"}}
        )
    records.update_customer(
        actor=supervisor, customer_id=customer.pk, data={"custom": {"employees": "120"}}
    )

    assert set(refused.value.errors) == {"custom.employees"}
    customer.refresh_from_db()
    assert customer.custom == {"employees": 120}


def test_create_contact_normalises_email_and_phone_and_audits() -> None:
    supervisor: Any = SupervisorFactory()
    customer: Any = CustomerFactory()

    contact = records.create_contact(
        actor=supervisor,
        data={
            "customer": customer.pk,
            "name": "李雷",
            "email": "  Li.Lei@Example.COM ",
            "phone": "138 0013 8000",
            "language": "zh-hans",
            "birthday": "1990-05-01",
            "preferred_channel": "wechat",
        },
    )

    contact.refresh_from_db()
    assert contact.email == "li.lei@example.com"
    assert contact.phone == "+8613800138000"
    assert contact.birthday == date(1990, 5, 1)
    [row] = rows("contact", "created")
    assert (row.customer_id, row.contact_id) == (customer.pk, contact.pk)
    assert row.after["phone"] == "+8613800138000"


def test_bad_contact_fields_are_named_and_nothing_is_saved() -> None:
    supervisor: Any = SupervisorFactory()
    customer: Any = CustomerFactory()
    ContactFactory(customer=customer, email="taken@example.com")
    tomorrow = date.today() + timedelta(days=2)

    with pytest.raises(InvalidInput) as refused:
        records.create_contact(
            actor=supervisor,
            data={
                "customer": customer.pk,
                "name": "X",
                "email": "not an address",
                "phone": "12",
                "birthday": tomorrow.isoformat(),
                "language": "fr",
            },
        )
    with pytest.raises(InvalidInput) as duplicate:
        records.create_contact(
            actor=supervisor,
            data={"customer": customer.pk, "name": "Y", "email": "TAKEN@example.com"},
        )

    assert set(refused.value.errors) == {"email", "phone", "birthday", "language"}
    assert set(duplicate.value.errors) == {"email"}
    assert Contact.objects.count() == 1
    assert AuditEvent.objects.count() == 0


def test_the_same_address_may_belong_to_contacts_of_two_customers() -> None:
    supervisor: Any = SupervisorFactory()
    other: Any = CustomerFactory()
    ContactFactory(customer=CustomerFactory(), email="shared@example.com")

    contact = records.create_contact(
        actor=supervisor, data={"customer": other.pk, "email": "shared@example.com"}
    )

    assert contact.pk is not None


def test_update_contact_audits_only_what_changed_and_a_duplicate_external_id_is_refused() -> None:
    supervisor: Any = SupervisorFactory()
    contact: Any = ContactFactory(name="Old", title="Buyer")
    ContactFactory(external_id="CRM-9")

    records.update_contact(
        actor=supervisor, contact_id=contact.pk, data={"name": "New", "title": "Buyer"}
    )
    with pytest.raises(InvalidInput) as refused:
        records.update_contact(
            actor=supervisor, contact_id=contact.pk, data={"external_id": "CRM-9"}
        )

    [row] = rows("contact", "changed")
    assert (row.before, row.after) == ({"name": "Old"}, {"name": "New"})
    assert row.contact_id == contact.pk
    assert set(refused.value.errors) == {"external_id"}
    contact.refresh_from_db()
    assert contact.external_id == ""


def test_an_agent_may_not_edit_a_contact_they_cannot_see_nor_move_one_to_such_a_customer() -> None:
    agent: Any = AgentFactory()
    hidden: Any = ContactFactory(name="Hidden")
    mine: Any = ContactFactory(customer=CustomerFactory(owner=agent), name="Mine")
    before = snapshot(hidden), snapshot(mine)

    with pytest.raises(NotFound):
        records.update_contact(actor=agent, contact_id=hidden.pk, data={"name": "X"})
    with pytest.raises(InvalidInput) as moved:
        records.update_contact(
            actor=agent, contact_id=mine.pk, data={"customer": hidden.customer_id}
        )

    assert set(moved.value.errors) == {"customer"}
    assert (snapshot(hidden), snapshot(mine)) == before


def test_points_are_normalised_refused_twice_and_removed() -> None:
    supervisor: Any = SupervisorFactory()
    contact: Any = ContactFactory(email="a@example.com", phone="+8613800138000")

    point = records.add_point(
        actor=supervisor, contact_id=contact.pk, kind="phone", value="021 5555 0101"
    )
    with pytest.raises(InvalidInput):
        records.add_point(
            actor=supervisor, contact_id=contact.pk, kind="email", value="A@example.com"
        )
    with pytest.raises(InvalidInput):
        records.add_point(actor=supervisor, contact_id=contact.pk, kind="phone", value="nope")
    records.remove_point(actor=supervisor, contact_id=contact.pk, point_id=point.pk)

    assert point.value == "+862155550101"
    assert ContactPoint.objects.count() == 0
    added, removed = rows("contact", "changed")
    assert added.after == {"points": [{"kind": "phone", "value": "+862155550101"}]}
    assert removed.after == {"points": []}


def test_contracts_are_added_changed_and_removed_with_audit() -> None:
    supervisor: Any = SupervisorFactory()
    customer: Any = CustomerFactory()

    contract = records.add_contract(
        actor=supervisor,
        customer_id=customer.pk,
        data={"name": "Support 2026", "starts_on": "2026-01-01", "ends_on": "2026-12-31"},
    )
    with pytest.raises(InvalidInput) as refused:
        records.update_contract(
            actor=supervisor,
            customer_id=customer.pk,
            contract_id=contract.pk,
            data={"ends_on": "2025-01-01"},
        )
    records.update_contract(
        actor=supervisor,
        customer_id=customer.pk,
        contract_id=contract.pk,
        data={"auto_renew": True, "value": "1200.5"},
    )
    records.remove_contract(actor=supervisor, customer_id=customer.pk, contract_id=contract.pk)

    assert set(refused.value.errors) == {"ends_on"}
    assert Contract.objects.count() == 0
    [added] = rows("customer", "contract_added")
    [changed] = rows("customer", "contract_changed")
    [removed] = rows("customer", "contract_removed")
    assert added.after["ends_on"] == "2026-12-31"
    assert changed.after == {"contract": contract.pk, "auto_renew": True, "value": "1200.50"}
    assert removed.before["name"] == "Support 2026"
    assert {added.customer_id, changed.customer_id, removed.customer_id} == {customer.pk}


def test_legal_holds_are_for_administrators_and_released_once() -> None:
    admin: Any = AdministratorFactory()
    customer: Any = CustomerFactory()

    with pytest.raises(Forbidden):
        records.place_legal_hold(actor=SupervisorFactory(), customer_id=customer.pk, reason="x")
    assert LegalHold.objects.count() == 0

    hold = records.place_legal_hold(actor=admin, customer_id=customer.pk, reason="Dispute 7")
    records.release_legal_hold(actor=admin, hold_id=hold.pk)
    with pytest.raises(Conflict):
        records.release_legal_hold(actor=admin, hold_id=hold.pk)

    hold.refresh_from_db()
    assert hold.released_at is not None
    assert rows("customer", "legal_hold")[0].after["reason"] == "Dispute 7"
    assert rows("customer", "legal_hold_released")[0].customer_id == customer.pk


def test_custom_fields_choice_needs_choices_and_key_is_fixed_once_used() -> None:
    admin: Any = AdministratorFactory()

    with pytest.raises(InvalidInput) as no_choices:
        records.save_custom_field(
            actor=admin,
            data={"target": "customer", "key": "size", "label": "Size", "type": "choice"},
        )
    field = records.save_custom_field(
        actor=admin,
        data={
            "target": "customer",
            "key": "size",
            "label": "Size",
            "label_zh": "规模",
            "type": "choice",
            "choices": ["small", "large", "small"],
        },
    )
    CustomerFactory(custom={"size": "small"})
    with pytest.raises(InvalidInput) as key_fixed:
        records.save_custom_field(actor=admin, field_id=field.pk, data={"key": "scale"})
    records.save_custom_field(actor=admin, field_id=field.pk, data={"label": "Company size"})
    records.retire_custom_field(actor=admin, field_id=field.pk)

    assert set(no_choices.value.errors) == {"choices"}
    assert set(key_fixed.value.errors) == {"key"}
    field.refresh_from_db()
    assert (field.key, field.label, field.choices, field.is_active) == (
        "size",
        "Company size",
        ["small", "large"],
        False,
    )
    assert [r.verb for r in AuditEvent.objects.order_by("id")] == [
        "field_defined",
        "field_changed",
        "field_retired",
    ]


def test_only_administrators_define_custom_fields() -> None:
    with pytest.raises(Forbidden):
        records.save_custom_field(
            actor=SupervisorFactory(),
            data={"target": "contact", "key": "vip", "label": "VIP", "type": "boolean"},
        )
    assert CustomField.objects.count() == 0


def test_a_personal_data_read_is_audited_once_in_ten_minutes() -> None:
    cache.clear()
    supervisor: Any = SupervisorFactory()
    contact: Any = ContactFactory()

    first = records.record_personal_data_viewed(actor=supervisor, contact=contact)
    second = records.record_personal_data_viewed(actor=supervisor, contact=contact)
    masked = records.record_personal_data_viewed(actor=AnalystFactory(), contact=contact)

    assert (first, second, masked) == (True, False, False)
    [row] = rows("contact", "personal_data_viewed")
    assert (row.contact_id, row.actor_id) == (contact.pk, supervisor.pk)


def test_an_agent_names_the_customer_of_a_new_contact() -> None:
    with pytest.raises(InvalidInput) as refused:
        records.create_contact(actor=AgentFactory(), data={"name": "Walk-in"})

    assert set(refused.value.errors) == {"customer"}
    assert Contact.objects.count() == 0
