"""Delivery benchmark: approval commit -> partner receipt, with a real worker and Redis.

``run(ctx) -> dict`` is called by ``python -m bench`` (``make bench``); ``python -m
bench.delivery`` runs it alone. It builds a scratch database, a private Redis, the
demo partner (ten banks) and a real 4-process Celery worker (harness.processes.Stage),
then measures:

- steady: approvals at a fixed rate (default 50/s for 10 s);
- burst: 1,000 approvals as fast as four threads can commit them;
- the same two patterns for a Celery job that does nothing (the ceiling: commit ->
  publish -> broker -> worker start);
- light: 5 approvals/s, the path's latency without queueing;
- recovery: a worker SIGKILLed in the middle of a push, restarted at once; time
  from the kill to the delivery being recorded, with production lease and sweeper
  settings.

Latency = partner's receipt (its clock; same machine) - the approval's commit.
The machine's load average is reported with the numbers: on a shared machine the
worker competes for CPU with whatever else runs, and latency at 50/s is queueing.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import threading
import time
import uuid
from datetime import datetime

TARGET_P99_MS = 250.0
TARGET_RECOVERY_S = 30.0


def _opt(ctx, name, default):
    if isinstance(ctx, dict):
        return ctx.get(name, default)
    return getattr(ctx, name, default)


def _percentiles(values: list[float]) -> dict:
    if not values:
        return {"n": 0}
    ordered = sorted(values)

    def pct(p):
        return round(ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))], 1)

    return {
        "n": len(ordered),
        "p50_ms": pct(50),
        "p95_ms": pct(95),
        "p99_ms": pct(99),
        "max_ms": round(ordered[-1], 1),
        "mean_ms": round(statistics.fmean(ordered), 1),
    }


def _approve(task, supervisor, stamps: dict) -> None:
    from django.db import transaction

    from cases.actions import approve_task

    def stamp(pk=task.pk):
        stamps[pk] = time.time()

    with transaction.atomic():
        transaction.on_commit(stamp)  # registered first: runs at commit, before the publish
        approve_task(task, acting_user=supervisor)


def _noop(key: str, stamps: dict) -> None:
    from django.db import transaction

    from bench.tasks import bench_probe

    with transaction.atomic():
        transaction.on_commit(lambda: stamps.__setitem__(key, time.time()))
        transaction.on_commit(lambda: bench_probe.delay(key))


def _paced(items, rate: float, action, threads: int = 8) -> float:
    """Start one action every 1/rate seconds; a pool runs them, so a slow commit does not slow the pace."""
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection

    def guarded(item):
        try:
            action(item)
        finally:
            connection.close()

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        futures = []
        for index, item in enumerate(items):
            delay = started + index / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            futures.append(pool.submit(guarded, item))
        for future in futures:
            future.result()
    return time.monotonic() - started


def _burst(items, action, threads: int = 4) -> float:
    from django.db import connection

    chunks = [items[i::threads] for i in range(threads)]

    def work(chunk):
        try:
            for item in chunk:
                action(item)
        finally:
            connection.close()

    started = time.monotonic()
    workers = [threading.Thread(target=work, args=(chunk,)) for chunk in chunks]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    return time.monotonic() - started


def _receipts(stage, task_ids: set[int], timeout: float = 180.0) -> dict[int, float]:
    deadline = time.monotonic() + timeout
    while True:
        got = {}
        for record in stage.sim.received():
            if record["task_id"] in task_ids and record["status"] == 202:
                got.setdefault(record["task_id"], datetime.fromisoformat(record["time"]).timestamp())
        if len(got) == len(task_ids) or time.monotonic() > deadline:
            return got
        time.sleep(0.2)


def _probes(stage, keys: set[str], timeout: float = 60.0) -> dict[str, float]:
    deadline = time.monotonic() + timeout
    client = stage.redis.client()
    while True:
        got = {}
        for raw in client.lrange("bench:probe", 0, -1):
            key, at = raw.decode().split()
            if key in keys:
                got[key] = float(at)
        if len(got) == len(keys) or time.monotonic() > deadline:
            return got
        time.sleep(0.1)


def _delivery_phase(stage, tasks, pattern: str, rate: float) -> dict:
    stamps: dict[int, float] = {}
    action = lambda task: _approve(task, stage.supervisor, stamps)  # noqa: E731
    elapsed = _paced(tasks, rate, action) if pattern == "steady" else _burst(tasks, action)
    receipts = _receipts(stage, {t.pk for t in tasks})
    latencies = [(receipts[pk] - stamps[pk]) * 1000 for pk in stamps if pk in receipts]
    first, last = min(stamps.values()), max(receipts.values(), default=0)
    result = _percentiles(latencies)
    result.update(
        approvals_per_s=round(len(tasks) / elapsed, 1),
        deliveries_per_s=round(len(receipts) / max(last - first, 1e-6), 1),
        missing=len(tasks) - len(receipts),
    )
    return result


def _noop_phase(stage, count: int, pattern: str, rate: float) -> dict:
    stamps: dict[str, float] = {}
    keys = [f"{pattern}-{uuid.uuid4().hex[:12]}" for _ in range(count)]
    action = lambda key: _noop(key, stamps)  # noqa: E731
    elapsed = _paced(keys, rate, action) if pattern == "steady" else _burst(keys, action)
    probes = _probes(stage, set(keys))
    latencies = [(probes[k] - stamps[k]) * 1000 for k in stamps if k in probes]
    result = _percentiles(latencies)
    result.update(
        jobs_per_s=round(len(probes) / max(max(probes.values(), default=0) - min(stamps.values()), 1e-6), 1),
        submitted_per_s=round(count / elapsed, 1),
    )
    return result


def _recovery(stage) -> dict:
    from alerts.choices import DeliveryState
    from alerts.models import Delivery

    [task] = stage.pending_stop_payments(1)
    code = task.agency.code
    stage.sim.set_mode("slow", code, slow_seconds=3)
    _approve(task, stage.supervisor, {})
    delivery = Delivery.objects.get(task=task)
    deadline = time.monotonic() + 30
    while not Delivery.objects.filter(pk=delivery.pk, locked_until__isnull=False).exists():
        if time.monotonic() > deadline:
            return {"error": "the push was never claimed"}
        time.sleep(0.02)
    time.sleep(0.5)  # the POST is with the partner now
    stage.worker.kill()
    killed = time.monotonic()
    stage.sim.set_mode("ok", code)
    stage.worker.start()
    restarted = time.monotonic() - killed
    while Delivery.objects.get(pk=delivery.pk).state != DeliveryState.DELIVERED:
        if time.monotonic() - killed > 120:
            return {"error": "not recovered within 120 s"}
        time.sleep(0.1)
    recovery = time.monotonic() - killed
    accepted = [r for r in stage.sim.received(code) if r["idempotency_key"] == str(delivery.pk)]
    return {
        "recovery_s": round(recovery, 1),
        "worker_restart_s": round(restarted, 1),
        "partner_answers": [r["status"] for r in accepted],
        "target_s": TARGET_RECOVERY_S,
        "ok": recovery < TARGET_RECOVERY_S,
    }


def run(ctx=None) -> dict:
    """Run every phase; returns the numbers (also printed by ``python -m bench.delivery``)."""
    from harness.processes import Stage, setup_django

    setup_django()
    rate = float(_opt(ctx, "delivery_rate", 50))
    seconds = float(_opt(ctx, "delivery_seconds", 10))
    burst = int(_opt(ctx, "delivery_burst", 1000))
    steady_n = int(rate * seconds)
    results: dict = {"steady_rate_per_s": rate, "steady_approvals": steady_n, "burst_approvals": burst}
    concurrency = int(_opt(ctx, "delivery_worker_concurrency", 4))  # make run's worker has 4
    results["worker_processes"] = concurrency
    with Stage("deliverybench", concurrency=concurrency, worker_include=("bench.tasks",)) as stage:
        steady_tasks = stage.pending_stop_payments(steady_n)
        burst_tasks = stage.pending_stop_payments(burst)
        light_tasks = stage.pending_stop_payments(20)
        time.sleep(1)  # let the worker's first sweep and connections settle
        results["load_average_at_start"] = [round(x, 2) for x in os.getloadavg()]
        # One approval every 200 ms: the path's own latency, without queueing behind other pushes.
        results["delivery_light_5_per_s"] = _delivery_phase(stage, light_tasks, "steady", 5)
        results["noop_steady"] = _noop_phase(stage, steady_n, "steady", rate)
        results["delivery_steady"] = _delivery_phase(stage, steady_tasks, "steady", rate)
        results["noop_burst"] = _noop_phase(stage, burst, "burst", rate)
        results["delivery_burst"] = _delivery_phase(stage, burst_tasks, "burst", rate)
        results["recovery"] = _recovery(stage)
        results["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
        results["cpu_count"] = os.cpu_count()
    p99 = results["delivery_steady"].get("p99_ms")
    results["target_p99_ms"] = TARGET_P99_MS
    results["steady_p99_ok"] = p99 is not None and p99 < TARGET_P99_MS
    return results


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m bench.delivery", description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=50)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--burst", type=int, default=1000)
    parser.add_argument("--worker-concurrency", type=int, default=4)
    args = parser.parse_args(argv)
    results = run(
        {
            "delivery_rate": args.rate,
            "delivery_seconds": args.seconds,
            "delivery_burst": args.burst,
            "delivery_worker_concurrency": args.worker_concurrency,
        }
    )
    print(json.dumps(results, indent=2))
    return 0 if results["steady_p99_ok"] and results["recovery"].get("ok") else 1


if __name__ == "__main__":
    sys.exit(main())
