"""1,000,000 tickets (50,000 open) seeded with set-based SQL, not the ORM.

The viewflow rows of the open tickets (process, ticket link, the human `work`
task and its SLA checkpoint timer) copy their column values from real tickets
opened through ``tickets.services.open_ticket`` first (the "probes"): one that
was auto-assigned (task ASSIGNED) and one left unassigned (task NEW).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from .env import DATABASE_URL
from .seed import BenchDesk

TOTAL = 1_000_000
TEAMS = 20
AGENTS = 400
CUSTOMERS = 5_000
CONTACTS = 50_000


@dataclass(frozen=True)
class QueueSeed:
    agent_id: int
    agent_team_ids: list[int]
    tickets: int
    open_tickets: int
    agent_open_assigned: int
    agent_all_assigned: int
    teams_open_unassigned: int
    templates: dict[str, dict[str, Any]]
    seconds: dict[str, float]


TASK_COLUMNS = (
    "flow_task",
    "flow_task_type",
    "status",
    "token",
    "owner_id",
    "owner_permission",
    "data",
)


def _row(sql: str, params: list[Any]) -> dict[str, Any]:
    """A row as stored (raw SQL: the ORM would turn flow references into classes)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = [c.name for c in cursor.description]
        row = cursor.fetchone()
    return dict(zip(names, row, strict=True))


def probe_templates(desk: BenchDesk) -> dict[str, dict[str, Any]]:
    """Opens two real tickets and reads back what the flow wrote for them."""
    from django.contrib.auth.models import User

    from tickets import services
    from tickets.models import Team

    admin = User.objects.get(pk=desk.admin_id)
    templates: dict[str, dict[str, Any]] = {}
    team = Team.objects.get(pk=desk.team_id)
    for label, assignment in (("assigned", team.assignment), ("unassigned", "manual")):
        Team.objects.filter(pk=team.pk).update(assignment=assignment)
        ticket, _ = services.open_ticket(
            actor=admin,
            subject=f"Probe ({label})",
            description="Shows the rows the flow writes.",
            priority="P2",
            channel="api",
            contact_id=desk.contact_id,
        )
        process = _row(
            "SELECT p.id, p.flow_class, p.status, p.data, p.finished FROM viewflow_process p"
            " JOIN flows_ticketprocess tp ON tp.process_ptr_id = p.id WHERE tp.ticket_id = %s",
            [ticket.pk],
        )
        templates[f"process ({label})"] = {k: v for k, v in process.items() if k != "id"}
        for kind in ("HUMAN", "TIMER"):
            task = _row(
                f"SELECT {', '.join(TASK_COLUMNS)} FROM viewflow_task"
                " WHERE process_id = %s AND flow_task_type = %s"
                " AND status IN ('NEW', 'ASSIGNED', 'SCHEDULED') ORDER BY id DESC LIMIT 1",
                [process["id"], kind],
            )
            templates[f"{kind.lower()} task ({label})"] = task
    Team.objects.filter(pk=team.pk).update(assignment=team.assignment)
    return templates


