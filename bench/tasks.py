"""The benchmark's Celery job, outside the apps: only a worker started for the benchmark has it.

``harness.processes.Stage(worker_include=("bench.tasks",))`` starts its worker with
``celery worker --include bench.tasks``; the platform's own workers (``make run``,
docker-compose) never import this module.
"""

from __future__ import annotations

import time

import redis
from celery import shared_task
from django.conf import settings

_probe_redis = None


@shared_task(name="bench.probe", ignore_result=True)
def bench_probe(key: str) -> None:
    """The benchmark's ceiling: a job that does nothing but note when it started.

    The note goes to the broker's Redis, which the benchmark reads (bench/delivery.py).
    """
    global _probe_redis

    if _probe_redis is None:
        _probe_redis = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    _probe_redis.rpush("bench:probe", f"{key} {time.time():.6f}")
