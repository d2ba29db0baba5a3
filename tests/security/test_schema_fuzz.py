"""Schemathesis over the schema the app serves (/api/schema/), as an administrator and as an
agent: no answer is a server error, and every answer is one the schema describes (status
code, content type, body, headers). Bounded and derandomised so that CI replays the same
requests each run (docs/security.md, "Bad input")."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from rest_framework.authtoken.models import Token
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from notifications.services import notify_users
from org.models import Team
from sla.models import BusinessCalendar
from surveys import services as surveys
from surveys.models import Invitation
from surveys.questions import Answer
from tests.factories import CalendarFactory, SurveyTemplateFactory, build_desk, open_ticket
from tickets import services as tickets
from tickets.models import SlaPolicy

# The budget: examples per operation and role in the fuzzing phase (the examples and coverage
# phases add their own, bounded by the schema): about two minutes for both roles on two cores.
# KEFU_FUZZ_EXAMPLES=200 (and another KEFU_FUZZ_SEED) digs deeper by hand; CI keeps both.
MAX_EXAMPLES = int(os.environ.get("KEFU_FUZZ_EXAMPLES", "25"))
SEED = int(os.environ.get("KEFU_FUZZ_SEED", "20260601"))

CONFIG = schemathesis.Config.from_dict(
    {
        "seed": SEED,
        "generation": {
            "mode": "all",
            "max-examples": MAX_EXAMPLES,
            "deterministic": True,
            "database": "none",
        },
        "phases": {"stateful": {"enabled": False}},
    }
)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]

schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application(), config=CONFIG)

# Ids of the objects the fixture made, by the path prefix that takes them: most generated
# {id}s name a real object, so that the operations behind the 404 are fuzzed too.
KNOWN_IDS: dict[str, list[int]] = {}


@schema.hook
def flatmap_path_parameters(context: Any, path_parameters: dict[str, Any]) -> Any:
    path = context.operation.path
    ids = next((ids for prefix, ids in KNOWN_IDS.items() if path.startswith(prefix)), None)
    if not ids or not path_parameters or "id" not in path_parameters:
        return st.just(path_parameters)
    known = st.sampled_from(ids).map(lambda pk: {**path_parameters, "id": pk})
    return st.one_of(known, known, known, st.just(path_parameters))


@pytest.fixture
def same_connection() -> Iterator[None]:
    """Requests run inside the test's transaction: like Django's test client, the WSGI
    handler must not close the connection at the end of each request."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture(params=["administrator", "agent"])
def caller(request: pytest.FixtureRequest, db: Any, same_connection: None) -> str:
    """A desk with one of everything the API shows; the Authorization header of the role."""
    desk = build_desk()
    SurveyTemplateFactory(name="CSAT", scale="csat", is_default=True)
    opened = open_ticket(desk)
    closed = open_ticket(desk, priority="P1")
    tickets.close_ticket(ticket_id=closed.pk, actor=desk.supervisor)
    invitation = Invitation.objects.get(ticket=closed)
    response, _created = surveys.record_response(
        invitation_id=invitation.pk, answer=Answer(score=4, comment="Fine", answers={})
    )
    CalendarFactory()
    user = desk.admin if request.param == "administrator" else desk.agent1
    notes = notify_users(
        recipient_ids=[user.pk],
        kind="assigned",
        data={"number": "T-1"},
        subject_kind="ticket",
        object_id=opened.pk,
    )
    complaint = _complaint(desk)
    KNOWN_IDS.clear()
    KNOWN_IDS.update(
        {
            "/api/tickets/": [opened.pk, closed.pk],
            "/api/complaints/": [complaint.pk],
            "/api/teams/": list(Team.objects.values_list("pk", flat=True)),
            "/api/calendars/": list(BusinessCalendar.objects.values_list("pk", flat=True)),
            "/api/sla-policies/": list(SlaPolicy.objects.values_list("pk", flat=True)),
            "/api/surveys/responses/": [response.pk],
            "/api/notifications/": [n.pk for n in notes],
        }
    )
    token, _created = Token.objects.get_or_create(user=user)
    return f"Token {token.key}"


def _complaint(desk: Any) -> Any:
    """A complaint of the agent's team, acknowledged: most of its actions are open."""
    from complaints import services as complaints
    from complaints.models import ComplaintProfile

    ComplaintProfile.objects.update(team=desk.team)
    complaint = complaints.open_complaint(
        data=complaints.NewComplaint(
            category="billing",
            title="Charged twice",
            description="Twice for one order",
            impact="medium",
            urgency="medium",
            contact_id=desk.contact.pk,
        ),
        actor=desk.supervisor,
    )
    complaints.acknowledge_complaint(complaint_id=complaint.pk, actor=desk.supervisor)
    return complaint


@schema.parametrize()
@settings(
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_answers_as_documented(case: Any, caller: str) -> None:
    case.call_and_validate(headers={"Authorization": caller}, checks=CHECKS)