SETUP_SQL = """
INSERT INTO auth_user (password, last_login, is_superuser, username, first_name, last_name,
                       email, is_staff, is_active, date_joined)
SELECT '!', NULL, false, 'qagent' || lpad(g::text, 3, '0'), 'Agent', lpad(g::text, 3, '0'),
       'qagent' || g || '@bench.example.com', false, true, now()
FROM generate_series(1, {agents}) g;

CREATE TEMP TABLE bench_teams AS SELECT 0 AS k, 0::bigint AS team_id LIMIT 0;
INSERT INTO tickets_team (name, calendar_id, assignment, created_at, updated_at)
SELECT 'Queue team ' || lpad(g::text, 2, '0'), NULL, 'round_robin', now(), now()
FROM generate_series(1, {teams}) g;
INSERT INTO bench_teams
SELECT row_number() OVER (ORDER BY name)::int, id FROM tickets_team WHERE name ~ '^Queue team ';

CREATE TEMP TABLE bench_agents AS
SELECT row_number() OVER (ORDER BY u.username)::int AS k, u.id AS user_id, 0::bigint AS team_id
FROM auth_user u WHERE u.username ~ '^qagent[0-9]+$';
UPDATE bench_agents a SET team_id = t.team_id
FROM bench_teams t WHERE t.k = ((a.k - 1) % {teams}) + 1;
CREATE UNIQUE INDEX ON bench_agents (k);

INSERT INTO tickets_team_members (team_id, user_id) SELECT team_id, user_id FROM bench_agents;
-- the benchmark agent (k = 1) also works in the second team
INSERT INTO tickets_team_members (team_id, user_id)
SELECT (SELECT team_id FROM bench_teams WHERE k = 2), user_id FROM bench_agents WHERE k = 1;
INSERT INTO auth_user_groups (user_id, group_id)
SELECT user_id, (SELECT id FROM auth_group WHERE name = 'agent') FROM bench_agents;
INSERT INTO tickets_agentprofile (skills, capacity, presence, last_assigned_at, created_at,
                                  updated_at, user_id)
SELECT '[]', 1000000, 'online', NULL, now(), now(), user_id FROM bench_agents;

INSERT INTO customers_customer (kind, name, tier, region, tags, created_at, updated_at)
SELECT CASE WHEN g % 3 = 0 THEN 'individual' ELSE 'company' END,
       'Bench customer ' || lpad(g::text, 5, '0'),
       CASE WHEN g % 20 = 0 THEN 'platinum' WHEN g % 5 = 0 THEN 'gold' ELSE 'standard' END,
       '', '[]', now(), now()
FROM generate_series(1, {customers}) g;
CREATE TEMP TABLE bench_customers AS
SELECT row_number() OVER (ORDER BY id)::int AS k, id FROM customers_customer
WHERE name ~ '^Bench customer ';

INSERT INTO customers_contact (customer_id, name, email, phone, language, created_at, updated_at)
SELECT c.id, 'Contact ' || g, 'contact' || g || '@bench.example.com', '', 'en', now(), now()
FROM generate_series(1, {contacts}) g JOIN bench_customers c ON c.k = ((g - 1) % {customers}) + 1;
CREATE TEMP TABLE bench_contacts AS
SELECT row_number() OVER (ORDER BY id)::int AS k, id, customer_id FROM customers_contact
WHERE email ~ '^contact[0-9]+@bench[.]example[.]com$';
CREATE UNIQUE INDEX ON bench_contacts (k);
"""

# g = 1 … 1,000,000 in time order over two years (one ticket every 63 s). The newest
# 100,000 hold the open work: every second one is open (50,000), 4 in 5 of those
# assigned. Agent k = 1 is the benchmark agent: its share plus every 800th open ticket.
TICKETS_SQL = """
INSERT INTO tickets_ticket (
    number, subject, description, priority, channel, status, resolution, urge_count,
    sla_terms, sla_started_at, sla_paused_at, sla_paused_seconds, first_response_due,
    resolution_due, first_responded_at, resolved_at, closed_at, first_response_breached,
    resolution_breached, sla_done, escalation_level, sla_due, version, created_at, updated_at,
    assignee_id, category_id, contact_id, created_by_id, customer_id, sla_policy_id, team_id)
SELECT
    'T-' || t.yr || '-' || lpad((coalesce(tc.last, 0) + t.yn)::text, 6, '0'),
    'Seeded ticket ' || t.g || ': order not delivered',
    'The customer reports that order ' || (t.g * 13) || ' has not arrived yet.',
    t.priority,
    (ARRAY['web', 'email', 'api', 'phone'])[(t.g % 4) + 1],
    CASE WHEN NOT t.is_open THEN 'closed' WHEN t.is_assigned THEN 'open' ELSE 'new' END,
    CASE WHEN t.is_open THEN '' ELSE 'Resolved by the agent.' END,
    0,
    CASE WHEN t.has_sla THEN p.terms ELSE '{{}}'::jsonb END,
    CASE WHEN t.has_sla THEN t.created_at END,
    CASE WHEN NOT t.is_open THEN t.resolved_at END,
    0,
    CASE WHEN NOT t.has_sla THEN NULL
         WHEN t.is_open AND NOT t.is_assigned THEN t.due
         ELSE t.created_at + p.fr * interval '1 second' END,
    CASE WHEN NOT t.has_sla THEN NULL
         WHEN t.is_open THEN t.due + (p.res - p.fr) * (NOT t.is_assigned)::int * interval '1 second'
         ELSE t.created_at + p.res * interval '1 second' END,
    CASE WHEN NOT t.is_open THEN t.created_at + ((t.g % 120) + 1) * interval '1 minute'
         WHEN t.is_assigned THEN t.created_at + interval '10 minutes' END,
    CASE WHEN NOT t.is_open THEN t.resolved_at END,
    CASE WHEN NOT t.is_open THEN least(now(), t.resolved_at + interval '3 days') END,
    CASE WHEN t.is_open THEN coalesce(t.due < now(), false) ELSE t.g % 17 = 0 END,
    CASE WHEN t.is_open THEN coalesce(t.due < now(), false) ELSE t.g % 23 = 0 END,
    '[]'::jsonb,
    0,
    CASE WHEN t.is_open THEN t.due END,
    CASE WHEN t.is_open THEN 3 ELSE 8 END,
    t.created_at,
    CASE WHEN t.is_open THEN t.created_at + interval '10 minutes'
         ELSE least(now(), t.resolved_at + interval '3 days') END,
    CASE WHEN t.is_assigned THEN a.user_id END,
    NULL,
    c.id,
    NULL,
    c.customer_id,
    CASE WHEN t.has_sla THEN p.policy_id END,
    a.team_id
FROM (
    SELECT s.*,
           extract(year FROM s.created_at)::int AS yr,
           row_number() OVER (PARTITION BY extract(year FROM s.created_at) ORDER BY s.g) AS yn,
           s.created_at + ((s.g % 72) + 1) * interval '1 hour' AS resolved_at,
           CASE WHEN s.is_open AND s.has_sla
                THEN now() + (((s.g::bigint * 37) % 10080) - 1440) * interval '1 minute' END AS due
    FROM (
        SELECT g,
               now() - ({total} - g) * interval '63.072 seconds' AS created_at,
               (g > {total} - 100000 AND g % 2 = 0) AS is_open,
               NOT (g > {total} - 100000 AND g % 2 = 0) OR (g / 2) % 5 <> 0 AS is_assigned,
               NOT (g > {total} - 100000 AND g % 100 = 0) AS has_sla,
               CASE WHEN g > {total} - 100000 AND g % 2 = 0 AND (g / 2) % 800 = 7 THEN 1
                    ELSE ((((g::bigint * 2654435761) % 4294967296) / 65536) % {agents}) + 1
               END AS agent_k,
               CASE WHEN g % 10 = 0 THEN 'P1' WHEN g % 10 < 4 THEN 'P2'
                    WHEN g % 10 < 8 THEN 'P3' ELSE 'P4' END AS priority
        FROM generate_series(1, {total}) g
    ) s
) t
JOIN bench_agents a ON a.k = t.agent_k
JOIN bench_contacts c ON c.k = ((t.g::bigint * 7) % {contacts}) + 1
JOIN bench_policies p ON p.priority = t.priority
LEFT JOIN tickets_ticketcounter tc ON tc.year = t.yr
ORDER BY t.g;

INSERT INTO tickets_ticketcounter (year, last)
SELECT substr(number, 3, 4)::int, max(substr(number, 8)::int) FROM tickets_ticket
GROUP BY 1
ON CONFLICT (year) DO UPDATE SET last = greatest(tickets_ticketcounter.last, EXCLUDED.last);
"""

