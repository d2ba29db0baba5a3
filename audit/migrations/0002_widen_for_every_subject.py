# The audit table widens for every subject kind: a customer on every row (the 360
# timeline), configuration subjects by kind and id, any registered verb (audit.verbs).

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('audit', '0001_initial'),
        ('customers', '0001_initial'),
        ('tickets', '0007_ticket_events_leave'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterModelOptions(
            name='auditevent',
            options={'ordering': ['created_at', 'id'], 'verbose_name': 'audit event', 'verbose_name_plural': 'audit events'},
        ),
        migrations.AddField(
            model_name='auditevent',
            name='customer',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='customers.customer', verbose_name='customer'),
        ),
        migrations.AddField(
            model_name='auditevent',
            name='object_id',
            field=models.BigIntegerField(blank=True, null=True, verbose_name='object'),
        ),
        migrations.AddField(
            model_name='auditevent',
            name='subject_kind',
            field=models.CharField(default='ticket', max_length=32, verbose_name='subject kind'),
        ),
        migrations.AlterField(
            model_name='auditevent',
            name='ticket',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='events', to='tickets.ticket', verbose_name='ticket'),
        ),
        migrations.AlterField(
            model_name='auditevent',
            name='verb',
            field=models.CharField(max_length=40, verbose_name='verb'),
        ),
        migrations.AddIndex(
            model_name='auditevent',
            index=models.Index(condition=models.Q(('customer__isnull', False)), fields=['customer', '-created_at', '-id'], name='audit_customer_idx'),
        ),
        migrations.AddIndex(
            model_name='auditevent',
            index=models.Index(condition=models.Q(('object_id__isnull', False)), fields=['subject_kind', 'object_id', 'created_at'], name='audit_subject_idx'),
        ),
    ]
