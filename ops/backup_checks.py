"""What a backup must hold, and the check of a restored copy against it (docs/backup.md).

``capture`` reads, in the dump's own snapshot, what the manifest records: every table's row
count, the migrations, and the facts the drill checks in depth — the whole history of a few
tickets, the newest survey invitation, the outbox — as row counts and SHA-256 digests of the
rows (the manifest holds no personal data and no link token). ``verify_restored`` runs in a
Kefu process whose database is the restored copy and reads the same facts back through the
same queries, plus the survey link through Kefu's own ``invitation_for_token``.

Rows are compared as data: PostgreSQL renders each row with ``to_jsonb`` in UTC, SQLite with
``quote()`` of each column, so both sides of a comparison produce the same text from the
same row whatever Python driver reads it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import random
import re
import time
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, Literal, Protocol

from django.db import models
from django.db.models import ForeignObjectRel

OK = "ok"
FAILED = "failed"
SKIPPED = "skipped"
WARNING = "warning"
PAGE = 2000
# A survey link in an email: …/s/<token>/ (surveys/emails.survey_url).
SURVEY_LINK = re.compile(r"/s/([A-Za-z0-9_-]+)/")

Vendor = Literal["postgresql", "sqlite"]


class Cursor(Protocol):
    """What is used of a DB-API cursor: psycopg's, sqlite3's and Django's all fit."""

    def execute(self, sql: str, /) -> Any: ...

    def fetchall(self) -> Sequence[Any]: ...

    def fetchone(self) -> Any: ...


@dataclasses.dataclass(frozen=True)
class Check:
    name: str
    status: str
    detail: str


def quote_name(name: str) -> str:
    """``schema.table`` or ``table`` as a quoted SQL identifier."""
    return ".".join('"' + part.replace('"', '""') + '"' for part in name.split(".", 1))


# --- tables, counts, migrations ---------------------------------------------------------------
def table_names(cursor: Cursor, vendor: Vendor) -> list[str]:
    """Every table of the database: ``name`` in PostgreSQL's public schema (and SQLite),
    ``schema.name`` elsewhere."""
    if vendor == "sqlite":
        cursor.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            " ORDER BY name"
        )
        return [str(r[0]) for r in cursor.fetchall()]
    cursor.execute(
        "SELECT schemaname, tablename FROM pg_tables"
        " WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"
        " AND schemaname NOT LIKE 'pg\\_%' ORDER BY 1, 2"
    )
    return [str(t) if s == "public" else f"{s}.{t}" for s, t in cursor.fetchall()]


def row_counts(cursor: Cursor, vendor: Vendor) -> dict[str, int]:
    counts = {}
    for table in table_names(cursor, vendor):
        cursor.execute(f"SELECT count(*) FROM {quote_name(table)}")  # noqa: S608 (catalog names)
        counts[table] = int(cursor.fetchone()[0])
    return counts


def applied_migrations(cursor: Cursor) -> list[str]:
    cursor.execute("SELECT app, name FROM django_migrations ORDER BY app, name")
    return [f"{app}.{name}" for app, name in cursor.fetchall()]


