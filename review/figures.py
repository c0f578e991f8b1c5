"""What a viewer of the review is shown: the figures of ``cases.review``, cut to the access policy.

- ``reviews_all_units`` (the centre's roles, auditors, the administrator): every
  member unit's row, named, with its score and supervision items, and the golden hour.
- ``reviews_own_unit`` (an agency's manager): its own unit's row, and the other
  units' figures as a distribution (count, min, quartiles, max): no other unit's
  name, code or id.
- Anyone else: refused (403).

The page, the spreadsheet and ``/api/v1/stats/`` all call ``review_for``.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import Count, F, Q
from django.utils import timezone

from agencies import roles
from cases import review
from coordination.exceptions import ActionNotAllowed

from .models import ScoreWeights, SupervisionItem, SupervisionStatus


def scope_of(user) -> str | None:
    """``"all"``, ``"own"`` or ``None`` (refused)."""
    if roles.can(user, "reviews_all_units"):
        return "all"
    if roles.can(user, "reviews_own_unit") and user.agency_id is not None:
        return "own"
    return None


def supervision_by_unit(period: review.Period, now: datetime, agency_ids=None) -> dict[int, dict]:
    """Per owner unit, over its items due in the period: open, overdue (open past the deadline), closed on time."""
    qs = SupervisionItem.objects.filter(deadline__gte=period.start, deadline__lt=period.end)
    if agency_ids is not None:
        qs = qs.filter(owner_id__in=list(agency_ids))
    rows = qs.values("owner_id").annotate(
        items=Count("id"),
        open=Count("id", filter=Q(status=SupervisionStatus.OPEN)),
        overdue=Count("id", filter=Q(status=SupervisionStatus.OPEN, deadline__lt=now)),
        closed_on_time=Count("id", filter=Q(status=SupervisionStatus.CLOSED, closed_at__lte=F("deadline"))),
    )
    return {row.pop("owner_id"): row for row in rows}


EMPTY_SUPERVISION = {"items": 0, "open": 0, "overdue": 0, "closed_on_time": 0}


def rows_for(period: review.Period, now: datetime, weights: ScoreWeights, agency_ids=None) -> list[dict]:
    units = review.unit_figures(period, now=now, agency_ids=agency_ids)
    supervision = supervision_by_unit(period, now, agency_ids)
    rows = []
    for unit in units:
        unit.supervision = supervision.get(unit.agency_id, dict(EMPTY_SUPERVISION))
        row = unit.as_dict()
        row["score"] = review.score(unit, weights)
        rows.append(row)
    return rows


def review_for(user, period: review.Period, *, now: datetime | None = None, trend: bool = True) -> dict:
    """The review ``user`` may see for ``period`` (and the previous period of equal length, for the trend)."""
    scope = scope_of(user)
    if scope is None:
        raise ActionNotAllowed("The review is for the joint meeting's office and the member units' managers.")
    now = now or timezone.now()
    weights = ScoreWeights.current()
    rows = rows_for(period, now, weights)
    previous = rows_for(period.previous(), now, weights) if trend else []
    before = {row["agency_id"]: row for row in previous}
    for row in rows:
        row["previous"] = trend_of(before.get(row["agency_id"])) if trend else None
    answer = {
        "scope": scope,
        "period": {"from": period.start, "to": period.end},
        "previous_period": {"from": period.previous().start, "to": period.previous().end},
        "weights": {
            "on_time": weights.on_time,
            "completion": weights.completion,
            "response": weights.response,
            "response_target_minutes": weights.response_target_minutes,
        },
    }
    if scope == "all":
        answer.update(units=rows, others=None, golden_hour=review.golden_hour(period))
        return answer
    own = [row for row in rows if row["agency_id"] == user.agency_id]
    if not own:
        [own_unit] = review.unit_figures(period, now=now, agency_ids=[user.agency_id])
        own = [own_unit.as_dict() | {"score": review.score(own_unit, weights), "previous": None}]
    answer.update(units=own, others=review.others_distribution(rows, user.agency_id), golden_hour=None)
    return answer


TREND = ("received", "on_time_rate", "completion_rate", "acceptance_median", "result_median", "score")


def trend_of(row: dict | None) -> dict | None:
    return None if row is None else {name: row[name] for name in TREND}
