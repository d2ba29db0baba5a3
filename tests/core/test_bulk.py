"""``core.bulk.update_columns``: many rows' columns in one statement, as ``bulk_update``
would write them (JSON, times, NULLs and integers), and nothing else."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.bulk import update_columns
from sla.models import SlaClock


@pytest.mark.django_db
def test_update_columns_writes_each_rows_values_in_one_statement() -> None:
    now = timezone.now()
    rows = [SlaClock.objects.create(kind="probe", object_id=n, terms={"keep": n}) for n in range(3)]
    rows[0].targets = {"a": {"due": now.isoformat(), "met_at": None, "breached": True}}
    rows[0].next_at, rows[0].escalation_level = now, 2
    rows[1].targets = {}
    rows[1].next_at, rows[1].escalation_level = None, 0
    rows[2].targets = {"b": {"note": "引号 \"quoted\" and 'single'"}}
    rows[2].next_at, rows[2].escalation_level = now + timedelta(days=1), 7
    rows[2].terms = {"changed": True}  # not named below: must stay as stored

    with CaptureQueriesContext(connection) as queries:
        update_columns(rows, ["targets", "next_at", "escalation_level"])

    assert len(queries) == 1
    stored: dict[int, Any] = {
        r.object_id: (r.targets, r.next_at, r.escalation_level, r.terms)
        for r in SlaClock.objects.filter(kind="probe")
    }
    assert stored == {
        0: (rows[0].targets, now, 2, {"keep": 0}),
        1: ({}, None, 0, {"keep": 1}),
        2: (rows[2].targets, now + timedelta(days=1), 7, {"keep": 2}),
    }


@pytest.mark.django_db
def test_update_columns_of_no_rows_runs_nothing() -> None:
    with CaptureQueriesContext(connection) as queries:
        update_columns([], ["targets"])
    assert len(queries) == 0
