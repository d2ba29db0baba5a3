"""The duplicates, merge and undo endpoints (docs/customers-merge.md)."""

from __future__ import annotations

from typing import Any

import pytest

from audit.models import AuditEvent
from customers.models import Contact, Customer, DismissedPair, MergeLog
from tests.conftest import client_for
from tests.factories import (
    AdministratorFactory,
    AgentFactory,
    AnalystFactory,
    ContactFactory,
    CustomerFactory,
    MarketingFactory,
    SupervisorFactory,
)
from tests.factories.complaints import ManagerFactory

pytestmark = pytest.mark.django_db


def state() -> dict[str, Any]:
    return {
        "contacts": list(Contact.objects.order_by("pk").values()),
        "customers": list(Customer.objects.order_by("pk").values()),
        "logs": list(MergeLog.objects.order_by("pk").values()),
        "dismissed": list(DismissedPair.objects.order_by("pk").values()),
        "audit": AuditEvent.objects.count(),
    }


def test_review_merge_list_and_undo_contacts() -> None:
    supervisor: Any = SupervisorFactory()
    acme: Any = CustomerFactory(name="Acme")
    kept: Any = ContactFactory(customer=acme, name="Li Lei", email="li.lei@example.com", phone="")
    merged: Any = ContactFactory(
        customer=acme, name="Lei Li", email="lei@example.com", phone="+8613800138000"
    )
    api = client_for(supervisor)

    listed = api.get("/api/contacts/duplicates/")
    assert listed.status_code == 200
    (pair,) = listed.json()["results"]
    assert {pair["a"]["id"], pair["b"]["id"]} == {kept.pk, merged.pk}
    assert pair["reasons"] == ["name"]

    answer = api.post(
        f"/api/contacts/{kept.pk}/merge/",
        {"other": merged.pk, "choose": {"email": "merged"}},
        format="json",
    )
    assert answer.status_code == 200, answer.json()
    body = answer.json()
    assert (body["id"], body["email"], body["phone"]) == (
        kept.pk,
        "lei@example.com",
        "+8613800138000",
    )
    assert api.get("/api/contacts/duplicates/").json()["results"] == []

    logs = api.get("/api/merges/").json()["results"]
    assert [(log["kept"], log["merged"], log["target"]) for log in logs] == [
        (kept.pk, merged.pk, "contact")
    ]
    undone = api.post(f"/api/merges/{logs[0]['id']}/undo/")
    assert undone.status_code == 200 and undone.json()["undone_at"]
    kept.refresh_from_db()
    merged.refresh_from_db()
    assert (kept.email, kept.phone, merged.merged_into_id) == ("li.lei@example.com", "", None)

    before = state()
    again = api.post(f"/api/merges/{logs[0]['id']}/undo/")
    assert again.status_code == 409 and again.json()["detail"]
    assert state() == before


def test_an_agent_gets_403_and_nothing_changes() -> None:
    acme: Any = CustomerFactory(name="Acme")
    a: Any = ContactFactory(customer=acme, name="Li Lei")
    b: Any = ContactFactory(customer=acme, name="Li Lei")
    api = client_for(AgentFactory())
    before = state()
    assert api.get("/api/contacts/duplicates/").status_code == 403
    assert api.get("/api/customers/duplicates/").status_code == 403
    assert api.get("/api/merges/").status_code == 403
    answer = api.post(f"/api/contacts/{a.pk}/merge/", {"other": b.pk}, format="json")
    assert answer.status_code == 403 and set(answer.json()) == {"detail", "errors"}
    assert state() == before


def test_customers_with_clashing_contacts_get_409_naming_them() -> None:
    manager: Any = ManagerFactory()
    kept: Any = CustomerFactory(name="Acme")
    merged: Any = CustomerFactory(name="ACME")
    one: Any = ContactFactory(customer=kept, email="wang@acme.example")
    two: Any = ContactFactory(customer=merged, email="wang@acme.example")
    api = client_for(manager)
    (pair,) = api.get("/api/customers/duplicates/").json()["results"]
    assert pair["reasons"] == ["name"]
    before = state()
    answer = api.post(f"/api/customers/{kept.pk}/merge/", {"other": merged.pk}, format="json")
    assert answer.status_code == 409
    assert "wang@acme.example" in answer.json()["detail"]
    assert answer.json()["errors"]["contacts"] == [f"{one.pk},{two.pk}"]
    assert state() == before


def test_customer_merge_and_bad_input() -> None:
    admin: Any = AdministratorFactory()
    kept: Any = CustomerFactory(name="Acme", region="")
    merged: Any = CustomerFactory(name="Acme Co", region="Beijing")
    api = client_for(admin)
    before = state()
    assert (
        api.post(f"/api/customers/{kept.pk}/merge/", {"other": kept.pk}, format="json").status_code
        == 400
    )
    bad = api.post(
        f"/api/customers/{kept.pk}/merge/",
        {"other": merged.pk, "choose": {"name": "both"}},
        format="json",
    )
    assert bad.status_code == 400
    unknown = api.post(
        f"/api/customers/{kept.pk}/merge/",
        {"other": merged.pk, "choose": {"password": "merged"}},
        format="json",
    )
    assert unknown.status_code == 400
    missing = api.post("/api/customers/999999/merge/", {"other": merged.pk}, format="json")
    assert missing.status_code == 404
    assert state() == before
    done = api.post(f"/api/customers/{kept.pk}/merge/", {"other": merged.pk}, format="json")
    assert done.status_code == 200 and done.json()["region"] == "Beijing"
    twice = api.post(f"/api/customers/{kept.pk}/merge/", {"other": merged.pk}, format="json")
    assert twice.status_code == 404  # merged away: no longer visible


