"""The platform's two database roles: an owner that migrates, an app role that owns nothing.

The platform (web, workers, beat, management commands) connects as the *app* role
(``DATABASE_URL``). It may read and write the tables' rows, use their sequences and
append to the audit trail, and nothing else: it owns no table, so it cannot
``TRUNCATE``, ``ALTER`` a table, disable a trigger or drop one, and as a plain role
it cannot ``SET session_replication_role``. ``UPDATE`` and ``DELETE`` on the audit
table, and every write to the chain's head, are withheld from it.

Migrations (and ``flush``, which truncates) connect as the *owner*
(``DATABASE_OWNER_URL``): ``coordination.management.commands.migrate``/``flush`` swap
the connection's credentials for the command (``as_owner``), and after every
``migrate`` ``grant_app`` (a ``post_migrate`` receiver) grants the app role its
rights on every table, including those of later migrations, with
``ALTER DEFAULT PRIVILEGES`` for tables made outside ``migrate``.

``provision`` makes both roles from a superuser connection: development
(``make run``), the tests and CI point ``DATABASE_URL`` at ``postgres@127.0.0.1``.

This module imports nothing of Django at load time: ``scripts/run.py`` loads it by path.
"""

from __future__ import annotations

import contextlib
import re
from urllib.parse import quote, unquote, urlsplit, urlunsplit

AUDIT_TABLE = "coordination_auditrecord"
# Tables the app role may read but not write (besides INSERT on the audit trail).
READ_ONLY_TABLES = ("coordination_auditchainhead", "django_migrations")
APP_TABLE_RIGHTS = "SELECT, INSERT, UPDATE, DELETE"
APP_SEQUENCE_RIGHTS = "USAGE, SELECT"


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def role_names(database: str) -> tuple[str, str]:
    """``(owner, app)`` role names for a database: one pair per database of a shared server."""
    base = re.sub(r"[^a-z0-9_]", "_", database.lower())[:40] or "coordination"
    return f"{base}_owner", f"{base}_app"


def url_with_user(url: str, user: str) -> str:
    """``url`` with its user replaced (the password, host, port and database kept)."""
    parts = urlsplit(url)
    password = parts.password
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = quote(user, safe="")
    if password:
        netloc += ":" + quote(unquote(password), safe="")
    netloc += "@" + host + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def database_of(url: str) -> str:
    return unquote(urlsplit(url).path.lstrip("/")) or "postgres"


def _libpq(url: str, database: str | None = None) -> str:
    """A URL libpq accepts (django-environ's ``postgresql://`` and ``pgsql://`` too)."""
    parts = urlsplit(url)
    path = "/" + quote(database, safe="") if database is not None else parts.path
    return urlunsplit(("postgresql", parts.netloc, path, parts.query, ""))


def is_superuser(url: str) -> bool:
    import psycopg

    with psycopg.connect(_libpq(url, "postgres"), autocommit=True, connect_timeout=10) as conn:
        return bool(conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()[0])


def provision(admin_url: str, *, database: str | None = None, adopt: bool = True) -> tuple[str, str]:
    """Create (or bring back in line) the owner and app roles of ``database``; ``(app_url, owner_url)``.

    ``admin_url`` is a superuser's. Idempotent and safe to run from several processes at
    once (xdist workers): serialised by an advisory lock on the server. The owner may
    create databases (the test databases); the app role may do nothing but log in. The
    roles log in as the admin does (its password, if any; ``trust`` otherwise).

    ``adopt``: the database is created if missing, and it and everything in its
    ``public`` schema made the owner's (a database migrated before the roles existed
    belongs to the superuser), then the app role gets its rights.
    """
    import psycopg
    from psycopg import errors, sql

    database = database or database_of(admin_url)
    owner, app = role_names(database)
    password = urlsplit(admin_url).password
    with psycopg.connect(_libpq(admin_url, "postgres"), autocommit=True, connect_timeout=10) as conn:
        conn.execute("SELECT pg_advisory_lock(hashtext('coordination.dbroles'))")
        try:
            for role, attributes in (
                (owner, "LOGIN CREATEDB NOSUPERUSER NOCREATEROLE NOREPLICATION NOBYPASSRLS"),
                (app, "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS NOINHERIT"),
            ):
                exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role]).fetchone()
                if not exists:
                    with contextlib.suppress(errors.DuplicateObject):
                        conn.execute(sql.SQL("CREATE ROLE {}").format(sql.Identifier(role)))
                conn.execute(sql.SQL("ALTER ROLE {} " + attributes).format(sql.Identifier(role)))
                if password:
                    conn.execute(
                        sql.SQL("ALTER ROLE {} PASSWORD {}").format(
                            sql.Identifier(role), sql.Literal(unquote(password))
                        )
                    )
            if adopt:
                if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database]).fetchone():
                    with contextlib.suppress(errors.DuplicateDatabase):
                        conn.execute(
                            sql.SQL("CREATE DATABASE {} OWNER {}").format(
                                sql.Identifier(database), sql.Identifier(owner)
                            )
                        )
                conn.execute(
                    sql.SQL("ALTER DATABASE {} OWNER TO {}").format(sql.Identifier(database), sql.Identifier(owner))
                )
                with psycopg.connect(_libpq(admin_url, database), autocommit=True, connect_timeout=10) as db:
                    adopt_objects(db, owner)
                    for statement in grant_statements(db, owner, app):
                        db.execute(statement)
        finally:
            conn.execute("SELECT pg_advisory_unlock(hashtext('coordination.dbroles'))")
    return url_with_user(admin_url, app), url_with_user(admin_url, owner)


