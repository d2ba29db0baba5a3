# Teams now live in org (org 0001); the foreign keys keep their columns and constraints.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("org", "0001_initial"),
        ("surveys", "0002_builtin_templates"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            # The tables stay where they are (db_table); only Django's view of the models moves.
            database_operations=[],
            state_operations=[
                migrations.AlterField(
                    model_name='invitation',
                    name='team',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='org.team', verbose_name='team'),
                ),
                migrations.AlterField(
                    model_name='surveyassignment',
                    name='team',
                    field=models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='survey_assignment', to='org.team', verbose_name='team'),
                ),
            ],
        ),
    ]
