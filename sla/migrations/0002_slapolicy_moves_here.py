# SLA policies move from tickets to the platform's sla app with their table
# (docs/platform.md); tickets 0008 lets go of them. sla 0003 then keys them by process
# kind and keeps their targets as data.

import django.db.models.deletion
from django.db import migrations, models

from ._moves import move_content_types


class Migration(migrations.Migration):

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("sla", "0001_initial"),
        ("tickets", "0007_ticket_events_leave"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name="SlaPolicy",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("name", models.CharField(max_length=100, verbose_name="name")),
                        ("priority", models.CharField(max_length=2, verbose_name="priority")),
                        ("customer_tier", models.CharField(blank=True, max_length=16, null=True, verbose_name="customer tier")),
                        ("first_response_seconds", models.PositiveIntegerField(verbose_name="first response target (s)")),
                        ("resolution_seconds", models.PositiveIntegerField(verbose_name="resolution target (s)")),
                        ("warning_percent", models.PositiveSmallIntegerField(default=80, verbose_name="warning at (% of target)")),
                        ("escalation", models.JSONField(blank=True, default=list, verbose_name="escalation levels")),
                        ("is_active", models.BooleanField(default=True, verbose_name="active")),
                        ("retired_at", models.DateTimeField(blank=True, null=True, verbose_name="retired at")),
                        ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="created at")),
                        ("updated_at", models.DateTimeField(auto_now=True, verbose_name="updated at")),
                        ("calendar", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, to="sla.businesscalendar", verbose_name="calendar")),
                    ],
                    options={
                        "verbose_name": "SLA policy",
                        "verbose_name_plural": "SLA policies",
                        "ordering": ["priority", "id"],
                        "db_table": "tickets_slapolicy",
                        "indexes": [models.Index(fields=["priority", "is_active"], name="slapolicy_match_idx")],
                    },
                ),
            ],
        ),
        migrations.RunPython(
            move_content_types("tickets", "sla", ("slapolicy",)),
            move_content_types("sla", "tickets", ("slapolicy",)),
        ),
    ]
