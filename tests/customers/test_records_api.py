"""The records API: shapes, refusals (404 unseen, 403 not allowed, 400 naming the field)
with nothing changed, masking for analysts, audit of reads, query counts of the lists."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.core.cache import cache

from audit.models import AuditEvent
from customers.models import Contact, Customer, CustomField, LegalHold
from tests.conftest import client_for
from tests.factories import (
    AdministratorFactory,
    AgentFactory,
    AnalystFactory,
    ContactFactory,
    CustomerFactory,
    SupervisorFactory,
)

pytestmark = pytest.mark.django_db


def snapshot(obj: Any) -> dict[str, Any]:
    obj.refresh_from_db()
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}


def test_create_and_read_a_customer() -> None:
    supervisor: Any = SupervisorFactory(first_name="Mei", last_name="Chen")
    group: Any = CustomerFactory(name="Group")
    CustomField.objects.create(
        target="customer", key="employees", label="Employees", label_zh="员工", type="number"
    )
    client = client_for(supervisor)

    created = client.post(
        "/api/customers/",
        {
            "kind": "company",
            "name": "华为 上海",
            "tier": "gold",
            "tags": ["VIP", "vip"],
            "owner": supervisor.pk,
            "parent": group.pk,
            "custom": {"employees": "300"},
        },
        format="json",
    )

    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["name"] == "华为 上海"
    assert body["tags"] == ["vip"]
    assert body["owner"] == {"id": supervisor.pk, "name": "Mei Chen"}
    assert body["parent"] == {"id": group.pk, "name": "Group"}
    assert body["custom"] == {"employees": 300}
    assert body["custom_fields"] == [
        {"key": "employees", "label": "Employees", "type": "number", "value": 300}
    ]
    assert body["legal_holds"] is None  # administrators only
    group_detail = client.get(f"/api/customers/{group.pk}/").json()
    assert group_detail["subsidiaries"] == [{"id": body["id"], "name": "华为 上海"}]


def test_patch_names_the_bad_field_and_changes_nothing() -> None:
    supervisor: Any = SupervisorFactory()
    customer: Any = CustomerFactory(name="Acme")
    before = snapshot(customer)
    client = client_for(supervisor)

    for data, field in (
        ({"tier": "diamond"}, "tier"),
        ({"parent": customer.pk}, "parent"),
        ({"custom": {"nope": 1}}, "custom.nope"),
        ({"owner": 987654}, "owner"),
    ):
        response = client.patch(f"/api/customers/{customer.pk}/", data, format="json")
        assert response.status_code == 400, data
        assert field in response.json()["errors"], response.json()

    assert snapshot(customer) == before
    assert AuditEvent.objects.count() == 0


def test_a_cycle_in_the_hierarchy_is_a_400() -> None:
    group: Any = CustomerFactory(name="Group")
    subsidiary: Any = CustomerFactory(name="Sub", parent=group)

    response = client_for(SupervisorFactory()).patch(
        f"/api/customers/{group.pk}/", {"parent": subsidiary.pk}, format="json"
    )

    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"parent"}
    group.refresh_from_db()
    assert group.parent_id is None


def test_an_agent_gets_404_for_a_customer_they_cannot_see() -> None:
    customer: Any = CustomerFactory(name="Hidden")
    before = snapshot(customer)
    client = client_for(AgentFactory())

    assert client.get(f"/api/customers/{customer.pk}/").status_code == 404
    response = client.patch(f"/api/customers/{customer.pk}/", {"name": "Mine"}, format="json")

    assert response.status_code == 404
    assert snapshot(customer) == before
    assert AuditEvent.objects.count() == 0


def test_an_analyst_writing_gets_403_and_nothing_changes() -> None:
    customer: Any = CustomerFactory(name="Acme")
    contact: Any = ContactFactory(customer=customer)
    before = snapshot(customer), snapshot(contact)
    client = client_for(AnalystFactory())

    answers = [
        client.post("/api/customers/", {"kind": "company", "name": "X"}, format="json"),
        client.patch(f"/api/customers/{customer.pk}/", {"name": "X"}, format="json"),
        client.post("/api/contacts/", {"name": "X", "customer": customer.pk}, format="json"),
        client.patch(f"/api/contacts/{contact.pk}/", {"name": "X"}, format="json"),
        client.post(
            f"/api/customers/{customer.pk}/contracts/",
            {"name": "C", "starts_on": "2026-01-01"},
            format="json",
        ),
        client.post(f"/api/customers/{customer.pk}/legal-holds/", {"reason": "x"}, format="json"),
        client.post(
            "/api/custom-fields/",
            {"target": "customer", "key": "k", "label": "K", "type": "text"},
            format="json",
        ),
    ]

    assert [a.status_code for a in answers] == [403] * len(answers)
    assert (snapshot(customer), snapshot(contact)) == before
    assert (Customer.objects.count(), Contact.objects.count()) == (1, 1)
    assert AuditEvent.objects.count() == 0


def test_contacts_bad_phone_or_email_is_a_400_naming_the_field() -> None:
    customer: Any = CustomerFactory()
    client = client_for(SupervisorFactory())

    bad_phone = client.post(
        "/api/contacts/", {"customer": customer.pk, "phone": "12345"}, format="json"
    )
    bad_email = client.post(
        "/api/contacts/", {"customer": customer.pk, "email": "li@"}, format="json"
    )

    assert bad_phone.status_code == 400
    assert set(bad_phone.json()["errors"]) == {"phone"}
    assert bad_email.status_code == 400
    assert set(bad_email.json()["errors"]) == {"email"}
    assert Contact.objects.count() == 0


def test_a_duplicate_address_within_a_customer_is_a_400_not_a_500() -> None:
    customer: Any = CustomerFactory()
    ContactFactory(customer=customer, email="li@example.com")

    response = client_for(SupervisorFactory()).post(
        "/api/contacts/", {"customer": customer.pk, "email": "LI@example.com"}, format="json"
    )

    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"email"}
    assert Contact.objects.count() == 1


def test_contact_detail_with_points_and_one_audited_read_in_ten_minutes() -> None:
    cache.clear()
    supervisor: Any = SupervisorFactory()
    customer: Any = CustomerFactory(name="Acme")
    client = client_for(supervisor)
    created = client.post(
        "/api/contacts/",
        {"customer": customer.pk, "name": "李雷", "phone": "138 0013 8000"},
        format="json",
    ).json()
    point = client.post(
        f"/api/contacts/{created['id']}/points/",
        {"kind": "email", "value": "Li@Example.com", "label": "work"},
        format="json",
    )

    first = client.get(f"/api/contacts/{created['id']}/")
    client.get(f"/api/contacts/{created['id']}/")

    assert point.status_code == 201
    assert first.status_code == 200
    body = first.json()
    assert body["phone"] == "+8613800138000"
    assert body["customer"] == {"id": customer.pk, "name": "Acme"}
    assert body["points"] == [
        {"id": point.json()["id"], "kind": "email", "value": "li@example.com", "label": "work"}
    ]
    viewed = AuditEvent.objects.filter(subject_kind="contact", verb="personal_data_viewed")
    assert [(r.contact_id, r.actor_id) for r in viewed] == [(created["id"], supervisor.pk)]

    deleted = client.delete(f"/api/contacts/{created['id']}/points/{point.json()['id']}/")
    assert deleted.status_code == 204
    assert client.get(f"/api/contacts/{created['id']}/").json()["points"] == []


def test_an_analyst_sees_personal_fields_masked_unless_granted() -> None:
    cache.clear()
    person: Any = CustomerFactory(kind="individual", name="王芳")
    company: Any = CustomerFactory(name="Acme")
    contact: Any = ContactFactory(
        customer=company, name="李雷", email="li@example.com", phone="+8613800138000"
    )
    Contact.objects.filter(pk=contact.pk).update(birthday="1990-01-01")
    analyst: Any = AnalystFactory()
    client = client_for(analyst)

    customers = {c["id"]: c["name"] for c in client.get("/api/customers/").json()["results"]}
    detail = client.get(f"/api/contacts/{contact.pk}/").json()
    listed = client.get("/api/contacts/").json()["results"]
    searched = client.get("/api/contacts/", {"search": "li@"}).json()["results"]

    assert customers == {person.pk: "***", company.pk: "Acme"}
    assert (detail["name"], detail["email"], detail["phone"], detail["birthday"]) == (
        "***",
        "***",
        "***",
        "***",
    )
    assert (listed[0]["name"], listed[0]["email"]) == ("***", "***")
    assert searched[0]["email"] == "***"
    assert not AuditEvent.objects.filter(verb="personal_data_viewed").exists()

    analyst.user_permissions.add(Permission.objects.get(codename="view_personal_data"))
    granted = client_for(type(analyst).objects.get(pk=analyst.pk))
    assert granted.get(f"/api/contacts/{contact.pk}/").json()["email"] == "li@example.com"


def test_customers_list_filters_pages_by_name_then_id_in_fixed_queries(
    django_assert_max_num_queries: Any,
) -> None:
    supervisor: Any = SupervisorFactory()
    owner: Any = AgentFactory()
    group: Any = CustomerFactory(name="Group")
    for n in range(120):
        CustomerFactory(
            name=f"客户 {n:03}", tier="gold" if n % 2 else "standard", owner=owner, parent=group
        )
    client = client_for(supervisor)
    client.get("/api/customers/")

    with django_assert_max_num_queries(4):
        first = client.get("/api/customers/", {"tier": "gold"})
    second = client.get(first.json()["next"])

    names = [r["name"] for r in first.json()["results"] + second.json()["results"]]
    assert names == [f"客户 {n:03}" for n in range(1, 120, 2)]  # 60 gold: pages of 50 and 10
    assert second.json()["next"] is None
    assert second.json()["previous"] is not None
    assert first.json()["results"][0]["owner"]["id"] == owner.pk
    assert first.json()["results"][0]["parent"] == {"id": group.pk, "name": "Group"}
    assert client.get("/api/customers/", {"tier": "diamond"}).status_code == 400


def test_contacts_list_pages_in_fixed_queries(django_assert_max_num_queries: Any) -> None:
    supervisor: Any = SupervisorFactory()
    customer: Any = CustomerFactory(name="Acme")
    for n in range(55):
        ContactFactory(customer=customer, name=f"Contact {n:02}")
    client = client_for(supervisor)
    client.get("/api/contacts/")

    with django_assert_max_num_queries(4):
        first = client.get("/api/contacts/", {"customer": customer.pk})
    second = client.get(first.json()["next"])

    assert len(first.json()["results"]) == 50
    assert [r["name"] for r in second.json()["results"]] == [
        f"Contact {n:02}" for n in range(50, 55)
    ]
    assert first.json()["results"][0]["customer"] == {"id": customer.pk, "name": "Acme"}


def test_an_agent_lists_only_customers_they_see() -> None:
    agent: Any = AgentFactory()
    mine: Any = CustomerFactory(name="Mine", owner=agent)
    CustomerFactory(name="Other")

    results = client_for(agent).get("/api/customers/").json()["results"]

    assert [r["id"] for r in results] == [mine.pk]


def test_contracts_over_the_api() -> None:
    customer: Any = CustomerFactory()
    client = client_for(SupervisorFactory())

    created = client.post(
        f"/api/customers/{customer.pk}/contracts/",
        {"name": "Care 2026", "starts_on": "2026-01-01", "ends_on": "2026-12-31", "value": "99.5"},
        format="json",
    )
    bad = client.patch(
        f"/api/customers/{customer.pk}/contracts/{created.json()['id']}/",
        {"ends_on": "2025-12-31"},
        format="json",
    )
    listed = client.get(f"/api/customers/{customer.pk}/contracts/")
    removed = client.delete(f"/api/customers/{customer.pk}/contracts/{created.json()['id']}/")

    assert created.status_code == 201
    assert created.json()["value"] == "99.50"
    assert bad.status_code == 400
    assert set(bad.json()["errors"]) == {"ends_on"}
    assert [c["name"] for c in listed.json()] == ["Care 2026"]
    assert removed.status_code == 204


def test_legal_holds_over_the_api() -> None:
    admin: Any = AdministratorFactory()
    customer: Any = CustomerFactory()
    client = client_for(admin)

    placed = client.post(
        f"/api/customers/{customer.pk}/legal-holds/", {"reason": "Court order"}, format="json"
    )
    detail = client.get(f"/api/customers/{customer.pk}/").json()
    released = client.post(f"/api/legal-holds/{placed.json()['id']}/release/")
    again = client.post(f"/api/legal-holds/{placed.json()['id']}/release/")
    by_supervisor = client_for(SupervisorFactory()).post(
        f"/api/legal-holds/{placed.json()['id']}/release/"
    )

    assert placed.status_code == 201
    assert [h["reason"] for h in detail["legal_holds"]] == ["Court order"]
    assert released.status_code == 200
    assert again.status_code == 409
    assert by_supervisor.status_code == 404
    assert LegalHold.objects.get().released_at is not None


def test_custom_fields_over_the_api() -> None:
    admin: Any = AdministratorFactory()
    client = client_for(admin)

    bad = client.post(
        "/api/custom-fields/",
        {"target": "contact", "key": "size", "label": "Size", "type": "choice"},
        format="json",
    )
    created = client.post(
        "/api/custom-fields/",
        {"target": "contact", "key": "vip", "label": "VIP", "type": "boolean"},
        format="json",
    )
    retired = client.patch(
        f"/api/custom-fields/{created.json()['id']}/", {"is_active": False}, format="json"
    )
    listed = client_for(SupervisorFactory()).get("/api/custom-fields/", {"target": "contact"})

    assert bad.status_code == 400
    assert set(bad.json()["errors"]) == {"choices"}
    assert created.status_code == 201
    assert retired.json()["is_active"] is False
    assert [f["key"] for f in listed.json()["results"]] == ["vip"]


def test_operation_ids_are_unique_in_the_schema() -> None:
    schema = client_for(SupervisorFactory()).get("/api/schema/", {"format": "json"}).json()
    ids = [
        operation["operationId"]
        for path in schema["paths"].values()
        for operation in path.values()
        if isinstance(operation, dict) and "operationId" in operation
    ]
    assert len(ids) == len(set(ids))
    assert "contacts_list" in ids and "customers_list" in ids


def test_admin_saves_a_customer_through_the_service_and_refuses_a_bad_one() -> None:
    from django.test import Client

    admin: Any = AdministratorFactory(is_staff=True, is_superuser=True)
    customer: Any = CustomerFactory(name="Acme", tier="standard")
    contact: Any = ContactFactory(customer=customer)
    client = Client()
    client.force_login(admin)
    for url in (
        "/admin/customers/customer/",
        f"/admin/customers/customer/{customer.pk}/change/",
        f"/admin/customers/contact/{contact.pk}/change/",
        "/admin/customers/customfield/add/",
        "/admin/customers/legalhold/",
        "/admin/customers/segment/",
        "/admin/customers/suppression/",
        "/admin/customers/importjob/",
        "/admin/customers/exportjob/",
        "/admin/customers/privacyrequest/",
    ):
        assert client.get(url).status_code == 200, url

    form = {
        "kind": "company",
        "name": "Acme",
        "tier": "gold",
        "tags": '["VIP"]',
        "custom": "{}",
        "region": "",
        "industry": "",
        "external_id": "",
        "contacts-TOTAL_FORMS": "1",
        "contacts-INITIAL_FORMS": "1",
        "contacts-MIN_NUM_FORMS": "0",
        "contacts-MAX_NUM_FORMS": "0",
        "contacts-0-id": str(contact.pk),
        "contacts-0-customer": str(customer.pk),
        "contracts-TOTAL_FORMS": "0",
        "contracts-INITIAL_FORMS": "0",
        "contracts-MIN_NUM_FORMS": "0",
        "contracts-MAX_NUM_FORMS": "1000",
    }
    url = f"/admin/customers/customer/{customer.pk}/change/"
    refused = client.post(url, {**form, "parent": str(customer.pk)})
    saved = client.post(url, form)

    assert refused.status_code == 200  # the form again, with the problem
    assert "A customer cannot be its own group customer." in refused.content.decode()
    assert saved.status_code == 302, saved.content.decode()[:2000]
    customer.refresh_from_db()
    assert (customer.tier, customer.tags) == ("gold", ["vip"])
    [row] = AuditEvent.objects.filter(subject_kind="customer", verb="changed")
    assert row.after == {"tier": "gold", "tags": ["vip"]}
