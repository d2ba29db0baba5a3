"""The segments, consent and suppression API: shapes, validation, roles
(docs/customers-segments.md)."""

from __future__ import annotations

from typing import Any

import pytest

from audit.models import AuditEvent
from customers.models import Consent, Segment, SegmentMember, SegmentSnapshot, Suppression
from tests.conftest import client_for
from tests.factories import (
    AgentFactory,
    AnalystFactory,
    ContactFactory,
    CustomerFactory,
    MarketingFactory,
)

pytestmark = pytest.mark.django_db

GOLD = {"all": [{"field": "customer.tier", "op": "eq", "value": "gold"}]}


@pytest.fixture
def people() -> dict[str, Any]:
    gold = CustomerFactory(tier="gold")
    std = CustomerFactory(tier="standard")
    return {
        "gold": [ContactFactory(customer=gold) for _ in range(3)],
        "std": [ContactFactory(customer=std) for _ in range(2)],
        "marketing": MarketingFactory(),
        "agent": AgentFactory(),
        "analyst": AnalystFactory(),
    }


def test_create_read_update_delete(people: dict[str, Any]) -> None:
    api = client_for(people["marketing"])
    created = api.post("/api/segments/", {"name": "Gold", "definition": GOLD}, format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["count"] == 3
    assert body["kind"] == "dynamic"
    pk = body["id"]
    assert api.get(f"/api/segments/{pk}/").json()["definition"] == GOLD
    listed = api.get("/api/segments/").json()
    assert [(r["id"], r["count"]) for r in listed] == [(pk, 3)]
    patched = api.patch(
        f"/api/segments/{pk}/",
        {
            "definition": {
                "all": [{"field": "customer.tier", "op": "in", "value": ["gold", "standard"]}]
            }
        },
        format="json",
    )
    assert patched.status_code == 200
    assert patched.json()["count"] == 5
    assert api.delete(f"/api/segments/{pk}/").status_code == 204
    assert not Segment.objects.exists()
    assert api.get(f"/api/segments/{pk}/").status_code == 404


def test_preview_counts_and_samples(people: dict[str, Any]) -> None:
    api = client_for(people["marketing"])
    response = api.post("/api/segments/preview/", {"definition": GOLD}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3
    assert sorted(row["id"] for row in body["sample"]) == sorted(c.pk for c in people["gold"])
    assert set(body["sample"][0]) == {"id", "name", "email", "phone", "customer"}


def test_validation_errors_name_each_condition(people: dict[str, Any]) -> None:
    api = client_for(people["marketing"])
    definition = {
        "all": [
            {"field": "customer.tier", "op": "eq", "value": "gold"},
            {"field": "customer.shoe_size", "op": "eq", "value": 42},
            {"field": "activity.last_ticket_days", "op": "within", "value": "soon"},
        ]
    }
    response = api.post("/api/segments/preview/", {"definition": definition}, format="json")
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert set(errors) == {"definition.all.1.field", "definition.all.2.value"}
    created = api.post("/api/segments/", {"name": "x", "definition": definition}, format="json")
    assert created.status_code == 400
    assert "definition.all.2.value" in created.json()["errors"]
    assert not Segment.objects.exists()


def test_contacts_keyset_pages(people: dict[str, Any]) -> None:
    gold = people["gold"][0].customer
    for _ in range(60):
        ContactFactory(customer=gold)
    api = client_for(people["marketing"])
    pk = api.post("/api/segments/", {"name": "Gold", "definition": GOLD}, format="json").json()[
        "id"
    ]
    first = api.get(f"/api/segments/{pk}/contacts/").json()
    assert len(first["results"]) == 50
    second = api.get(first["next"]).json()
    assert len(second["results"]) == 13
    assert second["next"] is None
    ids = [r["id"] for r in first["results"] + second["results"]]
    assert ids == sorted(ids) and len(set(ids)) == 63


def test_static_members_and_freeze(people: dict[str, Any]) -> None:
    api = client_for(people["marketing"])
    pk = api.post("/api/segments/", {"name": "Picked", "kind": "static"}, format="json").json()[
        "id"
    ]
    a, b = people["gold"][0], people["std"][0]
    changed = api.post(f"/api/segments/{pk}/members/", {"add": [a.pk, b.pk]}, format="json")
    assert changed.json() == {"added": 2, "removed": 0, "count": 2}
    removed = api.post(f"/api/segments/{pk}/members/", {"remove": [b.pk]}, format="json")
    assert removed.json() == {"added": 0, "removed": 1, "count": 1}
    frozen = api.post(f"/api/segments/{pk}/freeze/")
    assert frozen.status_code == 201
    assert frozen.json()["size"] == 1
    # a frozen segment cannot be deleted
    assert api.delete(f"/api/segments/{pk}/").status_code == 409
    assert Segment.objects.filter(pk=pk).exists()


def test_consents_endpoint(people: dict[str, Any]) -> None:
    contact = people["gold"][0]
    api = client_for(people["agent"])
    # agents record consent on the contacts they see: an agent without work sees none
    assert api.get(f"/api/contacts/{contact.pk}/consents/").status_code == 404
    marketing = client_for(people["marketing"])
    rows = marketing.get(f"/api/contacts/{contact.pk}/consents/").json()
    assert [r["purpose"] for r in rows] == ["service_email", "marketing_email", "phone", "sms"]
    assert all(r["granted"] is None for r in rows)
    response = marketing.post(
        f"/api/contacts/{contact.pk}/consents/",
        {"purpose": "marketing_email", "granted": True, "source": "form", "note": "signup"},
        format="json",
    )
    assert response.status_code == 200
    row = next(r for r in response.json() if r["purpose"] == "marketing_email")
    assert row["granted"] is True and row["source"] == "form"
    bad = marketing.post(
        f"/api/contacts/{contact.pk}/consents/", {"purpose": "fax", "granted": True}, format="json"
    )
    assert bad.status_code == 400


def test_suppressions_endpoint(people: dict[str, Any]) -> None:
    api = client_for(people["marketing"])
    created = api.post(
        "/api/suppressions/", {"kind": "email", "address": "X@Example.com"}, format="json"
    )
    assert created.status_code == 201
    assert created.json()["address"] == "x@example.com"
    assert created.json()["reason"] == "manual"
    listed = api.get("/api/suppressions/", {"search": "x@"}).json()
    assert [r["address"] for r in listed["results"]] == ["x@example.com"]
    bad = api.post("/api/suppressions/", {"kind": "phone", "address": "nope"}, format="json")
    assert bad.status_code == 400
    assert api.delete(f"/api/suppressions/{created.json()['id']}/").status_code == 204
    assert not Suppression.objects.exists()


def test_roles_are_refused_and_nothing_changes(people: dict[str, Any]) -> None:
    marketing = client_for(people["marketing"])
    pk = marketing.post(
        "/api/segments/", {"name": "Gold", "definition": GOLD}, format="json"
    ).json()["id"]
    row = marketing.post(
        "/api/suppressions/", {"kind": "email", "address": "s@example.com"}, format="json"
    ).json()
    contact = people["gold"][0]
    before = AuditEvent.objects.count()

    agent = client_for(people["agent"])
    assert agent.get("/api/segments/").status_code == 403
    assert (
        agent.post("/api/segments/", {"name": "Mine", "definition": {}}, format="json").status_code
        == 403
    )
    assert (
        agent.patch(f"/api/segments/{pk}/", {"name": "Renamed"}, format="json").status_code == 403
    )
    assert agent.delete(f"/api/segments/{pk}/").status_code == 403
    assert (
        agent.post("/api/segments/preview/", {"definition": GOLD}, format="json").status_code == 403
    )
    assert agent.post(f"/api/segments/{pk}/freeze/").status_code == 403
    assert agent.get("/api/suppressions/").status_code == 403
    assert (
        agent.post(
            "/api/suppressions/", {"kind": "email", "address": "a@example.com"}, format="json"
        ).status_code
        == 403
    )
    assert agent.delete(f"/api/suppressions/{row['id']}/").status_code == 403

    analyst = client_for(people["analyst"])
    assert analyst.get("/api/segments/").json()[0]["count"] == 3
    assert analyst.get(f"/api/segments/{pk}/").status_code == 200
    assert (
        analyst.post("/api/segments/", {"name": "A", "definition": {}}, format="json").status_code
        == 403
    )
    assert analyst.patch(f"/api/segments/{pk}/", {"name": "B"}, format="json").status_code == 403
    assert (
        analyst.post("/api/segments/preview/", {"definition": GOLD}, format="json").status_code
        == 403
    )
    assert analyst.get(f"/api/segments/{pk}/contacts/").status_code == 403
    assert (
        analyst.post(
            f"/api/segments/{pk}/members/", {"add": [contact.pk]}, format="json"
        ).status_code
        == 403
    )
    assert analyst.post(f"/api/segments/{pk}/freeze/").status_code == 403
    assert analyst.get(f"/api/contacts/{contact.pk}/consents/").status_code == 403
    assert (
        analyst.post(
            f"/api/contacts/{contact.pk}/consents/",
            {"purpose": "sms", "granted": True},
            format="json",
        ).status_code
        == 403
    )
    assert analyst.get("/api/suppressions/").status_code == 403

    assert AuditEvent.objects.count() == before
    assert Segment.objects.get(pk=pk).name == "Gold"
    assert Segment.objects.count() == 1
    assert not SegmentSnapshot.objects.exists()
    assert not SegmentMember.objects.exists()
    assert not Consent.objects.exists()
    assert Suppression.objects.count() == 1


def test_openapi_documents_every_endpoint(people: dict[str, Any]) -> None:
    api = client_for(people["marketing"])
    response = api.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    schema = response.json()
    paths = schema["paths"]
    for path in (
        "/api/segments/",
        "/api/segments/{id}/",
        "/api/segments/preview/",
        "/api/segments/{id}/contacts/",
        "/api/segments/{id}/members/",
        "/api/segments/{id}/freeze/",
        "/api/contacts/{id}/consents/",
        "/api/suppressions/",
        "/api/suppressions/{id}/",
    ):
        assert path in paths, path
    preview = paths["/api/segments/preview/"]["post"]
    assert "200" in preview["responses"]
