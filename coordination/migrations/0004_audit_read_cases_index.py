# The "who read this case" filter (``?case=``) through a read row's ``after.cases``.

import django.contrib.postgres.indexes
import django.db.models.fields.json
from django.db import migrations, models

READS = ["audit.export", "case.view", "data.read", "identifier.lookup", "task.view"]
INDEX = django.contrib.postgres.indexes.GinIndex(
    django.contrib.postgres.indexes.OpClass(
        django.db.models.fields.json.KeyTransform("cases", "after"), name="jsonb_path_ops"
    ),
    condition=models.Q(("action__in", READS)),
    name="audit_read_cases_idx",
)


class Migration(migrations.Migration):
    # Built CONCURRENTLY: the audit trail is the largest table and is written all the time.
    atomic = False

    dependencies = [
        ("coordination", "0003_audit_hash_chain"),
    ]

    operations = [
        # Written out: Django 5.2 puts the opclass of a JSON key expression inside its
        # parentheses, which PostgreSQL refuses. The state is the model's index.
        migrations.RunSQL(
            sql=(
                'CREATE INDEX CONCURRENTLY IF NOT EXISTS "audit_read_cases_idx" ON "coordination_auditrecord" '
                "USING gin ((\"after\" -> 'cases') jsonb_path_ops) "
                "WHERE \"action\" IN ('audit.export', 'case.view', 'data.read', 'identifier.lookup', 'task.view')"
            ),
            reverse_sql='DROP INDEX CONCURRENTLY IF EXISTS "audit_read_cases_idx"',
            state_operations=[migrations.AddIndex(model_name="auditrecord", index=INDEX)],
        ),
    ]
