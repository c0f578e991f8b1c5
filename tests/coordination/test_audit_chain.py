"""The audit trail's hash chain, the platform's restricted database role, the exported heads."""

from __future__ import annotations

import io
import json
import threading
import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection, connections, transaction
from django.utils import timezone

from coordination import audit, chain
from coordination.models import AuditChainHead, AuditRecord
from tests import conftest
from tests.conftest import make_case


def verify(heads=None):
    """``verify_audit``'s outcome: ``None`` when the trail verifies, else its message."""
    try:
        call_command("verify_audit", "--heads", str(heads)) if heads else call_command("verify_audit", "--no-heads")
    except CommandError as exc:
        returncode, message = exc.returncode, str(exc)
    else:
        return None
    assert returncode == 1  # the command's exit status
    return message


def records(n: int, action: str = "test.event") -> list[AuditRecord]:
    """``n`` audit rows, each committed in its own transaction (transactional tests only)."""
    made = []
    for index in range(n):
        with transaction.atomic():
            made.append(audit.record(user=None, action=action, object_type="test", object_id=index))
    for record in made:
        record.refresh_from_db()
    return made


@pytest.fixture
def heads_file(tmp_path, settings):
    settings.AUDIT_HEAD_FILE = tmp_path / "audit-heads.log"
    return settings.AUDIT_HEAD_FILE


# --- the platform's own role --------------------------------------------------------------


def refused(sql: str) -> str:
    """The database's refusal of ``sql`` as the platform's role (the test's transaction survives)."""
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)
    except Exception as exc:  # noqa: BLE001 - any refusal; its text is checked by the caller
        return str(exc)
    pytest.fail(f"the platform's role was allowed: {sql}")


@pytest.mark.django_db
def test_suite_runs_as_a_role_that_owns_nothing(analyst):
    assert conftest.RESTRICTED_ROLES, "the suite must run as the platform's restricted role"
    owner, app = conftest.RESTRICTED_ROLES
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_user, rolsuper, rolcreatedb, rolcreaterole FROM pg_roles WHERE rolname = current_user"
        )
        assert cursor.fetchone() == (app, False, False, False)
        cursor.execute(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND pg_get_userbyid(c.relowner) = current_user"
        )
        assert cursor.fetchone() == (0,)
        cursor.execute("SELECT pg_get_userbyid(relowner) FROM pg_class WHERE relname = 'coordination_auditrecord'")
        assert cursor.fetchone() == (owner,)


@pytest.mark.django_db
def test_the_platforms_role_cannot_rewrite_the_trail(case):
    assert AuditRecord.objects.exists()
    assert "permission denied" in refused("TRUNCATE coordination_auditrecord")
    assert "permission denied" in refused("TRUNCATE cases_case CASCADE")
    assert "must be owner" in refused("ALTER TABLE coordination_auditrecord DISABLE TRIGGER ALL")
    assert "must be owner" in refused(
        "ALTER TABLE coordination_auditrecord DISABLE TRIGGER coordination_auditrecord_seal"
    )
    assert "must be owner" in refused("DROP TRIGGER coordination_auditrecord_append_only ON coordination_auditrecord")
    assert "must be owner" in refused("ALTER TABLE cases_case ADD COLUMN x int")
    assert "permission denied" in refused("SET session_replication_role = replica")
    assert "permission denied" in refused("SET LOCAL session_replication_role = replica")
    assert "permission denied" in refused("UPDATE coordination_auditrecord SET action = 'x'")
    assert "permission denied" in refused("DELETE FROM coordination_auditrecord")
    assert "permission denied" in refused("UPDATE coordination_auditchainhead SET seq = 0")
    assert "permission denied" in refused("DELETE FROM coordination_auditchainhead")
    assert "permission denied" in refused("CREATE TABLE shadow (id int)")
    assert "permission denied" in refused(
        "CREATE OR REPLACE FUNCTION audit_seal() RETURNS trigger AS 'BEGIN RETURN NULL; END' LANGUAGE plpgsql"
    )
    # What the platform does every day still works: rows of other tables, sequences, advisory locks.
    with connection.cursor() as cursor:
        cursor.execute("UPDATE cases_case SET summary = summary WHERE id = %s", [case.pk])
        cursor.execute("SELECT pg_advisory_xact_lock(1)")
        cursor.execute("SELECT nextval('case_reference_seq')")
        cursor.execute("SELECT seq FROM coordination_auditchainhead")


# --- the chain ------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_every_record_is_sealed_at_commit_in_order(analyst, heads_file):
    make_case(analyst)
    made = list(AuditRecord.objects.order_by("chain_seq"))
    assert len(made) >= 2
    assert [r.chain_seq for r in made] == list(range(1, len(made) + 1))
    assert all(r.chain_hash and len(r.chain_hash) == 64 and r.sealed_at for r in made)
    assert AuditChainHead.objects.get().seq == len(made)
    assert AuditChainHead.objects.get().hash == made[-1].chain_hash
    out = io.StringIO()
    call_command("verify_audit", stdout=out)
    assert f"{len(made)} records" in out.getvalue()


