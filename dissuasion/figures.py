"""Warning figures per period, police unit and district: definitions in docs/warnings.md, "Figures".

One SQL statement per call, grouped by the unit holding each warning (a station, or
the sub-bureau that kept it); the district rows add up the units of each
sub-bureau. Period: ``period_start <= created_at < period_end`` (the clue's receipt).

The joint meeting's review (issue 14) plugs in ``warning_figures``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import datetime
from decimal import Decimal

from django.db import connection

from agencies.models import Agency


@dataclass
class WarningFigures:
    """One unit's (or district's) figures for a period; see docs/warnings.md for each definition."""

    received: int = 0
    pending: int = 0
    reached_in_time: int = 0
    dissuaded: int = 0
    unreachable: int = 0
    already_lost: int = 0
    # Median minutes from the clue's receipt to the contact, over those contacted (reached or already lost).
    median_minutes_to_contact: float | None = None
    # The amounts the dissuaded clues named (``amount``), in yuan.
    money_kept: Decimal = Decimal("0.00")
    # The amounts those already lost reported.
    money_lost: Decimal = Decimal("0.00")

    def as_dict(self) -> dict:
        return asdict(self)


SQL = """
SELECT {group},
       count(*),
       count(*) FILTER (WHERE w.outcome = 'pending'),
       count(*) FILTER (WHERE w.outcome IN ('reached', 'already_lost') AND w.contacted_at <= w.deadline),
       count(*) FILTER (WHERE w.outcome = 'reached'),
       count(*) FILTER (WHERE w.outcome = 'unreachable'),
       count(*) FILTER (WHERE w.outcome = 'already_lost'),
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM w.contacted_at - w.created_at))
           FILTER (WHERE w.outcome IN ('reached', 'already_lost') AND w.contacted_at IS NOT NULL),
       coalesce(sum(w.amount) FILTER (WHERE w.outcome = 'reached'), 0),
       coalesce(sum(w.amount_lost) FILTER (WHERE w.outcome = 'already_lost'), 0)
FROM dissuasion_warning w
WHERE w.created_at >= %s AND w.created_at < %s {where}
GROUP BY {group}
"""


def _rows(group: str, period_start: datetime, period_end: datetime, ids: list[int] | None) -> dict[int, WarningFigures]:
    where, args = "", [period_start, period_end]
    if ids is not None:
        where = f"AND {group} = ANY(%s)"
        args.append(ids)
    with connection.cursor() as cursor:
        cursor.execute(SQL.format(group=group, where=where), args)
        rows = cursor.fetchall()
    out = {}
    for key, received, pending, in_time, dissuaded, unreachable, lost, median, kept, lost_money in rows:
        out[key] = WarningFigures(
            received=received,
            pending=pending,
            reached_in_time=in_time,
            dissuaded=dissuaded,
            unreachable=unreachable,
            already_lost=lost,
            median_minutes_to_contact=round(median / 60, 1) if median is not None else None,
            money_kept=Decimal(kept).quantize(Decimal("0.01")),
            money_lost=Decimal(lost_money).quantize(Decimal("0.01")),
        )
    return out


def warning_figures(
    period_start: datetime, period_end: datetime, agencies: Iterable[Agency] | None = None
) -> dict[str, WarningFigures]:
    """Per police unit (agency code): the warnings it held that were received in the period.

    ``agencies`` narrows to those units (an agency without warnings gets zeros);
    ``None``: every unit that held one.
    """
    wanted = list(agencies) if agencies is not None else None
    by_id = _rows("w.unit_id", period_start, period_end, [a.pk for a in wanted] if wanted is not None else None)
    if wanted is None:
        codes = dict(Agency.objects.filter(pk__in=by_id).values_list("pk", "code"))
        return {codes[pk]: figures for pk, figures in sorted(by_id.items(), key=lambda kv: codes[kv[0]])}
    return {a.code: by_id.get(a.pk, WarningFigures()) for a in wanted}


def district_figures(period_start: datetime, period_end: datetime) -> dict[str, WarningFigures]:
    """Per district sub-bureau (agency code): every warning of its district, whichever unit held it."""
    by_id = _rows("w.bureau_id", period_start, period_end, None)
    codes = dict(Agency.objects.filter(pk__in=by_id).values_list("pk", "code"))
    return {codes[pk]: figures for pk, figures in sorted(by_id.items(), key=lambda kv: codes[kv[0]])}


def totals(period_start: datetime, period_end: datetime) -> WarningFigures:
    """The city's figures for the period."""
    rows = _rows("1", period_start, period_end, None)
    return rows.get(1, WarningFigures())
