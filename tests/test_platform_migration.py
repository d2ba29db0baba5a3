"""An installation from before the platform migrates forward with its data intact.

The code of ``BASELINE`` (the last commit before models moved out of ``tickets``) is taken
from git, migrates an empty PostgreSQL database and loads the demo data with its own
``load_demo``; then today's code migrates that database. Every table's rows must be the
same before and after (hashed row by row), the moved models' content types keep their ids
under their new app, and today's ORM reads the moved models from the old tables.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import psycopg
import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[1]
BASELINE = "fa15cc7"  # main before issue 9's moves (core/, org/, sla/)
MOVED = {("tickets", "team"): "org", ("tickets", "agentprofile"): "org"}
MOVED[("tickets", "businesscalendar")] = "sla"
MOVED[("tickets", "slapolicy")] = "sla"
# Columns the platform dropped, their data kept elsewhere (checked by the read-back below).
DROPPED = {("notifications_notification", "ticket_id")}  # now subject_kind and object_id
# The SLA clock's columns of a ticket, now its sla_slaclock row (sla 0004, tickets 0009),
# and a policy's two targets, now its ``targets`` (sla 0003): checked by SLA_READ_BACK.
DROPPED |= {
    ("tickets_ticket", column)
    for column in (
        "sla_policy_id", "sla_terms", "sla_started_at", "sla_paused_at", "sla_paused_seconds",
        "first_response_due", "resolution_due", "first_response_breached",
        "resolution_breached", "sla_done", "escalation_level", "sla_warning",
        "escalation_acknowledged", "sla_due",
    )
}  # fmt: skip
DROPPED |= {
    ("tickets_slapolicy", "first_response_seconds"),
    ("tickets_slapolicy", "resolution_seconds"),
}
# The one table the SLA move changes in its kept columns: the ``work`` tasks' SLA timers are
# cancelled (the ladder fires the checkpoints now; checked by SLA_READ_BACK's "next").
SLA_CHANGED = {"viewflow_task"}
# Tables a migration writes to by design: its own bookkeeping, the content types (checked
# below) and the permissions of new models (the old rows are checked below).
BOOKKEEPING = {"django_migrations", "django_content_type", "auth_permission"}
# Tables to which a later migration adds rows by design (complaints 0002: the complaint
# profiles' SLA policies and the working-days calendar); their old rows are compared.
ADDED_ROWS = ("tickets_slapolicy", "tickets_businesscalendar")

pytestmark = pytest.mark.postgres


def _admin_url() -> str:
    url = urlparse(os.environ.get("KEFU_DATABASE_URL", ""))
    return url._replace(path="/postgres").geturl()


@pytest.fixture
def scratch_url() -> Iterator[str]:
    """An empty database of its own, next to the test database, dropped afterwards."""
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        pytest.fail("needs PostgreSQL: set KEFU_DATABASE_URL=postgres://…")
    name = f"{settings.DATABASES['default']['NAME']}_platform_move"
    with psycopg.connect(_admin_url(), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlparse(_admin_url())._replace(path=f"/{name}").geturl()
    finally:
        with psycopg.connect(_admin_url(), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def baseline_tree(tmp_path: Path) -> Path:
    """The project as it was at ``BASELINE``, from git (a fresh clone has the history)."""
    archive = subprocess.run(
        ["git", "archive", "--format=tar", BASELINE],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(tmp_path, filter="data")
    # The editable install's finder would serve a module this tree lacks from the checkout
    # (complaints.admin to the old complaints package): a tree imports only its own code.
    (tmp_path / "sitecustomize.py").write_text(ISOLATE)
    return tmp_path


ISOLATE = """
import sys

sys.meta_path[:] = [f for f in sys.meta_path if "Editable" not in getattr(f, "__name__", "")]
sys.path_hooks[:] = [h for h in sys.path_hooks if "editable" not in repr(h).lower()]
sys.path_importer_cache.clear()
"""


def _manage(tree: Path, url: str, *args: str) -> str:
    env = {
        key: value for key, value in os.environ.items() if not key.startswith(("KEFU_", "DJANGO_"))
    }
    env.update(
        KEFU_DATABASE_URL=url,
        DJANGO_SETTINGS_MODULE="project.settings",
        KEFU_LOG_LEVEL="WARNING",
        PYTHONPATH=str(tree),  # this tree's apps, not the installed checkout's
    )
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _columns(url: str) -> dict[str, list[str]]:
    """Every table's columns, in order."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT table_name, column_name FROM information_schema.columns"
            " WHERE table_schema = 'public' ORDER BY table_name, ordinal_position"
        ).fetchall()
    found: dict[str, list[str]] = {}
    for table, column in rows:
        found.setdefault(str(table), []).append(str(column))
    return found


