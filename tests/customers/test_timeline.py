"""The customer's one timeline: order, keyset pages across equal times, who sees what, one
index scan (EXPLAIN on PostgreSQL), a constant number of queries per page."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audit import services as audit_services
from audit.models import AuditEvent
from core.errors import NotFound
from customers.selectors.timeline import contact_timeline_for, timeline_for
from tests.factories import (
    AgentFactory,
    AnalystFactory,
    ContactFactory,
    CustomerFactory,
    MarketingFactory,
    build_desk,
    open_ticket,
)

pytestmark = pytest.mark.django_db


def _customer_rows(customer: Any, n: int, *, at: Any = None) -> list[int]:
    """``n`` audit rows of the customer (``customer.changed``), all at ``at`` if given."""
    rows = [
        audit_services.record(kind="customer", verb="changed", actor=None, customer_id=customer.pk)
        for _ in range(n)
    ]
    ids = [r.pk for r in rows]
    if at is not None:
        AuditEvent.objects.filter(pk__in=ids).update(created_at=at)
    return ids


def _all_pages(user: Any, customer_id: int, limit: int) -> list[int]:
    seen: list[int] = []
    cursor = None
    while True:
        page = timeline_for(user, customer_id, cursor, limit)
        seen += [e.id for e in page.entries]
        if page.next is None:
            return seen
        cursor = page.next


def test_newest_first_and_paged_across_equal_times() -> None:
    desk = build_desk()
    same = timezone.now() - timedelta(days=1)
    tied = _customer_rows(desk.customer, 7, at=same)
    older = _customer_rows(desk.customer, 2, at=same - timedelta(hours=1))
    newer = _customer_rows(desk.customer, 2)
    ids = _all_pages(desk.supervisor, desk.customer.pk, 3)
    expected = [
        *sorted(newer, reverse=True),
        *sorted(tied, reverse=True),
        *sorted(older, reverse=True),
    ]
    assert ids == expected
    # a previous cursor reads the newer page back
    first = timeline_for(desk.supervisor, desk.customer.pk, None, 3)
    second = timeline_for(desk.supervisor, desk.customer.pk, first.next, 3)
    assert second.previous is not None
    back = timeline_for(desk.supervisor, desk.customer.pk, second.previous, 3)
    assert [e.id for e in back.entries] == [e.id for e in first.entries]


def test_ticket_entries_show_title_to_those_who_may_see_it() -> None:
    desk = build_desk()
    ticket = open_ticket(desk, subject="Printer on fire")
    page = timeline_for(desk.agent1, desk.customer.pk)
    created = [e for e in page.entries if e.kind == "ticket" and e.verb == "created"]
    assert created and created[0].subject is not None
    assert created[0].subject.title == "Printer on fire"
    assert created[0].subject.number == ticket.number
    assert created[0].subject.url == f"/tickets/{ticket.pk}/"
    assert created[0].verb_label == "created"

    # an agent of another team who owns the account sees the entry, not its title
    desk.customer.owner = desk.outsider
    desk.customer.save()
    other = timeline_for(desk.outsider, desk.customer.pk)
    assert [e.id for e in other.entries] == [e.id for e in page.entries]
    assert all(e.subject is None for e in other.entries)

    for reader in (MarketingFactory(), AnalystFactory()):
        seen = timeline_for(reader, desk.customer.pk)
        assert [e.id for e in seen.entries] == [e.id for e in page.entries]
        assert all(e.subject is None and e.actor is None for e in seen.entries)


def test_unseen_customer_is_404_and_api_too() -> None:
    desk = build_desk()
    stranger: Any = CustomerFactory()
    _customer_rows(stranger, 2)
    agent: Any = AgentFactory()
    with pytest.raises(NotFound):
        timeline_for(agent, stranger.pk)
    client = Client()
    client.force_login(agent)
    for url in (
        f"/api/customers/{stranger.pk}/timeline/",
        f"/api/customers/{stranger.pk}/summary/",
        f"/api/customers/{2**63}/timeline/",
    ):
        assert client.get(url).status_code == 404
    contact: Any = ContactFactory(customer=stranger)
    assert client.get(f"/api/contacts/{contact.pk}/timeline/").status_code == 404
    client.force_login(desk.supervisor)
    assert client.get(f"/api/customers/{stranger.pk}/timeline/").status_code == 200


def test_api_pages_with_cursor_and_refuses_a_forged_one() -> None:
    desk = build_desk()
    ids = _customer_rows(desk.customer, 5)
    client = Client()
    client.force_login(desk.supervisor)
    first = client.get(f"/api/customers/{desk.customer.pk}/timeline/?limit=3").json()
    assert [r["id"] for r in first["results"]] == sorted(ids, reverse=True)[:3]
    second = client.get(first["next"]).json()
    assert [r["id"] for r in second["results"]] == sorted(ids, reverse=True)[3:]
    assert second["next"] is None
    bad = client.get(f"/api/customers/{desk.customer.pk}/timeline/?cursor=xyz")
    assert bad.status_code == 400


def test_contact_timeline_reads_the_contact_rows() -> None:
    desk = build_desk()
    open_ticket(desk)
    other: Any = ContactFactory(customer=desk.customer)
    audit_services.record(
        kind="contact",
        verb="consent",
        actor=None,
        customer_id=desk.customer.pk,
        contact_id=other.pk,
    )
    mine = contact_timeline_for(desk.supervisor, desk.contact.pk)
    assert {e.kind for e in mine.entries} == {"ticket"}
    theirs = contact_timeline_for(desk.supervisor, other.pk)
    assert [(e.kind, e.verb) for e in theirs.entries] == [("contact", "consent")]


def test_queries_per_page_do_not_grow_with_tickets() -> None:
    desk = build_desk()
    for i in range(2):
        open_ticket(desk, subject=f"t{i}")
    timeline_for(desk.agent1, desk.customer.pk, None, 100)  # warms the roles' cache
    with CaptureQueriesContext(connection) as few:
        small = timeline_for(desk.agent1, desk.customer.pk, None, 100)
    for i in range(8):
        open_ticket(desk, subject=f"more {i}")
    with CaptureQueriesContext(connection) as many:
        big = timeline_for(desk.agent1, desk.customer.pk, None, 100)
    assert len({e.subject.id for e in big.entries if e.subject}) == 10
    assert len({e.subject.id for e in small.entries if e.subject}) == 2
    assert len(many) == len(few)


def _seed(customer_ids: list[int], rows: int) -> None:
    """``rows`` audit rows spread over the customers, one a second back from now."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO tickets_ticketevent
                (subject_kind, verb, before, after, created_at, updated_at, customer_id)
            SELECT 'customer', 'changed', '{}', '{}', now() - g * interval '1 second', now(),
                   (%s::bigint[])[1 + g %% cardinality(%s::bigint[])]
            FROM generate_series(1, %s) AS g
            """,
            [customer_ids, customer_ids, rows],
        )
        cursor.execute("ANALYZE tickets_ticketevent")


@pytest.mark.postgres
def test_one_index_scan_without_sort() -> None:
    from customers.selectors.timeline import _page, customer_events

    customer: Any = CustomerFactory()
    others = [c.pk for c in CustomerFactory.create_batch(50)]
    _seed(others, 20_000)
    _seed([customer.pk], 2_000)
    user: Any = AnalystFactory()
    deep = None
    for _ in range(30):  # a deep page: 30 pages in
        deep = timeline_for(user, customer.pk, deep, 25).next
    assert deep is not None
    for cursor_value in (None, deep):
        with CaptureQueriesContext(connection) as queries:
            _page(customer_events(customer.pk), cursor_value, 25)
        sql = queries.captured_queries[-1]["sql"]
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN " + sql)
            plan = "\n".join(row[0] for row in cursor.fetchall())
        assert "Index Scan using audit_customer_idx" in plan, plan
        assert "Sort" not in plan, plan
        assert "Seq Scan" not in plan, plan
        assert "Bitmap" not in plan, plan
        # the cursor bounds the scan itself (an index condition, not a filter on the rows)
        if cursor_value is not None:
            assert "Index Cond: ((customer_id = " in plan and "created_at <=" in plan, plan
