from django.db import migrations


class Migration(migrations.Migration):
    """Case references come from a sequence: unique, gap-tolerant, no row locks."""

    dependencies = [("cases", "0001_initial")]

    operations = [
        migrations.RunSQL(
            "CREATE SEQUENCE IF NOT EXISTS case_reference_seq START 1",
            "DROP SEQUENCE IF EXISTS case_reference_seq",
        ),
    ]
