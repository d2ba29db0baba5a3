"""The visibility matrix (issue 8, "Proof in the suite"): every route that takes an object id
— REST, pages, public links — is tried by a user outside the object's team and by each role.

The routes come from the URL configuration and the OpenAPI schema, not from a list kept by
hand: a new route with an id and no entry in ``MATRIX`` fails
``test_every_route_with_an_id_has_a_matrix_entry``. An entry says what object the id names
and what each kind of user gets. An outsider gets 404 for whatever they may not see, and the
object is left exactly as it was.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

from audit.models import AuditEvent
from notifications.models import Notification
from surveys.models import SurveyResponse
from tests.factories import open_ticket, update_ticket
from tests.surveys.test_api import answered
from tickets.models import Ticket, TicketMessage
from web.models import SavedView
from web.services import save_view

pytestmark = pytest.mark.django_db

ID_PATTERN = re.compile(r"<[^>]+>|\(\?P<\w+>[^)]+\)|\{\w+\}")
SKIPPED_PREFIXES = ("admin/",)  # Django's admin: staff only, tested by tests/web


def normalise(route: str) -> str:
    """``api/tickets/<int:pk>/``, ``api/^teams/(?P<pk>[^/.]+)/$`` and ``/api/teams/{id}/`` all
    read ``api/tickets/{}/``…"""
    return ID_PATTERN.sub("{}", route).replace("^", "").replace("$", "").lstrip("/")


def _walk(resolver: URLResolver, prefix: str = "") -> Iterator[str]:
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern)


def routes_with_ids() -> set[str]:
    routes = {normalise(r) for r in _walk(get_resolver()) if not r.startswith(SKIPPED_PREFIXES)}
    return {r for r in routes if "{}" in r}


def schema_paths_with_ids() -> set[str]:
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    return {normalise(path) for path in schema["paths"] if "{" in path}


# --- the objects and the people ---------------------------------------------------------
@dataclass
class World:
    desk: Any
    ticket: Ticket  # in Billing, assigned to the outsider (Billing's agent)
    notification: Notification  # the outsider's
    response: SurveyResponse  # of a Billing ticket
    ids: dict[str, Any] = field(default_factory=dict)

    def snapshot(self) -> tuple[Any, ...]:
        ticket = Ticket.objects.get(pk=self.ticket.pk)
        return (
            ticket.version,
            ticket.status,
            ticket.assignee_id,
            ticket.priority,
            TicketMessage.objects.filter(ticket=ticket).count(),
            AuditEvent.objects.filter(ticket=ticket).count(),
            Notification.objects.get(pk=self.notification.pk).read_at,
            SavedView.objects.count(),
            self.complaint_state(),
        )

    def complaint_state(self) -> tuple[Any, ...] | None:
        from complaints.models import Complaint

        if "complaint" not in self.ids:
            return None
        complaint = Complaint.objects.get(pk=self.ids["complaint"])
        return (
            complaint.version,
            complaint.status,
            complaint.assignee_id,
            complaint.severity,
            AuditEvent.objects.filter(complaint=complaint).count(),
        )


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def world(desk: Any) -> World:
    ticket = open_ticket(desk)
    update_ticket(ticket.pk, team=desk.other_team, assignee=desk.outsider)
    notification = Notification.objects.create(
        recipient=desk.outsider,
        kind="assigned",
        data={"number": ticket.number},
        subject_kind="ticket",
        object_id=ticket.pk,
    )
    invitation = answered(desk, 4, team=desk.other_team)
    response = SurveyResponse.objects.get(invitation=invitation)
    return World(desk, Ticket.objects.get(pk=ticket.pk), notification, response)


@dataclass(frozen=True)
class Entry:
    """What an id names and who gets what. ``outsider`` is an agent of another team (or, for
    a person's own object, another person); ``allowed`` the roles that see it (GET 200)."""

    object_id: Callable[[World], Any]
    methods: tuple[tuple[str, dict[str, Any]], ...] = (("get", {}),)
    page: bool = False  # a browser page (session), not the REST API
    outsider: int = 404
    allowed: tuple[str, ...] = ("team_agent", "supervisor", "administrator")
    roles_only: bool = False  # a role decides, not a team: agents get 403


def ticket_id(world: World) -> int:
    return world.ticket.pk


def saved_view_id(world: World) -> int:
    """The outsider's own saved view of the tickets list (nobody else's to see or delete)."""
    if "saved_view" not in world.ids:
        view, _ = save_view(user=world.desk.outsider, name="Billing", query={"priority": "P1"})
        world.ids["saved_view"] = view.pk
    return int(world.ids["saved_view"])


def attachment_id(world: World) -> int:
    """A file of the world's ticket (stored under the test's MEDIA_ROOT)."""
    from mail import attachments

    if "attachment" not in world.ids:
        world.ids["attachment"] = attachments.store(
            subject_kind="ticket", object_id=world.ticket.pk, name="a.txt", data=b"a"
        ).pk
    return int(world.ids["attachment"])


def complaint_id(world: World) -> int:
    """A complaint of Billing (the outsider's team), handled there."""
    from complaints import services
    from complaints.models import ComplaintProfile

    if "complaint" not in world.ids:
        ComplaintProfile.objects.update(team=world.desk.other_team)
        complaint = services.open_complaint(
            data=services.NewComplaint(
                category="billing",
                title="Charged twice",
                description="Twice for one order",
                impact="medium",
                urgency="medium",
                contact_id=world.desk.contact.pk,
            ),
            actor=world.desk.supervisor,
        )
        world.ids["complaint"] = complaint.pk
    return int(world.ids["complaint"])


def segment_id(world: World) -> int:
    """A saved filter (segments are shared by those who manage them; agents get 403)."""
    from customers.models import Segment

    if "segment" not in world.ids:
        world.ids["segment"] = Segment.objects.create(name="Gold", definition={}).pk
    return int(world.ids["segment"])


def suppression_id(world: World) -> int:
    from customers.models import Suppression

    if "suppression" not in world.ids:
        world.ids["suppression"] = Suppression.objects.create(
            kind="email", address="gone@example.com", reason="bounced"
        ).pk
    return int(world.ids["suppression"])


def customer_id(world: World) -> int:
    """The desk's customer: seen by Billing's agent through the world's ticket."""
    return int(world.desk.customer.pk)


def contact_id(world: World) -> int:
    return int(world.desk.contact.pk)


def legal_hold_id(world: World) -> int:
    from customers.models import LegalHold

    if "legal_hold" not in world.ids:
        world.ids["legal_hold"] = LegalHold.objects.create(
            customer=world.desk.customer, reason="Dispute", created_by=world.desk.admin
        ).pk
    return int(world.ids["legal_hold"])


def custom_field_id(world: World) -> int:
    from customers.models import CustomField

    if "custom_field" not in world.ids:
        world.ids["custom_field"] = CustomField.objects.create(
            target="customer", key="size", label="Size", type="text"
        ).pk
    return int(world.ids["custom_field"])


def privacy_request_id(world: World) -> int:
    """A privacy request: administrators and managers handle them; a role decides."""
    from customers.services import privacy

    if "privacy" not in world.ids:
        world.ids["privacy"] = privacy.record_request(
            world.desk.admin, world.desk.contact, "access"
        ).pk
    return int(world.ids["privacy"])


def import_job_id(world: World) -> int:
    """An import: administrators alone run them; a role decides."""
    from customers.models import ImportJob

    if "import" not in world.ids:
        world.ids["import"] = ImportJob.objects.create(
            target="contacts",
            file="imports/contacts.csv",
            file_name="contacts.csv",
            headers=["Email"],
            created_by=world.desk.admin,
        ).pk
    return int(world.ids["import"])


def export_job_id(world: World) -> int:
    """The supervisor's export: theirs and the administrators' to see; agents export nothing."""
    from customers.models import ExportJob

    if "export" not in world.ids:
        world.ids["export"] = ExportJob.objects.create(
            target="contacts", format="xlsx", created_by=world.desk.supervisor
        ).pk
    return int(world.ids["export"])


COMPLAINT_ACTION_BODIES: dict[str, dict[str, Any]] = {
    "claim": {},
    "assign": {"assignee": 0},  # filled with agent1 below
    "acknowledge": {},
    "contact": {"channel": "phone", "summary": "peek"},
    "note": {"body": "peek"},
    "propose": {"outcome": "upheld", "resolution": "peek", "root_cause": "staff-error"},
    "approve": {},
    "reject": {"reason": "peek"},
    "extend": {"reason": "peek"},
    "escalate": {"reason": "peek"},
    "close": {},
    "reopen": {"reason": "peek"},
}

ACTION_BODIES: dict[str, dict[str, Any]] = {
    "claim": {},
    "assign": {"assignee": 0},  # filled with agent1 below
    "reply": {"body": "peek", "internal": True},
    "hold": {"reason": "peek"},
    "resume": {},
    "urge": {"note": "peek"},
    "resolve": {"resolution": "peek"},
    "close": {},
    "reopen": {"reason": "peek"},
    "priority": {"priority": "P1"},
    "acknowledge": {},
}

MATRIX: dict[str, Entry] = {
    "api/tickets/{}/": Entry(ticket_id),
    "api/tickets/{}/messages/": Entry(ticket_id),
    "api/tickets/{}/history/": Entry(ticket_id),
    **{
        f"api/tickets/{{}}/{name}/": Entry(
            ticket_id,
            methods=(("post", body),),
            allowed=(),
            # Supervisors' own actions check the role first: every agent gets 403 whatever
            # the id, so the answer tells nothing about the ticket.
            outsider=403 if name in ("acknowledge", "priority") else 404,
        )
        for name, body in ACTION_BODIES.items()
    },
    # Complaints: an agent of another team gets 404 for everything, whatever the action
    # (the services look the complaint up as the caller before any role check).
    "api/complaints/{}/": Entry(complaint_id),
    "api/complaints/{}/history/": Entry(complaint_id),
    **{
        f"api/complaints/{{}}/{name}/": Entry(complaint_id, methods=(("post", body),), allowed=())
        for name, body in COMPLAINT_ACTION_BODIES.items()
    },
    "api/tickets/{}/escalate-to-complaint/": Entry(
        ticket_id, methods=(("post", {"reason": "peek"}),), allowed=()
    ),
    "tickets/{}/escalate/": Entry(
        ticket_id,
        methods=(("post", {"category": "service", "impact": "low", "urgency": "low"}),),
        page=True,
        allowed=(),
    ),
    "help/complaints/{}/": Entry(
        lambda w: "never-issued-0123456789abcdefghijklmnopqrstuv", page=True, allowed=()
    ),
    "api/attachments/{}/": Entry(attachment_id),
    "tickets/{}/": Entry(ticket_id, page=True),
    "tickets/{}/process/": Entry(ticket_id, page=True),
    # The complaint screens (web/views_complaints.py): agents see their teams' complaints.
    "complaints/{}/": Entry(complaint_id, page=True),
    "complaints/{}/process/": Entry(complaint_id, page=True),
    "complaints/{}/act/": Entry(
        complaint_id, methods=(("post", {"action": "note", "body": "peek"}),), page=True, allowed=()
    ),
    "api/saved-views/{}/": Entry(saved_view_id, methods=(("delete", {}),), allowed=()),
    "api/notifications/{}/read/": Entry(
        lambda w: w.notification.pk, methods=(("post", {}),), allowed=()
    ),
    "api/surveys/responses/{}/": Entry(
        lambda w: w.response.pk, allowed=("team_agent", "supervisor", "administrator")
    ),
    # Configuration: roles decide (agents 403, supervisors read, administrators write).
    "api/teams/{}/": Entry(
        lambda w: w.desk.other_team.pk,
        methods=(("get", {}), ("patch", {"name": "Renamed"}), ("delete", {})),
        outsider=403,
        allowed=("supervisor", "administrator"),
        roles_only=True,
    ),
    "api/calendars/{}/": Entry(
        lambda w: w.desk.other_team.calendar_id or 0,
        methods=(("get", {}), ("patch", {"name": "Renamed"}), ("delete", {})),
        outsider=403,
        allowed=(),
        roles_only=True,
    ),
    "api/sla-policies/{}/": Entry(
        lambda w: w.desk.policy.pk,
        methods=(("get", {}), ("patch", {"name": "Renamed"}), ("delete", {})),
        outsider=403,
        allowed=("supervisor", "administrator"),
        roles_only=True,
    ),
    # A survey link is its own key: a token that was never issued opens nothing.
    "s/{}/": Entry(
        lambda w: "never-issued-0123456789abcdefghijklmnopqrstuv",
        methods=(("get", {}), ("post", {"score": "5"})),
        page=True,
        allowed=(),
    ),
    # The customer pages' links are signed keys too (docs/email.md, "Customer pages"): a
    # value that was never issued opens nothing and changes nothing, signed in or not.
    "help/requests/{}/": Entry(
        lambda w: "never-issued-0123456789abcdefghijklmnopqrstuv",
        methods=(("get", {}), ("post", {"body": "peek"})),
        page=True,
        allowed=(),
    ),
    "help/requests/{}/files/{}/": Entry(
        lambda w: "never-issued-0123456789abcdefghijklmnopqrstuv", page=True, allowed=()
    ),
    "help/requests/{}/renew/": Entry(
        lambda w: "never-issued-0123456789abcdefghijklmnopqrstuv",
        methods=(("post", {"email": "li.lei@example.com"}),),
        page=True,
        allowed=(),
    ),
    "help/sent/{}/": Entry(lambda w: "T-2026-000001", page=True, allowed=()),
    # Segments, consent, suppression (docs/customers-segments.md): roles decide.
    "api/segments/{}/": Entry(
        segment_id,
        methods=(("get", {}), ("patch", {"name": "Renamed"}), ("delete", {})),
        outsider=403,
        allowed=("supervisor", "administrator"),
        roles_only=True,
    ),
    "api/segments/{}/contacts/": Entry(
        segment_id, outsider=403, allowed=("supervisor", "administrator"), roles_only=True
    ),
    "api/segments/{}/members/": Entry(
        segment_id, methods=(("post", {"add": []}),), outsider=403, allowed=(), roles_only=True
    ),
    "api/segments/{}/freeze/": Entry(
        segment_id, methods=(("post", {}),), outsider=403, allowed=(), roles_only=True
    ),
    "segments/{}/": Entry(
        segment_id,
        page=True,
        outsider=403,
        allowed=("supervisor", "administrator"),
        roles_only=True,
    ),
    "api/suppressions/{}/": Entry(
        suppression_id, methods=(("delete", {}),), outsider=403, allowed=(), roles_only=True
    ),
    "suppressions/{}/lift/": Entry(
        suppression_id,
        methods=(("post", {}),),
        page=True,
        outsider=403,
        allowed=(),
        roles_only=True,
    ),
    # Agents record consent on the contacts their work shows (the world's is Billing's).
    "api/contacts/{}/consents/": Entry(
        lambda w: w.desk.contact.pk,
        methods=(("get", {}), ("post", {"purpose": "sms", "granted": True})),
    ),
    "contacts/{}/consent/": Entry(
        lambda w: w.desk.contact.pk,
        methods=(("get", {}), ("post", {"purpose": "sms", "granted": "yes", "source": "agent"})),
        page=True,
    ),
    # An unsubscribe link is a signed key: one never issued is refused and changes nothing.
    "u/{}/": Entry(
        lambda w: "never-issued-0123456789abcdefghijklmnopqrstuv",
        methods=(("get", {}), ("post", {})),
        page=True,
        outsider=400,
        allowed=(),
    ),
    # Customers 360 (docs/customers-360.md): an agent sees the customers of their work; the
    # world's ticket is Billing's, so Support's agent gets 404 for its customer and contact.
    "api/customers/{}/timeline/": Entry(lambda w: w.desk.customer.pk),
    "api/customers/{}/summary/": Entry(lambda w: w.desk.customer.pk),
    "api/contacts/{}/timeline/": Entry(lambda w: w.desk.contact.pk),
    "customers/{}/": Entry(lambda w: w.desk.customer.pk, page=True),
    "contacts/{}/": Entry(lambda w: w.desk.contact.pk, page=True),
    # Customers 360 records (docs/customers-records.md): an agent sees the customers of
    # their work; administrators alone hold legal holds and define custom fields.
    "api/customers/{}/": Entry(customer_id, methods=(("get", {}), ("patch", {"name": "peek"}))),
    "api/customers/{}/contracts/": Entry(
        customer_id, methods=(("get", {}), ("post", {"name": "peek", "starts_on": "2026-01-01"}))
    ),
    "api/customers/{}/contracts/{}/": Entry(
        customer_id, methods=(("patch", {"name": "peek"}), ("delete", {})), allowed=()
    ),
    "api/customers/{}/legal-holds/": Entry(
        customer_id, methods=(("post", {"reason": "peek"}),), outsider=403, allowed=()
    ),
    "api/legal-holds/{}/release/": Entry(legal_hold_id, methods=(("post", {}),), allowed=()),
    "api/contacts/{}/": Entry(contact_id, methods=(("get", {}), ("patch", {"name": "peek"}))),
    "api/contacts/{}/points/": Entry(
        contact_id, methods=(("post", {"kind": "email", "value": "peek@example.com"}),), allowed=()
    ),
    "api/contacts/{}/points/{}/": Entry(contact_id, methods=(("delete", {}),), allowed=()),
    "api/custom-fields/{}/": Entry(
        custom_field_id,
        methods=(("patch", {"label": "peek"}),),
        outsider=403,
        allowed=(),
        roles_only=True,
    ),
    "customers/{}/edit/": Entry(customer_id, page=True),
    "contacts/{}/edit/": Entry(contact_id, page=True),
    # A contact's further emails and phones on its edit page: an agent edits the contacts
    # they see; another's is 404.
    "contacts/{}/points/": Entry(
        contact_id,
        methods=(("post", {"kind": "email", "value": "peek@example.com"}),),
        page=True,
        allowed=(),
    ),
    "contacts/{}/points/{}/remove/": Entry(
        contact_id, methods=(("post", {}),), page=True, allowed=()
    ),
    # Duplicates and merges (docs/customers-merge.md): the role is checked before any lookup.
    "api/contacts/{}/merge/": Entry(
        contact_id, methods=(("post", {"other": 1}),), outsider=403, allowed=(), roles_only=True
    ),
    "api/customers/{}/merge/": Entry(
        customer_id, methods=(("post", {"other": 1}),), outsider=403, allowed=(), roles_only=True
    ),
    "api/merges/{}/undo/": Entry(
        contact_id, methods=(("post", {}),), outsider=403, allowed=(), roles_only=True
    ),
    "customers/duplicates/contacts/{}/{}/": Entry(
        contact_id,
        methods=(("get", {}), ("post", {"keep": "1"})),
        page=True,
        outsider=403,
        allowed=(),
        roles_only=True,
    ),
    "customers/duplicates/customers/{}/{}/": Entry(
        customer_id,
        methods=(("get", {}), ("post", {"keep": "1"})),
        page=True,
        outsider=403,
        allowed=(),
        roles_only=True,
    ),
    "customers/merges/{}/undo/": Entry(
        contact_id, methods=(("post", {}),), page=True, outsider=403, allowed=(), roles_only=True
    ),
    # "Not a duplicate" (docs/customers-merge.md): who may merge may dismiss; the role first.
    "api/contacts/{}/not-duplicate/": Entry(
        contact_id, methods=(("post", {"other": 1}),), outsider=403, allowed=(), roles_only=True
    ),
    "api/customers/{}/not-duplicate/": Entry(
        customer_id, methods=(("post", {"other": 1}),), outsider=403, allowed=(), roles_only=True
    ),
    "api/duplicate-dismissals/{}/restore/": Entry(
        contact_id, methods=(("post", {}),), outsider=403, allowed=(), roles_only=True
    ),
    "customers/duplicates/contacts/{}/{}/dismiss/": Entry(
        contact_id, methods=(("post", {}),), page=True, outsider=403, allowed=(), roles_only=True
    ),
    "customers/duplicates/customers/{}/{}/dismiss/": Entry(
        customer_id, methods=(("post", {}),), page=True, outsider=403, allowed=(), roles_only=True
    ),
    "customers/duplicates/dismissed/{}/restore/": Entry(
        contact_id, methods=(("post", {}),), page=True, outsider=403, allowed=(), roles_only=True
    ),
    # Privacy requests (docs/customers-privacy.md): administrators and managers only.
    "api/privacy-requests/{}/": Entry(
        privacy_request_id, outsider=403, allowed=("administrator",), roles_only=True
    ),
    "api/privacy-requests/{}/start/": Entry(
        privacy_request_id, methods=(("post", {}),), outsider=403, allowed=(), roles_only=True
    ),
    "api/privacy-requests/{}/complete/": Entry(
        privacy_request_id, methods=(("post", {}),), outsider=403, allowed=(), roles_only=True
    ),
    "api/privacy-requests/{}/refuse/": Entry(
        privacy_request_id,
        methods=(("post", {"reason": "peek"}),),
        outsider=403,
        allowed=(),
        roles_only=True,
    ),
    "privacy/{}/": Entry(
        privacy_request_id,
        page=True,
        outsider=403,
        allowed=("administrator",),
        roles_only=True,
    ),
    # The export's download link is a signed key: one never issued names nothing.
    "privacy/export/{}/": Entry(
        lambda w: "never-issued-0123456789abcdefghijklmnopqrstuv", page=True, allowed=()
    ),
    "privacy/export/{}/file/": Entry(
        lambda w: "never-issued-0123456789abcdefghijklmnopqrstuv", page=True, allowed=()
    ),
    # Imports and exports (docs/customers-import-export.md).
    "api/imports/{}/": Entry(
        import_job_id, outsider=403, allowed=("administrator",), roles_only=True
    ),
    "api/imports/{}/rows/": Entry(
        import_job_id, outsider=403, allowed=("administrator",), roles_only=True
    ),
    "api/imports/{}/errors/": Entry(
        import_job_id, outsider=403, allowed=("administrator",), roles_only=True
    ),
    "api/imports/{}/mapping/": Entry(
        import_job_id,
        methods=(("post", {"mapping": {"Email": "email"}}),),
        outsider=403,
        allowed=(),
        roles_only=True,
    ),
    "api/imports/{}/plan/": Entry(
        import_job_id, methods=(("post", {}),), outsider=403, allowed=(), roles_only=True
    ),
    "api/imports/{}/commit/": Entry(
        import_job_id, methods=(("post", {}),), outsider=403, allowed=(), roles_only=True
    ),
    "api/imports/{}/revert/": Entry(
        import_job_id, methods=(("post", {}),), outsider=403, allowed=(), roles_only=True
    ),
    "imports/{}/": Entry(
        import_job_id, page=True, outsider=403, allowed=("administrator",), roles_only=True
    ),
    "api/exports/{}/": Entry(
        export_job_id, outsider=403, allowed=("supervisor", "administrator"), roles_only=True
    ),
    "api/exports/{}/download/": Entry(export_job_id, outsider=403, allowed=(), roles_only=True),
}


def test_every_route_with_an_id_has_a_matrix_entry() -> None:
    routes = routes_with_ids() | schema_paths_with_ids()
    missing = sorted(routes - set(MATRIX))
    assert missing == [], f"add these routes to MATRIX: {missing}"
    assert sorted(set(MATRIX) - routes) == [], "MATRIX names routes that no longer exist"


def _client(user: Any, page: bool) -> Any:
    client: Any = Client(raise_request_exception=False) if page else APIClient()
    if page:
        client.force_login(user)
    else:
        client.force_authenticate(user)
    return client


def _call(client: Any, method: str, url: str, body: dict[str, Any], page: bool) -> Any:
    if page or method == "get":
        return getattr(client, method)(url, body if method != "get" else None)
    return getattr(client, method)(url, body, format="json")


@pytest.mark.parametrize("route", sorted(MATRIX))
def test_an_outsider_gets_nothing_and_changes_nothing(world: World, route: str) -> None:
    entry = MATRIX[route]
    desk = world.desk
    url = "/" + route.replace("{}", str(entry.object_id(world)))
    before = world.snapshot()
    outsider = desk.agent1  # Support's agent: the objects are Billing's or the outsider's
    for method, body in entry.methods:
        if "assignee" in body:
            body = {"assignee": desk.agent1.pk}
        response = _call(_client(outsider, entry.page), method, url, body, entry.page)
        assert response.status_code == entry.outsider, (method, url, response.status_code)
        if not entry.page:
            assert response["Content-Type"].startswith("application/json")
            assert response.json().get("detail"), response.json()
        # An id that names nothing is answered the same way: no oracle of what exists.
        nowhere = "/" + route.replace("{}", "987654321")
        missing = _call(_client(outsider, entry.page), method, nowhere, body, entry.page)
        assert missing.status_code == response.status_code, (method, nowhere)
        if not entry.page:
            assert missing.json() == response.json()
    assert world.snapshot() == before


@pytest.mark.parametrize("route", sorted(r for r, e in MATRIX.items() if e.allowed))
def test_each_role_that_may_see_the_object_sees_it(world: World, route: str) -> None:
    entry = MATRIX[route]
    desk = world.desk
    url = "/" + route.replace("{}", str(entry.object_id(world)))
    people = {
        "team_agent": desk.outsider,
        "supervisor": desk.supervisor,
        "administrator": desk.admin,
    }
    for role, person in people.items():
        response = _client(person, entry.page).get(url)
        expected = 200 if role in entry.allowed else (403 if entry.roles_only else 404)
        assert response.status_code == expected, (role, url, response.status_code)


# --- the live socket's groups --------------------------------------------------------------
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_each_role_joins_only_the_groups_it_may_and_cannot_ask_for_more(desk: Any) -> None:
    """Groups are chosen by the server from the user's roles and teams; a client has no way
    to name one (an unknown message is answered with an error, and nothing is joined)."""
    from tests.notifications.test_consumer import connect, next_message, run

    billing, support = f"team.{desk.other_team.pk}", f"team.{desk.team.pk}"
    expected = {
        desk.agent1: {f"agent.{desk.agent1.pk}", support},
        desk.outsider: {f"agent.{desk.outsider.pk}", billing},
        desk.supervisor: {f"agent.{desk.supervisor.pk}", "supervisors"},
    }

    async def body() -> None:
        for user, groups in expected.items():
            ws, hello = await connect(user)
            joined = set(hello["groups"])
            assert joined <= groups | {support, billing}, (user, joined)
            assert groups <= joined, (user, joined)
            if user == desk.agent1:
                assert billing not in joined and "supervisors" not in joined
                for asked in ({"type": "join", "group": billing}, {"type": "subscribe"}):
                    await ws.send_json_to(asked)
                    assert (await next_message(ws, "error"))["type"] == "error"
            await ws.disconnect()

    run(body)
