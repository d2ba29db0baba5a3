# Data migration: every ticket waiting on a person (new or open) gets its work item, the
# queue row the platform's work queue reads (processes 0001); from now on the services keep
# it (tickets/events.py). Reversing empties the tickets' part of the queue.

from django.db import migrations

WAITING = ("new", "open")  # tickets.choices.QUEUE_STATUSES, frozen here
BATCH = 1000


def fill(apps, schema_editor):
    db = schema_editor.connection.alias
    ticket_model = apps.get_model("tickets", "Ticket")
    work_item = apps.get_model("processes", "WorkItem")
    ticket_process = apps.get_model("flows", "TicketProcess")
    task_model = apps.get_model("viewflow", "Task")
    tickets = (
        ticket_model.objects.using(db)
        .filter(status__in=WAITING)
        .select_related("customer")
        .order_by("pk")
    )
    last = 0
    while True:
        batch = list(tickets.filter(pk__gt=last)[:BATCH])
        if not batch:
            return
        last = batch[-1].pk
        processes = dict(
            ticket_process.objects.using(db)
            .filter(ticket_id__in=[t.pk for t in batch])
            .values_list("pk", "ticket_id")
        )
        tasks = {
            processes[process_id]: task_id
            for task_id, process_id in task_model.objects.using(db)
            .filter(
                process_id__in=list(processes),
                flow_task_type="HUMAN",
                status__in=("NEW", "ASSIGNED"),
            )
            .values_list("pk", "process_id")
        }
        work_item.objects.using(db).bulk_create(
            [
                work_item(
                    kind="ticket",
                    object_id=t.pk,
                    task_id=tasks.get(t.pk),
                    number=t.number,
                    title=t.subject,
                    priority=t.priority,
                    status=t.status,
                    team_id=t.team_id,
                    assignee_id=t.assignee_id,
                    due=t.sla_due,
                    breached=t.first_response_breached or t.resolution_breached,
                    warning=t.sla_warning,
                    paused=t.sla_paused_at is not None,
                    escalation_level=t.escalation_level,
                    acknowledged=t.escalation_acknowledged >= t.escalation_level > 0,
                    customer_tier=t.customer.tier if t.customer_id else None,
                    created=t.created_at,
                    version=t.version,
                )
                for t in batch
            ],
            ignore_conflicts=True,
        )


def empty(apps, schema_editor):
    work_item = apps.get_model("processes", "WorkItem")
    work_item.objects.using(schema_editor.connection.alias).filter(kind="ticket").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("flows", "0002_timer_indexes"),
        ("processes", "0001_work_items"),
        ("tickets", "0005_teams_agents_calendars_leave"),
        ("viewflow", "0015_task_scheduled"),
    ]

    operations = [migrations.RunPython(fill, empty)]
