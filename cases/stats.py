"""Dashboard figures. Every query is bounded by a time window on an indexed column.

- cases per window: ``case_reported_idx`` (reported_at);
- the golden hour: PostgreSQL ``percentile_cont`` over the window's cases;
- per-agency response: tasks created in the window, read through
  ``task_state_created_idx`` (state, created_at) with every state listed, so the
  planner walks the index per state instead of the whole table.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import connection
from django.utils import timezone

from .choices import TaskState

ALL_STATES = tuple(TaskState.values)


def day_start(now: datetime | None = None) -> datetime:
    now = timezone.localtime(now)
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


def month_start(now: datetime | None = None) -> datetime:
    return day_start(now).replace(day=1)


@dataclass
class Totals:
    cases: int
    lost: Decimal
    stopped: Decimal
    frozen: Decimal


def totals(cases, since: datetime) -> Totals:
    """Counts and sums of ``cases`` (already ``visible_to``) reported since ``since``."""
    from django.db.models import Count, Sum

    row = cases.filter(reported_at__gte=since).aggregate(
        n=Count("id"), lost=Sum("loss_amount"), stopped=Sum("amount_stopped"), frozen=Sum("amount_frozen")
    )
    zero = Decimal("0.00")
    return Totals(row["n"], row["lost"] or zero, row["stopped"] or zero, row["frozen"] or zero)


def golden_hour(cases, since: datetime) -> dict:
    """Seconds from report to the first stop-payment delivered: median and p90, and how many cases."""
    qs = cases.filter(reported_at__gte=since, first_stop_delivered_at__isnull=False).values("id")
    sql, params = qs.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT count(*),
                   percentile_cont(0.5) WITHIN GROUP (ORDER BY secs),
                   percentile_cont(0.9) WITHIN GROUP (ORDER BY secs)
            FROM (
                SELECT EXTRACT(EPOCH FROM (c.first_stop_delivered_at - c.reported_at)) AS secs
                FROM cases_case c WHERE c.id IN ({sql})
            ) t
            """,  # noqa: S608 - the inner SQL is Django's own, parameters are bound
            params,
        )
        count, median, p90 = cursor.fetchone()
    return {"count": count, "median": median, "p90": p90}


def agency_performance(tasks, since: datetime, agency_id: int | None = None) -> list[dict]:
    """Per agency: tasks, response time (dispatch to first answer, median), on-time rate.

    ``tasks`` is already ``visible_to``; answered = accepted, completed, failed or rejected.
    """
    qs = tasks.filter(state__in=ALL_STATES, created_at__gte=since)
    if agency_id is not None:
        qs = qs.filter(agency_id=agency_id)
    sql, params = qs.values("id").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT a.id, a.code, a.name, a.name_en,
                   count(*) AS tasks,
                   count(t.finished_at) AS finished,
                   percentile_cont(0.5) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM (
                       COALESCE(t.accepted_at, t.finished_at) - t.dispatched_at)))
                       FILTER (WHERE t.dispatched_at IS NOT NULL
                               AND COALESCE(t.accepted_at, t.finished_at) IS NOT NULL) AS response,
                   count(*) FILTER (WHERE t.finished_at IS NOT NULL AND t.finished_at <= t.deadline
                                    AND t.state IN ('completed', 'expired')) AS on_time,
                   count(*) FILTER (WHERE t.state IN ('completed', 'expired')) AS completed
            FROM cases_task t JOIN agencies_agency a ON a.id = t.agency_id
            WHERE t.id IN ({sql})
            GROUP BY a.id, a.code, a.name, a.name_en
            ORDER BY count(*) DESC, a.code
            """,  # noqa: S608 - the inner SQL is Django's own, parameters are bound
            params,
        )
        rows = cursor.fetchall()
    result = []
    for agency_pk, code, name, name_en, count, finished, response, on_time, completed in rows:
        result.append(
            {
                "agency_id": agency_pk,
                "code": code,
                "name": name,
                "name_en": name_en,
                "tasks": count,
                "finished": finished,
                "completed": completed,
                "response_seconds": response,
                "on_time_rate": round(100 * on_time / completed, 1) if completed else None,
            }
        )
    return result


def window(name: str) -> tuple[datetime, str]:
    """The start of a named window: today, month (default), or the last 90 days."""
    now = timezone.now()
    if name == "today":
        return day_start(now), "today"
    if name == "90d":
        return now - timedelta(days=90), "90d"
    return month_start(now), "month"
