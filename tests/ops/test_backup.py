"""The backup and restore drill (docs/backup.md) against the test run's PostgreSQL, and once
in the embedded mode on SQLite: the drill passes on a desk with history; a restored copy
that differs from its backup (a row deleted, an email marked sent, a survey token's hash
changed) fails exactly the checks that should see it; a target that is not empty, a scratch
database that already exists and a damaged backup are refused, and nothing is written.

The tests commit their data (a transactional database): pg_dump reads it from its own
connection. Scratch databases are named after the configured one (``<name>_bk<pid>_<n>``)
and dropped after each test."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from audit.models import AuditEvent
from ops.backup import Database, database_exists, drop_database, read_manifest
from ops.backup_checks import applied_migrations, row_counts
from outbox.models import MessageStatus, OutboxMessage
from outbox.services import queue_email
from surveys.models import Invitation
from tests.factories import SurveyTemplateFactory, open_ticket
from tickets import services

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
BASE_NAME = urlparse(os.environ.get("KEFU_DATABASE_URL", "")).path.strip("/") or "kefu"

NewScratch = Callable[[], Database]


@pytest.fixture
def new_scratch() -> Iterator[NewScratch]:
    """Makes names of databases nobody uses on the test server; each is dropped afterwards
    (whoever created it: the test or the command under test)."""
    made: list[Database] = []

    def new() -> Database:
        db = Database.configured().with_name(f"{BASE_NAME}_bk{os.getpid()}_{len(made)}")
        made.append(db)
        drop_database(db)  # a leftover of an interrupted run of this same test
        return db

    yield new
    for db in made:
        drop_database(db)


@pytest.fixture
def history(desk: Any) -> dict[str, Any]:
    """A closed ticket (two replies, on hold, resumed, resolved, closed: its survey
    invitation's email is pending, as no worker runs), an open ticket, one email sent."""
    SurveyTemplateFactory(name="CSAT", scale="csat", is_default=True)
    closed = open_ticket(desk, subject="Invoice missing")
    agent = closed.assignee
    services.reply_to_ticket(ticket_id=closed.pk, actor=agent, body="Looking", internal=False)
    services.reply_to_ticket(ticket_id=closed.pk, actor=agent, body="Asked billing", internal=True)
    services.put_on_hold(ticket_id=closed.pk, actor=agent, reason="Waiting for the number")
    services.resume_ticket(ticket_id=closed.pk, actor=agent)
    services.resolve_ticket(ticket_id=closed.pk, actor=agent, resolution="Sent again")
    services.close_ticket(ticket_id=closed.pk, actor=desk.supervisor)
    still_open = open_ticket(desk, subject="Printer jammed")
    sent = queue_email(
        key="backup:sent", kind="test", to="a@example.com", subject="s", body_text="b"
    )
    OutboxMessage.objects.filter(pk=sent.pk).update(status=MessageStatus.SENT)
    invitation = Invitation.objects.get(ticket=closed)
    assert invitation.message is not None
    assert invitation.message.status == MessageStatus.PENDING
    closed.refresh_from_db()
    return {"closed": closed, "open": still_open, "invitation": invitation}


def _by_name(checks: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Checks by name, a ticket's without the reasons it was sampled."""
    return {c["name"].split(" (")[0]: c for c in checks}


def _execute(db: Database, statement: str) -> None:
    with db.connect() as conn:
        conn.execute(statement.encode())


def _live_counts() -> dict[str, int]:
    with connection.cursor() as cursor:
        return row_counts(cursor, "postgresql")


def _verify(
    backup: Path, db: Database, tmp_path: Path, env: dict[str, str] | None = None
) -> tuple[int, str, dict[str, Any]]:
    """``manage.py verify_backup`` as an operator runs it: a process whose database is ``db``."""
    report = tmp_path / "verify.json"
    done = subprocess.run(
        [sys.executable, "manage.py", "verify_backup", str(backup), f"--report={report}"],
        cwd=ROOT,
        env={**(env or os.environ), "KEFU_DATABASE_URL": db.url()},
        capture_output=True,
        text=True,
        check=False,
    )
    return done.returncode, done.stdout + done.stderr, json.loads(report.read_text())


def test_drill_passes_on_a_desk_with_history_and_drops_its_scratch_database(
    history: dict[str, Any], new_scratch: NewScratch, tmp_path: Path
) -> None:
    scratch = new_scratch()
    report_path = tmp_path / "drill.json"

    call_command("backup_drill", scratch=scratch.name, json=report_path, samples=1)

    report = json.loads(report_path.read_text())
    checks = _by_name(report["checks"])
    closed = history["closed"]
    assert report["ok"] is True, report["checks"]
    assert [c["name"] for c in report["checks"] if c["status"] != "ok"] == []
    live = _live_counts()
    assert checks["row counts"]["detail"] == (
        f"{len(live)} tables, {sum(live.values()):,} rows, each table as in the manifest"
    )
    # the invitation's ticket is always sampled: its whole history came back
    whole = checks[f"ticket {closed.number} history"]["detail"]
    for part in (
        f"tickets_ticketevent {AuditEvent.objects.filter(ticket=closed).count()}",
        "tickets_ticketmessage 2",
        "surveys_invitation 1",
        "outbox_outboxmessage 1",
        "viewflow_process 1",
    ):
        assert part in whole
    invitation = history["invitation"]
    assert checks["survey link"]["detail"].startswith(
        f"the link in pending email {invitation.message_id} opens invitation {invitation.pk} "
        "(valid until"
    )
    # the customer's emails (two acknowledgements, the reply, three notices), the survey's
    # invitation, all pending, and the one sent
    assert checks["outbox"]["detail"] == "8 rows identical, 7 pending still pending"
    assert report["backup"]["format"] == "directory"
    assert report["backup"]["bytes"] > 0
    assert report["rto_seconds"] == pytest.approx(
        report["restore"]["seconds"] + report["verify"]["seconds"]
    )
    assert set(report["restore"]["phases"]) == {"checksums", "pg_restore", "analyze"}
    assert not database_exists(scratch)


def test_backup_manifest_holds_the_counts_migrations_and_checksums(
    history: dict[str, Any], tmp_path: Path
) -> None:
    call_command("backup", output=tmp_path / "b", format="custom")

    manifest = read_manifest(tmp_path / "b")
    assert manifest["tables"] == _live_counts()
    assert manifest["tables"]["tickets_ticket"] == 2
    with connection.cursor() as cursor:
        assert manifest["migrations"] == applied_migrations(cursor)
    assert manifest["kefu"]["version"] == "0.1.0"
    assert manifest["database"]["name"] == connection.settings_dict["NAME"]
    assert list(manifest["dump"]["files"]) == ["database.dump"]
    assert manifest["dump"]["files"]["database.dump"]["bytes"] == manifest["dump"]["bytes"]
    assert stat.S_IMODE((tmp_path / "b").stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "b" / "database.dump").stat().st_mode) == 0o600
    assert manifest["checks"]["survey"]["invitation"] == history["invitation"].pk
    assert "token" not in json.dumps(manifest["checks"]).replace("token_hash", "")


TAMPERING = {
    "an event of the closed ticket deleted": (
        "DELETE FROM tickets_ticketevent WHERE id = "
        "(SELECT max(id) FROM tickets_ticketevent WHERE ticket_id = {closed})",
        {"row counts", "ticket {number} history"},
    ),
    "the pending invitation email marked sent": (
        "UPDATE outbox_outboxmessage SET status = 'sent' WHERE id = {message}",
        {"outbox", "ticket {number} history"},
    ),
    "the survey token's hash changed": (
        "UPDATE surveys_invitation SET token_hash = repeat('0', 64) WHERE id = {invitation}",
        {"survey link", "ticket {number} history"},
    ),
}


@pytest.mark.parametrize("tampering", list(TAMPERING))
def test_a_restored_copy_that_differs_fails_the_checks_that_see_it(
    tampering: str, history: dict[str, Any], new_scratch: NewScratch, tmp_path: Path
) -> None:
    statement, expected = TAMPERING[tampering]
    closed, invitation = history["closed"], history["invitation"]
    scratch = new_scratch()
    call_command("backup", output=tmp_path / "b", samples=0)
    call_command("restore", str(tmp_path / "b"), database_url=scratch.url(), create=True,
                 verify=False)  # fmt: skip
    clean, _, _ = _verify(tmp_path / "b", scratch, tmp_path)
    assert clean == 0

    _execute(
        scratch,
        statement.format(closed=closed.pk, message=invitation.message_id, invitation=invitation.pk),
    )
    code, output, report = _verify(tmp_path / "b", scratch, tmp_path)

    checks = _by_name(report["checks"])
    failed = {name for name, c in checks.items() if c["status"] == "failed"}
    assert failed == {name.format(number=closed.number) for name in expected}
    assert code == 1
    assert "checks failed" in output
    if "survey link" in failed:  # Kefu's own token check ran on the copy and said no
        assert checks["survey link"]["detail"] == (
            f"invitation {invitation.pk}'s row differs from the backup; "
            f"the link in email {invitation.message_id} opens no invitation"
        )


def test_restore_refuses_the_configured_database_which_is_not_empty(
    history: dict[str, Any], tmp_path: Path
) -> None:
    call_command("backup", output=tmp_path / "b")
    before = _live_counts()

    with pytest.raises(CommandError, match="it is not empty") as refused:
        call_command("restore", str(tmp_path / "b"))

    assert "relation public." in str(refused.value)
    assert _live_counts() == before


def _create(db: Database) -> None:
    with db.connect("postgres") as conn:
        conn.execute(f'CREATE DATABASE "{db.name}"'.encode())


def test_restore_refuses_a_database_holding_one_table_and_writes_nothing(
    history: dict[str, Any], new_scratch: NewScratch, tmp_path: Path
) -> None:
    call_command("backup", output=tmp_path / "b")
    target = new_scratch()
    _create(target)
    _execute(target, "CREATE TABLE kept (note text); INSERT INTO kept VALUES ('mine')")

    with pytest.raises(CommandError, match=r"it is not empty \(1 objects: relation public.kept\)"):
        call_command("restore", str(tmp_path / "b"), database_url=target.url())

    with target.connect() as conn:
        assert conn.execute(b"SELECT note FROM kept").fetchall() == [("mine",)]
        tables = conn.execute(
            b"SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace"
        )
        assert tables.fetchone() == (1,)


def test_restore_refuses_a_damaged_backup_before_creating_anything(
    history: dict[str, Any], new_scratch: NewScratch, tmp_path: Path
) -> None:
    call_command("backup", output=tmp_path / "b")
    data = max((tmp_path / "b" / "database").glob("*.dat.gz"), key=lambda p: p.stat().st_size)
    data.write_bytes(data.read_bytes()[:-1] + b"?")
    target = new_scratch()

    with pytest.raises(CommandError, match=rf"is damaged: database/{data.name} differs"):
        call_command("restore", str(tmp_path / "b"), database_url=target.url(), create=True)

    assert not database_exists(target)


def test_drill_refuses_a_scratch_database_that_exists_and_leaves_it_alone(
    history: dict[str, Any], new_scratch: NewScratch
) -> None:
    existing = new_scratch()
    _create(existing)
    _execute(existing, "CREATE TABLE kept (note text); INSERT INTO kept VALUES ('mine')")

    with pytest.raises(CommandError, match="already exists; the drill only uses a database"):
        call_command("backup_drill", scratch=existing.name)

    with existing.connect() as conn:
        assert conn.execute(b"SELECT note FROM kept").fetchall() == [("mine",)]


def _refused_port() -> int:
    """A local port nothing listens on: the embedded mode's emails stay pending."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_drill_in_the_embedded_mode_on_sqlite(tmp_path: Path) -> None:
    """``make run``'s SQLite file, with the demo loaded and the mail server unreachable (so
    survey emails wait in the outbox): the drill passes, and a copy missing a row fails."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEFU_")}
    env.update(
        DJANGO_SETTINGS_MODULE="project.settings",
        KEFU_DATABASE_URL=f"sqlite:///{tmp_path / 'kefu.sqlite3'}",
        KEFU_EMAIL_URL=f"smtp://127.0.0.1:{_refused_port()}",
    )

    def manage(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env,
                              capture_output=True, text=True, check=False)  # fmt: skip

    for step in (["migrate", "--noinput", "-v0"], ["load_demo"]):
        assert manage(*step).returncode == 0
    drill = manage("backup_drill", f"--json={tmp_path / 'drill.json'}")
    assert drill.returncode == 0, drill.stdout + drill.stderr
    report = json.loads((tmp_path / "drill.json").read_text())
    checks = _by_name(report["checks"])
    assert report["backup"]["format"] == "sqlite"
    assert checks["sequences"]["status"] == "skipped"
    assert [c["name"] for c in report["checks"] if c["status"] not in ("ok", "skipped")] == []
    assert checks["survey link"]["status"] == "ok"
    assert "still pending" in checks["outbox"]["detail"]
    assert "Drill passed" in drill.stdout

    assert manage("backup", f"--output={tmp_path / 'b'}").returncode == 0
    copy = Database("sqlite", str(tmp_path / "copy.sqlite3"))
    restored = manage("restore", str(tmp_path / "b"), f"--database-url={copy.url()}")
    assert restored.returncode == 0, restored.stdout + restored.stderr
    with sqlite3.connect(copy.name) as conn:
        conn.execute("DELETE FROM tickets_ticketmessage WHERE id = 1")
    code, _output, verified = _verify(tmp_path / "b", copy, tmp_path, env)
    assert code == 1
    assert _by_name(verified["checks"])["row counts"]["status"] == "failed"
    assert "tickets_ticketmessage" in _by_name(verified["checks"])["row counts"]["detail"]
    refused = manage("restore", str(tmp_path / "b"), f"--database-url={copy.url()}")
    assert refused.returncode == 1
    assert "it is not empty" in refused.stderr


@pytest.mark.parametrize(
    ("url", "described"),
    [
        (
            "postgres://kefu:se%40cret@db1:5432,db2:5433/kefu?connect_timeout=3"
            "&target_session_attrs=read-write",
            "PostgreSQL database kefu on db1:5432,db2:5433",
        ),
        ("postgres://kefu@[::1]:5432/kefu", "PostgreSQL database kefu on [::1]:5432"),
        ("sqlite:////var/lib/kefu/kefu.sqlite3", "SQLite database /var/lib/kefu/kefu.sqlite3"),
    ],
)
def test_the_restored_database_reaches_the_checking_process_as_configured(
    url: str, described: str
) -> None:
    """verify_backup's process gets ``KEFU_DATABASE_URL=target.url()``: read back by the
    settings' own parser it is the same database (libpq's multi-host form included); what
    the commands print names it without the password."""
    from project.settings import parse_database_url

    target = Database.from_url(url)

    assert Database.from_url(target.url()) == target
    assert Database.from_settings(parse_database_url(target.url())) == target
    assert target.describe() == described