@pytest.mark.django_db
def test_records_of_an_open_transaction_are_sealed_by_verification(analyst):
    """Inside a transaction (as every ``db`` test is) verification seals what a commit would."""
    make_case(analyst)
    assert AuditRecord.objects.filter(chain_seq__isnull=True).exists()
    assert verify() is None
    assert not AuditRecord.objects.filter(chain_seq__isnull=True).exists()


@pytest.mark.django_db(transaction=True)
def test_the_chain_follows_commit_order_under_concurrent_writers(analyst):
    """A transaction that wrote first but commits last is sealed last; writers do not queue before commit."""
    inserted = threading.Event()
    done = threading.Event()
    ids = {}

    def slow_writer():
        try:
            with transaction.atomic():
                ids["slow"] = audit.record(user=None, action="test.slow", object_type="test").pk
                inserted.set()
                done.wait(10)
        finally:
            connections.close_all()

    thread = threading.Thread(target=slow_writer)
    thread.start()
    assert inserted.wait(10)
    # The slow transaction holds no lock on the chain yet: this one commits at once.
    started = time.monotonic()
    with transaction.atomic():
        ids["fast"] = audit.record(user=None, action="test.fast", object_type="test").pk
    assert time.monotonic() - started < 2
    done.set()
    thread.join(10)
    slow, fast = AuditRecord.objects.get(pk=ids["slow"]), AuditRecord.objects.get(pk=ids["fast"])
    assert slow.pk < fast.pk and slow.chain_seq == fast.chain_seq + 1

    errors = []

    def writer(number):
        try:
            for index in range(15):
                with transaction.atomic():
                    audit.record(user=None, action="test.many", object_type="test", object_id=number * 100 + index)
                    audit.record(user=None, action="test.many", object_type="test", object_id=number * 100 + index)
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    total = AuditRecord.objects.count()
    assert sorted(AuditRecord.objects.values_list("chain_seq", flat=True)) == list(range(1, total + 1))
    assert verify() is None


@pytest.mark.django_db(transaction=True)
def test_a_row_changed_by_a_superuser_is_named(analyst, superuser_sql):
    made = records(5)
    assert verify() is None
    target = made[2]
    # The superuser steps around the append-only trigger (replication role) and rewrites a row.
    with superuser_sql.transaction():
        superuser_sql.execute("SET LOCAL session_replication_role = replica")
        superuser_sql.execute("UPDATE coordination_auditrecord SET user_name = 'nobody' WHERE id = %s", [target.pk])
    problem = verify()
    assert problem and f"audit record {target.pk} (chain position {target.chain_seq})" in problem
    assert "does not match its hash" in problem


@pytest.mark.django_db(transaction=True)
def test_a_rehashed_change_is_named_by_the_next_record(analyst, superuser_sql):
    """Even a superuser who recomputes the changed row's hash breaks the next link."""
    made = records(4)
    target, following = made[1], made[2]
    with superuser_sql.transaction():
        superuser_sql.execute("SET LOCAL session_replication_role = replica")
        superuser_sql.execute("UPDATE coordination_auditrecord SET action = 'forged' WHERE id = %s", [target.pk])
        canonical = chain.canonical_sql("a", "a.chain_seq", "a.sealed_at")
        text = superuser_sql.execute(
            f"SELECT {canonical} FROM coordination_auditrecord a WHERE id = %s",
            [target.pk],
        ).fetchone()[0]
        superuser_sql.execute(
            "UPDATE coordination_auditrecord SET chain_hash = %s WHERE id = %s",
            [chain.link(made[0].chain_hash, text), target.pk],
        )
    problem = verify()
    assert problem and f"audit record {following.pk} (chain position {following.chain_seq})" in problem


@pytest.mark.django_db(transaction=True)
def test_a_removed_row_is_named(analyst, superuser_sql):
    made = records(5)
    with superuser_sql.transaction():
        superuser_sql.execute("SET LOCAL session_replication_role = replica")
        superuser_sql.execute("DELETE FROM coordination_auditrecord WHERE id = %s", [made[2].pk])
    problem = verify()
    assert problem and f"audit record {made[3].pk} (chain position {made[3].chain_seq})" in problem
    assert "missing" in problem


@pytest.mark.django_db(transaction=True)
def test_removed_last_rows_show_against_the_head(analyst, superuser_sql):
    made = records(3)
    with superuser_sql.transaction():
        superuser_sql.execute("SET LOCAL session_replication_role = replica")
        superuser_sql.execute("DELETE FROM coordination_auditrecord WHERE id = %s", [made[-1].pk])
    problem = verify()
    assert problem and "records at the end were removed" in problem


