# Data migration: every holder of the agent or supervisor role gets the agent profile they
# lacked when the role was given outside the code that made one (the Django admin, the shell); see
# tickets/services/agents.py, which now does it whatever the path.

from django.conf import settings
from django.db import migrations

ROLES = ("agent", "supervisor")  # tickets.services.agents.ROLES_WITH_A_PROFILE, frozen here


def create_missing_agent_profiles(apps, schema_editor):
    user_model = apps.get_model(settings.AUTH_USER_MODEL)
    agent_profile = apps.get_model("tickets", "AgentProfile")
    missing = (
        user_model.objects.using(schema_editor.connection.alias)
        .filter(groups__name__in=ROLES, agent_profile__isnull=True)
        .distinct()
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    agent_profile.objects.using(schema_editor.connection.alias).bulk_create(
        [agent_profile(user_id=pk) for pk in missing], batch_size=500, ignore_conflicts=True
    )


class Migration(migrations.Migration):
    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("tickets", "0003_ticket_sla_warning"),
    ]

    operations = [
        # Reversing keeps the profiles: they are indistinguishable from later ones and harmless.
        migrations.RunPython(create_missing_agent_profiles, migrations.RunPython.noop),
    ]
