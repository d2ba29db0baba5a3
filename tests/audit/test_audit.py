"""One audit trail: ticket events with their customer, configuration changes on every path
(the administration API and the Django admin), and only registered verbs."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audit import services, verbs
from audit.models import AuditEvent
from core.errors import InvalidInput
from org.models import Team
from tests.conftest import client_for
from tests.factories import open_ticket
from tickets.models import SlaPolicy

pytestmark = pytest.mark.django_db


def trail(kind: str, object_id: int) -> list[tuple[str, dict[str, Any], dict[str, Any], Any]]:
    return [
        (e.verb, e.before, e.after, e.actor_id)
        for e in AuditEvent.objects.filter(subject_kind=kind, object_id=object_id).order_by("id")
    ]


def test_ticket_events_carry_the_customer_and_keep_the_history_shape(desk: Any) -> None:
    ticket = open_ticket(desk)
    events = AuditEvent.objects.filter(ticket=ticket)
    assert events.exists()
    assert set(events.values_list("customer_id", flat=True)) == {desk.customer.pk}
    assert set(events.values_list("subject_kind", flat=True)) == {"ticket"}

    history = client_for(desk.supervisor).get(f"/api/tickets/{ticket.pk}/history/").json()
    rows = history["results"] if isinstance(history, dict) else history
    assert rows and set(rows[0]) == {"id", "actor", "verb", "at", "before", "after"}


def test_an_unregistered_verb_is_refused(desk: Any) -> None:
    with pytest.raises(InvalidInput):
        services.record(kind="ticket", verb="teleported", actor=None, ticket=None)
    assert verbs.label("ticket", "claimed") == "claimed"


def test_configuration_written_through_the_api_is_audited(desk: Any) -> None:
    admin = client_for(desk.admin)
    created = admin.post("/api/teams/", {"name": "VIP"}, format="json")
    assert created.status_code == 201, created.content
    team_id = created.json()["id"]
    assert (
        admin.patch(f"/api/teams/{team_id}/", {"name": "VIP desk"}, format="json").status_code
        == 200
    )
    assert (
        admin.patch(f"/api/teams/{team_id}/", {"name": "VIP desk"}, format="json").status_code
        == 200
    )
    assert admin.delete(f"/api/teams/{team_id}/").status_code == 204

    rows = trail("team", team_id)
    assert [r[0] for r in rows] == ["created", "changed", "deleted"]  # no row for no change
    assert rows[0][2]["name"] == "VIP" and rows[0][1] == {}
    assert (rows[1][1], rows[1][2]) == ({"name": "VIP"}, {"name": "VIP desk"})
    assert rows[2][1]["name"] == "VIP desk" and rows[2][2] == {}
    assert {r[3] for r in rows} == {desk.admin.pk}

    policy = desk.policy
    assert admin.delete(f"/api/sla-policies/{policy.pk}/").status_code == 204
    ((verb, before, after, _actor),) = trail("sla_policy", policy.pk)
    assert verb == "changed" and before["is_active"] is True and after["is_active"] is False


def test_a_refused_change_leaves_no_audit_row(desk: Any) -> None:
    """A team still in use answers 409; the delete and its audit row are one transaction."""
    admin = client_for(desk.admin)
    open_ticket(desk)
    assert admin.delete(f"/api/teams/{desk.team.pk}/").status_code == 409
    assert trail("team", desk.team.pk) == []


@pytest.fixture
def root() -> Client:
    client = Client()
    client.force_login(get_user_model().objects.create_superuser("root", "r@example.com", "pw"))
    return client


def test_configuration_written_in_the_admin_is_audited(root: Client, desk: Any) -> None:
    root_user = get_user_model().objects.get(username="root")
    change = reverse("admin:org_team_change", args=[desk.team.pk])
    form = {
        "name": "Support desk",
        "assignment": desk.team.assignment,
        "calendar": "",
        "members": [desk.agent1.pk],
        "supervisors": [desk.supervisor.pk],
    }
    answer = root.post(change, form)
    assert answer.status_code == 302, answer.content.decode()[:2000]

    ((verb, before, after, actor),) = trail("team", desk.team.pk)
    assert verb == "changed" and actor == root_user.pk
    assert before["name"] == "Support" and after["name"] == "Support desk"
    assert sorted(before["members"]) == sorted([desk.agent1.pk, desk.agent2.pk])
    assert after["members"] == [desk.agent1.pk]

    retire = reverse("admin:sla_slapolicy_changelist")
    answer = root.post(retire, {"action": "retire_policies", "_selected_action": [desk.policy.pk]})
    assert answer.status_code == 302
    assert SlaPolicy.objects.get(pk=desk.policy.pk).is_active is False
    assert [r[0] for r in trail("sla_policy", desk.policy.pk)] == ["changed"]
    assert Team.objects.get(pk=desk.team.pk).name == "Support desk"


def test_an_intake_records_its_rows_in_order_with_one_insert(desk: Any) -> None:
    ticket = open_ticket(desk)

    assert list(
        AuditEvent.objects.filter(ticket=ticket).order_by("id").values_list("verb", flat=True)
    ) == ["created", "routed", "assigned"]
    with CaptureQueriesContext(connection) as captured:
        open_ticket(desk)
    inserts = [
        q for q in captured.captured_queries if 'INSERT INTO "tickets_ticketevent"' in q["sql"]
    ]
    assert len(inserts) == 1


def test_a_batch_left_by_an_error_writes_nothing(desk: Any) -> None:
    with pytest.raises(RuntimeError), transaction.atomic(), services.batch():
        services.record(kind="team", verb="changed", actor=None, object_id=desk.team.pk)
        with services.batch():  # nested: joins the outer batch
            services.record(kind="team", verb="changed", actor=None, object_id=desk.team.pk)
        assert trail("team", desk.team.pk) == []  # not written yet
        raise RuntimeError
    assert trail("team", desk.team.pk) == []

    with transaction.atomic(), services.batch():
        services.record(kind="team", verb="created", actor=desk.admin, object_id=desk.team.pk)
        services.record(kind="team", verb="changed", actor=None, object_id=desk.team.pk)
    assert [verb for verb, *_ in trail("team", desk.team.pk)] == ["created", "changed"]
