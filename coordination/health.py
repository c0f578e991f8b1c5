"""``GET /health/``: the state of the database, Redis and the Celery workers."""

from __future__ import annotations

import redis
from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


def _database() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return {"ok": True}
    except Exception as exc:  # noqa: BLE001 - reported, not raised
        return {"ok": False, "error": type(exc).__name__}


def _redis() -> dict:
    try:
        redis.Redis.from_url(settings.REDIS_URL, socket_timeout=1, socket_connect_timeout=1).ping()
        return {"ok": True}
    except Exception as exc:  # noqa: BLE001
        return {"ok": False, "error": type(exc).__name__}


def _celery() -> dict:
    from coordination.celery import app

    try:
        replies = app.control.inspect(timeout=1.0).ping() or {}
    except Exception as exc:  # noqa: BLE001
        return {"ok": False, "error": type(exc).__name__, "workers": 0}
    return {"ok": bool(replies), "workers": len(replies)}


@never_cache
@require_GET
def health(request):
    """200 when the database, Redis and at least one worker answer; 503 otherwise."""
    checks = {"database": _database(), "redis": _redis()}
    checks["celery"] = _celery() if checks["redis"]["ok"] else {"ok": False, "workers": 0}
    ok = all(c["ok"] for c in checks.values())
    return JsonResponse({"status": "ok" if ok else "unavailable", **checks}, status=200 if ok else 503)