# --- rows as data -----------------------------------------------------------------------------
class RowReader:
    """Reads rows as canonical text: the same row gives the same text on either side."""

    def __init__(self, cursor: Cursor, vendor: Vendor) -> None:
        self.cursor = cursor
        self.vendor = vendor
        self._columns: dict[str, list[str]] = {}

    def _select_list(self, table: str) -> str:
        if self.vendor == "postgresql":
            return "to_jsonb(t)::text"
        if table not in self._columns:
            self.cursor.execute(f"PRAGMA table_info({quote_name(table)})")
            self._columns[table] = [str(r[1]) for r in self.cursor.fetchall()]
        return ", ".join(f"quote(t.{quote_name(c)})" for c in self._columns[table])

    def _text(self, table: str, row: Sequence[Any]) -> str:
        if self.vendor == "postgresql":
            return str(row[0])
        return json.dumps(dict(zip(self._columns[table], row, strict=True)), sort_keys=True)

    def rows(self, table: str, where: str, order: str) -> list[str]:
        self.cursor.execute(
            f"SELECT {self._select_list(table)} FROM {quote_name(table)} t"  # noqa: S608
            f" WHERE {where} ORDER BY {order}"
        )
        return [self._text(table, row) for row in self.cursor.fetchall()]

    def all_rows(self, table: str, key: str) -> Iterator[tuple[Any, str]]:
        """Every row of ``table`` by ascending ``key`` (an integer primary key), a page at a
        time: bounded memory for an outbox of millions."""
        last: Any = None
        while True:
            after = "" if last is None else f"WHERE t.{quote_name(key)} > {int(last)}"
            self.cursor.execute(
                f"SELECT t.{quote_name(key)}, {self._select_list(table)}"  # noqa: S608
                f" FROM {quote_name(table)} t {after} ORDER BY t.{quote_name(key)} LIMIT {PAGE}"
            )
            page = self.cursor.fetchall()
            for row in page:
                yield row[0], self._text(table, row[1:])
            if len(page) < PAGE:
                return
            last = page[-1][0]


def digest(rows: Sequence[str]) -> str:
    return hashlib.sha256("\n".join(rows).encode()).hexdigest()


# --- a ticket's whole history -----------------------------------------------------------------
def _table(model: type[models.Model]) -> str:
    return str(model._meta.db_table)


def _column(model: type[models.Model], field: str) -> str:
    return str(model._meta.get_field(field).column)  # type: ignore[union-attr]


def _pk(model: type[models.Model]) -> str:
    return str(model._meta.pk.column)


def _rows_pointing_at(model: type[models.Model]) -> list[tuple[type[models.Model], str]]:
    """(model, column) of every foreign key or one-to-one to ``model`` (hidden ones too: a
    ``related_name="+"`` still points at it), parent links of inherited models left out."""
    found = []
    for relation in model._meta.get_fields(include_hidden=True):
        if not isinstance(relation, ForeignObjectRel) or relation.many_to_many:
            continue
        related = relation.related_model
        field = relation.field
        if not isinstance(related, type) or getattr(field.remote_field, "parent_link", False):
            continue
        if related._meta.proxy or not related._meta.managed:
            continue
        found.append((related, str(field.column)))
    return sorted(found, key=lambda item: (_table(item[0]), item[1]))


def history_parts() -> dict[str, tuple[str, str]]:
    """Table -> (WHERE with ``{ticket}``, ORDER BY) of every row that makes up a ticket's
    history: the ticket; every row pointing at it (events, messages, its process link,
    survey invitations, notifications, …); every row pointing at those (survey responses,
    viewflow tasks through the process); the viewflow process row itself, the links between
    its tasks, and the outbox emails of its survey invitations."""
    from viewflow.workflow.models import Process, Task

    from processes import runtime
    from surveys.models import Invitation

    kind = runtime.kind("ticket")  # the platform knows the ticket's models through its registry
    Ticket, TicketProcess = kind.subject_model, kind.process_model

    wheres: dict[str, list[str]] = {}
    orders: dict[str, str] = {}

    def add(model: type[models.Model], where: str) -> None:
        wheres.setdefault(_table(model), []).append(where)
        orders[_table(model)] = f't."{_pk(model)}"'

    ticket = f'"{_pk(Ticket)}" = {{ticket}}'
    add(Ticket, ticket)
    for model, column in _rows_pointing_at(Ticket):
        where = f'"{column}" = {{ticket}}'
        add(model, where)
        for second, second_column in _rows_pointing_at(model):
            selected = f'SELECT "{_pk(model)}" FROM "{_table(model)}" WHERE {where}'  # noqa: S608
            add(second, f'"{second_column}" IN ({selected})')
    processes = (
        f'SELECT "{_pk(TicketProcess)}" FROM "{_table(TicketProcess)}"'  # noqa: S608
        f' WHERE "{_column(TicketProcess, kind.subject_field)}" = {{ticket}}'
    )
    add(Process, f'"{_pk(Process)}" IN ({processes})')
    add(Task, f'"{_column(Task, "process")}" IN ({processes})')
    previous = Task._meta.get_field("previous").remote_field.through
    tasks = (
        f'SELECT "{_pk(Task)}" FROM "{_table(Task)}"'  # noqa: S608
        f' WHERE "{_column(Task, "process")}" IN ({processes})'
    )
    add(
        previous,
        f'"{_column(previous, "from_task")}" IN ({tasks})'
        f' OR "{_column(previous, "to_task")}" IN ({tasks})',
    )
    invitations = (
        f'FROM "{_table(Invitation)}" WHERE "{_column(Invitation, "ticket")}" = {{ticket}}'
    )
    from outbox.models import OutboxMessage

    add(
        OutboxMessage,
        f'"{_pk(OutboxMessage)}" IN (SELECT "{_column(Invitation, "message")}" {invitations}'
        f' UNION SELECT "{_column(Invitation, "reminder_message")}" {invitations})',
    )
    return {
        table: (" OR ".join(f"({w})" for w in sorted(set(parts))), orders[table])
        for table, parts in sorted(wheres.items())
    }


