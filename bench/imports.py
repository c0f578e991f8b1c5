"""The historical import's speed: N cases from a generated CSV through ``import_cases``' own path.

A section of ``python -m bench`` (``--sections imports``), or alone:
``python -m bench.imports [--rows 100000]`` (migrates and seeds the bench database, no server).

The file is realistic: GBK, Chinese headers, amounts with thousands separators, one
victim, one transfer, a stop-payment on every row, an outcome on every other row, and
one row in 50 naming a receiving account of an earlier row (linked cases). Each run
uses fresh external references, so it always imports (the database grows by N cases).
The target (issue 15): 100,000 cases in under a minute.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import sys
import time
from datetime import timedelta

TARGET_SECONDS = 60.0


def generate(rows: int, prefix: str) -> bytes:
    from django.utils import timezone

    from imports.columns import CASE_COLUMNS

    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow([c.zh for c in CASE_COLUMNS])
    base = timezone.localtime(timezone.now() - timedelta(days=800)).replace(tzinfo=None, microsecond=0)
    for n in range(rows):
        reported = base + timedelta(minutes=10 * n)
        account = f"6217{(n // 50 * 50 if n % 50 == 49 else n):015d}"
        closed = n % 2 == 0
        writer.writerow(
            [
                f"{prefix}-{n:07d}",
                reported.strftime("%Y-%m-%d %H:%M"),
                (reported - timedelta(hours=1)).strftime("%Y-%m-%d %H:%M"),
                "刷单返利",
                "110报警",
                "锦江区",
                "12,345.60",
                "受害人被诱导刷单",
                "张三",
                "51010719900101123X",
                "13800000000",
                f"6222{n:015d}",
                "ICBC",
                account,
                "CCB",
                "12,345.60",
                (reported - timedelta(minutes=40)).strftime("%Y-%m-%d %H:%M"),
                "10,000.00",
                (reported + timedelta(hours=1)).strftime("%Y-%m-%d %H:%M"),
                "",
                "",
                "8,000.00" if closed else "",
                (reported + timedelta(days=20)).strftime("%Y-%m-%d") if closed else "",
                "partly_returned" if closed else "",
                (reported + timedelta(days=21)).strftime("%Y-%m-%d") if closed else "",
                "返还部分资金" if closed else "",
            ]
        )
    return out.getvalue().encode("gbk")


def measure(rows: int, log=print) -> dict:
    from agencies.models import Agency, User
    from imports import jobs

    user = User.objects.filter(username="bench_import_analyst").first()
    if user is None:
        user = User.objects.create_user(
            "bench_import_analyst", agency=Agency.objects.get(code="AFC"), role="analyst", password=None
        )
    prefix = f"BENCH{int(time.time())}"
    started = time.perf_counter()
    content = generate(rows, prefix)
    generated = time.perf_counter() - started
    log(f"imports: generated {rows} rows ({len(content) / 1e6:.1f} MB) in {generated:.1f} s")
    job = jobs.create_job(content=content, file_name=f"{prefix}.csv", acting_user=user)
    last = [0.0]

    def progress(current):
        now = time.perf_counter()
        if now - last[0] > 5:
            last[0] = now
            log(f"imports: {current.done}/{current.total}")

    started = time.perf_counter()
    job = jobs.run_case_import(job, progress=progress)
    seconds = time.perf_counter() - started
    result = {
        "rows": rows,
        "created": job.created,
        "errors": job.error_count,
        "seconds": round(seconds, 2),
        "rows_per_second": round(rows / seconds, 1),
        "target_seconds_for_100k": TARGET_SECONDS,
        "projected_seconds_for_100k": round(100_000 / (rows / seconds), 1),
        "cpus": os.cpu_count(),
    }
    print(
        f"\nimports/import_cases: {rows} rows in {seconds:.1f} s = {rows / seconds:,.0f} rows/s "
        f"({job.created} created, {job.error_count} refused); 100k target {TARGET_SECONDS:.0f} s: "
        f"{'met' if result['projected_seconds_for_100k'] < TARGET_SECONDS else 'NOT met'}"
    )
    return result


def run(ctx) -> dict:
    rows = int(os.environ.get("BENCH_IMPORT_ROWS", "100000"))
    return {"import_cases": measure(rows, log=ctx.log)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.imports")
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args(argv)
    from bench.__main__ import bench_database_url, ensure_database, setup_django

    url = bench_database_url()
    ensure_database(url)
    setup_django(url)
    measure(args.rows, log=lambda m: print(m, file=sys.stderr, flush=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
