"""Indexes viewflow's task table lacks (VIEWFLOW.md §9.4): due timers, live tasks."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("flows", "0001_initial"),
        ("viewflow", "0015_task_scheduled"),
    ]

    operations = [
        migrations.RunSQL(
            "CREATE INDEX kefu_task_due_timer_idx ON viewflow_task (scheduled, id) "
            "WHERE flow_task_type = 'TIMER' AND status = 'SCHEDULED'",
            "DROP INDEX kefu_task_due_timer_idx",
        ),
        migrations.RunSQL(
            "CREATE INDEX kefu_task_live_idx ON viewflow_task (process_id, id) "
            "WHERE status IN ('NEW', 'ASSIGNED', 'STARTED', 'SCHEDULED')",
            "DROP INDEX kefu_task_live_idx",
        ),
    ]
