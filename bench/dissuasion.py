"""Bench section ``dissuasion``: batches of 1,000 warning clues over HTTP, and a station's inbox.

``batch_1000``: one client POSTs ``/api/v1/warnings/`` with 1,000 new clues at a time
(a bank's risk system after a sweep), ``BATCHES`` times; latency is per batch, so
``p50_ms`` is the time to accept 1,000 clues (issue 13's target: under 2 s). The
clues go to Wuhou (a quarter to each of two stations by address, a quarter to the
sub-bureau). ``station_inbox``: the station's liaison reading its inbox of tasks
(``/api/v1/tasks/``) and its warnings page's source (``/api/v1/warnings/``) under load.
"""

from __future__ import annotations

import http.client
import json
import time
import uuid

from .api import Fixed
from .common import load, percentile

BATCHES = 8
STREETS = ("玉林北路1号", "簇桥街道3号", None, "浆洗街5号")


def _clues(prefix: str, n: int = 1000) -> list[dict]:
    return [
        {
            "source_reference": f"{prefix}-{i}",
            "phone": f"1380{i % 10_000_000:07d}",
            "name": "王五",
            "district": "wuhou",
            "address": STREETS[i % 4],
            "level": ("high", "medium", "low")[i % 3],
            "reason": "transfer to a reported account",
            "identifier": {"kind": "bank_account", "value": f"62170000{i % 100_000:011d}"},
            "amount": "5000.00",
        }
        for i in range(n)
    ]


def run(ctx) -> dict:
    token = ctx.token("bench_icbc_risk", "ICBC", "liaison")
    station = ctx.token("bench_yulin", "PS-WUHOU-YULIN", "liaison")
    results: dict = {}
    if not ctx.only or "batch_1000" in ctx.only:
        latencies, errors = [], 0
        run_id = uuid.uuid4().hex[:8]
        for n in range(BATCHES):
            body = json.dumps({"clues": _clues(f"BENCH-{run_id}-{n}")}, ensure_ascii=False).encode()
            conn = http.client.HTTPConnection("127.0.0.1", ctx.port, timeout=60)
            started = time.perf_counter()
            conn.request(
                "POST",
                "/api/v1/warnings/",
                body=body,
                headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
            )
            response = conn.getresponse()
            payload = response.read()
            latencies.append(time.perf_counter() - started)
            conn.close()
            if response.status != 201 or not all(e.get("created") for e in json.loads(payload)):
                errors += 1
        latencies.sort()
        results["batch_1000"] = {
            "requests": len(latencies),
            "errors": errors,
            "rps": round(len(latencies) / sum(latencies), 2),
            "clues_per_second": round(1000 * len(latencies) / sum(latencies)),
            "p50_ms": round(percentile(latencies, 0.5) * 1000, 1),
            "p95_ms": round(percentile(latencies, 0.95) * 1000, 1),
            "p99_ms": round(percentile(latencies, 0.99) * 1000, 1),
            "max_ms": round(latencies[-1] * 1000, 1),
            "under_2s": latencies[-1] < 2.0,
        }
        ctx.log(
            f"  dissuasion/batch_1000: p50 {results['batch_1000']['p50_ms']} ms, "
            f"max {results['batch_1000']['max_ms']} ms per 1,000 clues"
        )
    for name, path in (("station_inbox_tasks", "/api/v1/tasks/"), ("station_warnings", "/api/v1/warnings/")):
        if ctx.only and name not in ctx.only:
            continue
        ctx.log(f"  dissuasion/{name} ...")
        results[name] = load(ctx.port, station, Fixed(path), duration=ctx.duration / 2, concurrency=ctx.concurrency)
    return results