FLOW_SQL = """
CREATE TEMP TABLE bench_open AS
SELECT t.id AS ticket_id, row_number() OVER (ORDER BY t.id) AS rn, t.assignee_id, t.created_at,
       t.sla_due
FROM tickets_ticket t
WHERE t.status IN ('new', 'open') AND NOT EXISTS (
    SELECT 1 FROM flows_ticketprocess tp WHERE tp.ticket_id = t.id);

CREATE TEMP TABLE bench_base AS
SELECT (SELECT coalesce(max(id), 0) FROM viewflow_process) AS process,
       (SELECT coalesce(max(id), 0) FROM viewflow_task) AS task;

INSERT INTO viewflow_process (id, flow_class, status, created, finished, data)
SELECT b.process + o.rn, %(flow_class)s, %(process_status)s, o.created_at, NULL,
       %(process_data)s::jsonb
FROM bench_open o, bench_base b;

INSERT INTO flows_ticketprocess (process_ptr_id, ticket_id)
SELECT b.process + o.rn, o.ticket_id FROM bench_open o, bench_base b;

INSERT INTO viewflow_task (id, flow_task, flow_task_type, status, created, started, finished,
                           token, owner_id, process_id, data, scheduled, owner_permission)
SELECT b.task + 2 * o.rn - 1, %(human_flow_task)s, %(human_type)s,
       CASE WHEN o.assignee_id IS NULL THEN %(human_status_new)s ELSE %(human_status_owned)s END,
       o.created_at + interval '1 second', NULL, NULL, %(human_token)s, o.assignee_id,
       b.process + o.rn, %(human_data)s::jsonb, NULL, %(human_permission)s
FROM bench_open o, bench_base b;

INSERT INTO viewflow_task (id, flow_task, flow_task_type, status, created, started, finished,
                           token, owner_id, process_id, data, scheduled, owner_permission)
SELECT b.task + 2 * o.rn, %(timer_flow_task)s, %(timer_type)s, %(timer_status)s,
       o.created_at + interval '1 second', NULL, NULL, %(timer_token)s, NULL, b.process + o.rn,
       %(timer_data)s::jsonb,
       CASE WHEN o.sla_due > now() THEN o.sla_due ELSE now() + interval '3650 days' END, NULL
FROM bench_open o, bench_base b;

-- the timer's "previous" is the task it guards, as the flow links them
INSERT INTO viewflow_task_previous (from_task_id, to_task_id)
SELECT b.task + 2 * o.rn, b.task + 2 * o.rn - 1 FROM bench_open o, bench_base b;

SELECT setval(pg_get_serial_sequence('viewflow_process', 'id'),
              (SELECT max(id) FROM viewflow_process));
SELECT setval(pg_get_serial_sequence('viewflow_task', 'id'), (SELECT max(id) FROM viewflow_task));
"""