def ticket_history(reader: RowReader, ticket_id: int) -> dict[str, dict[str, Any]]:
    """Table -> rows and digest of one ticket's history."""
    out = {}
    for table, (where, order) in history_parts().items():
        rows = reader.rows(table, where.format(ticket=int(ticket_id)), order)
        out[table] = {"rows": len(rows), "sha256": digest(rows)}
    return out


def _scalar(cursor: Cursor, statement: str) -> Any:
    cursor.execute(statement)
    row = cursor.fetchone()
    return None if row is None else row[0]


def sample_tickets(cursor: Cursor, random_count: int) -> dict[int, list[str]]:
    """Ticket id -> why it was picked: the oldest, the newest, the one something happened to
    last, and ``random_count`` picked at random (by id)."""
    from audit.models import AuditEvent
    from processes import runtime

    table = quote_name(_table(runtime.kind("ticket").subject_model))
    events = quote_name(_table(AuditEvent))
    event_ticket = quote_name(_column(AuditEvent, "ticket"))
    cursor.execute(f"SELECT min(id), max(id) FROM {table}")  # noqa: S608
    low, high = cursor.fetchone()
    if low is None:
        return {}
    picked: dict[int, list[str]] = {}
    picked.setdefault(int(low), []).append("oldest")
    picked.setdefault(int(high), []).append("newest")
    latest = _scalar(
        cursor,
        f"SELECT {event_ticket} FROM {events} ORDER BY id DESC LIMIT 1",  # noqa: S608
    )
    if latest is not None:
        picked.setdefault(int(latest), []).append("last event")
    chooser = random.SystemRandom()
    for _ in range(random_count):
        around = chooser.randint(int(low), int(high))
        found = _scalar(
            cursor,
            f"SELECT id FROM {table} WHERE id >= {around} ORDER BY id LIMIT 1",  # noqa: S608
        )
        picked.setdefault(int(found), []).append("random")
    return picked


# --- the survey link and the outbox ---------------------------------------------------------
def survey_fact(cursor: Cursor, reader: RowReader) -> dict[str, Any] | None:
    """The newest invitation whose email (or reminder) is still pending in the outbox, so
    its link can be opened from the restored copy; else the newest invitation (its row only:
    a sent email's body, and with it the link, is discarded)."""
    from outbox.models import MessageStatus, OutboxMessage
    from surveys.models import Invitation

    invitations = quote_name(_table(Invitation))
    outbox = quote_name(_table(OutboxMessage))
    cursor.execute(
        f"SELECT i.id, i.ticket_id, m.id FROM {invitations} i JOIN {outbox} m"  # noqa: S608
        " ON m.id = i.message_id OR m.id = i.reminder_message_id"
        f" WHERE m.status = '{MessageStatus.PENDING.value}' ORDER BY i.id DESC, m.id DESC LIMIT 1"
    )
    row = cursor.fetchone()
    if row is None:
        cursor.execute(f"SELECT id, ticket_id, NULL FROM {invitations} ORDER BY id DESC LIMIT 1")  # noqa: S608
        row = cursor.fetchone()
    if row is None:
        return None
    invitation, ticket, message = row
    rows = reader.rows(_table(Invitation), f"id = {int(invitation)}", "t.id")
    return {
        "invitation": int(invitation),
        "ticket": None if ticket is None else int(ticket),
        "message": None if message is None else int(message),
        "row_sha256": digest(rows),
    }


