"""Partial indexes on cases_task for the watchers (alerts owns the watchers' queries).

They live here rather than in ``cases`` because only the watchers read them; see
docs/adr/0005-deliveries-lease-and-sweeper.md. Built CONCURRENTLY so adding them to a
table of millions of tasks does not block approvals.
"""

from django.db import migrations

OVERDUE = (
    "CREATE INDEX CONCURRENTLY IF NOT EXISTS task_overdue_watch_idx ON cases_task (deadline) "
    "WHERE is_overdue = false AND state IN ('approved', 'dispatched', 'accepted')"
)
LAPSE = (
    "CREATE INDEX CONCURRENTLY IF NOT EXISTS task_lapse_watch_idx ON cases_task (lapses_at) "
    "WHERE state = 'completed' AND lapses_at IS NOT NULL"
)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("alerts", "0003_delivery_lease"),
        ("cases", "0002_case_reference_seq"),
    ]

    operations = [
        migrations.RunSQL(OVERDUE, "DROP INDEX CONCURRENTLY IF EXISTS task_overdue_watch_idx"),
        migrations.RunSQL(LAPSE, "DROP INDEX CONCURRENTLY IF EXISTS task_lapse_watch_idx"),
    ]
