"""1,000,000 tickets (50,000 open), 100,000 open complaints and 100,000 open work items of
a third kind seeded with set-based SQL, not the ORM (a smaller scale for ``--quick``).

Every ``INSERT`` is built by ``sqlseed.insert_select``: the columns set here, and every
other column with the value the ORM would give it, checked against the models before
anything runs (a new NOT NULL column without a default fails naming the column).

Every ticket has its SLA clock (``sla_slaclock``; the checkpoints are swept from the
clocks, no viewflow timer is armed). The viewflow rows of the open tickets (process,
ticket link, the human `work` task) copy their column values from real tickets opened
through ``tickets.services.open_ticket`` first (the "probes"): one that was
auto-assigned (task ASSIGNED) and one left unassigned (task NEW); the clocks' terms are
``sla.clock.terms_for`` of each policy, checked against the probe's clock.

The complaints (``complaints_complaint``, as many as twice the open tickets) are open under
the ``cn-banking-insurance`` profile (calendar days, so the seed's arithmetic is exact), each
with its SLA clock (the profile's terms from ``sla.clock.terms_for``) and its work item of
kind ``complaint`` as ``complaints.selectors.queue_row`` writes it; they have no viewflow
rows (the queue reads the work items only).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from .env import DATABASE_URL
from .seed import BenchDesk
from .sqlseed import insert_select, literal


@dataclass(frozen=True)
class Scale:
    tickets: int
    agents: int
    teams: int
    customers: int
    contacts: int

    @property
    def recent(self) -> int:
        """The newest tickets, which hold the open work (every second one is open)."""
        return self.tickets // 10

    @property
    def open(self) -> int:
        return self.recent // 2

    @property
    def spacing(self) -> float:
        """Seconds between two tickets: the tickets span two years."""
        return 2 * 365 * 86_400 / self.tickets


FULL = Scale(tickets=1_000_000, agents=400, teams=20, customers=5_000, contacts=50_000)
QUICK = Scale(tickets=20_000, agents=40, teams=4, customers=500, contacts=2_000)


@dataclass(frozen=True)
class QueueSeed:
    scale: Scale
    agent_id: int
    agent_team_ids: list[int]
    tickets: int
    open_tickets: int
    agent_open_assigned: int
    agent_all_assigned: int
    teams_open_unassigned: int
    templates: dict[str, dict[str, Any]]
    seconds: dict[str, float]
    # The work queue (processes_workitem): rows per kind, and the benchmark agent's queue
    # per kind (assigned to the agent, or unassigned in one of its teams).
    work_items: dict[str, int]
    agent_queue: dict[str, int]
    complaints: int = 0
    open_complaints: int = 0


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

    from org.models import Team
    from tickets import services

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
        task = _row(
            f"SELECT {', '.join(TASK_COLUMNS)} FROM viewflow_task"
            " WHERE process_id = %s AND flow_task_type = 'HUMAN'"
            " AND status IN ('NEW', 'ASSIGNED') ORDER BY id DESC LIMIT 1",
            [process["id"]],
        )
        templates[f"human task ({label})"] = task
        timers = _row(
            "SELECT count(*) AS armed FROM viewflow_task WHERE process_id = %s"
            " AND flow_task_type = 'TIMER' AND status = 'SCHEDULED'",
            [process["id"]],
        )
        assert timers["armed"] == 0, "an open ticket's process arms no viewflow timer"
        clock = _row(
            "SELECT c.kind, c.policy_id, c.terms FROM sla_slaclock c"
            " JOIN tickets_ticket t ON t.sla_clock_id = c.id WHERE t.id = %s",
            [ticket.pk],
        )
        templates[f"SLA clock ({label})"] = clock
    Team.objects.filter(pk=team.pk).update(assignment=team.assignment)
    return templates


def setup_sql(scale: Scale) -> str:
    """Agents (one team each; the benchmark agent, k = 1, in two), teams, customers,
    contacts, and the temp tables (k -> id) the tickets are spread with."""
    fmt = {"teams": scale.teams}
    return "\n".join(
        [
            insert_select(
                "auth_user",
                {
                    "password": "'!'",
                    "username": "'qagent' || lpad(g::text, 3, '0')",
                    "first_name": "'Agent'",
                    "last_name": "lpad(g::text, 3, '0')",
                    "email": "'qagent' || g || '@bench.example.com'",
                    "is_active": "true",
                },
                f"FROM generate_series(1, {scale.agents}) g",
            ),
            insert_select(
                "tickets_team",
                {"name": "'Queue team ' || lpad(g::text, 2, '0')", "assignment": "'round_robin'"},
                f"FROM generate_series(1, {scale.teams}) g",
            ),
            """