def outbox_fact(cursor: Cursor, reader: RowReader) -> dict[str, Any]:
    """Every outbox row's digest, in id order, and which ones are pending."""
    from outbox.models import MessageStatus, OutboxMessage

    table = _table(OutboxMessage)
    cursor.execute(f"SELECT status, count(*) FROM {quote_name(table)} GROUP BY status")  # noqa: S608
    by_status = {str(s): int(n) for s, n in sorted(cursor.fetchall())}
    cursor.execute(
        f"SELECT id FROM {quote_name(table)} WHERE status = '{MessageStatus.PENDING.value}'"  # noqa: S608
        " ORDER BY id"
    )
    pending = [str(r[0]) for r in cursor.fetchall()]
    everything = hashlib.sha256()
    rows = 0
    for _key, text in reader.all_rows(table, _pk(OutboxMessage)):
        everything.update(text.encode() + b"\n")
        rows += 1
    return {
        "rows": rows,
        "by_status": by_status,
        "sha256": everything.hexdigest(),
        "pending_ids_sha256": digest(pending),
    }


# --- capture, at backup time ------------------------------------------------------------------
def capture(cursor: Cursor, vendor: Vendor, *, samples: int = 2) -> dict[str, Any]:
    """The manifest's facts, read through ``cursor`` (in the dump's snapshot)."""
    reader = RowReader(cursor, vendor)
    facts: dict[str, Any] = {
        "tables": row_counts(cursor, vendor),
        "migrations": applied_migrations(cursor),
    }
    survey = survey_fact(cursor, reader)
    picked = sample_tickets(cursor, samples)
    if survey is not None and survey["ticket"] is not None:
        picked.setdefault(survey["ticket"], []).append("survey invitation")
    facts["tickets"] = [
        {"id": ticket, "why": why, "history": ticket_history(reader, ticket)}
        for ticket, why in sorted(picked.items())
    ]
    facts["survey"] = survey
    facts["outbox"] = outbox_fact(cursor, reader)
    return facts


# --- verification, in a process whose database is the restored copy ---------------------------
def _differences(expected: Mapping[str, int], found: Mapping[str, int]) -> list[str]:
    lines = [
        f"{t}: {n:,} in the backup, table missing" for t, n in expected.items() if t not in found
    ]
    lines += [
        f"{t}: not in the backup, {n:,} restored" for t, n in found.items() if t not in expected
    ]
    lines += [
        f"{t}: {expected[t]:,} in the backup, {found[t]:,} restored"
        for t in expected
        if t in found and found[t] != expected[t]
    ]
    return lines


def check_row_counts(cursor: Cursor, vendor: Vendor, manifest: Mapping[str, Any]) -> Check:
    expected: dict[str, int] = manifest["tables"]
    found = row_counts(cursor, vendor)
    wrong = _differences(expected, found)
    if wrong:
        shown = "; ".join(wrong[:10]) + (f"; and {len(wrong) - 10} more" if len(wrong) > 10 else "")
        return Check(
            "row counts", FAILED, f"{len(wrong)} of {len(expected)} tables differ: {shown}"
        )
    return Check(
        "row counts",
        OK,
        f"{len(found)} tables, {sum(found.values()):,} rows, each table as in the manifest",
    )


