"""``/api/privacy-requests/`` (docs/customers-privacy.md): record, read, start, complete,
refuse; 403 for roles that may not, 409 in the wrong state, with nothing changed; the
OpenAPI schema names every operation."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from customers.models import Contact, LegalHold, PrivacyRequest
from outbox.models import OutboxMessage
from tests.conftest import client_for
from tests.factories import (
    AdministratorFactory,
    AgentFactory,
    AnalystFactory,
    ContactFactory,
    MarketingFactory,
    SupervisorFactory,
)
from tests.factories.complaints import ManagerFactory

pytestmark = pytest.mark.django_db
URL = "/api/privacy-requests/"


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> Path:
    root = tmp_path / "media"
    root.mkdir()
    settings.MEDIA_ROOT = str(root)
    return root


def snapshot() -> tuple[Any, ...]:
    return (
        list(PrivacyRequest.objects.order_by("pk").values_list("pk", "status", "refusal_reason")),
        list(Contact.objects.order_by("pk").values_list("pk", "name", "email", "erased_at")),
        AuditEvent.objects.count(),
        OutboxMessage.objects.count(),
    )


def test_an_administrator_records_starts_and_completes_an_access_request() -> None:
    admin: Any = AdministratorFactory()
    contact: Any = ContactFactory(name="Zhou Min")
    client = client_for(admin)

    created = client.post(URL, {"contact": contact.pk, "kind": "access"}, format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["number"].startswith("P-") and body["status"] == "received"
    assert body["clock"]["due"] is not None and body["clock"]["breached"] is False
    pk = body["id"]

    listed = client.get(URL)
    assert [row["id"] for row in listed.json()["results"]] == [pk]
    assert client.get(f"{URL}{pk}/").json()["kind"] == "access"

    started = client.post(f"{URL}{pk}/start/")
    assert started.status_code == 200 and started.json()["status"] == "in_progress"
    done = client.post(f"{URL}{pk}/complete/")
    assert done.status_code == 200, done.json()
    assert done.json()["status"] == "done" and done.json()["has_export"] is True
    assert OutboxMessage.objects.filter(kind="privacy.export_ready", to=contact.email).exists()
    assert client.get(URL, {"state": "closed"}).json()["results"][0]["id"] == pk


def test_a_correction_through_the_api() -> None:
    manager: Any = ManagerFactory()
    contact: Any = ContactFactory(name="Old")
    client = client_for(manager)
    bad = client.post(
        URL,
        {"contact": contact.pk, "kind": "correction", "details": {"email": "not-an-address"}},
        format="json",
    )
    assert bad.status_code == 400 and "email" in bad.json()["errors"]
    assert PrivacyRequest.objects.count() == 0

    pk = client.post(
        URL,
        {"contact": contact.pk, "kind": "correction", "details": {"name": "New"}},
        format="json",
    ).json()["id"]
    assert client.post(f"{URL}{pk}/complete/").status_code == 200
    contact.refresh_from_db()
    assert contact.name == "New"


@pytest.mark.parametrize(
    "factory", [AgentFactory, SupervisorFactory, MarketingFactory, AnalystFactory]
)
def test_other_roles_get_403_and_nothing_changes(factory: Any) -> None:
    manager: Any = ManagerFactory()
    contact: Any = ContactFactory()
    pk = client_for(manager).post(URL, {"contact": contact.pk, "kind": "erasure"}).json()["id"]
    before = snapshot()
    client = client_for(factory())

    assert client.get(URL).status_code == 403
    assert client.get(f"{URL}{pk}/").status_code == 403
    assert client.post(URL, {"contact": contact.pk, "kind": "access"}).status_code == 403
    for step in ("start", "complete"):
        assert client.post(f"{URL}{pk}/{step}/").status_code == 403
    assert client.post(f"{URL}{pk}/refuse/", {"reason": "x"}).status_code == 403

    assert snapshot() == before


def test_steps_in_the_wrong_state_are_409_and_change_nothing() -> None:
    manager: Any = ManagerFactory()
    contact: Any = ContactFactory()
    client = client_for(manager)
    pk = client.post(URL, {"contact": contact.pk, "kind": "erasure"}).json()["id"]
    refused = client.post(f"{URL}{pk}/refuse/", {"reason": "Not the data subject"})
    assert refused.status_code == 200 and refused.json()["refusal_reason"] == "Not the data subject"
    before = snapshot()

    assert client.post(f"{URL}{pk}/start/").status_code == 409
    assert client.post(f"{URL}{pk}/complete/").status_code == 409
    assert client.post(f"{URL}{pk}/refuse/", {"reason": "again"}).status_code == 409
    assert client.post(f"{URL}{pk}/refuse/", {"reason": ""}).status_code == 400
    assert client.get(f"{URL}999999/").status_code == 404

    assert snapshot() == before


def test_a_legal_hold_refuses_the_erasure_through_the_api() -> None:
    manager: Any = ManagerFactory()
    contact: Any = ContactFactory(name="Held Person")
    LegalHold.objects.create(contact=contact, reason="Regulator inquiry")
    client = client_for(manager)
    pk = client.post(URL, {"contact": contact.pk, "kind": "erasure"}).json()["id"]

    answer = client.post(f"{URL}{pk}/complete/")

    assert answer.status_code == 200
    assert answer.json()["status"] == "refused"
    assert "Regulator inquiry" in answer.json()["refusal_reason"]
    contact.refresh_from_db()
    assert contact.name == "Held Person" and contact.erased_at is None


def test_an_unknown_contact_or_kind_is_400() -> None:
    client = client_for(ManagerFactory())
    assert client.post(URL, {"contact": 987654, "kind": "access"}).status_code == 400
    contact: Any = ContactFactory()
    assert client.post(URL, {"contact": contact.pk, "kind": "delete"}).status_code == 400
    future = (timezone.now() + timedelta(days=2)).isoformat()
    assert (
        client.post(
            URL, {"contact": contact.pk, "kind": "access", "received_at": future}
        ).status_code
        == 400
    )
    assert PrivacyRequest.objects.count() == 0


def test_the_schema_names_every_operation() -> None:
    client = client_for(AdministratorFactory())
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    paths = {p: ops for p, ops in schema["paths"].items() if p.startswith(URL)}
    assert set(paths[URL]) >= {"get", "post"}
    for step in ("start", "complete", "refuse"):
        [operation] = [ops["post"] for p, ops in paths.items() if p.endswith(f"/{step}/")]
        assert {"200", "403", "404", "409"} <= set(operation["responses"])
    [detail] = [ops for p, ops in paths.items() if p.endswith("}/")]
    assert "200" in detail["get"]["responses"]