CREATE TEMP TABLE bench_teams AS
SELECT row_number() OVER (ORDER BY name)::int AS k, id AS team_id FROM tickets_team
WHERE name ~ '^Queue team ';

CREATE TEMP TABLE bench_agents AS
SELECT row_number() OVER (ORDER BY u.username)::int AS k, u.id AS user_id, 0::bigint AS team_id
FROM auth_user u WHERE u.username ~ '^qagent[0-9]+$';
UPDATE bench_agents a SET team_id = t.team_id
FROM bench_teams t WHERE t.k = ((a.k - 1) % {teams}) + 1;
CREATE UNIQUE INDEX ON bench_agents (k);
""".format(**fmt),
            insert_select(
                "tickets_team_members",
                {"team_id": "team_id", "user_id": "user_id"},
                "FROM bench_agents",
            ),
            "-- the benchmark agent (k = 1) also works in the second team",
            insert_select(
                "tickets_team_members",
                {"team_id": "(SELECT team_id FROM bench_teams WHERE k = 2)", "user_id": "user_id"},
                "FROM bench_agents WHERE k = 1",
            ),
            insert_select(
                "auth_user_groups",
                {
                    "user_id": "user_id",
                    "group_id": "(SELECT id FROM auth_group WHERE name = 'agent')",
                },
                "FROM bench_agents",
            ),
            insert_select(
                "tickets_agentprofile",
                {
                    "user_id": "user_id",
                    "skills": "'[]'::jsonb",
                    "capacity": "1000000",
                    "presence": "'online'",
                },
                "FROM bench_agents",
            ),
            insert_select(
                "customers_customer",
                {
                    "kind": "CASE WHEN g % 3 = 0 THEN 'individual' ELSE 'company' END",
                    "name": "'Bench customer ' || lpad(g::text, 5, '0')",
                    "tier": "CASE WHEN g % 20 = 0 THEN 'platinum' WHEN g % 5 = 0 THEN 'gold'"
                    " ELSE 'standard' END",
                    "region": "''",
                    "industry": "''",
                    "external_id": "''",
                    "tags": "'[]'::jsonb",
                    "custom": "'{}'::jsonb",
                },
                f"FROM generate_series(1, {scale.customers}) g",
            ),
            """
CREATE TEMP TABLE bench_customers AS
SELECT row_number() OVER (ORDER BY id)::int AS k, id FROM customers_customer
WHERE name ~ '^Bench customer ';
""",
            insert_select(
                "customers_contact",
                {
                    "customer_id": "c.id",
                    "name": "'Contact ' || g",
                    "email": "'contact' || g || '@bench.example.com'",
                    "phone": "''",
                    "title": "''",
                    "language": "'en'",
                    "preferred_channel": "''",
                    "external_id": "''",
                    "custom": "'{}'::jsonb",
                },
                f"FROM generate_series(1, {scale.contacts}) g"
                f" JOIN bench_customers c ON c.k = ((g - 1) % {scale.customers}) + 1",
            ),
            """
CREATE TEMP TABLE bench_contacts AS
SELECT row_number() OVER (ORDER BY id)::int AS k, id, customer_id FROM customers_contact
WHERE email ~ '^contact[0-9]+@bench[.]example[.]com$';
CREATE UNIQUE INDEX ON bench_contacts (k);
""",
        ]
    )


# g = 1 … total in time order over two years. The newest tenth holds the open work: every
# second one is open (a twentieth of all), 4 in 5 of those assigned. Agent k = 1 is the
# benchmark agent: its share plus every 800th open ticket. Ticket g gets the id
# ``b.ticket + g`` and its SLA clock the id ``b.clock + g`` (so the two inserts need no
# join back); the rows are computed once into ``bench_rows``.
TICKET_ROWS = """
CREATE TEMP TABLE bench_base_ids AS
SELECT (SELECT coalesce(max(id), 0) FROM tickets_ticket) AS ticket,
       (SELECT coalesce(max(id), 0) FROM sla_slaclock) AS clock;

CREATE TEMP TABLE bench_rows AS
SELECT t.*, b.ticket + t.g AS ticket_id, b.clock + t.g AS clock_id,
       a.user_id, a.team_id, c.id AS contact_id, c.customer_id,
       p.policy_id, p.terms, p.fr, p.res, coalesce(tc.last, 0) AS last_number
