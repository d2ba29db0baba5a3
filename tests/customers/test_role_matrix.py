"""Who may call what: one table of role by endpoint → the exact status (docs/customers-roles.md).

Marketing and analysts never read ticket or complaint contents, even as members of the team
that holds them: lists come back empty, objects 404, creating 403, the queue and the board
refuse them. Analysts read the reports. To add an endpoint, add a row to ``TABLE``: its
method, path (``{ticket}``, ``{complaint}``, ``{contact}``… are filled in), body and the
status each role gets, in the order of ``ROLES``.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from audit.models import AuditEvent
from complaints.models import Complaint, ComplaintProfile
from project.asgi import application
from tests.factories import (
    AgentFactory,
    AnalystFactory,
    MarketingFactory,
    SupervisorFactory,
    TeamFactory,
    build_desk,
    open_ticket,
)
from tests.factories.complaints import ManagerFactory, ensure_shipped_configuration
from tickets.models import Ticket

ROLES = ("administrator", "manager", "supervisor", "agent", "marketing", "analyst", "anonymous")

TICKET_BODY = {
    "subject": "Invoice missing",
    "description": "The March invoice never arrived.",
    "priority": "P2",
    "channel": "api",
    "contact_id": "{contact}",
}
COMPLAINT_BODY = {
    "category": "billing",
    "subcategory": "billing-wrong",
    "title": "Charged twice",
    "description": "My card was charged twice for order 8812.",
    "impact": "medium",
    "urgency": "medium",
    "channel": "phone",
    "customer_id": "{customer}",
    "contact_id": "{contact}",
    "profile": "standard",
}


@dataclass(frozen=True)
class Row:
    method: str
    path: str
    # the status of each role, in the order of ROLES
    statuses: tuple[int, ...]
    body: dict[str, Any] | None = None

    @property
    def api(self) -> bool:
        return self.path.startswith("/api/")


#                 administrator manager supervisor agent marketing analyst anonymous
TABLE = (
    # --- tickets (API) --------------------------------------------------------------------
    Row("GET", "/api/tickets/", (200, 200, 200, 200, 200, 200, 401)),
    Row("GET", "/api/tickets/{ticket}/", (200, 200, 200, 200, 404, 404, 401)),
    Row("GET", "/api/tickets/{ticket}/messages/", (200, 200, 200, 200, 404, 404, 401)),
    Row("POST", "/api/tickets/", (201, 201, 201, 201, 403, 403, 401), TICKET_BODY),
    # --- complaints (API) -----------------------------------------------------------------
    Row("GET", "/api/complaints/", (200, 200, 200, 200, 200, 200, 401)),
    Row("GET", "/api/complaints/{complaint}/", (200, 200, 200, 200, 404, 404, 401)),
    Row("POST", "/api/complaints/", (201, 201, 201, 201, 403, 403, 401), COMPLAINT_BODY),
    Row("GET", "/api/complaints/intake-context/", (200, 200, 200, 200, 403, 403, 401)),
    # --- the queue and the board (API) ----------------------------------------------------
    Row("GET", "/api/queue/", (200, 200, 200, 200, 403, 403, 401)),
    Row("GET", "/api/board/", (200, 403, 200, 403, 403, 403, 401)),
    # --- reports (API) --------------------------------------------------------------------
    Row("GET", "/api/reports/complaints/", (200, 200, 200, 403, 403, 200, 401)),
    Row("GET", "/api/reports/complaints/?format=csv", (200, 200, 200, 403, 403, 200, 401)),
    Row("GET", "/api/reports/complaints/?format=xlsx", (200, 200, 200, 403, 403, 200, 401)),
    # --- contacts search (the intake's) ----------------------------------------------------
    Row("GET", "/api/contacts/?search=li", (200, 200, 200, 200, 200, 200, 401)),
    # --- customers 360 (API; docs/customers.md, "Who sees and does what") -----------------
    Row("GET", "/api/customers/", (200, 200, 200, 200, 200, 200, 401)),
    Row("GET", "/api/customers/{customer}/", (200, 200, 200, 200, 200, 200, 401)),
    Row(
        "PATCH",
        "/api/customers/{customer}/",
        (200, 200, 200, 200, 403, 403, 401),
        {"industry": "Retail"},
    ),
    Row("GET", "/api/customers/{customer}/timeline/", (200, 200, 200, 200, 200, 200, 401)),
    Row("GET", "/api/customers/{customer}/summary/", (200, 200, 200, 200, 200, 200, 401)),
    Row("GET", "/api/contacts/", (200, 200, 200, 200, 200, 200, 401)),
    Row("GET", "/api/contacts/{contact}/", (200, 200, 200, 200, 200, 200, 401)),
    Row("GET", "/api/contacts/{contact}/consents/", (200, 200, 200, 200, 200, 403, 401)),
    Row("GET", "/api/segments/", (200, 200, 200, 403, 200, 200, 401)),
    Row(
        "POST",
        "/api/segments/",
        (201, 201, 201, 403, 201, 403, 401),
        {"name": "Gold", "definition": {"all": []}},
    ),
    Row("GET", "/api/suppressions/", (200, 200, 403, 403, 200, 403, 401)),
    Row("GET", "/api/imports/", (200, 403, 403, 403, 403, 403, 401)),
    Row("GET", "/api/contacts/export/?format=csv", (200, 200, 200, 403, 200, 200, 401)),
    Row("GET", "/api/customers/export/?format=csv", (200, 200, 200, 403, 200, 200, 401)),
    Row("GET", "/api/merges/", (200, 200, 200, 403, 403, 403, 401)),
    Row("GET", "/api/contacts/duplicates/", (200, 200, 200, 403, 403, 403, 401)),
    Row(
        "POST",
        "/api/contacts/{contact}/not-duplicate/",
        (201, 201, 201, 403, 403, 403, 401),
        {"other": "{contact2}", "reason": "Two people"},
    ),
    # already dismissed in the world: answered as it is (idempotent)
    Row(
        "POST",
        "/api/customers/{customer}/not-duplicate/",
        (200, 200, 200, 403, 403, 403, 401),
        {"other": "{customer2}"},
    ),
    Row("GET", "/api/duplicate-dismissals/", (200, 200, 200, 403, 403, 403, 401)),
    Row(
        "POST",
        "/api/duplicate-dismissals/{dismissal}/restore/",
        (204, 204, 204, 403, 403, 403, 401),
    ),
    Row("GET", "/api/privacy-requests/", (200, 200, 403, 403, 403, 403, 401)),
    # --- screens --------------------------------------------------------------------------
    Row("GET", "/queue/", (200, 200, 200, 200, 403, 403, 302)),
    Row("GET", "/board/", (200, 403, 200, 403, 403, 403, 302)),
    Row("GET", "/tickets/", (200, 200, 200, 200, 200, 200, 302)),
    Row("GET", "/tickets/{ticket}/", (200, 200, 200, 200, 404, 404, 302)),
    Row("GET", "/tickets/new/", (200, 200, 200, 200, 403, 403, 302)),
    Row("GET", "/complaints/", (200, 200, 200, 200, 200, 200, 302)),
    Row("GET", "/complaints/{complaint}/", (200, 200, 200, 200, 404, 404, 302)),
    Row("GET", "/customers/", (200, 200, 200, 200, 200, 200, 302)),
    Row("GET", "/customers/{customer}/", (200, 200, 200, 200, 200, 200, 302)),
    Row("GET", "/contacts/{contact}/", (200, 200, 200, 200, 200, 200, 302)),
    Row("GET", "/segments/", (200, 200, 200, 403, 200, 200, 302)),
    Row("GET", "/imports/", (200, 403, 403, 403, 403, 403, 302)),
    Row("GET", "/customers/duplicates/", (200, 200, 200, 403, 403, 403, 302)),
    Row("GET", "/customers/duplicates/?tab=dismissed", (200, 200, 200, 403, 403, 403, 302)),
    Row(
        "POST",
        "/customers/duplicates/contacts/{contact}/{contact2}/dismiss/",
        (303, 303, 303, 403, 403, 403, 302),
    ),
    Row(
        "POST",
        "/customers/duplicates/dismissed/{dismissal}/restore/",
        (303, 303, 303, 403, 403, 403, 302),
    ),
    Row("GET", "/contacts/{contact}/edit/", (200, 200, 200, 200, 403, 403, 302)),
    Row(
        "POST",
        "/contacts/{contact}/points/",
        (303, 303, 303, 303, 403, 403, 302),
        {"kind": "phone", "value": "137 0000 1111"},
    ),
    Row("GET", "/privacy/", (200, 200, 403, 403, 403, 403, 302)),
    Row("GET", "/reports/complaints/", (200, 200, 200, 403, 403, 200, 302)),
    Row("GET", "/reports/complaints/statistics.csv", (200, 200, 200, 403, 403, 200, 302)),
    Row("GET", "/reports/complaints/register.csv", (200, 200, 200, 403, 403, 200, 302)),
    Row("GET", "/reports/complaints/register.xlsx", (200, 200, 200, 403, 403, 200, 302)),
)

CASES = [
    pytest.param(row, role, row.statuses[i], id=f"{row.method} {row.path} as {role}")
    for row in TABLE
    for i, role in enumerate(ROLES)
]


def test_the_table_is_whole() -> None:
    for row in TABLE:
        assert len(row.statuses) == len(ROLES), row


@pytest.fixture
def world(db: Any) -> dict[str, Any]:
    """One team holding a ticket and a complaint; every role a member of it (but the
    administrator and the supervisor, who see everything anyway)."""
    ensure_shipped_configuration()
    desk = build_desk()
    ComplaintProfile.objects.update(team=desk.team)
    manager: Any = ManagerFactory(username="manager")
    marketing: Any = MarketingFactory(username="marketing")
    analyst: Any = AnalystFactory(username="analyst")
    desk.team.members.add(manager, marketing, analyst)
    ticket = open_ticket(desk)
    from complaints import services

    fields: dict[str, Any] = {
        **COMPLAINT_BODY,
        "customer_id": desk.customer.pk,
        "contact_id": desk.contact.pk,
    }
    complaint = services.open_complaint(data=services.NewComplaint(**fields), actor=desk.supervisor)
    # a second contact and customer, and a pair of customers marked "not a duplicate"
    from customers.services.duplicates import dismiss_pair
    from tests.factories import ContactFactory, CustomerFactory

    contact2: Any = ContactFactory(customer=desk.customer, name="Another person")
    customer2: Any = CustomerFactory(name="Another customer")
    dismissal, _ = dismiss_pair(desk.admin, "customer", desk.customer.pk, customer2.pk)
    return {
        "users": {
            "administrator": desk.admin,
            "manager": manager,
            "supervisor": desk.supervisor,
            "agent": desk.agent1,
            "marketing": marketing,
            "analyst": analyst,
            "anonymous": None,
        },
        "ids": {
            "ticket": ticket.pk,
            "complaint": complaint.pk,
            "contact": desk.contact.pk,
            "customer": desk.customer.pk,
            "contact2": contact2.pk,
            "customer2": customer2.pk,
            "dismissal": dismissal.pk,
        },
    }


def _filled(value: Any, ids: dict[str, int]) -> Any:
    if isinstance(value, str) and value.startswith("{") and value.endswith("}"):
        return ids[value[1:-1]]
    return value


def _counts() -> tuple[int, int, int]:
    return Ticket.objects.count(), Complaint.objects.count(), AuditEvent.objects.count()


def _client(row: Row, user: Any) -> Any:
    if row.api:
        client = APIClient()
        if user is not None:
            token, _ = Token.objects.get_or_create(user=user)
            client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return client
    browser = Client()
    if user is not None:
        browser.force_login(user)
    return browser


@pytest.mark.parametrize(("row", "role", "expected"), CASES)
def test_role_matrix(world: dict[str, Any], row: Row, role: str, expected: int) -> None:
    ids = world["ids"]
    path = row.path.format(**ids)
    client = _client(row, world["users"][role])
    before = _counts()
    if row.method == "GET":
        response = client.get(path)
    elif not row.api:
        # a screen's form: a plain form post
        response = client.post(path, {k: _filled(v, ids) for k, v in (row.body or {}).items()})
    else:
        body = {k: _filled(v, ids) for k, v in (row.body or {}).items()}
        response = client.generic(
            row.method, path, data=json.dumps(body), content_type="application/json"
        )
    assert response.status_code == expected, (role, path, response.content[:300])
    if expected >= 400:
        assert _counts() == before  # a refusal changes nothing
    if expected == 302:
        assert response["Location"].startswith("/login/")
    if role in ("marketing", "analyst") and expected == 200 and row.method == "GET":
        body_text = b"".join(response.streaming_content) if response.streaming else response.content
        # nothing of the ticket's or the complaint's contents reaches them
        assert b"Printer on fire" not in body_text
        assert b"Charged twice" not in body_text


# --- the live queue socket ------------------------------------------------------------------


def _run(body: Callable[[], Awaitable[None]]) -> None:
    async_to_sync(body)()


async def _socket_close_code(user: Any) -> int | None:
    token = await sync_to_async(lambda: str(Token.objects.get_or_create(user=user)[0].key))()
    ws = WebsocketCommunicator(
        application,
        f"/ws/queue/?token={token}",
        headers=[(b"host", b"testserver"), (b"origin", b"http://testserver")],
    )
    connected, _ = await ws.connect(timeout=5)
    assert connected
    output = await ws.receive_output(timeout=5)
    await ws.disconnect()
    if output["type"] == "websocket.close":
        return int(output["code"])
    assert '"hello"' in output["text"]
    return None


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("role", "code"),
    [("agent", None), ("supervisor", None), ("marketing", 4403), ("analyst", 4403)],
)
def test_queue_socket_refuses_marketing_and_analysts(role: str, code: int | None) -> None:
    factory = {
        "agent": AgentFactory,
        "supervisor": SupervisorFactory,
        "marketing": MarketingFactory,
        "analyst": AnalystFactory,
    }[role]
    user: Any = factory()
    team: Any = TeamFactory()
    team.members.add(user)  # a team does not open the queue to them

    async def body() -> None:
        assert await _socket_close_code(user) == code

    _run(body)
