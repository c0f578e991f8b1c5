"""The joint meeting's review (考核): every figure, defined once (docs/review.md).

The dashboard, the agency manager's page, the review page, its spreadsheet and
``/api/v1/stats/`` all read these functions; none computes a figure of its own.

- **Receipt** is ``Task.dispatched_at``: for a pushed task the moment the
  partner's endpoint acknowledged the delivery (its 2xx, ``alerts.tasks.record_outcome``);
  for an inbox task the moment it reached the inbox. The push's 2xx is receipt,
  never an answer.
- A unit's tasks of a period are those it **received** in ``[start, end)``; every
  count, rate and duration of the period is over that cohort, read ``now``.
- **Acceptance** is the first answer that takes the task on: ``accepted_at`` (a
  person or the partner's system accepting), or, for a result reported straight
  from ``dispatched`` (an automated bank acts at once), the result's ``finished_at``.
  A rejection is not an acceptance.
- Money (stopped, frozen) is ``cases.holdings``' definition, per holding task of
  the unit: live holds only, each yuan once across conversions.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Count, F, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from coordination.validators import check_instant, parse_instant

from . import holdings, task_types
from .choices import TaskState

ZERO = Decimal("0.00")
COMPLETED_STATES = (TaskState.COMPLETED.value, TaskState.EXPIRED.value)
RESULT_STATES = (*COMPLETED_STATES, TaskState.FAILED.value)
# The golden hour's histogram: upper bounds in minutes (the last bucket is open).
GOLDEN_BUCKETS = (10, 30, 60, 120, 360)


# --- periods -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """``[start, end)``, aware datetimes."""

    start: datetime
    end: datetime

    def previous(self) -> Period:
        """The period of equal length just before this one (the review's trend)."""
        return Period(self.start - (self.end - self.start), self.start)

    @property
    def last_day(self) -> date:
        """The last local day the period covers (its ``to`` as a date)."""
        return timezone.localtime(self.end - timedelta(microseconds=1)).date()


def day_start(now: datetime | None = None) -> datetime:
    now = timezone.localtime(now)
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


def month_start(now: datetime | None = None) -> datetime:
    return day_start(now).replace(day=1)


def local_midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def period_of_days(first: date, last: date) -> Period:
    """The local days ``first`` to ``last``, both included."""
    return Period(local_midnight(first), local_midnight(last + timedelta(days=1)))


def window(name: str, now: datetime | None = None) -> tuple[Period, str]:
    """A named window ending now: today, month (default), or the last 90 days."""
    now = now or timezone.now()
    if name == "today":
        return Period(day_start(now), now), "today"
    if name == "90d":
        return Period(now - timedelta(days=90), now), "90d"
    return Period(month_start(now), now), "month"


# --- per unit ----------------------------------------------------------------------------


@dataclass
class UnitFigures:
    """One member unit's figures for one period (docs/review.md, "Per member unit")."""

    agency_id: int
    code: str = ""
    name: str = ""
    name_en: str = ""
    received: int = 0
    accepted_on_time: int = 0
    completed: int = 0
    failed: int = 0
    rejected: int = 0
    cancelled: int = 0
    overdue: int = 0
    acceptance_median: float | None = None
    acceptance_p90: float | None = None
    result_median: float | None = None
    result_p90: float | None = None
    stopped: Decimal = ZERO
    frozen: Decimal = ZERO
    returned: Decimal = ZERO
    warnings_reached: int = 0
    supervision: dict = field(default_factory=dict)

    @property
    def owed(self) -> int:
        """Tasks the unit owed an answer to: received less those the centre withdrew."""
        return self.received - self.cancelled

    @property
    def on_time_rate(self) -> float | None:
        return rate(self.accepted_on_time, self.owed)

    @property
    def completion_rate(self) -> float | None:
        return rate(self.completed, self.owed)

    def as_dict(self) -> dict:
        data = asdict(self)
        data["owed"] = self.owed
        data["on_time_rate"] = self.on_time_rate
        data["completion_rate"] = self.completion_rate
        return data


def rate(part: int, whole: int) -> float | None:
    """``part`` of ``whole`` in per cent, one decimal; ``None`` only when ``whole`` is 0 (shown "—")."""
    return round(100 * part / whole, 1) if whole else None


def _seconds(value) -> float | None:
    return None if value is None else round(float(value), 1)


_ACK = (
    "CASE WHEN t.accepted_at IS NOT NULL THEN t.accepted_at "
    "WHEN t.state IN ('completed', 'expired', 'failed') THEN t.finished_at END"
)


def _nonnegative(expression: str) -> str:
    """``expression``, never below 0, NULL kept (PostgreSQL's GREATEST turns NULL into the other value)."""
    return f"(CASE WHEN ({expression}) < 0 THEN 0 ELSE ({expression}) END)"


def _task_rows(period: Period, now: datetime, agency_ids) -> list[tuple]:
    where, params = ["t.dispatched_at >= %s", "t.dispatched_at < %s"], [period.start, period.end]
    if agency_ids is not None:
        where.append("t.agency_id = ANY(%s)")
        params.append(list(agency_ids))
    sql = f"""
        SELECT t.agency_id,
               count(*),
               count(*) FILTER (WHERE t.state <> 'cancelled' AND {_ACK} <= t.deadline),
               count(*) FILTER (WHERE t.state IN ('completed', 'expired')),
               count(*) FILTER (WHERE t.state = 'failed'),
               count(*) FILTER (WHERE t.state = 'rejected'),
               count(*) FILTER (WHERE t.state = 'cancelled'),
               count(*) FILTER (WHERE t.state <> 'cancelled' AND COALESCE(t.finished_at, %s) > t.deadline),
               percentile_cont(0.5) WITHIN GROUP (ORDER BY ack_s) FILTER (WHERE ack_s IS NOT NULL),
               percentile_cont(0.9) WITHIN GROUP (ORDER BY ack_s) FILTER (WHERE ack_s IS NOT NULL),
               percentile_cont(0.5) WITHIN GROUP (ORDER BY res_s) FILTER (WHERE res_s IS NOT NULL),
               percentile_cont(0.9) WITHIN GROUP (ORDER BY res_s) FILTER (WHERE res_s IS NOT NULL)
        FROM (
            SELECT t.*,
                   {_nonnegative(f"EXTRACT(EPOCH FROM ({_ACK} - t.dispatched_at))")} AS ack_s,
                   CASE WHEN t.state IN ('completed', 'expired', 'failed')
                        THEN {_nonnegative("EXTRACT(EPOCH FROM (t.finished_at - t.dispatched_at))")} END AS res_s
            FROM cases_task t
            WHERE {" AND ".join(where)}
        ) t
        GROUP BY t.agency_id
    """  # noqa: S608 - fixed SQL, parameters bound
    with connection.cursor() as cursor:
        cursor.execute(sql, [now, *params])
        return cursor.fetchall()


def _received(period: Period, agency_ids):
    from .models import Task

    qs = Task.objects.filter(dispatched_at__gte=period.start, dispatched_at__lt=period.end)
    return qs if agency_ids is None else qs.filter(agency_id__in=list(agency_ids))


def held_by_unit(period: Period, now: datetime, agency_ids=None) -> dict[int, holdings.Totals]:
    """Per unit: what its holding tasks received in the period count now (``holdings.counted``)."""
    from .models import Task

    fields = ("id", "case_id", "agency_id", "type", "state", "amount_held", "lapses_at", "follows_id")
    live = Q(state=TaskState.COMPLETED, amount_held__isnull=False) & (Q(lapses_at__isnull=True) | Q(lapses_at__gt=now))
    own = list(_received(period, agency_ids).filter(live, type__in=holdings.holding_codes()).only(*fields))
    ids = {task.pk for task in own}
    # What follows them takes over what it holds, wherever and whenever it was received.
    follow_ups = [
        task
        for task in Task.objects.filter(live, follows_id__in=ids, type__in=holdings.holding_codes()).only(*fields)
        if task.pk not in ids
    ]
    counted = holdings.counted([*own, *follow_ups], now)
    sums: dict[int, dict[str, Decimal]] = defaultdict(lambda: defaultdict(lambda: ZERO))
    for task in own:
        sums[task.agency_id][task_types.get(task.type).holding.case_total] += counted.get(task.pk, ZERO)
    return {
        agency_id: holdings.Totals(by.get("amount_stopped", ZERO), by.get("amount_frozen", ZERO))
        for agency_id, by in sums.items()
    }


def returned_by_unit(period: Period, agency_ids=None) -> dict[int, Decimal]:
    """Per unit: what its fund returns received in the period returned (``ReturnAllocation.returned``)."""
    from .models import ReturnAllocation

    qs = ReturnAllocation.objects.filter(task__dispatched_at__gte=period.start, task__dispatched_at__lt=period.end)
    if agency_ids is not None:
        qs = qs.filter(task__agency_id__in=list(agency_ids))
    return {
        row["task__agency_id"]: row["total"] or ZERO
        for row in qs.values("task__agency_id").annotate(total=Sum("returned"))
    }


def warnings_reached(period: Period, agency_ids=None) -> dict[int, int]:
    """Per unit: victim warnings received in the period, completed with the outcome ``reached``.

    The one definition of "warnings reached"; a warnings model replaces its body, not its callers.
    """
    qs = _received(period, agency_ids).filter(
        type="victim_warning", state__in=COMPLETED_STATES, result__outcome="reached"
    )
    return {row["agency_id"]: row["n"] for row in qs.values("agency_id").annotate(n=Count("id"))}


def unit_figures(
    period: Period, *, now: datetime | None = None, agency_ids=None, members: bool = True
) -> list[UnitFigures]:
    """Every unit's figures for ``period``: each member unit (``members``), and any unit with tasks.

    ``agency_ids`` restricts to those units. Ordered by code.
    """
    from agencies.models import Agency

    now = now or timezone.now()
    rows: dict[int, UnitFigures] = {}
    for row in _task_rows(period, now, agency_ids):
        agency_id, *counts = row
        unit = UnitFigures(agency_id)
        (
            unit.received,
            unit.accepted_on_time,
            unit.completed,
            unit.failed,
            unit.rejected,
            unit.cancelled,
            unit.overdue,
        ) = counts[:7]
        unit.acceptance_median, unit.acceptance_p90, unit.result_median, unit.result_p90 = map(_seconds, counts[7:])
        rows[agency_id] = unit
    for agency_id, totals in held_by_unit(period, now, agency_ids).items():
        unit = rows.setdefault(agency_id, UnitFigures(agency_id))
        unit.stopped, unit.frozen = totals.amount_stopped, totals.amount_frozen
    for agency_id, amount in returned_by_unit(period, agency_ids).items():
        rows.setdefault(agency_id, UnitFigures(agency_id)).returned = amount
    for agency_id, n in warnings_reached(period, agency_ids).items():
        rows.setdefault(agency_id, UnitFigures(agency_id)).warnings_reached = n
    if agency_ids is not None:
        agencies = Agency.objects.filter(pk__in=list(agency_ids))
    elif members:
        agencies = Agency.objects.filter(Q(pk__in=list(rows)) | Q(is_member=True, is_active=True))
    else:
        agencies = Agency.objects.filter(pk__in=list(rows))
    for agency in agencies.only("id", "code", "name", "name_en"):
        unit = rows.setdefault(agency.pk, UnitFigures(agency.pk))
        unit.code, unit.name, unit.name_en = agency.code, agency.name, agency.name_en
    return sorted(rows.values(), key=lambda u: (u.code, u.agency_id))


def unit_row(period: Period, agency_id: int, *, now: datetime | None = None) -> UnitFigures:
    """One unit's figures (the manager's page)."""
    return unit_figures(period, now=now, agency_ids=[agency_id])[0]


# --- the golden hour ---------------------------------------------------------------------


def golden_hour_target_minutes() -> int:
    return int(getattr(settings, "REVIEW_GOLDEN_HOUR_TARGET_MINUTES", 60))


def golden_hour(period: Period, case_ids_sql: tuple[str, list] | None = None) -> dict:
    """Report to the first money actually stopped, over the cases reported in ``period``.

    Per case: the bank's ``executed_at`` of its first stop-payment (a ``golden_hour``
    type) completed with ``amount_held`` > 0 (still held or lapsed since), less
    ``reported_at``. Cases where no money was stopped are counted (``without``)
    but have no time. Median and p90 are ``percentile_cont`` (linear interpolation).
    """
    codes = task_types.registry.where(lambda spec: spec.golden_hour)
    target = golden_hour_target_minutes()
    bounds = [b * 60 for b in GOLDEN_BUCKETS]
    bucket_sql = ", ".join(f"count(*) FILTER (WHERE secs <= {b})" for b in bounds)
    # MATERIALIZED: each case's first stop is looked up once (task_case_idx), not once per aggregate.
    sql = f"""
        WITH firsts AS MATERIALIZED (
            SELECT c.reported_at,
                   (SELECT min(t.executed_at) FROM cases_task t
                    WHERE t.case_id = c.id AND t.type = ANY(%s) AND t.state IN ('completed', 'expired')
                      AND t.amount_held > 0 AND t.executed_at IS NOT NULL) AS first_stop
            FROM cases_case c
            WHERE c.reported_at >= %s AND c.reported_at < %s
        ), g AS MATERIALIZED (
            SELECT {_nonnegative("EXTRACT(EPOCH FROM (first_stop - reported_at))")} AS secs FROM firsts
        )
        SELECT count(*), count(secs), count(*) FILTER (WHERE secs <= %s),
               percentile_cont(0.5) WITHIN GROUP (ORDER BY secs),
               percentile_cont(0.9) WITHIN GROUP (ORDER BY secs),
               {bucket_sql}
        FROM g
    """  # noqa: S608 - fixed SQL, parameters bound
    with connection.cursor() as cursor:
        cursor.execute(sql, [codes, period.start, period.end, target * 60])
        cases, stopped, within, median, p90, *cumulative = cursor.fetchone()
    histogram, previous = [], 0
    labels = [*(f"≤{b}" for b in GOLDEN_BUCKETS), f">{GOLDEN_BUCKETS[-1]}"]
    for label, upto in zip(labels, [*cumulative, stopped], strict=True):
        histogram.append({"minutes": label, "cases": upto - previous})
        previous = upto
    return {
        "cases": cases,
        "count": stopped,
        "without": cases - stopped,
        "median": _seconds(median),
        "p90": _seconds(p90),
        "target_minutes": target,
        "within_target": within,
        "within_target_rate": rate(within, stopped),
        "histogram": histogram,
    }


# --- case totals (the dashboard's top line) ----------------------------------------------


@dataclass
class Totals:
    cases: int
    lost: Decimal
    stopped: Decimal
    frozen: Decimal


def totals(cases, since: datetime) -> Totals:
    """Cases (already ``visible_to``) reported since ``since``: count, loss, and what they hold now.

    Stopped and frozen are the cases' stored totals, ``holdings.refresh_totals``' definition.
    """
    row = cases.filter(reported_at__gte=since).aggregate(
        n=Count("id"), lost=Sum("loss_amount"), stopped=Sum("amount_stopped"), frozen=Sum("amount_frozen")
    )
    return Totals(row["n"], row["lost"] or ZERO, row["stopped"] or ZERO, row["frozen"] or ZERO)


# --- the score ---------------------------------------------------------------------------


def response_score(median_seconds: float | None, target_minutes: int) -> float | None:
    """100 when the median time to acceptance is within the target, else target / median × 100."""
    if median_seconds is None:
        return None
    if median_seconds <= target_minutes * 60:
        return 100.0
    return round(100 * target_minutes * 60 / median_seconds, 1)


def score(unit: UnitFigures, weights) -> float | None:
    """The weighted mean of the on-time rate, the completion rate and the response score.

    ``weights`` has ``on_time``, ``completion``, ``response`` (non-negative) and
    ``response_target_minutes``. A part without a value (no task owed, nothing
    accepted) leaves the mean; no part at all: ``None``.
    """
    parts = [
        (unit.on_time_rate, weights.on_time),
        (unit.completion_rate, weights.completion),
        (response_score(unit.acceptance_median, weights.response_target_minutes), weights.response),
    ]
    parts = [(value, float(weight)) for value, weight in parts if value is not None and weight]
    total = sum(weight for _value, weight in parts)
    if not total:
        return None
    return round(sum(value * weight for value, weight in parts) / total, 1)


# --- the distribution a member unit sees of the others -----------------------------------


def distribution(values) -> dict | None:
    """Min, quartiles, max and count of ``values`` (``None`` left out): no unit named."""
    values = sorted(v for v in values if v is not None)
    if not values:
        return None

    def quantile(q: float) -> float:
        position = (len(values) - 1) * q
        low, high = math.floor(position), math.ceil(position)
        return round(float(values[low]) + (float(values[high]) - float(values[low])) * (position - low), 1)

    return {
        "units": len(values),
        "min": quantile(0),
        "p25": quantile(0.25),
        "median": quantile(0.5),
        "p75": quantile(0.75),
        "max": quantile(1),
    }


DISTRIBUTED = ("received", "on_time_rate", "completion_rate", "acceptance_median", "result_median", "score")


def others_distribution(rows: list[dict], own_id: int) -> dict:
    """The other units with tasks (rows as ``UnitFigures.as_dict``): how many, and each figure's spread."""
    others = [row for row in rows if row["agency_id"] != own_id and row["received"]]
    return {
        "units": len(others),
        **{name: distribution(row.get(name) for row in others) for name in DISTRIBUTED},
    }


# --- the period asked for (pages and the API: the edge's validators) ---------------------

MAX_PERIOD = timedelta(days=366)
_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _bound(value: str, key: str, *, end: bool) -> datetime:
    """A local day (``YYYY-MM-DD``: its start, or for ``to`` the next day's start) or an ISO instant."""
    if _DATE_RE.fullmatch(value):
        try:
            day = date.fromisoformat(value)
        except ValueError:
            raise ValidationError({key: _("Enter a date as YYYY-MM-DD or a time in ISO 8601.")}) from None
        moment = local_midnight(day + timedelta(days=1) if end else day)
    else:
        try:
            moment = parse_instant(value)
        except ValidationError as exc:
            raise ValidationError({key: exc.messages}) from None
    try:
        check_instant(moment)
    except ValidationError as exc:
        raise ValidationError({key: exc.messages}) from None
    return moment


def parse_period(params, now: datetime | None = None) -> Period:
    """``from`` and ``to`` (both optional; ``to`` included when a date): this month to now by default.

    Raises ``ValidationError`` naming the field: a bad date or time, ``from`` not
    before ``to``, or a period longer than a year.
    """
    now = now or timezone.now()
    raw_from, raw_to = (params.get(key) for key in ("from", "to"))
    start = _bound(str(raw_from).strip(), "from", end=False) if raw_from not in (None, "") else month_start(now)
    end = _bound(str(raw_to).strip(), "to", end=True) if raw_to not in (None, "") else now
    if start >= end:
        raise ValidationError({"to": _("The end of the period must come after its start.")})
    if end - start > MAX_PERIOD:
        raise ValidationError({"to": _("A period is at most a year long.")})
    return Period(start, end)


# --- the tasks behind a number (the review's drill-down) ---------------------------------

DRILLABLE = (
    "received",
    "accepted_on_time",
    "completed",
    "failed",
    "rejected",
    "cancelled",
    "overdue",
    "warnings_reached",
)


def tasks_behind(figure: str, period: Period, now: datetime | None = None) -> Q:
    """The tasks a unit's ``figure`` counts, as a filter (the same definitions as ``_task_rows``)."""
    now = now or timezone.now()
    received = Q(dispatched_at__gte=period.start, dispatched_at__lt=period.end)
    not_cancelled = ~Q(state=TaskState.CANCELLED)
    by_figure = {
        "received": Q(),
        "accepted_on_time": not_cancelled
        & (
            Q(accepted_at__isnull=False, accepted_at__lte=F("deadline"))
            | Q(accepted_at__isnull=True, state__in=RESULT_STATES, finished_at__lte=F("deadline"))
        ),
        "completed": Q(state__in=COMPLETED_STATES),
        "failed": Q(state=TaskState.FAILED),
        "rejected": Q(state=TaskState.REJECTED),
        "cancelled": Q(state=TaskState.CANCELLED),
        "overdue": not_cancelled & (Q(finished_at__isnull=True, deadline__lt=now) | Q(finished_at__gt=F("deadline"))),
        "warnings_reached": Q(type="victim_warning", state__in=COMPLETED_STATES, result__outcome="reached"),
    }
    return received & by_figure[figure]
