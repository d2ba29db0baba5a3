"""The ticket endpoints of API.md, including every refusal."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from audit.models import AuditEvent
from tests.concurrency import run_together
from tests.conftest import TOKEN_AND_PAGE, client_for
from tests.factories import open_ticket
from tickets.models import Ticket

pytestmark = pytest.mark.django_db


def intake(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "subject": "VPN drops every hour",
        "description": "Since Monday",
        "priority": "P2",
        "channel": "web",
        "contact": {"email": "Wang.Fang@Example.com", "name": "王芳"},
    }
    body.update(overrides)
    return body


def test_post_ticket_starts_the_process_and_returns_it(desk: Any) -> None:
    response = client_for(desk.admin).post("/api/tickets/", intake(), format="json")

    assert response.status_code == 201, response.data
    data = response.json()
    ticket = Ticket.objects.get(pk=data["id"])
    assert data["number"] == ticket.number
    assert data["status"] == "open"
    assert data["priority"] == "P2"
    assert data["channel"] == "web"
    assert data["team"] == desk.team.pk
    assert data["assignee"] in (desk.agent1.pk, desk.agent2.pk)
    assert data["contact"] == ticket.contact_id
    assert ticket.contact.email == "wang.fang@example.com"
    assert data["sla"]["policy"] == desk.policy.pk
    assert data["sla"]["paused"] is False
    assert data["sla"]["breached"] == []
    assert data["sla"]["escalation_level"] == 0
    assert data["messages_url"] == f"/api/tickets/{ticket.pk}/messages/"
    assert data["history_url"] == f"/api/tickets/{ticket.pk}/history/"
    assert set(data) == {
        "id",
        "number",
        "subject",
        "description",
        "status",
        "priority",
        "category",
        "channel",
        "customer",
        "contact",
        "team",
        "assignee",
        "created",
        "updated",
        "version",
        "sla",
        "messages_url",
        "history_url",
    }


def test_intake_finds_the_existing_contact_by_email(desk: Any) -> None:
    client = client_for(desk.admin)
    first = client.post("/api/tickets/", intake(), format="json").json()
    second = client.post(
        "/api/tickets/", intake(contact={"email": "wang.fang@EXAMPLE.com"}), format="json"
    ).json()

    assert first["contact"] == second["contact"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (intake(priority="P9"), "priority"),
        (intake(subject=""), "subject"),
        ({k: v for k, v in intake().items() if k != "subject"}, "subject"),
        (intake(subject="x" * 100_000), "subject"),
        (intake(contact={"email": "not-an-email"}), "contact.email"),
        (intake(channel="fax"), "channel"),
        ({k: v for k, v in intake().items() if k != "contact"}, "contact"),
        (intake(contact_id=1), "contact"),
        (intake(category="no-such-category"), "category"),
        (intake(customer_id=999_999), "customer_id"),
    ],
)
def test_bad_intake_is_refused_with_a_message_and_creates_nothing(
    desk: Any, body: dict[str, Any], field: str
) -> None:
    response = client_for(desk.admin).post("/api/tickets/", body, format="json")

    assert response.status_code == 400
    data = response.json()
    assert data["detail"]
    assert field in data["errors"], data
    assert Ticket.objects.count() == 0


def test_malformed_json_is_a_400_with_the_error_shape(desk: Any) -> None:
    response = client_for(desk.admin).post(
        "/api/tickets/", data='{"subject": ', content_type="application/json"
    )

    assert response.status_code == 400
    assert "JSON" in response.json()["detail"]
    assert response.json()["errors"] == {}
    assert Ticket.objects.count() == 0


def test_a_json_array_body_is_refused(desk: Any) -> None:
    response = client_for(desk.admin).post("/api/tickets/", [1, 2], format="json")

    assert response.status_code == 400
    assert Ticket.objects.count() == 0


def test_idempotency_key_makes_a_retried_intake_return_the_same_ticket(desk: Any) -> None:
    client = client_for(desk.admin)
    first = client.post("/api/tickets/", intake(), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    retry = client.post("/api/tickets/", intake(), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    other = client.post("/api/tickets/", intake(), format="json", HTTP_IDEMPOTENCY_KEY="k-2")

    assert first.status_code == 201
    assert retry.status_code == 200
    assert retry.json()["id"] == first.json()["id"]
    assert other.json()["id"] != first.json()["id"]
    assert Ticket.objects.count() == 2


def test_idempotency_key_reused_with_another_body_conflicts(desk: Any) -> None:
    client = client_for(desk.admin)
    client.post("/api/tickets/", intake(), format="json", HTTP_IDEMPOTENCY_KEY="k-1")

    response = client.post(
        "/api/tickets/", intake(subject="other"), format="json", HTTP_IDEMPOTENCY_KEY="k-1"
    )

    assert response.status_code == 409
    assert Ticket.objects.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_retries_with_one_key_create_one_ticket(desk: Any) -> None:
    def post() -> tuple[int, int]:
        response = client_for(desk.admin).post(
            "/api/tickets/", intake(), format="json", HTTP_IDEMPOTENCY_KEY="same"
        )
        return response.status_code, response.json()["id"]

    results = run_together(*[post] * 4)
    statuses = [status for status, _ in results]
    ids = [ticket_id for _, ticket_id in results]

    assert sorted(statuses) == [200, 200, 200, 201]
    assert len(set(ids)) == 1
    assert Ticket.objects.count() == 1


def test_anonymous_requests_get_401(desk: Any) -> None:
    assert APIClient().get("/api/tickets/").status_code == 401
    response = APIClient().post("/api/tickets/", intake(), format="json")
    assert response.status_code == 401
    assert response.json()["detail"]


def test_ticket_of_another_team_is_a_404_to_an_agent(desk: Any) -> None:
    ticket = open_ticket(desk)
    outsider = client_for(desk.outsider)

    assert outsider.get(f"/api/tickets/{ticket.pk}/").status_code == 404
    assert outsider.get(f"/api/tickets/{ticket.pk}/messages/").status_code == 404
    assert outsider.get(f"/api/tickets/{ticket.pk}/history/").status_code == 404
    assert outsider.post(f"/api/tickets/{ticket.pk}/claim/").status_code == 404
    assert outsider.get("/api/tickets/").json()["results"] == []
    assert client_for(desk.supervisor).get(f"/api/tickets/{ticket.pk}/").status_code == 200


def test_list_filters(desk: Any) -> None:
    mine = open_ticket(desk, subject="Mail bounce", priority="P1")
    other = open_ticket(desk, subject="Printer jam", priority="P3")
    client = client_for(mine.assignee)

    def ids(query: str) -> list[int]:
        response = client.get(f"/api/tickets/?{query}")
        assert response.status_code == 200, response.data
        return [t["id"] for t in response.json()["results"]]

    assert ids("assignee=me") == [mine.pk]
    assert ids("priority=P3") == [other.pk]
    assert ids("q=bounce") == [mine.pk]
    assert ids(f"q={other.number}") == [other.pk]
    assert ids("status=open") == [other.pk, mine.pk]
    assert ids("status=closed") == []
    assert ids(f"team={desk.team.pk}&ordering=created") == [mine.pk, other.pk]
    assert ids("breached=true") == []
    assert ids("breached=false&ordering=sla_due") == [mine.pk, other.pk]
    assert ids(f"customer={desk.customer.pk}") == [other.pk, mine.pk]


@pytest.mark.parametrize(
    "query",
    [
        "priority=P7",
        "status=lost",
        "ordering=color",
        "team=abc",
        "breached=maybe",
        "cursor=%%%",
        "assignee=-3",
    ],
)
def test_list_refuses_bad_filters(desk: Any, query: str) -> None:
    response = client_for(desk.admin).get(f"/api/tickets/?{query}")

    assert response.status_code == 400
    assert response.json()["detail"]


def test_cursor_pagination_walks_every_ticket_once(desk: Any, monkeypatch: Any) -> None:
    from tickets.api import views

    monkeypatch.setattr(views, "PAGE_SIZE", 3)
    created = [open_ticket(desk).pk for _ in range(7)]
    client = client_for(desk.admin)

    seen: list[int] = []
    url: str | None = "/api/tickets/"
    pages = 0
    while url:
        data = client.get(url).json()
        seen += [t["id"] for t in data["results"]]
        url = data["next"]
        pages += 1
    assert seen == sorted(created, reverse=True)
    assert pages == 3

    last_page = client.get("/api/tickets/?cursor=" + _cursor_of(client, 2)).json()
    back = client.get(last_page["previous"]).json()
    assert [t["id"] for t in back["results"]] == seen[3:6]


def _cursor_of(client: APIClient, page: int) -> str:
    url = "/api/tickets/"
    for _ in range(page):
        url = client.get(url).json()["next"]
    return url.split("cursor=")[1]


def test_list_query_count_does_not_grow_with_the_page(
    desk: Any, django_assert_max_num_queries: Any
) -> None:
    client = client_for(desk.admin)
    client.get("/api/tickets/")  # warm the role cache of nothing: each request is fresh
    for _ in range(12):
        open_ticket(desk)

    with django_assert_max_num_queries(6):
        response = client.get("/api/tickets/")

    assert len(response.json()["results"]) == 12


def test_list_rows_are_the_tickets_as_the_detail_shows_them(
    desk: Any, django_assert_num_queries: Any
) -> None:
    """The list builds its rows without DRF's serializer (tickets.api.serializers.ticket_rows);
    each is the detail's ``TicketOutput`` byte for byte: a category, a paused clock, a breach,
    a first response, a resolution, no SLA at all. Two statements however many categories."""
    from datetime import timedelta

    from django.utils import timezone

    from tests.factories import CategoryFactory, update_ticket
    from tickets import services

    now = timezone.now().replace(microsecond=123456)
    CategoryFactory(code="billing")
    network: Any = CategoryFactory(code="network")
    plain = open_ticket(desk)
    categorised = open_ticket(desk, category_code="billing")
    other = open_ticket(desk, category_code="network")
    paused = open_ticket(desk)
    update_ticket(paused.pk, sla_paused_at=now, first_response_breached=True, category=network)
    late = open_ticket(desk)
    update_ticket(late.pk, resolution_breached=True, first_responded_at=now, escalation_level=2)
    done = open_ticket(desk)
    services.resolve_ticket(ticket_id=done.pk, actor=desk.supervisor, resolution="ok")
    bare = open_ticket(desk)
    update_ticket(bare.pk, sla_clock=None, updated_at=now - timedelta(days=1))  # no SLA
    client = client_for(desk.admin)

    with django_assert_num_queries(TOKEN_AND_PAGE):
        response = client.get("/api/tickets/?ordering=created")

    rows = response.json()["results"]
    tickets = [plain, categorised, other, paused, late, done, bare]
    assert [r["id"] for r in rows] == [t.pk for t in tickets]
    assert [r["category"] for r in rows] == [None, "billing", "network", "network", None,
                                             None, None]  # fmt: skip
    for row, ticket in zip(rows, tickets, strict=True):
        detail = client.get(f"/api/tickets/{ticket.pk}/").json()
        assert detail.pop("links") == []  # the detail's own addition: linked objects
        assert row == detail
    body = response.content.decode()
    for row in rows:  # the same bytes, keys in the same order, as the detail's
        detail_bytes = client.get(f"/api/tickets/{row['id']}/").content.decode()
        assert detail_bytes.endswith(',"links":[]}')
        assert detail_bytes.removesuffix(',"links":[]}') + "}" in body
    assert rows[3]["sla"]["paused"] is True
    assert rows[3]["sla"]["breached"] == ["first_response"]
    assert rows[4]["sla"]["first_responded_at"] == now.isoformat().replace("+00:00", "Z")
    assert rows[6]["sla"]["policy"] is None


def test_claim_assign_reply_hold_resume_urge_resolve_close_reopen(desk: Any) -> None:
    desk.team.assignment = "manual"
    desk.team.save()
    ticket = open_ticket(desk)
    agent = client_for(desk.agent1)
    supervisor = client_for(desk.supervisor)
    url = f"/api/tickets/{ticket.pk}"

    claimed = agent.post(f"{url}/claim/").json()
    assert (claimed["assignee"], claimed["status"]) == (desk.agent1.pk, "open")
    assert client_for(desk.agent2).post(f"{url}/claim/").status_code == 409

    moved = supervisor.post(f"{url}/assign/", {"assignee": desk.agent2.pk}, format="json")
    assert moved.json()["assignee"] == desk.agent2.pk
    agent = client_for(desk.agent2)

    assert (
        agent.post(
            f"{url}/reply/", {"body": "Looking", "internal": True}, format="json"
        ).status_code
        == 200
    )
    replied = agent.post(f"{url}/reply/", {"body": "Hello 你好"}, format="json").json()
    assert replied["sla"]["first_responded_at"] is not None

    held = agent.post(f"{url}/hold/", {"reason": "need logs"}, format="json").json()
    assert (held["status"], held["sla"]["paused"]) == ("pending_customer", True)
    resumed = agent.post(f"{url}/resume/").json()
    assert (resumed["status"], resumed["sla"]["paused"]) == ("open", False)

    urged = client_for(desk.agent1).post(f"{url}/urge/", {"note": "VIP"}, format="json")
    assert urged.status_code == 200
    assert desk.agent2.notifications.filter(kind="urged").count() == 1

    resolved = agent.post(f"{url}/resolve/", {"resolution": "Replaced cable"}, format="json")
    assert resolved.json()["status"] == "resolved"
    assert (
        agent.post(f"{url}/reopen/", {"reason": "again"}, format="json").json()["status"] == "open"
    )
    assert agent.post(f"{url}/close/").json()["status"] == "closed"

    messages = agent.get(f"{url}/messages/").json()
    assert [(m["body"], m["internal"]) for m in messages] == [
        ("Looking", True),
        ("Hello 你好", False),
    ]
    history = agent.get(f"{url}/history/").json()
    verbs = [h["verb"] for h in history]
    assert verbs == [
        "created",
        "routed",
        "claimed",
        "assigned",
        "noted",
        "replied",
        "held",
        "resumed",
        "urged",
        "resolved",
        "reopened",
        "closed",
    ]
    assigned = history[3]
    assert assigned["actor"] == desk.supervisor.pk
    assert assigned["before"] == {"assignee": desk.agent1.pk}
    assert assigned["after"] == {"assignee": desk.agent2.pk}


@pytest.mark.parametrize(
    ("action", "body", "field"),
    [
        ("reply", {}, "body"),
        ("reply", {"body": ""}, "body"),
        ("reply", {"body": "x" * 100_001}, "body"),
        ("resolve", {}, "resolution"),
        ("resolve", {"resolution": "   "}, "resolution"),
        ("assign", {"assignee": "bob"}, "assignee"),
        ("assign", {"assignee": 999_999}, "assignee"),
    ],
)
def test_actions_refuse_bad_input_and_change_nothing(
    desk: Any, action: str, body: dict[str, Any], field: str
) -> None:
    ticket = open_ticket(desk)
    actor = desk.supervisor

    response = client_for(actor).post(f"/api/tickets/{ticket.pk}/{action}/", body, format="json")

    assert response.status_code == 400, response.data
    assert field in response.json()["errors"]
    fresh = Ticket.objects.get(pk=ticket.pk)
    assert (fresh.version, fresh.status, fresh.assignee_id) == (
        ticket.version,
        ticket.status,
        ticket.assignee_id,
    )
    assert AuditEvent.objects.filter(ticket=ticket).count() == 3


def test_assign_to_someone_outside_the_team_is_refused(desk: Any) -> None:
    ticket = open_ticket(desk)

    response = client_for(desk.supervisor).post(
        f"/api/tickets/{ticket.pk}/assign/", {"assignee": desk.outsider.pk}, format="json"
    )

    assert response.status_code == 400
    assert Ticket.objects.get(pk=ticket.pk).assignee_id == ticket.assignee_id


def test_only_supervisors_assign(desk: Any) -> None:
    ticket = open_ticket(desk)

    response = client_for(desk.agent1).post(
        f"/api/tickets/{ticket.pk}/assign/", {"assignee": desk.agent2.pk}, format="json"
    )

    assert response.status_code == 403
    assert Ticket.objects.get(pk=ticket.pk).assignee_id == ticket.assignee_id


def test_action_the_state_does_not_allow_is_409(desk: Any) -> None:
    ticket = open_ticket(desk)
    client = client_for(ticket.assignee)

    response = client.post(f"/api/tickets/{ticket.pk}/resume/")

    assert response.status_code == 409
    assert "resume" in response.json()["detail"]
    assert Ticket.objects.get(pk=ticket.pk).version == ticket.version


def test_unknown_ticket_is_404(desk: Any) -> None:
    client = client_for(desk.admin)

    assert client.get("/api/tickets/999999/").status_code == 404
    assert client.post("/api/tickets/999999/claim/").status_code == 404


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_claims_exactly_one_wins(desk: Any) -> None:
    desk.team.assignment = "manual"
    desk.team.save()
    ticket = open_ticket(desk)

    def claim(user: Any) -> Callable[[], int]:
        return lambda: client_for(user).post(f"/api/tickets/{ticket.pk}/claim/").status_code

    codes = run_together(claim(desk.agent1), claim(desk.agent2))
    results = {"agent1": codes[0], "agent2": codes[1]}

    assert sorted(results.values()) == [200, 409]
    winner = next(name for name, code in results.items() if code == 200)
    fresh = Ticket.objects.get(pk=ticket.pk)
    assert fresh.assignee is not None
    assert fresh.assignee.username == winner
    assert fresh.events.filter(verb="claimed").count() == 1


# --- intake by an existing contact's email (issue 13, item 4) -------------------------
def _gold_p2_policy() -> Any:
    from tests.factories import SlaPolicyFactory

    return SlaPolicyFactory(priority="P2", customer_tier="gold", name="P2 gold")


@pytest.mark.parametrize(
    "email", ["li.lei@example.com", "  Li.Lei@EXAMPLE.com ", "LI.LEI@example.COM"]
)
def test_intake_by_a_customer_contacts_email_keeps_the_customer_and_its_tier(
    desk: Any, email: str
) -> None:
    from customers.models import Contact

    gold = _gold_p2_policy()
    contacts_before = Contact.objects.count()

    response = client_for(desk.admin).post(
        "/api/tickets/", intake(contact={"email": email}), format="json"
    )

    assert response.status_code == 201, response.data
    data = response.json()
    assert data["contact"] == desk.contact.pk
    assert data["customer"] == desk.customer.pk
    assert data["sla"]["policy"] == gold.pk
    assert Contact.objects.count() == contacts_before  # no customerless duplicate


def test_a_customerless_contact_with_the_same_email_does_not_shadow_the_customers(
    desk: Any,
) -> None:
    from customers.models import Contact

    gold = _gold_p2_policy()
    walk_in = Contact.objects.create(customer=None, email="li.lei@example.com")

    data = (
        client_for(desk.admin)
        .post("/api/tickets/", intake(contact={"email": "Li.Lei@example.com"}), format="json")
        .json()
    )

    assert data["contact"] == desk.contact.pk != walk_in.pk
    assert data["customer"] == desk.customer.pk
    assert data["sla"]["policy"] == gold.pk


def test_customer_id_chooses_among_customers_sharing_an_address(desk: Any) -> None:
    from customers.models import Contact
    from tests.factories import ContactFactory, CustomerFactory

    _gold_p2_policy()
    other: Any = ContactFactory(
        customer=CustomerFactory(tier="standard"), email="LI.LEI@example.com"
    )
    client = client_for(desk.admin)

    ambiguous = client.post(
        "/api/tickets/", intake(contact={"email": "li.lei@example.com"}), format="json"
    )
    chosen = client.post(
        "/api/tickets/",
        intake(contact={"email": "li.lei@example.com"}, customer_id=other.customer_id),
        format="json",
    )
    gold = client.post(
        "/api/tickets/",
        intake(contact={"email": " li.lei@EXAMPLE.com"}, customer_id=desk.customer.pk),
        format="json",
    )

    assert ambiguous.status_code == 400
    errors = ambiguous.json()["errors"]["customer_id"]
    assert str(desk.customer.pk) in errors[0] and str(other.customer_id) in errors[0]
    assert chosen.status_code == 201
    assert (chosen.json()["contact"], chosen.json()["customer"]) == (other.pk, other.customer_id)
    assert gold.status_code == 201
    assert (gold.json()["contact"], gold.json()["customer"]) == (
        desk.contact.pk,
        desk.customer.pk,
    )
    assert Ticket.objects.count() == 2
    assert Contact.objects.filter(email__iexact="li.lei@example.com").count() == 2


def test_customer_id_without_that_contact_creates_it_under_the_customer(desk: Any) -> None:
    from customers.models import Contact
    from tests.factories import CustomerFactory

    newcomer: Any = CustomerFactory(tier="gold")

    data = (
        client_for(desk.admin)
        .post(
            "/api/tickets/",
            intake(
                contact={"email": "Li.Lei@Example.com", "name": "李雷"}, customer_id=newcomer.pk
            ),
            format="json",
        )
        .json()
    )

    contact = Contact.objects.get(pk=data["contact"])
    assert (contact.customer_id, contact.email, contact.name) == (
        newcomer.pk,
        "li.lei@example.com",
        "李雷",
    )
    assert data["customer"] == newcomer.pk
    assert desk.contact.pk != contact.pk


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_intakes_of_a_new_address_create_one_contact(desk: Any) -> None:
    from customers.models import Contact

    def post(email: str, customer_id: int | None) -> Callable[[], tuple[int, int]]:
        def call() -> tuple[int, int]:
            body = intake(contact={"email": email})
            if customer_id is not None:
                body["customer_id"] = customer_id
            response = client_for(desk.admin).post("/api/tickets/", body, format="json")
            return response.status_code, response.json()["contact"]

        return call

    walk_ins = run_together(*[post(" New.Person@Example.com", None)] * 3)
    members = run_together(*[post("new.person@EXAMPLE.com ", desk.customer.pk)] * 3)

    assert {code for code, _ in walk_ins + members} == {201}
    assert len({contact for _, contact in walk_ins}) == 1
    assert len({contact for _, contact in members}) == 1
    rows = Contact.objects.filter(email="new.person@example.com")
    assert sorted(rows.values_list("customer_id", flat=True), key=str) == sorted(
        [None, desk.customer.pk], key=str
    )


def test_demo_gold_contact_by_email_gets_the_gold_tier_and_policy(db: Any) -> None:
    """The demo's Gold customer 上海云桥科技 has 刘洋; intake by his address, in another case
    and with spaces, lands on him and on the Gold P2 policy, not on a new walk-in."""
    from io import StringIO

    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from customers.models import Contact
    from tickets.models import SlaPolicy

    call_command("load_demo", stdout=StringIO())
    liu = Contact.objects.select_related("customer").get(email="liu.yang@yunqiao.example.com")
    assert liu.customer is not None and liu.customer.tier == "gold"
    contacts_before = Contact.objects.count()
    admin = get_user_model().objects.get(username="admin")

    response = client_for(admin).post(
        "/api/tickets/",
        intake(contact={"email": "  Liu.Yang@YunQiao.Example.COM  "}, priority="P2"),
        format="json",
    )

    assert response.status_code == 201, response.data
    data = response.json()
    assert (data["contact"], data["customer"]) == (liu.pk, liu.customer_id)
    policy = SlaPolicy.objects.get(pk=data["sla"]["policy"])
    assert (policy.priority, policy.customer_tier) == ("P2", "gold")
    assert Contact.objects.count() == contacts_before
