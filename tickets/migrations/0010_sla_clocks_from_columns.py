# A ticket's SLA clock moves from 14 columns on the ticket to the platform's SlaClock
# (docs/sla.md). This data migration copies every clock, in batches; 0011 drops the old
# columns. Both directions are written: stepping back refills the columns
# from the clocks.
#
# The SLA checkpoint no longer is a boundary timer of the ``work`` task: the ladder sweeps
# the clocks. Armed ``work__timeout`` timers are cancelled here (and armed again on the
# way back).

from django.db import migrations

BATCH = 2000
WORK_TIMEOUT = "flows/ticket.TicketFlow.work__timeout"
TARGETS = ("first_response", "resolution")


def _iso(value):
    return value.isoformat() if value is not None else None


def clocks_from_columns(apps, schema_editor):
    from sla import clock as clocks  # the checkpoints' arithmetic, read-only here

    ticket_model = apps.get_model("tickets", "Ticket")
    clock_model = apps.get_model("sla", "SlaClock")
    task_model = apps.get_model("viewflow", "Task")
    db = schema_editor.connection.alias
    rows = (
        ticket_model.objects.using(db)
        .filter(sla_clock__isnull=True, sla_started_at__isnull=False)
        .order_by("pk")
    )
    last = 0
    while True:
        batch = list(rows.filter(pk__gt=last)[:BATCH])
        if not batch:
            break
        last = batch[-1].pk
        made = []
        for ticket in batch:
            old = ticket.sla_terms or {}
            terms = {
                "policy_id": old.get("policy_id"),
                "policy": old.get("policy"),
                "targets": [[name, int(old.get(f"{name}_seconds") or 0)] for name in TARGETS],
                "warning_percent": old.get("warning_percent"),
                "escalation": list(old.get("escalation") or []),
                "calendar": old.get("calendar"),
            }
            first_met = ticket.first_responded_at or ticket.resolved_at
            clock = clock_model(
                kind="ticket",
                object_id=ticket.pk,
                policy_id=ticket.sla_policy_id,
                terms=terms,
                started_at=ticket.sla_started_at,
                paused_at=ticket.sla_paused_at,
                paused_seconds=ticket.sla_paused_seconds,
                targets={
                    "first_response": {
                        "due": _iso(ticket.first_response_due),
                        "met_at": _iso(first_met),
                        "breached": ticket.first_response_breached,
                    },
                    "resolution": {
                        "due": _iso(ticket.resolution_due),
                        "met_at": _iso(ticket.resolved_at),
                        "breached": ticket.resolution_breached,
                    },
                },
                done=list(ticket.sla_done or []),
                due=ticket.sla_due,
                warning=ticket.sla_warning,
                breached=ticket.first_response_breached or ticket.resolution_breached,
                escalation_level=ticket.escalation_level,
                acknowledged_level=ticket.escalation_acknowledged,
                stopped_at=ticket.closed_at if ticket.status == "closed" else None,
            )
            pending = clocks.pending_checkpoints(clock) if clock.stopped_at is None else []
            clock.next_at = pending[0].at if pending else None
            made.append(clock)
        clock_model.objects.using(db).bulk_create(made)
        by_ticket = dict(
            clock_model.objects.using(db)
            .filter(kind="ticket", object_id__in=[t.pk for t in batch])
            .values_list("object_id", "pk")
        )
        for ticket in batch:
            ticket.sla_clock_id = by_ticket.get(ticket.pk)
        ticket_model.objects.using(db).bulk_update(batch, ["sla_clock"])
    task_model.objects.using(db).filter(
        flow_task=WORK_TIMEOUT, status__in=["NEW", "SCHEDULED"]
    ).update(status="CANCELED")


def columns_from_clocks(apps, schema_editor):
    ticket_model = apps.get_model("tickets", "Ticket")
    clock_model = apps.get_model("sla", "SlaClock")
    task_model = apps.get_model("viewflow", "Task")
    db = schema_editor.connection.alias
    from django.utils.dateparse import parse_datetime

    def when(state, key):
        value = (state or {}).get(key)
        return parse_datetime(value) if value else None

    last = 0
    while True:
        batch = list(
            ticket_model.objects.using(db)
            .filter(sla_clock__isnull=False, pk__gt=last)
            .order_by("pk")[:BATCH]
        )
        if not batch:
            break
        last = batch[-1].pk
        found = clock_model.objects.using(db).in_bulk([t.sla_clock_id for t in batch])
        for ticket in batch:
            clock = found[ticket.sla_clock_id]
            seconds = dict(clock.terms.get("targets") or [])
            ticket.sla_policy_id = clock.policy_id
            ticket.sla_terms = {
                "policy_id": clock.terms.get("policy_id"),
                "policy": clock.terms.get("policy"),
                "first_response_seconds": seconds.get("first_response"),
                "resolution_seconds": seconds.get("resolution"),
                "warning_percent": clock.terms.get("warning_percent"),
                "escalation": clock.terms.get("escalation") or [],
                "calendar": clock.terms.get("calendar"),
            }
            ticket.sla_started_at = clock.started_at
            ticket.sla_paused_at = clock.paused_at
            ticket.sla_paused_seconds = clock.paused_seconds
            first = clock.targets.get("first_response")
            resolution = clock.targets.get("resolution")
            ticket.first_response_due = when(first, "due")
            ticket.resolution_due = when(resolution, "due")
            ticket.first_response_breached = bool((first or {}).get("breached"))
            ticket.resolution_breached = bool((resolution or {}).get("breached"))
            ticket.sla_done = list(clock.done)
            ticket.sla_due = clock.due
            ticket.sla_warning = clock.warning
            ticket.escalation_level = clock.escalation_level
            ticket.escalation_acknowledged = clock.acknowledged_level
            ticket.sla_clock_id = None
        ticket_model.objects.using(db).bulk_update(
            batch,
            [
                "sla_policy", "sla_terms", "sla_started_at", "sla_paused_at",
                "sla_paused_seconds", "first_response_due", "resolution_due",
                "first_response_breached", "resolution_breached", "sla_done", "sla_due",
                "sla_warning", "escalation_level", "escalation_acknowledged", "sla_clock",
            ],
        )
    clock_model.objects.using(db).filter(kind="ticket").delete()
    # The timers this migration cancelled (a cancel by viewflow also sets ``finished``).
    task_model.objects.using(db).filter(
        flow_task=WORK_TIMEOUT, status="CANCELED", finished__isnull=True
    ).update(status="SCHEDULED")


class Migration(migrations.Migration):

    dependencies = [
        ("tickets", "0009_ticket_sla_clock"),
        ("viewflow", "0015_task_scheduled"),
    ]

    operations = [
        migrations.RunPython(clocks_from_columns, columns_from_clocks),
    ]