FROM (
    SELECT s.*,
           extract(year FROM s.created_at)::int AS yr,
           row_number() OVER (PARTITION BY extract(year FROM s.created_at) ORDER BY s.g) AS yn,
           s.created_at + ((s.g % 72) + 1) * interval '1 hour' AS resolved_at,
           CASE WHEN s.is_open AND s.has_sla
                THEN now() + (((s.g::bigint * 37) % 10080) - 1440) * interval '1 minute' END AS due
    FROM (
        SELECT g,
               now() - ({total} - g) * interval '{spacing} seconds' AS created_at,
               (g > {total} - {recent} AND g % 2 = 0) AS is_open,
               NOT (g > {total} - {recent} AND g % 2 = 0) OR (g / 2) % 5 <> 0 AS is_assigned,
               NOT (g > {total} - {recent} AND g % 100 = 0) AS has_sla,
               CASE WHEN g > {total} - {recent} AND g % 2 = 0 AND (g / 2) % 800 = 7 THEN 1
                    ELSE ((((g::bigint * 2654435761) % 4294967296) / 65536) % {agents}) + 1
               END AS agent_k,
               CASE WHEN g % 10 = 0 THEN 'P1' WHEN g % 10 < 4 THEN 'P2'
                    WHEN g % 10 < 8 THEN 'P3' ELSE 'P4' END AS priority
        FROM generate_series(1, {total}) g
    ) s
) t
CROSS JOIN bench_base_ids b
JOIN bench_agents a ON a.k = t.agent_k
JOIN bench_contacts c ON c.k = ((t.g::bigint * 7) % {contacts}) + 1
JOIN bench_policies p ON p.priority = t.priority
LEFT JOIN (
    -- the last number given per year: the counter (SQLite, older databases) or the
    -- tickets themselves (numbers from the per-year sequence, tickets 0012)
    SELECT year, max(last) AS last FROM (
        SELECT year, last FROM tickets_ticketcounter
        UNION ALL
        SELECT substr(number, 3, 4)::int, max(substr(number, 8)::int) FROM tickets_ticket
        WHERE number LIKE 'T-%' GROUP BY 1
    ) given GROUP BY year
) tc ON tc.year = t.yr;
"""

TICKET_VALUES: dict[str, str] = {
    "id": "t.ticket_id",
    "number": "'T-' || t.yr || '-' || lpad((t.last_number + t.yn)::text, 6, '0')",
    "subject": "'Seeded ticket ' || t.g || ': order not delivered'",
    "description": "'The customer reports that order ' || (t.g * 13) || ' has not arrived yet.'",
    "priority": "t.priority",
    "channel": "(ARRAY['web', 'email', 'api', 'phone'])[(t.g % 4) + 1]",
    "status": "CASE WHEN NOT t.is_open THEN 'closed' WHEN t.is_assigned THEN 'open' ELSE 'new' END",
    "resolution": "CASE WHEN t.is_open THEN '' ELSE 'Resolved by the agent.' END",
    "urge_count": "0",
    "first_responded_at": """CASE WHEN NOT t.is_open
         THEN t.created_at + ((t.g % 120) + 1) * interval '1 minute'
         WHEN t.is_assigned THEN t.created_at + interval '10 minutes' END""",
    "resolved_at": "CASE WHEN NOT t.is_open THEN t.resolved_at END",
    "closed_at": "CASE WHEN NOT t.is_open THEN least(now(), t.resolved_at + interval '3 days') END",
    "sla_clock_id": "t.clock_id",
    "version": "CASE WHEN t.is_open THEN 3 ELSE 8 END",
    "created_at": "t.created_at",
    "updated_at": """CASE WHEN t.is_open THEN t.created_at + interval '10 minutes'
         ELSE least(now(), t.resolved_at + interval '3 days') END""",
    "assignee_id": "CASE WHEN t.is_assigned THEN t.user_id END",
    "category_id": "NULL",
    "contact_id": "t.contact_id",
    "created_by_id": "NULL",
    "customer_id": "t.customer_id",
    "team_id": "t.team_id",
}


def _iso(sql: str) -> str:
    """A timestamp as ``datetime.isoformat()`` writes it in a clock's ``targets``."""
    return f"""to_char(({sql}) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"')"""


def _target(due: str, met_at: str, breached: str) -> str:
    return (
        f"jsonb_build_object('due', {_iso(due)}, 'met_at', {_iso(met_at)}, 'breached', {breached})"
    )


