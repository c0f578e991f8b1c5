"""Notifications grouped by case, done, collapsed and drawn in the reader's language.

Existing rows stay readable: rejections and lapses filed under other kinds get
their own kind, a failure's stored English reason becomes a code and a status,
a rejection's reason and a lapse's time become parameters, and what was read
counts as done (the badge starts from what nobody has looked at). Rows without a
task keep their stored title and body, which ``alerts.kinds.render`` shows.
"""

import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


FORWARD = [
    "UPDATE alerts_notification SET last_at = created_at, event_key = dedupe_key",
    "UPDATE alerts_notification SET done = true, done_at = read_at WHERE read_at IS NOT NULL",
    """UPDATE alerts_notification SET kind = 'rejected', params = jsonb_build_object('reason', body)
       WHERE dedupe_key LIKE 'rejected:%%'""",
    "UPDATE alerts_notification SET kind = 'expired' WHERE dedupe_key LIKE 'expired:%%'",
    """UPDATE alerts_notification SET params = jsonb_build_object(
           'failure', 'refused', 'status', substring(body from 'push refused with HTTP ([0-9]{3})')::int)
       WHERE kind = 'delivery_failed' AND body ~ 'push refused with HTTP [0-9]{3}'""",
    """UPDATE alerts_notification SET params = jsonb_build_object('failure', 'dead_lapsed')
       WHERE kind = 'delivery_failed' AND params = '{}'::jsonb AND body LIKE '%%legal window%%'""",
    """UPDATE alerts_notification SET params = jsonb_build_object('failure', 'dead_window')
       WHERE kind = 'delivery_failed' AND params = '{}'::jsonb AND body LIKE '%%dead-lettered%%'""",
    """UPDATE alerts_notification n SET params = jsonb_build_object('at', t.lapses_at)
       FROM cases_task t WHERE n.task_id = t.id AND n.kind IN ('lapse_warning', 'renewal')
       AND t.lapses_at IS NOT NULL""",
]
BACKWARD = [
    "UPDATE alerts_notification SET kind = 'result' WHERE kind = 'rejected'",
    "UPDATE alerts_notification SET kind = 'lapse_warning' WHERE kind IN ('expired', 'digest')",
]


class Migration(migrations.Migration):

    dependencies = [
        ('alerts', '0004_watcher_indexes'),
        ('cases', '0005_legal_documents'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterModelOptions(
            name='notification',
            options={'ordering': ['-last_at', '-id'], 'verbose_name': 'notification', 'verbose_name_plural': 'notifications'},
        ),
        migrations.AddField(
            model_name='notification',
            name='count',
            field=models.PositiveIntegerField(default=1, verbose_name='times'),
        ),
        migrations.AddField(
            model_name='notification',
            name='done',
            field=models.BooleanField(default=False, verbose_name='done'),
        ),
        migrations.AddField(
            model_name='notification',
            name='done_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='done at'),
        ),
        migrations.AddField(
            model_name='notification',
            name='event_key',
            field=models.CharField(blank=True, max_length=200),
        ),
        migrations.AddField(
            model_name='notification',
            name='last_at',
            field=models.DateTimeField(default=django.utils.timezone.now, verbose_name='latest'),
        ),
        migrations.AddField(
            model_name='notification',
            name='params',
            field=models.JSONField(blank=True, default=dict, verbose_name='parameters'),
        ),
        migrations.AlterField(
            model_name='notification',
            name='kind',
            field=models.CharField(choices=[('new_task', 'New task'), ('overdue', 'Task overdue'), ('lapse_warning', 'Stop-payment about to lapse'), ('expired', 'Measure lapsed'), ('renewal', 'Freeze renewal'), ('delivery_failed', 'Delivery failed'), ('result', 'Result received'), ('rejected', 'Task rejected'), ('follow_ups', 'Follow-ups proposed'), ('digest', 'Digest')], max_length=32, verbose_name='kind'),
        ),
        migrations.AlterField(
            model_name='notification',
            name='title',
            field=models.CharField(blank=True, max_length=200, verbose_name='title'),
        ),
        migrations.AddIndex(
            model_name='notification',
            index=models.Index(fields=['user', '-last_at', '-id'], name='notification_latest_idx'),
        ),
        migrations.AddIndex(
            model_name='notification',
            index=models.Index(condition=models.Q(('done', False)), fields=['user', 'case', '-last_at'], name='notification_undone_idx'),
        ),
        migrations.AddConstraint(
            model_name='notification',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('done', False), ('done_at__isnull', True)), models.Q(('done', True), ('done_at__isnull', False)), _connector='OR'), name='notification_done_at_matches'),
        ),
        migrations.RunSQL(FORWARD, BACKWARD),
    ]
