# Teams and agent profiles move from tickets to the platform's org app with their tables
# (docs/platform.md); tickets 0005 lets go of them.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def move_content_types(app_from, app_to, names):
    """Moves the models' content types (and with them their permissions and admin log
    entries) to the new app; on a new database there are none yet."""

    def move(apps, schema_editor):
        content_type = apps.get_model("contenttypes", "ContentType")
        db = schema_editor.connection.alias
        content_type.objects.using(db).filter(app_label=app_from, model__in=names).exclude(
            model__in=content_type.objects.using(db)
            .filter(app_label=app_to)
            .values_list("model", flat=True)
        ).update(app_label=app_to)

    return move


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("sla", "0001_initial"),
        ("tickets", "0004_agent_profiles_for_agents"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            # The tables stay where they are (db_table); only Django's view of the models moves.
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name='AgentProfile',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('skills', models.JSONField(blank=True, default=list, verbose_name='skills')),
                        ('capacity', models.PositiveIntegerField(default=20, verbose_name='capacity')),
                        ('presence', models.CharField(choices=[('online', 'Online'), ('away', 'Away'), ('offline', 'Offline')], default='offline', max_length=16, verbose_name='presence')),
                        ('last_assigned_at', models.DateTimeField(blank=True, null=True, verbose_name='last assigned at')),
                        ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='created at')),
                        ('updated_at', models.DateTimeField(auto_now=True, verbose_name='updated at')),
                        ('user', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='agent_profile', to=settings.AUTH_USER_MODEL, verbose_name='user')),
                    ],
                    options={
                        'verbose_name': 'agent profile',
                        'verbose_name_plural': 'agent profiles',
                        'db_table': 'tickets_agentprofile',
                        'ordering': ['user_id'],
                    },
                ),
                migrations.CreateModel(
                    name='Team',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('name', models.CharField(max_length=100, unique=True, verbose_name='name')),
                        ('assignment', models.CharField(choices=[('round_robin', 'Round robin'), ('least_loaded', 'Least loaded'), ('manual', 'Manual')], default='round_robin', max_length=16, verbose_name='assignment')),
                        ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='created at')),
                        ('updated_at', models.DateTimeField(auto_now=True, verbose_name='updated at')),
                        ('calendar', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='teams', to='sla.businesscalendar', verbose_name='calendar')),
                        ('members', models.ManyToManyField(blank=True, related_name='kefu_teams', to=settings.AUTH_USER_MODEL, verbose_name='members')),
                        ('supervisors', models.ManyToManyField(blank=True, related_name='supervised_teams', to=settings.AUTH_USER_MODEL, verbose_name='supervisors')),
                    ],
                    options={
                        'verbose_name': 'team',
                        'verbose_name_plural': 'teams',
                        'db_table': 'tickets_team',
                        'ordering': ['name'],
                    },
                ),
            ],
        ),
        migrations.RunPython(
            move_content_types("tickets", "org", ('team', 'agentprofile')),
            move_content_types("org", "tickets", ('team', 'agentprofile')),
        ),
    ]
