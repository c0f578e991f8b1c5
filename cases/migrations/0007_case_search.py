"""The case search (cases/search.py, docs/adr/0007-case-search.md): two search texts and their n-gram indexes.

Named as the lead assigned; it does not use the ``pg_trgm`` extension, which the
embedded PostgreSQL (the pgserver wheel) does not ship: the n-grams come from
the three SQL functions below, built into every PostgreSQL.
"""

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db import migrations, models

# The grams in a PL/pgSQL loop: an SQL function with a FROM is planned again on every
# row (57 ms a case against 0.8 ms on the loaded bench machine).
# COST 1000: where the planner walks the case list's index and filters (a common word),
# the cheap ``strpos`` recheck runs first and spares most rows the array.
FUNCTIONS_SQL = r"""
CREATE OR REPLACE FUNCTION cases_search_grams(summary text, extra text) RETURNS text[]
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE COST 1000 AS $$
DECLARE
  w text;
  i int;
  len int;
  grams text[] := '{}';
BEGIN
  FOREACH w IN ARRAY string_to_array(
    translate(lower(coalesce(summary, '') || ' ' || coalesce(extra, '')), E'\t\n\r\f\v\u3000', '      '), ' '
  ) LOOP
    len := length(w);
    FOR i IN 1..len LOOP
      grams := grams || substr(w, i, 1);
      IF i < len THEN grams := grams || substr(w, i, 2); END IF;
      IF i + 1 < len THEN grams := grams || substr(w, i, 3); END IF;
    END LOOP;
  END LOOP;
  RETURN grams;  -- repeats left in: GIN keeps each key once, and @> does not mind them
END
$$;
CREATE OR REPLACE FUNCTION cases_search_query_grams(term text) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN length(t) < 3 THEN ARRAY[t]
              ELSE ARRAY(SELECT DISTINCT substr(t, i, 3) FROM generate_series(1, length(t) - 2) AS i) END
  FROM lower(term) AS t
$$;
CREATE OR REPLACE FUNCTION cases_search_match(summary text, extra text, term text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT strpos(lower(coalesce(summary, '') || ' ' || coalesce(extra, '')), lower(term)) > 0
$$;
"""

DROP_FUNCTIONS_SQL = """
DROP FUNCTION IF EXISTS cases_search_match(text, text, text);
DROP FUNCTION IF EXISTS cases_search_query_grams(text);
DROP FUNCTION IF EXISTS cases_search_grams(text, text);
"""

BATCH = 2000


def backfill(apps, schema_editor):
    """Fill the search texts of the cases recorded before the search existed, in batches."""
    from cases.search import search_texts  # the one builder, so old and new cases read alike

    Case = apps.get_model("cases", "Case")
    Victim = apps.get_model("cases", "Victim")
    CaseIdentifier = apps.get_model("cases", "CaseIdentifier")
    last = 0
    while True:
        ids = list(Case.objects.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:BATCH])
        if not ids:
            return
        victims, links = {}, {}
        for case_id, name, phone in (
            Victim.objects.filter(case_id__in=ids).order_by("id").values_list("case_id", "name", "phone")
        ):
            victims.setdefault(case_id, []).append((name, phone))
        for case_id, kind, value in (
            CaseIdentifier.objects.filter(case_id__in=ids)
            .order_by("id")
            .values_list("case_id", "identifier__kind", "identifier__value")
        ):
            links.setdefault(case_id, []).append((kind, value))
        rows = []
        for case_id in ids:
            full, masked = search_texts(victims.get(case_id, ()), links.get(case_id, ()))
            rows.append(Case(pk=case_id, search_text=full, search_masked=masked))
        Case.objects.bulk_update(rows, ["search_text", "search_masked"], batch_size=500)
        last = ids[-1]


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0006_case_life"),
    ]

    operations = [
        migrations.RunSQL(FUNCTIONS_SQL, DROP_FUNCTIONS_SQL),
        migrations.AddField(
            model_name="case",
            name="search_text",
            field=models.TextField(blank=True, default="", editable=False),
        ),
        migrations.AddField(
            model_name="case",
            name="search_masked",
            field=models.TextField(blank=True, default="", editable=False),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop, elidable=True),
        migrations.AddIndex(
            model_name="case",
            index=GinIndex(
                models.Func(
                    models.F("summary"),
                    models.F("search_text"),
                    function="cases_search_grams",
                    output_field=ArrayField(models.TextField()),
                ),
                name="case_search_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="case",
            index=GinIndex(
                models.Func(
                    models.F("summary"),
                    models.F("search_masked"),
                    function="cases_search_grams",
                    output_field=ArrayField(models.TextField()),
                ),
                name="case_search_masked_idx",
            ),
        ),
    ]