# A ticket's SLA clock, as ``sla.clock`` leaves it (24x7: the seeded policies have no
# calendar). An open ticket's clock runs: its nearest unmet target (the first response when
# nobody has the ticket, else the resolution; the first response was met 10 minutes after
# intake) falls due at ``t.due``, so the clock started one target earlier. A target past
# due is breached; no checkpoint is recorded as handled (``done`` empty, so ``warning``
# false, escalation level 0), and the next checkpoint is the nearest target's due moment
# if it is ahead, else none: the seed leaves no backlog for the ladder (a refresh by any
# writer would re-arm it). A closed ticket's clock stopped at the closing, both targets
# met; a ticket without a policy (1 % of the open ones) has a clock without targets.
OPEN_STARTED = "t.due - CASE WHEN t.is_assigned THEN t.res ELSE t.fr END * interval '1 second'"
CLOCK_VALUES = {
    "id": "t.clock_id",
    "kind": "'ticket'",
    "object_id": "t.ticket_id",
    "policy_id": "CASE WHEN t.has_sla THEN t.policy_id END",
    "terms": "CASE WHEN t.has_sla THEN t.terms ELSE '{}'::jsonb END",
    "started_at": f"""CASE WHEN NOT t.has_sla THEN NULL WHEN t.is_open THEN {OPEN_STARTED}
         ELSE t.created_at END""",
    "paused_at": "CASE WHEN NOT t.is_open THEN t.resolved_at END",
    "paused_seconds": "0",
    "targets": f"""CASE WHEN NOT t.has_sla THEN '{{}}'::jsonb
         WHEN t.is_open THEN jsonb_build_object(
             'first_response', {
        _target(
            f"{OPEN_STARTED} + t.fr * interval '1 second'",
            "CASE WHEN t.is_assigned THEN t.created_at + interval '10 minutes' END",
            f"NOT t.is_assigned AND {OPEN_STARTED} + t.fr * interval '1 second' < now()",
        )
    },
             'resolution', {
        _target(
            f"{OPEN_STARTED} + t.res * interval '1 second'",
            "NULL::timestamptz",
            f"{OPEN_STARTED} + t.res * interval '1 second' < now()",
        )
    })
         ELSE jsonb_build_object(
             'first_response', {
        _target(
            "t.created_at + t.fr * interval '1 second'",
            "t.created_at + ((t.g % 120) + 1) * interval '1 minute'",
            "t.g % 17 = 0",
        )
    },
             'resolution', {
        _target(
            "t.created_at + t.res * interval '1 second'",
            "t.resolved_at",
            "t.g % 23 = 0",
        )
    }) END""",
    "done": "'[]'::jsonb",
    "due": "CASE WHEN t.is_open THEN t.due END",
    "warning": "false",
    "breached": "CASE WHEN t.is_open THEN coalesce(t.due < now(), false)"
    " ELSE t.g % 17 = 0 OR t.g % 23 = 0 END",
    "escalation_level": "0",
    "acknowledged_level": "0",
    "next_at": "CASE WHEN t.is_open AND t.due > now() THEN t.due END",
    "stopped_at": (
        "CASE WHEN NOT t.is_open THEN least(now(), t.resolved_at + interval '3 days') END"
    ),
    "created_at": "t.created_at",
    "updated_at": """CASE WHEN t.is_open THEN t.created_at + interval '10 minutes'
         ELSE least(now(), t.resolved_at + interval '3 days') END""",
}


def tickets_sql(scale: Scale) -> str:
    rows = TICKET_ROWS.format(
        total=scale.tickets,
        recent=scale.recent,
        spacing=f"{scale.spacing:.3f}",
        agents=scale.agents,
        contacts=scale.contacts,
    )
    return "\n".join(
        [
            rows,
            insert_select("tickets_ticket", TICKET_VALUES, "FROM bench_rows t ORDER BY t.g"),
            insert_select("sla_slaclock", CLOCK_VALUES, "FROM bench_rows t ORDER BY t.g"),
            """
SELECT setval(pg_get_serial_sequence('tickets_ticket', 'id'), (SELECT max(id) FROM tickets_ticket));
SELECT setval(pg_get_serial_sequence('sla_slaclock', 'id'), (SELECT max(id) FROM sla_slaclock));
DROP TABLE bench_rows;
""",
            insert_select(
                "tickets_ticketcounter",
                {"year": "substr(number, 3, 4)::int", "last": "max(substr(number, 8)::int)"},
                "FROM tickets_ticket GROUP BY 1 ON CONFLICT (year) DO UPDATE"
                " SET last = greatest(tickets_ticketcounter.last, EXCLUDED.last)",
            ),
            # a year's number sequence that exists already goes on after the seeded numbers
            """
DO $$
DECLARE
    given record;
BEGIN
    FOR given IN SELECT substr(number, 3, 4) AS yr, max(substr(number, 8)::bigint) AS last
                 FROM tickets_ticket WHERE number LIKE 'T-%' GROUP BY 1
    LOOP
        IF to_regclass('tickets_number_' || given.yr) IS NOT NULL THEN
            PERFORM setval(('tickets_number_' || given.yr)::regclass, given.last);
        END IF;
    END LOOP;
END
$$;
""",
        ]
    )


