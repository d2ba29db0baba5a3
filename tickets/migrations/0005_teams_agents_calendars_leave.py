# Teams, agent profiles and calendars now live in org and sla (their 0001): tickets lets go
# of them in Django's state only; the tables, columns and constraints stay.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("org", "0001_initial"),
        ("sla", "0001_initial"),
        ("surveys", "0003_teams_in_org"),
        ("tickets", "0004_agent_profiles_for_agents"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            # The tables stay where they are (db_table); only Django's view of the models moves.
            database_operations=[],
            state_operations=[
                migrations.RemoveField(
                    model_name='team',
                    name='calendar',
                ),
                migrations.AlterField(
                    model_name='slapolicy',
                    name='calendar',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, to='sla.businesscalendar', verbose_name='calendar'),
                ),
                migrations.RemoveField(
                    model_name='team',
                    name='members',
                ),
                migrations.RemoveField(
                    model_name='team',
                    name='supervisors',
                ),
                migrations.AlterField(
                    model_name='routingrule',
                    name='team',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, to='org.team', verbose_name='team'),
                ),
                migrations.AlterField(
                    model_name='ticket',
                    name='team',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, to='org.team', verbose_name='team'),
                ),
                migrations.DeleteModel(
                    name='AgentProfile',
                ),
                migrations.DeleteModel(
                    name='BusinessCalendar',
                ),
                migrations.DeleteModel(
                    name='Team',
                ),
            ],
        ),
    ]