def adopt_objects(conn, owner: str) -> None:
    """Make the ``public`` schema and its tables, views, sequences and functions ``owner``'s."""
    target = quote_ident(owner)
    conn.execute(f"ALTER SCHEMA public OWNER TO {target}")
    rows = conn.execute(
        """
        SELECT c.relkind, format('%%I.%%I', n.nspname, c.relname)
          FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
           AND pg_get_userbyid(c.relowner) <> %s
           -- sequences of serial and identity columns follow their tables
           AND NOT (c.relkind = 'S' AND EXISTS (
                SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype IN ('a', 'i')))
        """,
        [owner],
    ).fetchall()
    kinds = {"r": "TABLE", "p": "TABLE", "v": "VIEW", "m": "MATERIALIZED VIEW", "S": "SEQUENCE"}
    for kind, name in rows:
        conn.execute(f"ALTER {kinds[kind]} {name} OWNER TO {target}")
    for (signature,) in conn.execute(
        """
        SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
         WHERE n.nspname = 'public' AND pg_get_userbyid(p.proowner) <> %s
           AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')
        """,
        [owner],
    ).fetchall():
        conn.execute(f"ALTER ROUTINE {signature} OWNER TO {target}")


def grant_statements(conn, owner: str, app: str) -> list[str]:
    """What the app role is granted in the connected database (run as the owner or a superuser)."""
    o, a = quote_ident(owner), quote_ident(app)
    statements = [
        f"GRANT USAGE ON SCHEMA public TO {a}",
        f"GRANT {APP_TABLE_RIGHTS} ON ALL TABLES IN SCHEMA public TO {a}",
        f"GRANT {APP_SEQUENCE_RIGHTS} ON ALL SEQUENCES IN SCHEMA public TO {a}",
        # Tables and sequences made later by the owner (other apps' migrations) get the same.
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {o} IN SCHEMA public GRANT {APP_TABLE_RIGHTS} ON TABLES TO {a}",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {o} IN SCHEMA public GRANT {APP_SEQUENCE_RIGHTS} ON SEQUENCES TO {a}",
        # Never: the app role creates nothing in the schema.
        f"REVOKE CREATE ON SCHEMA public FROM PUBLIC, {a}",
    ]
    existing = {
        row[0]
        for row in conn.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relname = ANY(%s)",
            [[AUDIT_TABLE, *READ_ONLY_TABLES]],
        ).fetchall()
    }
    if AUDIT_TABLE in existing:
        statements.append(f"REVOKE UPDATE, DELETE, TRUNCATE ON {AUDIT_TABLE} FROM {a}")
    for table in READ_ONLY_TABLES:
        if table in existing:
            statements.append(f"REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON {table} FROM {a}")
    return statements


# --------------------------------------------------------------------------------------
# Django side
# --------------------------------------------------------------------------------------

CREDENTIALS = ("USER", "PASSWORD", "HOST", "PORT")


def owner_credentials() -> dict:
    from django.conf import settings

    return dict(getattr(settings, "DATABASE_OWNER", {}) or {})


def _close(connection) -> None:
    connection.close()
    close_pool = getattr(connection, "close_pool", None)
    if close_pool is not None and connection.settings_dict.get("OPTIONS", {}).get("pool"):
        close_pool()


@contextlib.contextmanager
def as_owner(connection):
    """Connect ``connection`` as the owner for the block (no-op without ``DATABASE_OWNER_URL``).

    Keeps the database name (a test database's too); closes the connection (and pool) on
    both sides of the swap so no query of one role runs on the other's session.
    """
    owner = {key: value for key, value in owner_credentials().items() if key in CREDENTIALS}
    if not owner.get("USER") or owner["USER"] == connection.settings_dict.get("USER"):
        yield
        return
    saved = {key: connection.settings_dict.get(key) for key in CREDENTIALS}
    _close(connection)
    connection.settings_dict.update({key: value for key, value in owner.items() if value or key == "PASSWORD"})
    try:
        yield
    finally:
        _close(connection)
        connection.settings_dict.update(saved)


def grant_app(sender=None, using="default", **kwargs) -> None:
    """``post_migrate``: give the app role its rights on every table (idempotent)."""
    from django.db import connections

    connection = connections[using]
    if connection.vendor != "postgresql":
        return
    owner = connection.settings_dict.get("USER")
    app = app_role()
    if not app or app == owner:
        return
    with connection.cursor() as cursor:
        for statement in grant_statements(_CursorAdapter(cursor), owner, app):
            cursor.execute(statement)


def app_role() -> str:
    from django.conf import settings

    return getattr(settings, "DATABASE_APP_ROLE", "") or ""


class _CursorAdapter:
    """Lets ``grant_statements`` query through a Django cursor as through a psycopg connection."""

    def __init__(self, cursor) -> None:
        self.cursor = cursor

    def execute(self, query, params=None):
        self.cursor.execute(query, params)
        return self.cursor
