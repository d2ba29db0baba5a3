"""Backup and restore drill with 1,000,000 tickets and their history (``--quick``: 5,000):
``manage.py backup_drill`` run as a production-configured subprocess, round after round, for
the recovery point and recovery time of docs/backup.md.

The tickets are the queue benchmark's (tests/bench/queue_seed.py). Their history is added
with set-based SQL (``sqlseed.insert_select``, complete by construction): events, messages,
the finished viewflow process of every closed ticket (its rows copied from a ticket really
closed through the services, with the times moved to each ticket's), and a sent survey
invitation with its outbox row for every second closed ticket. One ticket is closed through
the services with no worker running, so its invitation email is pending and its link can be
opened from the restored copy.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from . import cpu, env, report
from .queue_seed import FULL, Scale, seed
from .seed import BenchDesk, seed_desk
from .sqlseed import insert_select, literal, omitted
from .stats import percentile

# (pg_dump format, parallel jobs, gzip level): Kefu's default first (ops/backup.py), then
# what it was chosen over: the custom format (restored with the same jobs), one job, and
# pg_dump's own compression level.
Variant = tuple[str, int, int]
VARIANTS: tuple[Variant, ...] = (
    ("directory", 2, 1),
    ("custom", 2, 1),
    ("directory", 1, 1),
    ("directory", 2, 6),
)
ROUNDS = 2
QUICK_ROUNDS = 2
# --quick: a harness check well under a minute, smaller than the queue benchmark's quick seed
QUICK = Scale(tickets=5_000, agents=20, teams=4, customers=200, contacts=1_000)
DRILL_TIMEOUT = 3 * 3600.0
MESSAGE_AT = "coalesce(t.first_responded_at, t.created_at) + m.k * interval '1 hour'"


@dataclass
class Round:
    variant: str
    number: int
    report: dict[str, Any]
    wall: float
    load_before: float
    load_after: float
    cpu: dict[str, float]

    @property
    def ok(self) -> bool:
        return bool(self.report.get("ok"))

    def phase(self, name: str) -> float:
        return float(self.report["restore"]["phases"].get(name, 0.0))


# --- history: events, messages, finished processes, surveys ------------------------------------
def _row(sql: str, params: list[Any]) -> dict[str, Any]:
    import psycopg
    from psycopg.rows import dict_row

    with psycopg.connect(env.DATABASE_URL, row_factory=dict_row) as conn:
        found = conn.execute(sql.encode(), params).fetchall()
    assert found, sql
    return found[0]


def _rows(sql: str, params: list[Any]) -> list[dict[str, Any]]:
    import psycopg
    from psycopg.rows import dict_row

    with psycopg.connect(env.DATABASE_URL, row_factory=dict_row) as conn:
        return conn.execute(sql.encode(), params).fetchall()


def close_probe(desk: BenchDesk) -> int:
    """Closes the seed's assigned probe ticket through the services: a reply, resolved,
    closed. Its survey invitation's email stays pending (no worker runs). Returns its id."""
    from django.contrib.auth.models import User

    from tickets import services
    from tickets.models import Ticket

    ticket = Ticket.objects.filter(subject="Probe (assigned)").get()
    agent = ticket.assignee
    assert agent is not None
    services.reply_to_ticket(ticket_id=ticket.pk, actor=agent, body="On it", internal=False)
    services.resolve_ticket(ticket_id=ticket.pk, actor=agent, resolution="Replaced the part")
    services.close_ticket(ticket_id=ticket.pk, actor=User.objects.get(pk=desk.admin_id))
    return int(ticket.pk)


def _insert_quoted(table: str, values: dict[str, str], tail: str) -> str:
    """``sqlseed.insert_select`` with the column names quoted: the outbox has a column named
    ``to``, a reserved word; every other column is completed the same way."""
    row = {**values, **omitted(table, values)}
    columns = ", ".join(f'"{c}"' for c in row)
    select = ", ".join(f'{expr} AS "{c}"' for c, expr in row.items())
    return f"INSERT INTO {table} ({columns})\nSELECT {select}\n{tail.strip()};\n"