def check_sequences(cursor: Cursor, vendor: Vendor) -> Check:
    """Each table's key sequence is past its largest key, or the next insert would fail."""
    if vendor == "sqlite":
        return Check("sequences", SKIPPED, "SQLite allocates keys after the largest present")
    cursor.execute(
        "SELECT c.table_schema, c.table_name, c.column_name,"
        " pg_get_serial_sequence(format('%I.%I', c.table_schema, c.table_name), c.column_name)"
        " FROM information_schema.columns c"
        " WHERE c.table_schema NOT IN ('pg_catalog', 'information_schema')"
        " AND pg_get_serial_sequence(format('%I.%I', c.table_schema, c.table_name),"
        " c.column_name) IS NOT NULL ORDER BY 1, 2, 3"
    )
    behind = []
    sequences = cursor.fetchall()
    for schema, table, column, sequence in sequences:
        cursor.execute(f"SELECT last_value, is_called FROM {sequence}")  # noqa: S608 (catalog)
        last, called = cursor.fetchone()
        largest = _scalar(
            cursor,
            f"SELECT max({quote_name(column)}) FROM {quote_name(f'{schema}.{table}')}",  # noqa: S608
        )
        next_value = int(last) + (1 if called else 0)
        if largest is not None and next_value <= int(largest):
            behind.append(f"{table}.{column}: next {next_value:,}, largest {int(largest):,}")
    if behind:
        return Check("sequences", FAILED, "behind their keys: " + "; ".join(behind[:10]))
    return Check("sequences", OK, f"{len(sequences)} sequences past their tables' largest keys")


def check_migrations(cursor: Cursor, manifest: Mapping[str, Any]) -> list[Check]:
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    expected = set(manifest["migrations"])
    found = set(applied_migrations(cursor))
    checks = []
    if found != expected:
        missing = sorted(expected - found)[:5]
        extra = sorted(found - expected)[:5]
        checks.append(
            Check("migrations", FAILED, f"differ from the backup: missing {missing}, extra {extra}")
        )
    else:
        checks.append(Check("migrations", OK, f"{len(found)} applied, as in the backup"))
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if plan:
        names = ", ".join(f"{m.app_label}.{m.name}" for m, _ in plan[:5])
        checks.append(
            Check(
                "ready for this code",
                WARNING,
                f"{len(plan)} migrations of this Kefu are not applied ({names}): run "
                "manage.py migrate before serving",
            )
        )
    else:
        checks.append(Check("ready for this code", OK, "no migration of this Kefu to apply"))
    return checks


def check_ticket(reader: RowReader, sample: Mapping[str, Any]) -> Check:
    from processes import runtime

    ticket_id = int(sample["id"])
    number = (
        runtime.kind("ticket")
        .subject_model.objects.filter(pk=ticket_id)
        .values_list("number", flat=True)
        .first()
    )
    name = f"ticket {number or ticket_id} history ({', '.join(sample['why'])})"
    expected: dict[str, dict[str, Any]] = sample["history"]
    found = ticket_history(reader, ticket_id)
    wrong = []
    for table in sorted(set(expected) | set(found)):
        was, now = expected.get(table), found.get(table)
        if was == now or (was is None and now is not None and now["rows"] == 0):
            continue  # identical, or a table this code reads that holds nothing of the ticket
        if was is None or now is None:
            wrong.append(f"{table}: {'not' if was is None else 'no longer'} part of the history")
        elif was["rows"] != now["rows"]:
            wrong.append(f"{table}: {was['rows']} rows in the backup, {now['rows']} restored")
        else:
            wrong.append(f"{table}: {now['rows']} rows, not identical")
    if wrong:
        return Check(name, FAILED, "; ".join(wrong))
    shown = ", ".join(f"{t} {v['rows']}" for t, v in sorted(found.items()) if v["rows"])
    return Check(name, OK, f"every row identical ({shown})")


