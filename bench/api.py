"""API section of the benchmark: the partner protocol's hot paths and the constant ceiling.

Scenarios (each one ``load`` run against the same gunicorn):
- ``ping``: ``GET /api/v1/_ping/`` authenticates the same token and returns a constant:
  the ceiling every other endpoint is compared with;
- ``lookup``: the payment-time identifier lookup as a bank (CCB's token), over a mix of
  involved accounts and unknown ones;
- ``case_list_first`` / ``case_list_deep``: an analyst's case list, first page and a page
  half-way down the table (a keyset cursor built from the row there);
- ``task_list_liaison``: CCB's liaison's task inbox;
- ``case_detail``: a random case as an analyst;
- ``task_create``: an analyst creating stop-payment tasks (writes, audit rows);
- ``case_search`` / ``case_search_masked``: the case list's partial search (``?q=``) as an
  analyst (full data) and as an auditor (masked), over surnames, part of a name, the last
  four digits of an account or phone, summary words and two words together
  (``search_queries``).
"""

from __future__ import annotations

from base64 import b64encode
from dataclasses import dataclass
from urllib.parse import quote, urlencode

from .common import load


@dataclass
class Fixed:
    path: str

    def __call__(self, i, rng):
        return "GET", self.path, None


@dataclass
class Choice:
    paths: list[str]

    def __call__(self, i, rng):
        return "GET", rng.choice(self.paths), None


@dataclass
class CreateTask:
    case_ids: list[int]

    def __call__(self, i, rng):
        account = f"6212{rng.randrange(10**15):015d}"
        return (
            "POST",
            "/api/v1/tasks/",
            {
                "case": rng.choice(self.case_ids),
                "type": "emergency_stop_payment",
                "agency": "CCB",
                "target": {"kind": "bank_account", "value": account},
                "amount": "1000.00",
                "legal_document_number": None,
                "note": "bench",
            },
        )


def _deep_cursor(conn, depth: int) -> str:
    """The cursor the API hands out for the page starting ``depth`` rows down the case list.

    ``coordination.pagination.CursorPage.encode_cursor``: the keyset position (reported_at, id).
    """
    row = conn.execute(
        "SELECT reported_at, id FROM cases_case ORDER BY reported_at DESC, id DESC OFFSET %s LIMIT 1", [depth]
    ).fetchone()
    position = [("p", row[0].isoformat()), ("p", str(row[1]))]
    return quote(b64encode(urlencode(position).encode("ascii")).decode("ascii"))


def search_queries(conn, rng) -> list[str]:
    """Search-box queries of the kinds people type, drawn from the seeded data (cases/search.py)."""
    tails = [
        r[0][-4:]
        for r in conn.execute(
            "SELECT value FROM cases_identifier WHERE kind IN ('bank_account', 'phone') ORDER BY random() LIMIT 100"
        ).fetchall()
    ]
    names = [r[0] for r in conn.execute("SELECT name FROM cases_victim ORDER BY random() LIMIT 100").fetchall()]
    words = ["刷单", "保证金", "冒充公检法", "客服", "博彩", "征信"]
    queries = []
    for i in range(200):
        name, tail = names[i % len(names)], tails[i % len(tails)]
        queries += [name[0], name[1:] or name, tail, words[i % len(words)], f"{name[0]} {tail}"]
    rng.shuffle(queries)
    return queries


def run(ctx) -> dict:
    import random

    import psycopg

    rng = random.Random(7)
    with psycopg.connect(ctx.database_url) as conn:
        max_case = conn.execute("SELECT max(id) FROM cases_case").fetchone()[0]
        # Tasks can only be created on cases that are not closed.
        open_cases = [
            r[0]
            for r in conn.execute(
                "SELECT id FROM cases_case WHERE status <> 'closed' ORDER BY random() LIMIT 2000"
            ).fetchall()
        ]
        accounts = [
            r[0]
            for r in conn.execute(
                "SELECT value FROM cases_identifier WHERE kind = 'bank_account' AND case_count > 0 "
                "ORDER BY id LIMIT 5000"
            ).fetchall()
        ]
        deep = _deep_cursor(conn, max(0, ctx.cases // 2))
        searches = [f"/api/v1/cases/?{urlencode({'q': q})}" for q in search_queries(conn, rng)]
    lookups = [f"/api/v1/identifiers/lookup/?kind=bank_account&value={v}" for v in accounts]
    lookups += [f"/api/v1/identifiers/lookup/?kind=bank_account&value=6299{n:015d}" for n in range(len(lookups) // 4)]
    case_ids = [rng.randint(1, max_case) for _ in range(2000)]
    scenarios = [
        ("ping", ctx.tokens["partner"], Fixed("/api/v1/_ping/")),
        ("lookup", ctx.tokens["partner"], Choice(lookups)),
        ("case_list_first", ctx.tokens["analyst"], Fixed("/api/v1/cases/")),
        ("case_list_deep", ctx.tokens["analyst"], Fixed(f"/api/v1/cases/?cursor={deep}")),
        ("task_list_liaison", ctx.tokens["partner"], Fixed("/api/v1/tasks/")),
        ("case_detail", ctx.tokens["analyst"], Choice([f"/api/v1/cases/{i}/" for i in case_ids])),
        ("task_create", ctx.tokens["analyst"], CreateTask(open_cases)),
        ("case_search", ctx.tokens["analyst"], Choice(searches)),
        ("case_search_masked", ctx.token("bench_auditor", "AFC", "auditor"), Choice(searches)),
    ]
    results = {}
    for name, token, factory in scenarios:
        if ctx.only and name not in ctx.only:
            continue
        # Two runs per scenario: under load (``concurrency`` clients: requests per second, with
        # queueing in the latencies) and one client at a time (``.c1``: the latency of a call).
        ctx.log(f"  api/{name} ...")
        results[name] = load(ctx.port, token, factory, duration=ctx.duration, concurrency=ctx.concurrency)
        results[f"{name}.c1"] = load(ctx.port, token, factory, duration=ctx.duration / 2, concurrency=1)
    return results


def targets(results: dict) -> dict:
    """The issue's targets, checked against one run (meaningful at 1,000,000 cases).

    Latency targets read the one-client runs (``.c1``): under a closed loop of N
    clients on 2 cores, latency is mostly queueing (N / throughput). Throughput
    targets read the loaded runs.
    """
    checks = {}
    if "lookup.c1" in results:
        checks["lookup_p99_under_15ms"] = results["lookup.c1"]["p99_ms"] < 15
    if "lookup" in results and "ping" in results:
        checks["lookup_rps_at_least_half_of_ping"] = results["lookup"]["rps"] >= results["ping"]["rps"] / 2
    for name in ("case_list_first", "case_list_deep", "task_list_liaison", "case_search", "case_search_masked"):
        if f"{name}.c1" in results:
            checks[f"{name}_p95_under_100ms"] = results[f"{name}.c1"]["p95_ms"] < 100
        if name in results:
            checks[f"{name}_p95_under_100ms_under_load"] = results[name]["p95_ms"] < 100
    if "case_list_first.c1" in results and "case_list_deep.c1" in results:
        checks["deep_page_at_most_twice_first"] = (
            results["case_list_deep.c1"]["p50_ms"] <= 2 * results["case_list_first.c1"]["p50_ms"]
        )
    return checks