def _snapshot(
    url: str, columns: dict[str, list[str]], upto: dict[str, int] | None = None
) -> dict[str, tuple[int, str]]:
    """Every table's row count and a hash of its rows, over ``columns`` (the columns the
    old schema had: a column a migration adds is checked on its own); ``upto``: tables whose
    rows after the given id a later migration added by design (the complaints' shipped
    configuration), compared up to it."""
    found = {}
    with psycopg.connect(url) as conn:
        for table, names in columns.items():
            row = ", ".join(f'"{name}"' for name in names)
            where = f" WHERE id <= {int(upto[table])}" if upto and table in upto else ""
            count, digest = conn.execute(
                f"SELECT count(*), md5(coalesce(string_agg(r, E'\\n' ORDER BY r), ''))"
                f' FROM (SELECT ({row})::text AS r FROM "{table}"{where}) t'
            ).fetchone() or (0, "")
            found[table] = (int(count), str(digest))
    return found


def _max_id(url: str, table: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute(f'SELECT coalesce(max(id), 0) FROM "{table}"').fetchone()
    return int(row[0]) if row else 0


def _permissions(url: str, up_to: int | None = None) -> list[tuple[int, int, str]]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT id, content_type_id, codename FROM auth_permission WHERE id <= %s ORDER BY id",
            (up_to if up_to is not None else 2**62,),
        ).fetchall()
    return [(int(pk), int(ct), str(code)) for pk, ct, code in rows]


def _content_types(url: str) -> dict[tuple[str, str], int]:
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT app_label, model, id FROM django_content_type").fetchall()
    return {(app, model): pk for app, model, pk in rows}


def _last_json(output: str) -> dict[str, Any]:
    """The line the script printed (the shell prints a banner first)."""
    found: dict[str, Any] = json.loads(output.strip().splitlines()[-1])
    return found


READ_BACK = """
import json
from org.models import AgentProfile, Team
from sla.models import BusinessCalendar
from tickets.models import Ticket
from surveys.models import Invitation
from notifications.models import Notification
NOTIFIED = Notification.objects.filter(subject_kind="ticket").values_list("object_id", flat=True)
ticket = Ticket.objects.select_related("team").exclude(team=None).order_by("pk").first()
print(json.dumps({
    "teams": sorted((t.name, t.members.count(), t.calendar_id) for t in Team.objects.all()),
    "agents": AgentProfile.objects.count(),
    # complaints 0002 ships a working-days calendar of its own
    "calendars": BusinessCalendar.objects.exclude(
        name="Working days, whole days (complaints)"
    ).count(),
    "ticket_team": [ticket.number, ticket.team.name],
    "team_tickets": Team.objects.get(pk=ticket.team_id).ticket_set.count(),
    "invitation_teams": Invitation.objects.exclude(team=None).count(),
    "notified_tickets": sorted(NOTIFIED),
}))
"""

# Every ticket waiting on a person has its work item, equal to what the services write.
WORK_QUEUE = """
import json
from processes.models import WorkItem
from processes.selectors import COLUMNS, ROW
from tickets import selectors
from tickets.events import work_row
from tickets.models import Ticket
waiting = Ticket.objects.filter(status__in=("new", "open")).select_related("customer")
tasks = selectors.current_task_ids([t.pk for t in waiting])
stored = {
    v["object_id"]: {k: v[c] for k, c in ROW.items() if k != "id"}
    for v in WorkItem.objects.filter(kind="ticket").values(*COLUMNS)
}
matching = sum(stored.get(t.pk) == work_row(t, tasks.get(t.pk)) for t in waiting)
print(json.dumps({"waiting": len(waiting), "items": len(stored), "matching": matching}))
"""

# Every ticket's SLA as the API reads it, the policies' terms, and each open ticket's next
# SLA checkpoint: as the old code computed it, and its clock's ``next_at`` after.
SLA_READ_BACK = """
import json
from datetime import timedelta
from django.utils import timezone
from tickets.models import SlaPolicy, Ticket
def iso(value):
    return value.isoformat() if value else None
tickets = {
    t.number: [
        t.sla_policy_id, iso(t.sla_started_at), iso(t.sla_paused_at), t.sla_paused_seconds,
        iso(t.first_response_due), iso(t.resolution_due), iso(t.sla_due), list(t.breached),
        t.escalation_level, t.escalation_acknowledged, list(t.sla_done), t.sla_warning,
        iso(t.first_responded_at), iso(t.resolved_at),
    ]
    for t in Ticket.objects.order_by("pk")
}
def seconds(policy, target):
    old = getattr(policy, target + "_seconds", None)
    return old if old is not None else policy.targets[target]
policies = sorted(
    [p.name, p.priority, p.customer_tier, seconds(p, "first_response"), seconds(p, "resolution"),
     p.warning_percent, p.escalation, p.is_active]
    for p in SlaPolicy.objects.all()
    if getattr(p, "kind", "ticket") == "ticket"
)
NEXT
print(json.dumps({"tickets": tickets, "policies": policies, "next": following}))
"""
OLD_NEXT = """
from tickets import sla
far = timezone.now() + timedelta(days=3000)  # nothing left to watch: 10 years out
def pending(ticket):
    moment = sla.next_checkpoint_at(ticket)
    return iso(moment if moment < far else None)
following = {t.number: pending(t) for t in Ticket.objects.filter(status__in=("new", "open"))}
"""
NEW_NEXT = """
following = {
    t.number: iso(t.clock.next_at)
    for t in Ticket.objects.filter(status__in=("new", "open")).select_related("sla_clock")
    if t.clock is not None
}
"""

