"""The benchmark's COPY seed (bench/seed.py): bare tables during the load, everything back after it."""

from __future__ import annotations

import psycopg
import pytest
from django.db import connection

from bench import seed as bench_seed
from cases.models import Case, CaseIdentifier, Identifier, Task, Transfer, Victim
from tests.conftest import make_user

pytestmark = pytest.mark.django_db(transaction=True)


def dsn() -> str:
    """The test database as its owner: the seed drops and restores indexes and keys, which the app role may not."""
    from django.conf import settings

    s = connection.settings_dict
    owner = getattr(settings, "DATABASE_OWNER", {}) or {}
    return psycopg.conninfo.make_conninfo(
        dbname=s["NAME"],
        user=owner.get("USER") or s["USER"],
        password=owner.get("PASSWORD") or s["PASSWORD"] or None,
        host=s["HOST"],
        port=s["PORT"] or None,
    )


def schema() -> dict[str, set]:
    """The seeded tables' indexes and constraints, with whether each constraint is validated.

    An index is its name, uniqueness, columns, expressions and whether it is partial
    (a partial index's predicate reads back with extra casts after a rebuild).
    """
    tables = [f"public.{t}" for t in bench_seed.TABLES]
    with connection.cursor() as cur:
        cur.execute(
            "SELECT indexrelid::regclass::text, indisunique, indkey::text, pg_get_expr(indexprs, indrelid), "
            "indpred IS NOT NULL FROM pg_index WHERE indrelid = ANY(%s::regclass[])",
            [tables],
        )
        indexes = set(cur.fetchall())
        cur.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid), convalidated FROM pg_constraint "
            "WHERE conrelid = ANY(%s::regclass[])",
            [tables],
        )
        constraints = set(cur.fetchall())
    return {"indexes": indexes, "constraints": constraints}


def pending() -> list:
    with psycopg.connect(dsn()) as conn:
        return conn.execute("SELECT value FROM bench_meta WHERE key = %s", [bench_seed.PENDING_KEY]).fetchall()


@pytest.fixture
def bench_user():
    make_user("bench_analyst", "AFC", "analyst")
    yield
    with psycopg.connect(dsn(), autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_meta")


def test_seed_loads_bare_and_restores_every_index_and_key(bench_user):
    before = schema()
    assert any(d[0] == "case_search_idx" for d in before["indexes"])
    lines = []
    result = bench_seed.seed(dsn(), 90, log=lines.append)
    after = schema()
    assert after["indexes"] == before["indexes"]
    assert after["constraints"] == before["constraints"]  # every foreign key validated again
    assert all(valid for *_rest, valid in before["constraints"])
    assert pending() == []
    assert result["cases"] == Case.objects.count() == 90
    assert result["tasks"] == Task.objects.count() == 30
    assert Victim.objects.count() == 90 and Transfer.objects.count() == 270
    assert result["case_identifiers"] == CaseIdentifier.objects.count()
    assert result["identifiers"] == Identifier.objects.count()
    # Identifiers shared by cases count each suspect link; first and last seen span their cases.
    mule = Identifier.objects.filter(value__startswith="6217").order_by("-case_count").first()
    linked = Case.objects.filter(identifiers=mule)
    assert mule.first_seen_at == min(c.reported_at for c in linked)
    assert mule.last_seen_at == max(c.reported_at for c in linked)
    assert any("indexes built" in line for line in lines) and any("cases/s" in line for line in lines)
    # The platform's sequences continue after the seeded ids.
    assert Case.objects.order_by("-id").first().pk == 90


def test_an_interrupted_seed_is_restored_by_the_next(bench_user):
    before = schema()
    # A seed that stopped after dropping the indexes and keys (before its restore ran).
    bench_seed.prepare(dsn(), bench_seed.TABLES, log=lambda line: None)
    stripped = schema()
    assert not any(d[0] == "case_search_idx" for d in stripped["indexes"])
    assert not any(c[2].startswith("FOREIGN KEY") for c in stripped["constraints"])
    assert len(pending()) == 1
    lines = []
    bench_seed.seed(dsn(), 30, log=lines.append)
    assert schema() == before
    assert pending() == []
    assert any("interrupted seed" in line for line in lines)