def test_the_schema_describes_the_merge_endpoints() -> None:
    api = client_for(AdministratorFactory())
    schema = api.get("/api/schema/", {"format": "json"}).json()
    paths = schema["paths"]
    for path, method in [
        ("/api/contacts/duplicates/", "get"),
        ("/api/customers/duplicates/", "get"),
        ("/api/contacts/{id}/merge/", "post"),
        ("/api/customers/{id}/merge/", "post"),
        ("/api/merges/", "get"),
        ("/api/merges/{id}/undo/", "post"),
        ("/api/contacts/{id}/not-duplicate/", "post"),
        ("/api/customers/{id}/not-duplicate/", "post"),
        ("/api/duplicate-dismissals/", "get"),
    ]:
        assert method in paths[path], path
        assert "200" in paths[path][method]["responses"]
        assert "403" in paths[path][method]["responses"]
    assert "409" in paths["/api/merges/{id}/undo/"]["post"]["responses"]
    for path in ("/api/contacts/{id}/not-duplicate/", "/api/customers/{id}/not-duplicate/"):
        responses = paths[path]["post"]["responses"]
        assert {"200", "201", "403", "404", "409"} <= set(responses), path
    restore = paths["/api/duplicate-dismissals/{id}/restore/"]["post"]["responses"]
    assert {"204", "403", "404"} <= set(restore)


def test_not_a_duplicate_dismiss_list_and_restore() -> None:
    supervisor: Any = SupervisorFactory()
    acme: Any = CustomerFactory(name="Acme")
    a: Any = ContactFactory(customer=acme, name="Li Lei", email="li@example.com")
    b: Any = ContactFactory(customer=acme, name="Lei Li", email="lei@example.com")
    api = client_for(supervisor)
    assert len(api.get("/api/contacts/duplicates/").json()["results"]) == 1

    made = api.post(
        f"/api/contacts/{b.pk}/not-duplicate/",
        {"other": a.pk, "reason": "Two people"},
        format="json",
    )
    assert made.status_code == 201, made.json()
    body = made.json()
    assert (body["target"], body["a"], body["b"], body["reason"], body["actor"]) == (
        "contact",
        min(a.pk, b.pk),
        max(a.pk, b.pk),
        "Two people",
        supervisor.pk,
    )
    assert api.get("/api/contacts/duplicates/").json()["results"] == []

    before = state()
    again = api.post(f"/api/contacts/{a.pk}/not-duplicate/", {"other": b.pk}, format="json")
    assert again.status_code == 200 and again.json()["id"] == body["id"]
    assert state() == before  # idempotent: nothing written

    listed = api.get("/api/duplicate-dismissals/", {"target": "contact"}).json()
    assert [row["id"] for row in listed["results"]] == [body["id"]]
    assert api.get("/api/duplicate-dismissals/", {"target": "customer"}).json()["results"] == []

    restored = api.post(f"/api/duplicate-dismissals/{body['id']}/restore/")
    assert restored.status_code == 204
    assert len(api.get("/api/contacts/duplicates/").json()["results"]) == 1
    before = state()
    gone = api.post(f"/api/duplicate-dismissals/{body['id']}/restore/")
    assert gone.status_code == 404 and gone.json()["detail"]
    assert state() == before


def test_customers_not_a_duplicate_and_bad_input() -> None:
    manager: Any = ManagerFactory()
    one: Any = CustomerFactory(name="Acme")
    two: Any = CustomerFactory(name="ACME")
    api = client_for(manager)
    before = state()
    for body in (
        {"other": one.pk},  # itself
        {"other": "two"},
        {},
        {"other": two.pk, "reason": "x" * 501},
        ["other"],
    ):
        answer = api.post(f"/api/customers/{one.pk}/not-duplicate/", body, format="json")
        assert answer.status_code == 400, (body, answer.json())
        assert set(answer.json()) == {"detail", "errors"}
    missing = api.post("/api/customers/987654321/not-duplicate/", {"other": two.pk}, format="json")
    assert missing.status_code == 404
    contact_ids = api.post(
        f"/api/contacts/{one.pk}/not-duplicate/", {"other": two.pk}, format="json"
    )
    assert contact_ids.status_code == 404  # customer ids are not contact ids
    assert api.get("/api/duplicate-dismissals/", {"target": "ticket"}).status_code == 400
    assert state() == before

    made = api.post(f"/api/customers/{one.pk}/not-duplicate/", {"other": two.pk}, format="json")
    assert made.status_code == 201 and made.json()["target"] == "customer"
    assert api.get("/api/customers/duplicates/").json()["results"] == []


def test_who_may_not_merge_may_not_dismiss_and_nothing_changes() -> None:
    acme: Any = CustomerFactory(name="Acme")
    a: Any = ContactFactory(customer=acme, name="Li Lei")
    b: Any = ContactFactory(customer=acme, name="Li Lei")
    made = client_for(AdministratorFactory()).post(
        f"/api/contacts/{a.pk}/not-duplicate/", {"other": b.pk}, format="json"
    )
    c: Any = ContactFactory(customer=acme, name="Li Lei")
    before = state()
    for user in (AgentFactory(), MarketingFactory(), AnalystFactory()):
        api = client_for(user)
        answer = api.post(f"/api/contacts/{a.pk}/not-duplicate/", {"other": c.pk}, format="json")
        assert answer.status_code == 403 and set(answer.json()) == {"detail", "errors"}
        assert api.get("/api/duplicate-dismissals/").status_code == 403
        restore = api.post(f"/api/duplicate-dismissals/{made.json()['id']}/restore/")
        assert restore.status_code == 403
    assert state() == before