def flow_sql(templates: dict[str, dict[str, Any]]) -> str:
    """The viewflow rows of every open ticket without them, values copied from the probes."""
    human = templates["human task (assigned)"]
    human_new = templates["human task (unassigned)"]
    process = templates["process (assigned)"]
    new = "b.process + o.rn"
    return "\n".join(
        [
            """
CREATE TEMP TABLE bench_open AS
SELECT t.id AS ticket_id, row_number() OVER (ORDER BY t.id) AS rn, t.assignee_id, t.created_at
FROM tickets_ticket t
WHERE t.status IN ('new', 'open') AND NOT EXISTS (
    SELECT 1 FROM flows_ticketprocess tp WHERE tp.ticket_id = t.id);

CREATE TEMP TABLE bench_base AS
SELECT (SELECT coalesce(max(id), 0) FROM viewflow_process) AS process,
       (SELECT coalesce(max(id), 0) FROM viewflow_task) AS task;
""",
            insert_select(
                "viewflow_process",
                {
                    "id": new,
                    "flow_class": literal(process["flow_class"]),
                    "status": literal(process["status"]),
                    "created": "o.created_at",
                    "finished": "NULL",
                    "data": f"{literal(_json(process['data']))}::jsonb",
                },
                "FROM bench_open o, bench_base b",
            ),
            insert_select(
                "flows_ticketprocess",
                {"process_ptr_id": new, "ticket_id": "o.ticket_id"},
                "FROM bench_open o, bench_base b",
            ),
            insert_select(
                "viewflow_task",
                {
                    "id": "b.task + o.rn",
                    "flow_task": literal(human["flow_task"]),
                    "flow_task_type": literal(human["flow_task_type"]),
                    "status": f"CASE WHEN o.assignee_id IS NULL THEN {literal(human_new['status'])}"
                    f" ELSE {literal(human['status'])} END",
                    "created": "o.created_at + interval '1 second'",
                    "started": "NULL",
                    "finished": "NULL",
                    "token": literal(human["token"]),
                    "owner_id": "o.assignee_id",
                    "process_id": new,
                    "data": f"{literal(_json(human['data']))}::jsonb",
                    "scheduled": "NULL",
                    "owner_permission": literal(human["owner_permission"]),
                },
                "FROM bench_open o, bench_base b",
            ),
            """
SELECT setval(pg_get_serial_sequence('viewflow_process', 'id'),
              (SELECT max(id) FROM viewflow_process));
SELECT setval(pg_get_serial_sequence('viewflow_task', 'id'), (SELECT max(id) FROM viewflow_task));
""",
        ]
    )


def work_items_sql(scale: Scale) -> str:
    """The work queue (processes.WorkItem): the open tickets' items, as the services write
    them, and ``2 * open`` items of a second kind (``probe``: 100,000 at full scale) spread
    over the same agents and teams, half of them unassigned, with due times mixed in among
    the tickets'."""
    tickets = insert_select(
        "processes_workitem",
        {
            "kind": "'ticket'",
            "object_id": "t.id",
            "task_id": "task.id",
            "number": "t.number",
            "title": "t.subject",
            "priority": "t.priority",
            "status": "t.status",
            "team_id": "t.team_id",
            "assignee_id": "t.assignee_id",
            "due": "clock.due",
            "breached": "clock.breached",
            "warning": "clock.warning",
            "paused": "clock.paused_at IS NOT NULL",
            "escalation_level": "clock.escalation_level",
            "acknowledged": "clock.acknowledged_level >= clock.escalation_level"
            " AND clock.escalation_level > 0",
            "customer_tier": "cu.tier",
            "created": "t.created_at",
            "version": "t.version",
        },
        """FROM tickets_ticket t
JOIN sla_slaclock clock ON clock.id = t.sla_clock_id
JOIN flows_ticketprocess tp ON tp.ticket_id = t.id
JOIN viewflow_task task ON task.process_id = tp.process_ptr_id
     AND task.flow_task_type = 'HUMAN' AND task.status IN ('NEW', 'ASSIGNED')
LEFT JOIN customers_customer cu ON cu.id = t.customer_id
WHERE t.status IN ('new', 'open')
ON CONFLICT (kind, object_id) DO NOTHING""",
    )
    second = insert_select(
        "processes_workitem",
        {
            "kind": "'probe'",
            "object_id": "g",
            "task_id": "NULL",
            "number": "'P-' || lpad(g::text, 7, '0')",
            "title": "'Seeded work of a second kind ' || g",
            "priority": "(ARRAY['P1', 'P2', 'P3', 'P4'])[(g % 4) + 1]",
            "status": "'handling'",
            "team_id": "a.team_id",
            "assignee_id": "CASE WHEN g % 2 = 0 THEN a.user_id END",
            "due": "now() + ((g % 20000) - 2000) * interval '1 minute'",
            "breached": "(g % 20000) < 2000",
            "warning": "(g % 20000) BETWEEN 2000 AND 2600",
            "paused": "false",
            "escalation_level": "0",
            "acknowledged": "false",
            "customer_tier": "NULL",
            "created": "now() - (g % 5000) * interval '1 minute'",
            "version": "1",
        },
        f"""FROM generate_series(1, {2 * scale.open}) g
JOIN bench_agents a ON a.k = ((g * 7) % {scale.agents}) + 1""",
    )
    return tickets + "\n" + second


