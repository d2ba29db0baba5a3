"""``INSERT … SELECT`` statements for seeds that bypass the ORM, complete by construction.

A seed names the columns it sets, each with its SQL expression; every other column of the
table gets what the ORM would give a new row: the field's default, ``now()`` for
``auto_now`` / ``auto_now_add``, nothing where the database has a default (``db_default``,
an auto-incremented key) or where NULL is allowed. A NOT NULL column with none of these,
or a column the model does not have, is an error naming the column, raised while the
statement is built, before anything runs: a migration that adds a column breaks the seed
with a message that says what to add, not with a ``NotNullViolation`` deep in a 1,000,000
row insert. Needs Django set up (``env.setup_django()``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import models


class SeedSchemaError(RuntimeError):
    """The seed and the current schema disagree (a column missing on one side)."""


def model_for(table: str) -> type[models.Model]:
    """The concrete model (an auto-created many-to-many table included) stored in ``table``."""
    from django.apps import apps

    found = [
        m
        for m in apps.get_models(include_auto_created=True)
        if m._meta.db_table == table and not m._meta.proxy
    ]
    if len(found) != 1:
        raise SeedSchemaError(f"no single concrete model stores {table!r} (found {found})")
    return found[0]


def literal(value: Any) -> str:
    """``value`` as an SQL literal, quoted and adapted by the database driver."""
    from django.db import connection

    ops: Any = connection.ops  # the PostgreSQL backend's: compose_sql is not on the base class
    return str(ops.compose_sql("%s", [value]))


def _omitted_value(field: models.Field[Any, Any], table: str) -> str | None:
    """The SQL the ORM's value for a column the seed leaves out amounts to; None: omit it."""
    from django.db import connection

    if getattr(field, "generated", False):
        return None  # computed by the database (GeneratedField)
    if field.primary_key and getattr(field, "db_returning", False):
        return None  # an auto-incremented key
    if field.db_default is not models.NOT_PROVIDED:
        return None  # the database fills it
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        return "now()"
    if field.has_default():
        value = field.get_db_prep_save(field.get_default(), connection)
        if value is None:
            return None
        return f"{literal(value)}::{field.db_type(connection)}"
    if field.null:
        return None
    raise SeedSchemaError(
        f"{table}.{field.column} is NOT NULL and has no default: the seed must set it"
        f" ({type(field).__name__} {field.model.__name__}.{field.name})"
    )


def omitted(table: str, given: Mapping[str, str] | list[str]) -> dict[str, str]:
    """Column -> SQL value for every column of ``table`` not in ``given`` that needs one."""
    model = model_for(table)
    fields = {str(f.column): f for f in model._meta.local_concrete_fields}
    unknown = [c for c in given if c not in fields]
    if unknown:
        raise SeedSchemaError(
            f"the seed sets {', '.join(f'{table}.{c}' for c in unknown)}, which the model"
            f" {model.__name__} does not have"
        )
    out = {}
    for column, field in fields.items():
        if column in given:
            continue
        value = _omitted_value(field, table)
        if value is not None:
            out[column] = value
    return out


def insert_select(table: str, values: Mapping[str, str], tail: str) -> str:
    """``INSERT INTO table (…) SELECT … tail``: the columns of ``values`` (column -> SQL
    expression), then the ones the seed leaves out, with the ORM's values. ``tail`` is the
    rest of the SELECT (``FROM …``, ``ORDER BY …``, ``ON CONFLICT …``)."""
    row = {**values, **omitted(table, values)}
    columns = ",\n    ".join(row)
    select = ",\n    ".join(f'{expr} AS "{column}"' for column, expr in row.items())
    return f"INSERT INTO {table} (\n    {columns})\nSELECT\n    {select}\n{tail.strip()};\n"