def _json(value: Any) -> str:
    """jsonb comes back as text through Django's connection; pass text through."""
    return value if isinstance(value, str) else json.dumps(value)


def _policies(desk: BenchDesk) -> list[tuple[str, int, str, int, int]]:
    from tickets import sla
    from tickets.models import SlaPolicy

    out = []
    for policy in SlaPolicy.objects.filter(pk__in=desk.policy_ids.values()):
        terms = sla.terms_for(policy, None)
        out.append(
            (
                policy.priority,
                policy.pk,
                json.dumps(terms),
                policy.first_response_seconds,
                policy.resolution_seconds,
            )
        )
    return out


def seed(desk: BenchDesk) -> QueueSeed:
    import psycopg

    seconds: dict[str, float] = {}
    started = time.monotonic()
    templates = probe_templates(desk)
    human = templates["human task (assigned)"]
    human_new = templates["human task (unassigned)"]
    timer = templates["timer task (assigned)"]
    process = templates["process (assigned)"]
    fmt = {
        "agents": AGENTS,
        "teams": TEAMS,
        "customers": CUSTOMERS,
        "contacts": CONTACTS,
        "total": TOTAL,
    }
    params = {
        "flow_class": process["flow_class"],
        "process_status": process["status"],
        "process_data": _json(process["data"]),
        "human_flow_task": human["flow_task"],
        "human_type": human["flow_task_type"],
        "human_status_owned": human["status"],
        "human_status_new": human_new["status"],
        "human_token": human["token"],
        "human_data": _json(human["data"]),
        "human_permission": human["owner_permission"],
        "timer_flow_task": timer["flow_task"],
        "timer_type": timer["flow_task_type"],
        "timer_status": timer["status"],
        "timer_token": timer["token"],
        "timer_data": _json(timer["data"]),
    }
    with psycopg.connect(DATABASE_URL) as conn:
        conn.execute("SET synchronous_commit = off")
        conn.execute("SET work_mem = '256MB'")
        conn.execute(SETUP_SQL.format(**fmt))
        conn.execute(
            "CREATE TEMP TABLE bench_policies "
            "(priority text, policy_id bigint, terms jsonb, fr int, res int)"
        )
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO bench_policies VALUES (%s, %s, %s, %s, %s)", _policies(desk)
            )
        seconds["desk, agents, teams, customers, contacts"] = time.monotonic() - started
        mark = time.monotonic()
        conn.execute(TICKETS_SQL.format(**fmt))
        seconds["1,000,000 tickets"] = time.monotonic() - mark
        mark = time.monotonic()
        with psycopg.ClientCursor(conn) as cur:  # several statements with parameters
            cur.execute(FLOW_SQL, params)
        seconds["viewflow rows of the open tickets"] = time.monotonic() - mark
        agent_id, agent_teams = conn.execute(
            "SELECT a.user_id, array_agg(m.team_id ORDER BY m.team_id) FROM bench_agents a "
            "JOIN tickets_team_members m ON m.user_id = a.user_id WHERE a.k = 1 GROUP BY 1"
        ).fetchone() or (0, [])
        conn.commit()
    mark = time.monotonic()
    with psycopg.connect(DATABASE_URL, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
        counts = conn.execute(
            "SELECT count(*), count(*) FILTER (WHERE status IN ('new', 'open')),"
            " count(*) FILTER (WHERE status IN ('new', 'open') AND assignee_id = %(a)s),"
            " count(*) FILTER (WHERE assignee_id = %(a)s),"
            " count(*) FILTER (WHERE status IN ('new', 'open') AND assignee_id IS NULL"
            "                  AND team_id = ANY(%(t)s))"
            " FROM tickets_ticket",
            {"a": agent_id, "t": agent_teams},
        ).fetchone()
    seconds["VACUUM ANALYZE"] = time.monotonic() - mark
    assert counts is not None
    return QueueSeed(
        agent_id=agent_id,
        agent_team_ids=list(agent_teams),
        tickets=counts[0],
        open_tickets=counts[1],
        agent_open_assigned=counts[2],
        agent_all_assigned=counts[3],
        teams_open_unassigned=counts[4],
        templates=templates,
        seconds=seconds,
    )