@pytest.mark.django_db(transaction=True)
def test_reordered_rows_are_named(analyst, superuser_sql):
    made = records(4)
    first, second = made[1], made[2]
    with superuser_sql.transaction():
        superuser_sql.execute("SET LOCAL session_replication_role = replica")
        superuser_sql.execute("UPDATE coordination_auditrecord SET chain_seq = -1 WHERE id = %s", [first.pk])
        superuser_sql.execute(
            "UPDATE coordination_auditrecord SET chain_seq = %s WHERE id = %s", [first.chain_seq, second.pk]
        )
        superuser_sql.execute(
            "UPDATE coordination_auditrecord SET chain_seq = %s WHERE id = %s", [second.chain_seq, first.pk]
        )
    problem = verify()
    assert problem and f"audit record {second.pk} (chain position {first.chain_seq})" in problem


@pytest.mark.django_db(transaction=True)
def test_a_row_inserted_around_the_trigger_is_named(analyst, superuser_sql):
    records(2)
    with superuser_sql.transaction():
        superuser_sql.execute("SET LOCAL session_replication_role = replica")
        forged = superuser_sql.execute(
            "INSERT INTO coordination_auditrecord (at, user_name, agency_code, action, object_type, object_repr) "
            "VALUES (now() - interval '40 days', 'analyst', 'AFC', 'case.close', 'cases.case', '') RETURNING id"
        ).fetchone()[0]
    problem = verify()
    assert problem and f"audit record {forged} is not in the chain" in problem


@pytest.mark.django_db(transaction=True)
def test_a_back_dated_forged_insert_is_named(analyst):
    """The platform's role may append, so a forged row is sealed like any other; its date gives it away."""
    records(2)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO coordination_auditrecord (at, user_name, agency_code, action, object_type, object_repr) "
            "VALUES (%s, 'analyst', 'AFC', 'case.close', 'cases.case', '') RETURNING id",
            [timezone.now() - timedelta(days=40)],
        )
        forged = cursor.fetchone()[0]
    records(1)
    problem = verify()
    assert problem and f"audit record {forged} " in problem and "back-dated" in problem
    # Within the tolerance (a long transaction, clocks apart) nothing is reported.
    settings.AUDIT_SEAL_TOLERANCE_SECONDS = 41 * 24 * 3600
    try:
        assert verify() is None
    finally:
        settings.AUDIT_SEAL_TOLERANCE_SECONDS = 3600


# --- the exported heads ---------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_heads_are_exported_signed_by_the_scheduled_job(analyst, heads_file):
    from coordination.tasks import export_audit_head

    assert settings.CELERY_BEAT_SCHEDULE["export-audit-head"]["task"] == export_audit_head.name
    made = records(3)
    export_audit_head.delay()
    line = json.loads(heads_file.read_text().splitlines()[-1])
    assert line["seq"] == made[-1].chain_seq and line["hash"] == made[-1].chain_hash
    assert line["database"] == connection.settings_dict["NAME"]
    assert line["sig"] == chain.sign(line)
    assert oct(heads_file.stat().st_mode & 0o777) == "0o600"
    records(2)
    export_audit_head.delay()
    assert len(heads_file.read_text().splitlines()) == 2
    out = io.StringIO()
    call_command("verify_audit", stdout=out)  # AUDIT_HEAD_FILE by default
    assert "2 exported heads match" in out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_a_truncated_table_shows_against_the_exported_heads(analyst, heads_file, superuser_sql):
    records(4)
    exported = chain.export_head()
    # The owner (or a superuser) empties the trail and the head: the database alone looks fine.
    superuser_sql.execute("TRUNCATE coordination_auditrecord, coordination_auditchainhead")
    assert verify() is None
    problem = verify(heads_file)
    assert problem and f"at position {exported['seq']} but the trail ends at position 0" in problem


@pytest.mark.django_db(transaction=True)
def test_a_rebuilt_table_shows_against_the_exported_heads(analyst, heads_file, superuser_sql):
    records(3)
    exported = chain.export_head()
    superuser_sql.execute("TRUNCATE coordination_auditrecord, coordination_auditchainhead")
    # A history written again through the trigger: a valid chain of the same length, other content.
    rebuilt = records(exported["seq"], action="test.rewritten")
    assert verify() is None
    problem = verify(heads_file)
    assert problem and f"audit record {rebuilt[-1].pk} (chain position {exported['seq']})" in problem
    assert "rebuilt" in problem


@pytest.mark.django_db(transaction=True)
def test_a_forged_head_line_is_refused(analyst, heads_file):
    records(2)
    chain.export_head()
    line = json.loads(heads_file.read_text())
    line["seq"] = 1
    heads_file.write_text(json.dumps(line) + "\n")
    problem = verify(heads_file)
    assert problem and "line 1" in problem and "not a head signed" in problem