COMPLAINT_PROFILE = "cn-banking-insurance"

# g = 1 … n: received over the last 20 days; 3 in 10 still to acknowledge (received), the
# rest acknowledged 2 hours and first contacted a day after receipt (investigating); every
# second one assigned to an agent of its team, the others waiting for the team. Agent k = 1
# (the benchmark agent) gets its share. Complaint g gets the id ``b.complaint + g`` and its
# clock ``b.clock + g``.
COMPLAINT_ROWS = """
CREATE TEMP TABLE bench_cbase AS
SELECT (SELECT coalesce(max(id), 0) FROM complaints_complaint) AS complaint,
       (SELECT coalesce(max(id), 0) FROM sla_slaclock) AS clock,
       (SELECT coalesce(max(last), 0) FROM complaints_complaintcounter
        WHERE year = extract(year FROM now())::int) AS last;

CREATE TEMP TABLE bench_complaints AS
SELECT s.*, b.complaint + s.g AS complaint_id, b.clock + s.g AS clock_id, b.last + s.g AS seq,
       a.user_id, a.team_id, c.id AS contact_id, c.customer_id, cu.tier,
       p.policy_id, p.terms, p.ack, p.contact, p.final,
       CASE WHEN s.is_received THEN s.received_at + p.ack * interval '1 second'
            ELSE s.received_at + p.final * interval '1 second' END AS due
FROM (
    SELECT g,
           now() - ((g::bigint * 7919) % (20 * 86400)) * interval '1 second' AS received_at,
           g % 10 < 3 AS is_received,
           g % 2 = 0 AS is_assigned,
           (ARRAY['S1', 'S2', 'S3', 'S4'])[(g % 4) + 1] AS severity,
           CASE WHEN g % 400 = 7 THEN 1 ELSE ((g::bigint * 13) % {agents}) + 1 END AS agent_k
    FROM generate_series(1, {total}) g
) s
CROSS JOIN bench_cbase b
JOIN bench_agents a ON a.k = s.agent_k
JOIN bench_contacts c ON c.k = ((s.g::bigint * 11) % {contacts}) + 1
JOIN customers_customer cu ON cu.id = c.customer_id
JOIN bench_cpolicies p ON p.severity = s.severity;
"""

# Text columns the seeded complaints leave empty (no model default: the seed must say so).
BLANK_COMPLAINT_COLUMNS = (
    "product_ref", "desired_outcome", "severity_reason", "customer_response", "dispute_reason",
    "outcome", "resolution", "corrective_action", "compensation_kind", "approved_level",
)  # fmt: skip

COMPLAINT_VALUES: dict[str, str] = {
    "id": "t.complaint_id",
    "number": "'C-' || extract(year FROM now())::int || '-' || lpad(t.seq::text, 6, '0')",
    "profile_id": "(SELECT id FROM complaints_complaintprofile"
    f" WHERE code = '{COMPLAINT_PROFILE}')",
    "customer_id": "t.customer_id",
    "contact_id": "t.contact_id",
    "channel": "(ARRAY['phone', 'email', 'web', 'letter'])[(t.g % 4) + 1]",
    "category_id": "(SELECT id FROM complaints_complaintcategory WHERE code = 'billing')",
    "title": "'Seeded complaint ' || t.g || ': charged twice'",
    "description": "'The customer says order ' || (t.g * 17) || ' was charged twice.'",
    "impact": "'medium'",
    "urgency": "'medium'",
    "derived_severity": "t.severity",
    "severity": "t.severity",
    "regulatory": "t.g % 10 = 9",
    "status": "CASE WHEN t.is_received THEN 'received' ELSE 'investigating' END",
    "team_id": "t.team_id",
    "assignee_id": "CASE WHEN t.is_assigned THEN t.user_id END",
    "received_at": "t.received_at",
    "acknowledged_at": "CASE WHEN NOT t.is_received THEN t.received_at + interval '2 hours' END",
    "first_contact_at": "CASE WHEN NOT t.is_received THEN t.received_at + interval '1 day' END",
    "sla_clock_id": "t.clock_id",
    "version": "CASE WHEN t.is_received THEN 1 ELSE 3 END",
    "created_at": "t.received_at",
    "updated_at": "t.received_at + interval '1 day'",
    **dict.fromkeys(BLANK_COMPLAINT_COLUMNS, "''"),
}