def _copied(row: dict[str, Any], overrides: dict[str, str], since: datetime) -> dict[str, str]:
    """A template row's columns as SQL: times moved by the ticket's age (``c.created_at``),
    JSON as jsonb, everything else as it was, ``overrides`` as given."""
    values = {}
    for column, value in row.items():
        if column in overrides or column == "id":
            continue
        if value is None:
            values[column] = "NULL"
        elif isinstance(value, datetime):
            values[column] = f"c.created_at + {literal(value - since)}"
        elif isinstance(value, dict | list):
            values[column] = f"{literal(json.dumps(value))}::jsonb"
        else:
            values[column] = literal(value)
    return {**values, **overrides}


def history_sql(probe_id: int) -> str:
    """The history of the seeded tickets, each statement built and checked before any runs."""
    ticket = _row("SELECT id, created_at FROM tickets_ticket WHERE id = %s", [probe_id])
    process = _row(
        "SELECT p.* FROM viewflow_process p JOIN flows_ticketprocess tp"
        " ON tp.process_ptr_id = p.id WHERE tp.ticket_id = %s",
        [probe_id],
    )
    tasks = _rows("SELECT * FROM viewflow_task WHERE process_id = %s ORDER BY id", [process["id"]])
    index = {task["id"]: i for i, task in enumerate(tasks)}
    links = _rows(
        "SELECT from_task_id, to_task_id FROM viewflow_task_previous WHERE from_task_id = ANY(%s)",
        [list(index)],
    )
    since = ticket["created_at"]
    per = len(tasks)
    statements = [
        """
CREATE TEMP TABLE bench_closed AS
SELECT t.id AS ticket_id, row_number() OVER (ORDER BY t.id) AS rn, t.created_at, t.closed_at,
       t.resolved_at, t.first_responded_at, t.assignee_id, t.contact_id, t.team_id, t.number,
       t.subject
FROM tickets_ticket t
WHERE t.status = 'closed' AND NOT EXISTS (
    SELECT 1 FROM flows_ticketprocess tp WHERE tp.ticket_id = t.id);
CREATE TEMP TABLE bench_hbase AS
SELECT (SELECT coalesce(max(id), 0) FROM viewflow_process) AS process,
       (SELECT coalesce(max(id), 0) FROM viewflow_task) AS task,
       (SELECT coalesce(max(id), 0) FROM outbox_outboxmessage) AS outbox;
""",
        "-- events: created and assigned for every ticket; replied, resolved, closed if closed",
        insert_select(
            "tickets_ticketevent",
            {
                "ticket_id": "t.id",
                "actor_id": "CASE WHEN e.verb = 'created' THEN NULL ELSE t.assignee_id END",
                "verb": "e.verb",
                "before": "'{}'::jsonb",
                "after": "jsonb_build_object('status', e.status)",
                "created_at": "e.at",
                "updated_at": "e.at",
            },
            f"""
FROM tickets_ticket t
CROSS JOIN LATERAL (VALUES
    ('created', 'new', t.created_at),
    ('assigned', 'open', t.created_at + interval '1 minute'),
    ('replied', 'open', t.first_responded_at),
    ('resolved', 'resolved', t.resolved_at),
    ('closed', 'closed', t.closed_at)) e(verb, status, at)
WHERE t.id <> {probe_id} AND e.at IS NOT NULL AND (e.verb IN ('created', 'assigned')
      OR t.status = 'closed')
ORDER BY t.id, e.at
""",
        ),
        "-- messages: the agent's reply (every assigned ticket), the customer's thanks (closed)",
        insert_select(
            "tickets_ticketmessage",
            {
                "ticket_id": "t.id",
                "author_id": "CASE WHEN m.k = 1 THEN t.assignee_id END",
                "contact_id": "CASE WHEN m.k = 2 THEN t.contact_id END",
                "body": "CASE WHEN m.k = 1 THEN 'Thank you for reporting this; we are "
                "checking the order ' || t.id || ' with the carrier.' ELSE 'It arrived "
                "today, thanks.' END",
                "body_html": "''",
                "internal": "false",
                "channel": "CASE WHEN m.k = 1 THEN 'email' ELSE 'web' END",
                "email_message_id": "''",
                "created_at": MESSAGE_AT,
                "updated_at": MESSAGE_AT,
            },
            f"""
FROM tickets_ticket t CROSS JOIN (VALUES (1), (2)) m(k)
WHERE t.id <> {probe_id} AND t.assignee_id IS NOT NULL AND (m.k = 1 OR t.status = 'closed')
ORDER BY t.id, m.k
""",
        ),
        "-- the finished process of every closed ticket, copied from the probe's",
        insert_select(
            "viewflow_process",
            _copied(
                process,
                {"id": "b.process + c.rn", "finished": "c.closed_at"},
                since,
            ),
            "FROM bench_closed c, bench_hbase b",
        ),
        insert_select(
            "flows_ticketprocess",
            {"process_ptr_id": "b.process + c.rn", "ticket_id": "c.ticket_id"},
            "FROM bench_closed c, bench_hbase b",
        ),
    ]
    for i, task in enumerate(tasks):
        overrides = {
            "id": f"b.task + (c.rn - 1) * {per} + {i + 1}",
            "process_id": "b.process + c.rn",
        }
        if task.get("owner_id") is not None:
            overrides["owner_id"] = "c.assignee_id"
        statements.append(
            insert_select(
                "viewflow_task",
                _copied(task, overrides, since),
                "FROM bench_closed c, bench_hbase b",
            )
        )
    for link in links:
        first = f"b.task + (c.rn - 1) * {per}"
        statements.append(
            insert_select(
                "viewflow_task_previous",
                {
                    "from_task_id": f"{first} + {index[link['from_task_id']] + 1}",
                    "to_task_id": f"{first} + {index[link['to_task_id']] + 1}",
                },
                "FROM bench_closed c, bench_hbase b",
            )
        )
    statements += [
        "-- a sent survey invitation for every second closed ticket (fatigue spares the rest)",
        _insert_quoted(
            "outbox_outboxmessage",
            {
                "id": "b.outbox + c.rn",
                "key": "'survey-invitation:ticket:' || c.ticket_id || ':1'",
                "kind": "'survey_invitation'",
                "to": "ct.email",
                "subject": "'How did we do with ' || c.number || '?'",
                "body_text": literal("[sent; body discarded because it held a one-time link]"),
                "body_html": "''",
                "discard_body": "true",
                "message_id": "'<bench-' || c.ticket_id || '@kefu.localhost>'",
                "headers": "'{}'::jsonb",
                "attachment_ids": "'[]'::jsonb",
                "automatic": "false",
                "subject_kind": "''",
                "status": "'sent'",
                "attempts": "1",
                "next_attempt_at": "c.closed_at",
                "sent_at": "c.closed_at + interval '2 seconds'",
                "last_error": "''",
                "created_at": "c.closed_at",
                "updated_at": "c.closed_at + interval '2 seconds'",
            },
            "FROM bench_closed c JOIN customers_contact ct ON ct.id = c.contact_id, bench_hbase b"
            " WHERE c.rn % 2 = 0",
        ),
        insert_select(
            "surveys_invitation",
            {
                "subject_kind": "'ticket'",
                "subject_id": "c.ticket_id",
                "round": "1",
                "ticket_id": "c.ticket_id",
                "subject_number": "c.number",
                "subject_title": "left(c.subject, 200)",
                "contact_id": "c.contact_id",
                "email": "ct.email",
                "language": "'en'",
                "team_id": "c.team_id",
                "agent_id": "c.assignee_id",
                "template_id": "(SELECT id FROM surveys_surveytemplate WHERE is_default"
                " ORDER BY id LIMIT 1)",
                "scale": "'csat'",
                "token_hash": "encode(sha256(('bench-token-' || c.ticket_id)::bytea), 'hex')",
                "expires_at": "c.closed_at + interval '14 days'",
                "message_id": "b.outbox + c.rn",
                "created_at": "c.closed_at",
                "updated_at": "c.closed_at + interval '2 seconds'",
            },
            "FROM bench_closed c JOIN customers_contact ct ON ct.id = c.contact_id, bench_hbase b"
            " WHERE c.rn % 2 = 0",
        ),
        """
SELECT setval(pg_get_serial_sequence('viewflow_process', 'id'),
              (SELECT max(id) FROM viewflow_process));
SELECT setval(pg_get_serial_sequence('viewflow_task', 'id'), (SELECT max(id) FROM viewflow_task));
SELECT setval(pg_get_serial_sequence('outbox_outboxmessage', 'id'),
              (SELECT max(id) FROM outbox_outboxmessage));
""",
    ]
    return "\n".join(statements)


