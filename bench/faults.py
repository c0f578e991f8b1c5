"""Fault campaign: many deliveries under random worker kills and Redis restarts.

``python -m bench.faults`` (``make faults``) builds a scratch stage (harness.processes:
scratch database, private Redis, the demo partner for ten banks, a real 4-process
worker with embedded beat), approves deliveries at a steady pace while a chaos loop
SIGKILLs the worker's process group or restarts Redis (losing every queued message)
at random, lets the system settle, and prints:

- lost: delivered in the database but never accepted by the partner, or never delivered;
- duplicated: a partner accepted the same task more than once (two keys or two 202s);
- stuck: still not delivered when the settle deadline passes.

All three must be zero; the exit code says whether they are. Bounded in time
(chaos phase + settle deadline), and the lease/sweeper timings are shortened the
same way the tests shorten them.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import threading
import time
from collections import Counter

FAST = {
    "DELIVERY_CONNECT_TIMEOUT": 1,
    "DELIVERY_READ_TIMEOUT": 3,
    "DELIVERY_LEASE_MARGIN": 1,
    "DELIVERY_BACKOFF_BASE": 0.2,
    "DELIVERY_BACKOFF_MAX": 2,
    "DELIVERY_REQUEUE_AFTER": 3,
    "DELIVERY_SWEEP_SECONDS": 1,
    "DELIVERY_AGENCY_CONCURRENCY": 2,
}


def campaign(deliveries: int, chaos_seconds: float, settle_seconds: float, seed: int) -> dict:
    from harness.processes import Stage, setup_django

    setup_django()
    from django.db import connection

    from alerts.choices import DeliveryState
    from alerts.models import Delivery
    from bench.delivery import _approve

    rng = random.Random(seed)
    events: list[str] = []
    with Stage("faults", worker_settings=FAST) as stage:
        tasks = stage.pending_stop_payments(deliveries)
        stage.sim.set_mode("flaky", "CCB", fail_count=2)  # one partner also answers 503 now and then
        pace = deliveries / max(chaos_seconds * 0.8, 1)

        def approve_all():
            try:
                started = time.monotonic()
                for index, task in enumerate(tasks):
                    delay = started + index / pace - time.monotonic()
                    if delay > 0:
                        time.sleep(delay)
                    _approve(task, stage.supervisor, {})
            finally:
                connection.close()

        approver = threading.Thread(target=approve_all)
        approver.start()
        chaos_end = time.monotonic() + chaos_seconds
        while time.monotonic() < chaos_end:
            time.sleep(rng.uniform(1.5, 4.0))
            if rng.random() < 0.6:
                stage.worker.kill()
                time.sleep(rng.uniform(0, 1.0))
                stage.worker.start()
                events.append(f"{time.strftime('%H:%M:%S')} worker SIGKILLed and restarted")
            else:
                stage.redis.restart(down_seconds=rng.uniform(0, 1.0))
                events.append(f"{time.strftime('%H:%M:%S')} redis restarted (queued messages lost)")
        approver.join()
        if not stage.worker.alive:
            stage.worker.start()
        task_ids = [t.pk for t in tasks]
        deadline = time.monotonic() + settle_seconds
        settled_in = None
        while time.monotonic() < deadline:
            pending = Delivery.objects.filter(task_id__in=task_ids).exclude(state=DeliveryState.DELIVERED).count()
            if pending == 0 and Delivery.objects.filter(task_id__in=task_ids).count() == len(task_ids):
                settled_in = round(settle_seconds - (deadline - time.monotonic()), 1)
                break
            time.sleep(0.5)

        rows = list(Delivery.objects.filter(task_id__in=task_ids).values("pk", "task_id", "state"))
        received = stage.sim.received()
        accepted = Counter(r["idempotency_key"] for r in received if r["status"] == 202)
        accepted_tasks = Counter(r["task_id"] for r in received if r["status"] == 202)
        delivered = {str(r["pk"]) for r in rows if r["state"] == DeliveryState.DELIVERED}
        per_task = Counter(r["task_id"] for r in rows)
        lost = sum(1 for key in delivered if accepted[key] == 0) + (len(task_ids) - len(per_task))
        stuck = sum(1 for r in rows if r["state"] != DeliveryState.DELIVERED)
        duplicated = (
            sum(1 for n in accepted.values() if n > 1)
            + sum(1 for n in accepted_tasks.values() if n > 1)
            + sum(1 for n in per_task.values() if n > 1)
        )
        return {
            "deliveries": deliveries,
            "faults": len(events),
            "worker_kills": sum("worker" in e for e in events),
            "redis_restarts": sum("redis" in e for e in events),
            "pushes_sent": len(received),
            "answered_409_duplicate": sum(1 for r in received if r["status"] == 409),
            "answered_503": sum(1 for r in received if r["status"] == 503),
            "settled_after_chaos_s": settled_in,
            "lost": lost,
            "duplicated": duplicated,
            "stuck": stuck,
            "events": events,
        }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.faults", description=__doc__.split("\n\n")[0])
    parser.add_argument("--deliveries", type=int, default=300)
    parser.add_argument("--chaos-seconds", type=float, default=30.0)
    parser.add_argument("--settle-seconds", type=float, default=90.0)
    parser.add_argument("--seed", type=int, default=int(time.time()))
    args = parser.parse_args(argv)
    result = campaign(args.deliveries, args.chaos_seconds, args.settle_seconds, args.seed)
    print(json.dumps({**result, "seed": args.seed}, indent=2))
    print(f"lost={result['lost']} duplicated={result['duplicated']} stuck={result['stuck']}")
    return 0 if result["lost"] == result["duplicated"] == result["stuck"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