COMPLAINT_CLOCK_VALUES: dict[str, str] = {
    "id": "t.clock_id",
    "kind": "'complaint'",
    "object_id": "t.complaint_id",
    "policy_id": "t.policy_id",
    "terms": "t.terms",
    "started_at": "t.received_at",
    "paused_at": "NULL",
    "paused_seconds": "0",
    "targets": f"""jsonb_build_object(
        'acknowledge', {
        _target(
            "t.received_at + t.ack * interval '1 second'",
            "CASE WHEN NOT t.is_received THEN t.received_at + interval '2 hours' END",
            "t.is_received AND t.received_at + t.ack * interval '1 second' < now()",
        )
    },
        'first_contact', {
        _target(
            "t.received_at + t.contact * interval '1 second'",
            "CASE WHEN NOT t.is_received THEN t.received_at + interval '1 day' END",
            "t.is_received AND t.received_at + t.contact * interval '1 second' < now()",
        )
    },
        'final_answer', {
        _target(
            "t.received_at + t.final * interval '1 second'",
            "NULL::timestamptz",
            "t.received_at + t.final * interval '1 second' < now()",
        )
    })""",
    "done": "'[]'::jsonb",
    "due": "t.due",
    "warning": "false",
    "breached": "t.due < now()",
    "escalation_level": "0",
    "acknowledged_level": "0",
    "next_at": "CASE WHEN t.due > now() THEN t.due END",
    "stopped_at": "NULL",
    "created_at": "t.received_at",
    "updated_at": "t.received_at + interval '1 day'",
}


def complaints_sql(scale: Scale) -> str:
    """``2 * open`` open complaints (100,000 at full scale), their clocks and work items."""
    rows = COMPLAINT_ROWS.format(total=2 * scale.open, agents=scale.agents, contacts=scale.contacts)
    return "\n".join(
        [
            rows,
            insert_select(
                "complaints_complaint", COMPLAINT_VALUES, "FROM bench_complaints t ORDER BY t.g"
            ),
            insert_select(
                "sla_slaclock", COMPLAINT_CLOCK_VALUES, "FROM bench_complaints t ORDER BY t.g"
            ),
            """
SELECT setval(pg_get_serial_sequence('complaints_complaint', 'id'),
              (SELECT max(id) FROM complaints_complaint));
SELECT setval(pg_get_serial_sequence('sla_slaclock', 'id'), (SELECT max(id) FROM sla_slaclock));
""",
            insert_select(
                "complaints_complaintcounter",
                {"year": "extract(year FROM now())::int", "last": "max(t.seq)"},
                "FROM bench_complaints t ON CONFLICT (year) DO UPDATE"
                " SET last = greatest(complaints_complaintcounter.last, EXCLUDED.last)",
            ),
            insert_select(
                "processes_workitem",
                {
                    "kind": "'complaint'",
                    "object_id": "t.complaint_id",
                    "task_id": "NULL",
                    "number": "'C-' || extract(year FROM now())::int || '-'"
                    " || lpad(t.seq::text, 6, '0')",
                    "title": "'Seeded complaint ' || t.g || ': charged twice'",
                    "priority": "t.severity",
                    "status": "CASE WHEN t.is_received THEN 'received' ELSE 'investigating' END",
                    "team_id": "t.team_id",
                    "assignee_id": "CASE WHEN t.is_assigned THEN t.user_id END",
                    "due": "t.due",
                    "breached": "t.due < now()",
                    "warning": "false",
                    "paused": "false",
                    "escalation_level": "0",
                    # queue_row: the level acknowledged (0) is at least the level reached (0)
                    "acknowledged": "true",
                    "customer_tier": "t.tier",
                    "created": "t.received_at",
                    "version": "CASE WHEN t.is_received THEN 1 ELSE 3 END",
                },
                "FROM bench_complaints t ORDER BY t.g ON CONFLICT (kind, object_id) DO NOTHING",
            ),
            "DROP TABLE bench_complaints;",
        ]
    )


def _complaint_policies() -> list[tuple[Any, ...]]:
    """(severity, SLA policy id, terms, acknowledge s, first contact s, final answer s) of
    the profile's non-regulatory policies, the terms as ``sla.clock.start`` snapshots them."""
    from complaints.models import COMPLAINT_TARGETS, ComplaintPolicy
    from sla import clock as clocks

    out = []
    for row in ComplaintPolicy.objects.select_related("sla_policy__calendar").filter(
        profile__code=COMPLAINT_PROFILE, regulatory=False
    ):
        terms = clocks.terms_for(row.sla_policy, COMPLAINT_TARGETS, None)
        assert terms["calendar"] is None, "the seed's arithmetic is in calendar days"
        targets = row.sla_policy.targets
        out.append(
            (
                row.severity,
                row.sla_policy_id,
                json.dumps(terms),
                int(targets["acknowledge"]),
                int(targets["first_contact"]),
                int(targets["final_answer"]),
            )
        )
    assert len(out) == 4, out
    return out