OLD_READ_BACK = (
    READ_BACK.replace("from org.models import AgentProfile, Team", "")
    .replace(
        "from sla.models import BusinessCalendar",
        "from tickets.models import AgentProfile, BusinessCalendar, Team",
    )
    .replace(
        'filter(subject_kind="ticket").values_list("object_id", flat=True)',
        'exclude(ticket=None).values_list("ticket_id", flat=True)',
    )
)


def test_demo_data_of_the_old_schema_survives_the_move(
    baseline_tree: Path, scratch_url: str
) -> None:
    _manage(baseline_tree, scratch_url, "migrate", "--noinput", "-v", "0")
    _manage(baseline_tree, scratch_url, "load_demo")
    old_columns = _columns(scratch_url)
    kept = {t: [c for c in cols if (t, c) not in DROPPED] for t, cols in old_columns.items()}
    before = _snapshot(scratch_url, kept)
    upto = {table: _max_id(scratch_url, table) for table in ADDED_ROWS}
    types_before = _content_types(scratch_url)
    permissions_before = _permissions(scratch_url)
    read_before = _last_json(_manage(baseline_tree, scratch_url, "shell", "-c", OLD_READ_BACK))
    old_sla = SLA_READ_BACK.replace("NEXT", OLD_NEXT)
    sla_before = _last_json(_manage(baseline_tree, scratch_url, "shell", "-c", old_sla))
    assert all(row[0] for row in sla_before["tickets"].values())  # every demo ticket has SLA
    assert any(row[2] for row in sla_before["tickets"].values())  # some stand paused
    assert before["tickets_ticket"][0] > 0 and before["tickets_team"][0] > 0

    _manage(ROOT, scratch_url, "migrate", "--noinput", "-v", "0")

    new_columns = _columns(scratch_url)
    gone = {(t, c) for t, cols in old_columns.items() for c in cols if c not in new_columns[t]}
    assert gone == DROPPED
    after = _snapshot(scratch_url, kept, upto)
    changed = sorted(t for t in before if before[t] != after.get(t) and t not in BOOKKEEPING)
    assert changed == sorted(SLA_CHANGED)
    sla_after = _last_json(
        _manage(ROOT, scratch_url, "shell", "-c", SLA_READ_BACK.replace("NEXT", NEW_NEXT))
    )
    assert sla_after["tickets"] == sla_before["tickets"]
    assert sla_after["policies"] == sla_before["policies"]
    # every open ticket's next checkpoint is where its timer was (none armed 10 years out)
    assert sla_after["next"] == sla_before["next"]
    assert any(sla_after["next"].values())
    types_after = _content_types(scratch_url)
    # The same grants, the ticket events' now named for the audit table (audit 0001).
    renamed = [
        (pk, ct, code.replace("ticketevent", "auditevent")) for pk, ct, code in permissions_before
    ]
    assert _permissions(scratch_url, permissions_before[-1][0]) == renamed
    for (app, model), new_app in MOVED.items():
        assert types_after[(new_app, model)] == types_before[(app, model)]
        assert (app, model) not in types_after
    assert types_after[("audit", "auditevent")] == types_before[("tickets", "ticketevent")]
    read_after = _last_json(_manage(ROOT, scratch_url, "shell", "-c", READ_BACK))
    assert read_after == read_before
    assert read_after["agents"] > 0 and read_after["invitation_teams"] > 0
    assert read_after["notified_tickets"]  # the demo's notifications, still about their tickets
    with psycopg.connect(scratch_url) as conn:
        mismatched = conn.execute(
            "SELECT count(*) FROM tickets_ticketevent e JOIN tickets_ticket t ON t.id = e.ticket_id"
            " WHERE e.customer_id IS DISTINCT FROM t.customer_id"
        ).fetchone()
    assert mismatched == (0,)  # every ticket event got its ticket's customer (audit 0003)
    queue = _last_json(_manage(ROOT, scratch_url, "shell", "-c", WORK_QUEUE))
    assert queue["waiting"] > 0
    assert queue["items"] == queue["matching"] == queue["waiting"]

    # The SLA move steps back: the old columns are refilled from the clocks, the old code
    # reads the same SLA, and its work tasks' timers are armed again.
    _manage(ROOT, scratch_url, "migrate", "sla", "0002", "--noinput", "-v", "0")
    assert _last_json(_manage(baseline_tree, scratch_url, "shell", "-c", old_sla)) == sla_before
    with psycopg.connect(scratch_url) as conn:
        armed = conn.execute(
            "SELECT count(*) FROM viewflow_task WHERE status = 'SCHEDULED'"
            " AND flow_task = 'flows/ticket.TicketFlow.work__timeout'"
        ).fetchone()
    assert armed is not None and armed[0] > 0