def check_survey(reader: RowReader, manifest: Mapping[str, Any]) -> Check:
    """The newest pending invitation's link, taken from its email in the restored outbox,
    opens that invitation through Kefu's own ``invitation_for_token`` as of the backup's
    moment; its row is identical."""
    from outbox.models import OutboxMessage
    from surveys import services
    from surveys.models import Invitation

    fact = manifest["checks"]["survey"]
    if fact is None:
        return Check("survey link", SKIPPED, "the backup holds no survey invitation")
    invitation_id, message = int(fact["invitation"]), fact["message"]
    problems = []
    if (
        digest(reader.rows(_table(Invitation), f"id = {invitation_id}", "t.id"))
        != fact["row_sha256"]
    ):
        problems.append(f"invitation {invitation_id}'s row differs from the backup")
    if message is None:
        if problems:
            return Check("survey link", FAILED, problems[0])
        return Check(
            "survey link",
            SKIPPED,
            f"invitation {invitation_id}'s row is identical; no pending email holds a link to "
            "open (a sent email's body is discarded)",
        )
    body = OutboxMessage.objects.filter(pk=message).values_list("body_text", flat=True).first()
    link = SURVEY_LINK.search(body or "")
    state = ""
    if link is None:
        problems.append(f"email {message} holds no survey link")
    else:
        opened: Invitation | None = None
        try:
            opened = services.invitation_for_token(
                link.group(1), now=datetime.fromisoformat(manifest["snapshot_at"])
            )
            state = f"valid until {opened.expires_at:%Y-%m-%d %H:%M} UTC"
        except services.LinkExpired as expired:
            opened, state = expired.invitation, "expired, as it was at the backup"
        except services.LinkNotFound:
            problems.append(f"the link in email {message} opens no invitation")
        if opened is not None and opened.pk != invitation_id:
            problems.append(f"the link opens invitation {opened.pk}, not {invitation_id}")
    if problems:
        return Check("survey link", FAILED, "; ".join(problems))
    return Check(
        "survey link",
        OK,
        f"the link in pending email {message} opens invitation {invitation_id} ({state}); "
        "its row is identical",
    )


def check_outbox(cursor: Cursor, reader: RowReader, manifest: Mapping[str, Any]) -> Check:
    expected = manifest["checks"]["outbox"]
    found = outbox_fact(cursor, reader)
    pending = expected["by_status"].get("pending", 0)
    if found == expected:
        return Check(
            "outbox",
            OK,
            f"{found['rows']:,} rows identical, {pending:,} pending still pending",
        )
    problems = []
    if found["by_status"] != expected["by_status"]:
        problems.append(
            f"by status {expected['by_status']} in the backup, {found['by_status']} restored"
        )
    if found["pending_ids_sha256"] != expected["pending_ids_sha256"]:
        problems.append("not the same emails pending")
    if found["sha256"] != expected["sha256"]:
        problems.append("rows differ from the backup")
    return Check("outbox", FAILED, "; ".join(problems))


def verify_restored(manifest: Mapping[str, Any]) -> tuple[list[Check], float]:
    """Every check of the database this process uses against ``manifest``; and the seconds
    they took."""
    from django.db import connection

    started = time.monotonic()
    vendor: Vendor = "sqlite" if connection.vendor == "sqlite" else "postgresql"
    if manifest["database"]["vendor"] != vendor:
        return [
            Check(
                "database",
                FAILED,
                f"the backup is of a {manifest['database']['vendor']} database, this is {vendor}",
            )
        ], 0.0
    with connection.cursor() as cursor:
        reader = RowReader(cursor, vendor)
        checks = [check_row_counts(cursor, vendor, manifest), check_sequences(cursor, vendor)]
        checks += check_migrations(cursor, manifest)
        checks += [check_ticket(reader, sample) for sample in manifest["checks"]["tickets"]]
        if not manifest["checks"]["tickets"]:
            checks.append(Check("ticket history", SKIPPED, "the backup holds no ticket"))
        checks.append(check_survey(reader, manifest))
        checks.append(check_outbox(cursor, reader, manifest))
    return checks, time.monotonic() - started


MARKS = {OK: "ok  ", FAILED: "FAIL", SKIPPED: "skip", WARNING: "warn"}


def check_lines(checks: Sequence[Mapping[str, Any]]) -> list[str]:
    """One line per check for the operator: ``ok   name: detail``."""
    return [f"  {MARKS.get(c['status'], c['status'])}  {c['name']}: {c['detail']}" for c in checks]


def failed(checks: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    return [c for c in checks if c["status"] == FAILED]
