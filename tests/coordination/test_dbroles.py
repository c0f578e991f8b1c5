"""``dbroles.provision``: make run's two roles on a superuser's server, an old database handed to the owner."""

from __future__ import annotations

import uuid

import psycopg
import pytest

from coordination import dbroles
from tests import conftest


def test_url_with_user_keeps_the_rest():
    url = "postgres://postgres:p%40ss@db.example:5433/coordination?sslmode=require"
    assert dbroles.url_with_user(url, "coordination_app") == (
        "postgres://coordination_app:p%40ss@db.example:5433/coordination?sslmode=require"
    )
    assert dbroles.url_with_user("postgres://postgres@127.0.0.1/x", "x_owner") == "postgres://x_owner@127.0.0.1/x"
    assert dbroles.role_names("Coordination-1") == ("coordination_1_owner", "coordination_1_app")


@pytest.fixture
def scratch(django_db_setup, django_db_blocker):
    """A database made by the superuser, as one migrated before the roles existed; dropped with its roles."""
    if conftest.SUPERUSER_URL is None:
        pytest.skip("DATABASE_URL is not a superuser's")
    name = f"h_roles_{uuid.uuid4().hex[:8]}"
    admin = dbroles._libpq(conftest.SUPERUSER_URL, "postgres")
    with django_db_blocker.unblock():
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        with psycopg.connect(dbroles._libpq(conftest.SUPERUSER_URL, name), autocommit=True) as conn:
            conn.execute("CREATE TABLE coordination_auditrecord (id bigserial PRIMARY KEY, action text)")
            conn.execute("CREATE TABLE cases_case (id bigserial PRIMARY KEY, summary text)")
            conn.execute("CREATE SEQUENCE case_reference_seq")
        yield name, conftest.SUPERUSER_URL.rsplit("/", 1)[0] + f"/{name}"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            for role in dbroles.role_names(name):
                conn.execute(f'DROP ROLE IF EXISTS "{role}"')


def test_provision_hands_an_old_database_to_the_owner_and_restricts_the_app(scratch, django_db_blocker):
    name, url = scratch
    with django_db_blocker.unblock():
        app_url, owner_url = dbroles.provision(url)
        assert dbroles.provision(url) == (app_url, owner_url)  # idempotent
        owner, app = dbroles.role_names(name)
        assert not dbroles.is_superuser(app_url) and not dbroles.is_superuser(owner_url)
        with psycopg.connect(dbroles._libpq(owner_url), autocommit=True) as conn:
            owners = conn.execute(
                "SELECT DISTINCT pg_get_userbyid(relowner) FROM pg_class c JOIN pg_namespace n "
                "ON n.oid = c.relnamespace WHERE n.nspname = 'public'"
            ).fetchall()
            assert owners == [(owner,)]
            # A table a later migration adds is the app's to use by default privileges.
            conn.execute("CREATE TABLE later_table (id bigserial PRIMARY KEY)")
        with psycopg.connect(dbroles._libpq(app_url), autocommit=True) as conn:
            assert conn.execute("SELECT current_user").fetchone() == (app,)
            conn.execute("INSERT INTO cases_case (summary) VALUES ('x')")
            conn.execute("UPDATE cases_case SET summary = 'y'")
            conn.execute("INSERT INTO coordination_auditrecord (action) VALUES ('x')")
            conn.execute("INSERT INTO later_table DEFAULT VALUES")
            conn.execute("SELECT nextval('case_reference_seq')")
            for sql, refusal in (
                ("UPDATE coordination_auditrecord SET action = 'z'", "permission denied"),
                ("DELETE FROM coordination_auditrecord", "permission denied"),
                ("TRUNCATE cases_case", "permission denied"),
                ("ALTER TABLE cases_case DISABLE TRIGGER ALL", "must be owner"),
                ("SET session_replication_role = replica", "permission denied"),
                ("CREATE TABLE mine (id int)", "permission denied"),
            ):
                with pytest.raises(psycopg.Error, match=refusal):
                    conn.execute(sql)
