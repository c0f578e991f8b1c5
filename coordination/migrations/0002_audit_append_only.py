from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit records are append-only (% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER coordination_auditrecord_append_only
    BEFORE UPDATE OR DELETE ON coordination_auditrecord
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();
"""
BACKWARD = """
DROP TRIGGER IF EXISTS coordination_auditrecord_append_only ON coordination_auditrecord;
DROP FUNCTION IF EXISTS audit_append_only();
"""


class Migration(migrations.Migration):
    """The database itself refuses to rewrite or delete audit rows."""

    dependencies = [("coordination", "0001_initial")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