def _json(value: Any) -> str:
    """jsonb comes back as text through Django's connection; pass text through."""
    return value if isinstance(value, str) else json.dumps(value)


def _policies(desk: BenchDesk, templates: dict[str, dict[str, Any]]) -> list[tuple[Any, ...]]:
    """(priority, policy id, terms, first response s, resolution s) of each desk policy; the
    terms are what ``sla.clock.start`` snapshots (the probe's clock proves it for P2)."""
    from sla import clock as clocks
    from sla.models import SlaPolicy
    from tickets import sla

    probe = templates["SLA clock (assigned)"]
    out = []
    for policy in SlaPolicy.objects.filter(pk__in=desk.policy_ids.values()):
        terms = clocks.terms_for(policy, sla.TARGETS, None)
        assert terms["calendar"] is None, "the seed's arithmetic is 24x7"
        if policy.pk == probe["policy_id"]:
            assert terms == _loads(probe["terms"]), (terms, probe["terms"])
        out.append(
            (
                policy.priority,
                policy.pk,
                json.dumps(terms),
                int(policy.targets["first_response"]),
                int(policy.targets["resolution"]),
            )
        )
    return out


def _loads(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def seed(desk: BenchDesk, scale: Scale = FULL) -> QueueSeed:
    import psycopg

    seconds: dict[str, float] = {}
    started = time.monotonic()
    templates = probe_templates(desk)
    # built (and checked against the models) before anything is written
    statements = {
        "setup": setup_sql(scale),
        "tickets": tickets_sql(scale),
        "flow": flow_sql(templates),
        "work items": work_items_sql(scale),
        "complaints": complaints_sql(scale),
    }
    with psycopg.connect(DATABASE_URL) as conn:
        conn.execute("SET synchronous_commit = off")
        conn.execute("SET work_mem = '256MB'")
        conn.execute(statements["setup"])
        conn.execute(
            "CREATE TEMP TABLE bench_policies "
            "(priority text, policy_id bigint, terms jsonb, fr int, res int)"
        )
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO bench_policies VALUES (%s, %s, %s, %s, %s)", _policies(desk, templates)
            )
        seconds["desk, agents, teams, customers, contacts"] = time.monotonic() - started
        mark = time.monotonic()
        conn.execute(statements["tickets"])
        seconds[f"{scale.tickets:,} tickets and their SLA clocks"] = time.monotonic() - mark
        mark = time.monotonic()
        conn.execute(statements["flow"])
        seconds["viewflow rows of the open tickets"] = time.monotonic() - mark
        mark = time.monotonic()
        conn.execute(statements["work items"])
        seconds[f"work queue: open tickets and {2 * scale.open:,} items of a second kind"] = (
            time.monotonic() - mark
        )
        mark = time.monotonic()
        conn.execute(
            "CREATE TEMP TABLE bench_cpolicies (severity text, policy_id bigint, terms jsonb,"
            " ack int, contact int, final int)"
        )
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO bench_cpolicies VALUES (%s, %s, %s, %s, %s, %s)",
                _complaint_policies(),
            )
        conn.execute(statements["complaints"])
        seconds[f"{2 * scale.open:,} open complaints, their clocks and work items"] = (
            time.monotonic() - mark
        )
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
        complaints = conn.execute(
            "SELECT count(*), count(*) FILTER (WHERE status <> 'closed') FROM complaints_complaint"
        ).fetchone()
        work = conn.execute(
            "SELECT kind, count(*), count(*) FILTER (WHERE assignee_id = %(a)s"
            " OR (assignee_id IS NULL AND team_id = ANY(%(t)s)))"
            " FROM processes_workitem GROUP BY kind ORDER BY kind",
            {"a": agent_id, "t": agent_teams},
        ).fetchall()
    seconds["VACUUM ANALYZE"] = time.monotonic() - mark
    assert counts is not None
    return QueueSeed(
        scale=scale,
        agent_id=agent_id,
        agent_team_ids=list(agent_teams),
        tickets=counts[0],
        open_tickets=counts[1],
        agent_open_assigned=counts[2],
        agent_all_assigned=counts[3],
        teams_open_unassigned=counts[4],
        templates=templates,
        seconds=seconds,
        work_items={kind: n for kind, n, _mine in work},
        agent_queue={kind: mine for kind, _n, mine in work},
        complaints=complaints[0] if complaints else 0,
        open_complaints=complaints[1] if complaints else 0,
    )
