"""Writing some columns of many rows in one statement (a sweep of the SLA ladder).

Django's ``bulk_update`` writes ``SET col = CASE WHEN id = 1 THEN … WHEN id = 2 THEN …``:
one ``When`` expression per row and column, each resolved and compiled in Python, which
took three quarters of a 500-clock sweep's time (tests/bench/timers.py). On
PostgreSQL the rows travel as one array per column instead, ``UPDATE … FROM unnest(…)``;
elsewhere (the embedded SQLite mode) Django's ``bulk_update`` does the same work.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from django.db import connections, models, router


def update_columns(rows: Sequence[models.Model], fields: Sequence[str]) -> None:
    """Writes ``fields`` of ``rows`` (saved rows of one model) by primary key, as
    ``bulk_update`` would: no ``pre_save`` (set ``auto_now`` fields yourself), no signals."""
    if not rows:
        return
    model = type(rows[0])
    meta = model._meta
    connection = connections[router.db_for_write(model)]
    if connection.vendor != "postgresql":
        model._default_manager.bulk_update(rows, list(fields))
        return
    pk = meta.pk
    assert pk is not None
    columns: list[models.Field[Any, Any]] = [pk]
    for name in fields:
        field = meta.get_field(name)
        assert isinstance(field, models.Field) and field.column
        columns.append(field)
    quote = connection.ops.quote_name
    arrays: list[list[Any]] = []
    casts: list[str] = []
    for field in columns:
        values = [getattr(row, field.attname) for row in rows]
        if field.get_internal_type() == "JSONField":
            encoder = getattr(field, "encoder", None)
            arrays.append([None if v is None else json.dumps(v, cls=encoder) for v in values])
            casts.append("text[]")
        else:
            arrays.append([field.get_db_prep_save(v, connection) for v in values])
            casts.append(f"{field.db_type(connection)}[]")
    names = [quote(f"c{i}") for i in range(len(columns))]
    assignments = ", ".join(
        f"{quote(str(field.column))} = v.{name}"
        + ("::jsonb" if field.get_internal_type() == "JSONField" else "")
        for field, name in zip(columns[1:], names[1:], strict=True)
    )
    unnest = ", ".join(f"%s::{cast}" for cast in casts)
    table = quote(meta.db_table)
    # identifiers from the model's options, quoted; every value is a parameter
    sql = (
        f"UPDATE {table} SET {assignments} FROM unnest({unnest}) AS v({', '.join(names)})"  # noqa: S608
        f" WHERE {table}.{quote(str(pk.column))} = v.{names[0]}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, arrays)
