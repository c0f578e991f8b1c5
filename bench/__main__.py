"""``python -m bench``: seed a realistic data set, start a real server, measure, report.

Usage (``make bench ARGS='...'`` passes arguments through)::

    python -m bench [--cases 100000] [--duration 8] [--concurrency 4] [--workers 3]
                    [--sections api,delivery,pages] [--only lookup,ping] [--reseed]

Database: the benchmark never writes into the database it is pointed at. It uses
``BENCH_DATABASE_URL`` if set, else ``DATABASE_URL`` with ``_bench`` appended to
the database name (created and migrated when missing). Seeding uses PostgreSQL
COPY (bench/seed.py) and is skipped when the database already holds a data set
of the requested size, so reruns are quick.

Server: gunicorn with the production settings module (DEBUG off, a random
SECRET_KEY, the connection pool on), on a free port of 127.0.0.1, TLS redirects
off because nothing terminates TLS here, ``API_PING=1`` for the constant
endpoint and a write throttle high enough not to cap the write scenario.

Sections -- the contract for sibling modules
-------------------------------------------
A section is a module ``bench.<name>`` with ``run(ctx) -> dict``. ``api`` is
always present; ``delivery`` (alerts: pushes to partner endpoints) and ``pages``
(the browser UI) are imported when they exist and skipped otherwise. ``ctx`` is
a ``Context`` (below): ``base_url``/``port`` of the running gunicorn,
``database_url`` of the bench database, ``redis_url``, ``cases`` (size of the
data set), ``tokens`` (``analyst``, ``supervisor``, ``partner`` = a CCB liaison
token user; ``ctx.token(username, agency, role)`` makes more), ``duration`` and
``concurrency`` (use them to bound your runs), ``only`` (scenario names the
operator asked for, empty = all) and ``log(message)``. The dict a section
returns is stored under its name in the JSON report; a value that is a dict
with ``rps``/``p50_ms``/``p95_ms``/``p99_ms`` is also printed as a table row
(``bench.common.load`` returns exactly that).

Output: a table on stdout and ``bench-results/bench-<cases>-<UTC time>.json``
(plus ``bench-results/latest.json``).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from .common import ROOT, Server

# Delivery last: it swaps in scratch databases and a private Redis of its own.
SECTIONS = ("api", "pages", "dissuasion", "review", "imports", "delivery")


@dataclass
class Context:
    database_url: str
    redis_url: str
    cases: int
    duration: float
    concurrency: int
    only: set[str]
    tokens: dict[str, str] = field(default_factory=dict)
    base_url: str = ""
    port: int = 0

    def log(self, message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    def token(self, username: str, agency: str, role: str) -> str:
        from agencies.actions import ensure_api_user
        from agencies.models import Agency

        _user, key = ensure_api_user(username=username, agency=Agency.objects.get(code=agency), role=role)
        return key


def bench_database_url() -> str:
    if os.environ.get("BENCH_DATABASE_URL"):
        return os.environ["BENCH_DATABASE_URL"]
    base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/coordination")
    parts = urlsplit(base)
    name = parts.path.lstrip("/") or "coordination"
    if not name.endswith("_bench"):
        name = f"{name}_bench"
    return urlunsplit(parts._replace(path=f"/{name}"))


def ensure_database(url: str) -> None:
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("SECRET_KEY", "bench-only-not-a-production-secret-0123456789")
    os.environ["DB_POOL"] = "0"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coordination.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from agencies.seed import seed_agencies
    from cases.seed import seed_reference

    seed_agencies()
    seed_reference()


def print_table(report: dict) -> None:
    rows = []
    for section, results in report["sections"].items():
        if not isinstance(results, dict):
            continue
        for name, value in results.items():
            if isinstance(value, dict) and "rps" in value:
                rows.append((f"{section}/{name}", value))
    print(f"\n{'scenario':32} {'req/s':>9} {'p50 ms':>9} {'p95 ms':>9} {'p99 ms':>9} {'errors':>7}")
    for name, value in rows:
        print(
            f"{name:32} {value['rps']:9.1f} {value['p50_ms']:9.2f} {value['p95_ms']:9.2f} "
            f"{value['p99_ms']:9.2f} {value.get('errors', 0):7d}"
        )
    seed = report.get("seed", {})
    if seed.get("cases_per_second"):
        print(f"\nseeding: {seed['cases']} cases in {seed['seconds']} s = {seed['cases_per_second']} cases/s")
    batch = (
        report["sections"].get("dissuasion", {}).get("batch_1000")
        if isinstance(report["sections"].get("dissuasion"), dict)
        else None
    )
    if batch:
        print(
            f"\nwarning clues: 1,000 per batch in {batch['p50_ms']} ms (median), {batch['max_ms']} ms (slowest) = "
            f"{batch['clues_per_second']} clues/s; under 2 s: {'yes' if batch['under_2s'] else 'NO'}"
        )
    for name, ok in report.get("targets", {}).items():
        print(f"target {name}: {'met' if ok else 'NOT met'}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--duration", type=float, default=8.0, help="seconds per scenario")
    parser.add_argument("--concurrency", type=int, default=4, help="client processes per scenario")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers")
    parser.add_argument("--sections", default=",".join(SECTIONS))
    parser.add_argument("--only", default="", help="comma-separated scenario names")
    parser.add_argument("--reseed", action="store_true")
    parser.add_argument("--out", default=str(ROOT / "bench-results"))
    args = parser.parse_args(argv)
    if not 1 <= args.concurrency <= 64 or not 0 < args.duration <= 120 or args.cases < 10:
        parser.error("bounded runs only: 1-64 clients, up to 120 s per scenario, at least 10 cases")

    url = bench_database_url()
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    ensure_database(url)
    setup_django(url)
    from .seed import seed, seeded_size

    ctx = Context(url, redis_url, args.cases, args.duration, args.concurrency, set(filter(None, args.only.split(","))))
    ctx.tokens = {
        "analyst": ctx.token("bench_analyst", "AFC", "analyst"),
        "supervisor": ctx.token("bench_supervisor", "AFC", "supervisor"),
        "partner": ctx.token("bench_ccb", "CCB", "liaison"),
    }
    import psycopg

    report: dict = {
        "started_at": datetime.now(UTC).isoformat(),
        "cases": args.cases,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "server": {"workers": args.workers, "worker_class": "sync", "db_pool_max": 4},
        "sections": {},
    }
    with psycopg.connect(url) as conn:
        existing = seeded_size(conn)
    if existing == args.cases and not args.reseed:
        ctx.log(f"reusing the seeded data set of {existing} cases in {urlsplit(url).path.lstrip('/')}")
        report["seed"] = {"cases": existing, "reused": True}
    else:
        ctx.log(f"seeding {args.cases} cases with COPY ...")
        report["seed"] = seed(url, args.cases, log=ctx.log)
        ctx.log(f"seeded: {report['seed']}")

    wanted = [s.strip() for s in args.sections.split(",") if s.strip()]
    modules = {}
    for name in wanted:
        try:
            modules[name] = importlib.import_module(f"bench.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"bench.{name}":
                raise
            ctx.log(f"section {name}: bench/{name}.py not present, skipped")
    with Server(url, redis_url, workers=args.workers) as server:
        ctx.base_url, ctx.port = server.base_url, server.port
        for name, module in modules.items():
            ctx.log(f"section {name}")
            started = time.perf_counter()
            report["sections"][name] = module.run(ctx)
            ctx.log(f"section {name} done in {time.perf_counter() - started:.0f} s")
    if "api" in report["sections"]:
        from .api import targets

        report["targets"] = targets(report["sections"]["api"])
    report["finished_at"] = datetime.now(UTC).isoformat()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    text = json.dumps(report, indent=2, ensure_ascii=False)
    (out / f"bench-{args.cases}-{stamp}.json").write_text(text, encoding="utf-8")
    (out / "latest.json").write_text(text, encoding="utf-8")
    print_table(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
