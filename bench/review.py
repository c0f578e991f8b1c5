"""The joint meeting's review at scale (docs/review.md, "Speed"): figures for a month, in under a second.

Two measurements over the seeded data set (``--cases``, spread over two years):

- ``figures_<window>_ms``: in process, the review's queries for a window ending now
  (``cases.review.unit_figures`` and ``golden_hour``, the previous period for the
  trend, the supervision items: ``review.figures.review_for``), each window run
  five times; the median and the worst, and the rows the window holds;
- ``stats_month`` (and ``.c1``): ``GET /api/v1/stats/`` for the last 30 days,
  through the server, as the table's other scenarios.

Target: a month in under 1 s (``targets.review_month_under_1s``).
"""

from __future__ import annotations

import statistics
import time
from datetime import timedelta
from urllib.parse import urlencode

from .api import Fixed
from .common import load

# A year of a data set of N cases holds about the rows of a month of 12 × N: at 100,000 cases,
# the year window is the proxy of a month at 1.2 million.
WINDOWS = {"day": 1, "month": 30, "quarter": 91, "year": 365}
RUNS = 5


def run(ctx) -> dict:
    from django.db import connection
    from django.utils import timezone

    from agencies.models import User
    from cases import review
    from review.figures import review_for

    supervisor = User.objects.get(username="bench_supervisor")
    now = timezone.now()
    results: dict = {}
    for name, days in WINDOWS.items():
        period = review.Period(now - timedelta(days=days), now)
        timings = []
        for _ in range(RUNS):
            started = time.perf_counter()
            data = review_for(supervisor, period, now=now)
            timings.append((time.perf_counter() - started) * 1000)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM cases_task WHERE dispatched_at >= %s AND dispatched_at < %s",
                [period.start, period.end],
            )
            tasks = cursor.fetchone()[0]
        results[f"figures_{name}_ms"] = {
            "median": round(statistics.median(timings), 1),
            "max": round(max(timings), 1),
            "tasks_received": tasks,
            "cases_reported": data["golden_hour"]["cases"],
            "units": len(data["units"]),
        }
        ctx.log(f"  review/{name}: {results[f'figures_{name}_ms']}")
    query = urlencode({"from": (now - timedelta(days=30)).isoformat(), "to": now.isoformat()})
    url = f"/api/v1/stats/?{query}"
    if not ctx.only or "stats_month" in ctx.only:
        token = ctx.tokens["supervisor"]
        results["stats_month"] = load(ctx.port, token, Fixed(url), duration=ctx.duration, concurrency=ctx.concurrency)
        results["stats_month.c1"] = load(ctx.port, token, Fixed(url), duration=ctx.duration / 2, concurrency=1)
    results["targets"] = {"review_month_under_1s": results["figures_month_ms"]["median"] < 1000}
    return results