def seed_history(probe_id: int) -> dict[str, float]:
    import psycopg

    seconds: dict[str, float] = {}
    statement = history_sql(probe_id)
    mark = time.monotonic()
    with psycopg.connect(env.DATABASE_URL) as conn:
        conn.execute("SET synchronous_commit = off")
        conn.execute("SET work_mem = '256MB'")
        # No foreign-key triggers for the ~25,000,000 rows (the bench connects as a superuser):
        # checked one by one at COMMIT they take longer than the inserts. Every key is still
        # checked, once per constraint, when pg_restore creates the constraints in each drill.
        conn.execute("SET session_replication_role = replica")
        conn.execute(statement.encode())
        conn.commit()
    seconds["history (events, messages, processes, surveys)"] = time.monotonic() - mark
    mark = time.monotonic()
    with psycopg.connect(env.DATABASE_URL, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    seconds["VACUUM ANALYZE of the history"] = time.monotonic() - mark
    return seconds


def database_figures() -> tuple[int, list[tuple[str, int, int]]]:
    """The bench database's size, and its largest tables: (name, rows, bytes with indexes)."""
    size = _row("SELECT pg_database_size(current_database()) AS size", [])["size"]
    tables = _rows(
        "SELECT c.relname AS name, c.reltuples::bigint AS estimated,"
        " pg_total_relation_size(c.oid) AS bytes FROM pg_class c"
        " JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = 'public' AND c.relkind = 'r'"
        " ORDER BY pg_total_relation_size(c.oid) DESC LIMIT 8",
        [],
    )
    return int(size), [(t["name"], int(t["estimated"]), int(t["bytes"])) for t in tables]


# --- the drill rounds -------------------------------------------------------------------------
def _drop(name: str) -> None:
    import psycopg

    with psycopg.connect(env.PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'.encode())


def label_of(variant: Variant) -> str:
    dump_format, jobs, level = variant
    return f"{dump_format}, {jobs} {'job' if jobs == 1 else 'jobs'}, gzip {level}"


def drill(variant: Variant, number: int) -> Round:
    """One ``manage.py backup_drill`` in a subprocess, on a scratch database named after the
    bench database (dropped by the drill; a leftover of an interrupted run first)."""
    dump_format, jobs, level = variant
    label = label_of(variant)
    scratch = f"{env.DB_NAME}_drill{number}"
    _drop(scratch)
    env.LOG_DIR.mkdir(parents=True, exist_ok=True)
    out = env.LOG_DIR / f"drill-{number}.json"
    out.unlink(missing_ok=True)
    argv = [
        sys.executable, "manage.py", "backup_drill", f"--scratch={scratch}",
        f"--format={dump_format}", f"--jobs={jobs}", f"--compress={level}", f"--json={out}",
        f"--workdir={env.LOG_DIR / 'drill'}",
    ]  # fmt: skip
    load_before = os.getloadavg()[0]
    started = time.monotonic()
    process = subprocess.Popen(
        argv,
        cwd=env.ROOT,
        env=env.child_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    with cpu.Window([process.pid], label="drill (its processes)") as window:
        try:
            stdout, stderr = process.communicate(timeout=DRILL_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            stdout, stderr = process.communicate()
    done = subprocess.CompletedProcess(argv, process.returncode, stdout, stderr)
    wall = time.monotonic() - started
    print(done.stdout, end="", flush=True)
    if not out.exists():
        raise RuntimeError(f"backup_drill wrote no report (exit {done.returncode}):\n{done.stderr}")
    result = Round(
        label, number, json.loads(out.read_text()), wall, load_before, os.getloadavg()[0],
        window.shares,
    )  # fmt: skip
    if done.returncode != 0 or not result.ok:
        raise RuntimeError(f"the drill failed (exit {done.returncode}):\n{done.stderr[-3000:]}")
    return result


def run(*, quick: bool = False) -> report.Section:
    started = time.monotonic()
    scale = QUICK if quick else FULL
    rounds = QUICK_ROUNDS if quick else ROUNDS
    variants = VARIANTS[:1] if quick else VARIANTS
    env.reset_database()
    env.setup_django()
    desk = seed_desk()
    print(f"[backup] seeding {scale.tickets:,} tickets with SQL (the queue benchmark's seed)")
    seeded = seed(desk, scale)
    seconds = dict(seeded.seconds)
    probe = close_probe(desk)
    env.close_db_connections()
    print("[backup] seeding their history", flush=True)
    seconds.update(seed_history(probe))
    for what, secs in seconds.items():
        print(f"[backup]   {what}: {secs:.1f} s")
    size, tables = database_figures()
    print(f"[backup]   database {size / 2**20:,.0f} MiB")
    results: list[Round] = []
    number = 0
    # The variants take turns, round after round: a change in the machine's load (other work
    # on it) then falls on every variant alike instead of on one variant's rounds.
    for _ in range(rounds):
        for variant in variants:
            number += 1
            print(f"[backup] drill {number}: {label_of(variant)}", flush=True)
            done = drill(variant, number)
            print(
                f"[backup]   load {done.load_before:.2f} -> {done.load_after:.2f};"
                f" {cpu.describe(done.cpu)}",
                flush=True,
            )
            results.append(done)
    env.close_db_connections()
    return _section(scale, seeded.tickets, seconds, size, tables, results,
                    time.monotonic() - started)  # fmt: skip


# --- the report -------------------------------------------------------------------------------
def _s(value: float) -> str:
    return f"{value:,.1f} s"


def _mib(count: float) -> str:
    return f"{count / 2**20:,.0f} MiB"


def _spread(values: list[float], unit: Any = _s) -> str:
    """median / p95 of a figure over the rounds (one value: just it)."""
    if len(values) == 1:
        return str(unit(values[0]))
    return f"{unit(percentile(values, 50))} / {unit(percentile(values, 95))}"


def _figures(rounds: list[Round]) -> dict[str, list[float]]:
    return {
        "backup": [r.report["backup"]["seconds"] for r in rounds],
        "pg_dump": [r.report["backup"]["dump_seconds"] for r in rounds],
        "manifest": [r.report["backup"]["facts_seconds"] for r in rounds],
        "restore": [r.report["restore"]["seconds"] for r in rounds],
        "pg_restore": [r.phase("pg_restore") for r in rounds],
        "analyze": [r.phase("analyze") for r in rounds],
        "verify": [r.report["verify"]["seconds"] for r in rounds],
        "start": [r.report["verify"]["start_seconds"] for r in rounds],
        "rto": [float(r.report["rto_seconds"]) for r in rounds],
        "size": [float(r.report["backup"]["bytes"]) for r in rounds],
    }


def _section(
    scale: Scale,
    tickets: int,
    seeding: dict[str, float],
    size: int,
    tables: list[tuple[str, int, int]],
    results: list[Round],
    seconds: float,
) -> report.Section:
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    by_variant: dict[str, list[Round]] = {}
    for r in results:
        by_variant.setdefault(r.variant, []).append(r)
    default = next(iter(by_variant))
    main = _figures(by_variant[default])
    summary = [
        (f"restore at {tickets:,} tickets ({default}), median / p95", _spread(main["restore"]),
         "—", report.verdict(None)),
        (f"RTO: restore + verify + start ({default}), median / p95", _spread(main["rto"]),
         "—", report.verdict(None)),
        (f"backup ({default}), median / p95", _spread(main["backup"]), "—", report.verdict(None)),
        ("dump size", _mib(main["size"][0]), "—", report.verdict(None)),
        ("drill checks", f"{sum(len(r.report['checks']) for r in results)} in {len(results)} "
         "drills, none failed", "all pass", report.verdict(all(r.ok for r in results))),
    ]  # fmt: skip
    rows = []
    for variant, rounds in by_variant.items():
        f = _figures(rounds)
        rows.append(
            [variant, str(len(rounds)), _spread(f["backup"]), _spread(f["pg_dump"]),
             _spread(f["restore"]), _spread(f["pg_restore"]), _spread(f["analyze"]),
             _spread(f["verify"]), _spread(f["rto"]), _spread(f["size"], _mib)]
        )  # fmt: skip
    per_round = [
        [str(r.number), r.variant, _s(r.report["backup"]["seconds"]),
         _s(r.report["restore"]["seconds"]), _s(r.report["verify"]["seconds"]),
         _s(r.report["verify"]["start_seconds"]), _s(float(r.report["rto_seconds"])),
         f"{r.load_before:.2f} → {r.load_after:.2f}", cpu.describe(r.cpu)]
        for r in results
    ]  # fmt: skip
    checks = [[c["name"], c["status"], c["detail"]] for c in results[-1].report["checks"]]
    table_rows = [[name, f"{rows:,}", _mib(b)] for name, rows, b in tables]
    body = f"""\
## Backup and restore drill with {tickets:,} tickets

_Measured {now}; took {seconds:.0f} s._

`manage.py backup_drill` run {len(results)} times as a subprocess with production settings
(`KEFU_ENV=production`) on the bench database: `pg_dump` of an exported snapshot (the
manifest's row counts and digests read in the same snapshot), `pg_restore` into a scratch
database created for the drill, `ANALYZE`, then `manage.py verify_backup` as a fresh process
on the copy (row counts of every table, whole ticket histories, a survey link through
`invitation_for_token`, the outbox row by row), and the scratch database dropped. Figures are
median / p95 over the rounds of each variant ({len(results) // max(1, len(by_variant))} rounds
each; with 2 rounds the p95 is close to the slower one).

Data: {tickets:,} tickets over two years ({scale.open:,} open) seeded as in the queue
benchmark, then their history: events (created, assigned; replied, resolved, closed for
closed tickets), the agent's reply and the customer's answer, the finished viewflow process
and tasks of every closed ticket (copied from a ticket closed through the services), a sent
survey invitation and its outbox row for every second closed ticket. Database size
{_mib(size)}; seeding: {", ".join(f"{k} {v:.0f} s" for k, v in seeding.items())}.

{report.table(["largest tables", "rows (estimate)", "size with indexes"], table_rows)}

{report.table(["variant", "rounds", "backup", "of which pg_dump", "restore", "of which pg_restore",
               "of which ANALYZE", "verify (start + checks)", "RTO", "dump size"], rows)}

RTO = restore (checksums, `pg_restore`, `ANALYZE`) + verify, whose process start stands for
Kefu's own start on the recovered database. RPO with nightly dumps: up to 24 h + the
backup's duration (docs/backup.md).

{report.table(["round", "variant", "backup", "restore", "verify", "of which start", "RTO",
               "load (1 min) before → after", "CPU during the drill"], per_round)}

Checks of the last round:

{report.table(["check", "status", "detail"], checks)}
"""  # fmt: skip
    return report.Section("backup", "Backup and restore drill", body, summary, now, seconds)
