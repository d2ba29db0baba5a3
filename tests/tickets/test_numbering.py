"""Ticket numbers T-YYYY-NNNNNN (docs/tickets.md, "Ticket numbers"): a sequence per year on
PostgreSQL that no intake waits on, the year's counter row on SQLite."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from django.db import connection, connections

from tickets.models import TicketCounter
from tickets.services import allocate_ticket_number

pytestmark = pytest.mark.django_db


def _in_year(monkeypatch: pytest.MonkeyPatch, year: int) -> None:
    """Intake's clock in ``year``, one no other test numbers tickets in."""
    moment = datetime(year, 3, 1, 9, 0, tzinfo=UTC)
    monkeypatch.setattr("tickets.services._common.timezone", SimpleNamespace(now=lambda: moment))


def test_numbers_count_up_within_a_year(monkeypatch: pytest.MonkeyPatch) -> None:
    _in_year(monkeypatch, 2091)

    numbers = [allocate_ticket_number() for _ in range(3)]

    assert numbers == ["T-2091-000001", "T-2091-000002", "T-2091-000003"]


@pytest.mark.postgres
def test_the_years_sequence_starts_after_its_counter_and_its_highest_number(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL numbers from a sequence")
    _in_year(monkeypatch, 2092)
    TicketCounter.objects.create(year=2092, last=41)
    _in_year(monkeypatch, 2093)
    from tests.factories import build_desk, open_ticket

    desk = build_desk()
    ticket = open_ticket(desk)
    assert ticket.number == "T-2093-000001"
    type(ticket).objects.filter(pk=ticket.pk).update(number="T-2093-000077")
    with connection.cursor() as cursor:  # as if 0008 met a year already numbered
        cursor.execute("DROP SEQUENCE tickets_number_2093")

    assert allocate_ticket_number() == "T-2093-000078"
    _in_year(monkeypatch, 2092)
    assert allocate_ticket_number() == "T-2092-000042"
    assert TicketCounter.objects.get(year=2092).last == 41  # the counter is no longer written


def test_the_counter_numbers_where_there_are_no_sequences(monkeypatch: pytest.MonkeyPatch) -> None:
    _in_year(monkeypatch, 2094)
    monkeypatch.setattr(connection, "vendor", "sqlite")  # the embedded mode's path
    TicketCounter.objects.create(year=2094, last=9)

    assert [allocate_ticket_number() for _ in range(2)] == ["T-2094-000010", "T-2094-000011"]
    assert TicketCounter.objects.get(year=2094).last == 11


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_intakes_get_distinct_numbers_even_for_a_new_year(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Eight intakes at once, the first of the year among them: each its own number, and
    none waits on another's transaction (the sequence is made by whichever comes first)."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL numbers from a sequence")
    _in_year(monkeypatch, 2095)
    numbers: list[str] = []
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def intake() -> None:
        try:
            start.wait()
            for _ in range(5):
                numbers.append(allocate_ticket_number())
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=intake) for _ in range(8)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        assert sorted(numbers) == [f"T-2095-{n:06d}" for n in range(1, 41)]
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP SEQUENCE IF EXISTS tickets_number_2095")
