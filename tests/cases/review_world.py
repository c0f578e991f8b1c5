"""A hand-built history for the review's figures (docs/review.md): every number stated.

Times are relative to ``NOW`` (computed at import of each test through ``world``),
never today's date. Tasks are written as rows with their times, as the actions
would have left them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.utils import timezone

from cases.models import Case, Task
from cases.review import Period

from ..conftest import agency, make_case

M = timedelta(minutes=1)


@dataclass
class World:
    now: datetime
    period: Period
    cases: dict


def task(case, user, code: str, type_: str = "emergency_stop_payment", **values) -> Task:
    """A task row with the given state and times (``created_at`` is set after insert)."""
    created = values.pop("created_at", None)
    values.setdefault("deadline", timezone.now() + timedelta(hours=1))
    row = Task.objects.create(case=case, type=type_, agency=agency(code), target_kind="none", created_by=user, **values)
    if created:
        Task.objects.filter(pk=row.pk).update(created_at=created)
    return row


def build(analyst) -> World:
    """The history (T = two hours ago, the period the last day):

    - case A, reported T: CCB's stop-payment pushed and acknowledged (2xx) at T+2,
      accepted by a person at T+7 (response 5 min), result at T+22 (20 min):
      holds 70,900.00, executed (the bank's time) at T+20; the freeze converted from
      it, received at T+30, accepted T+31, holds 10,000.00 at T+40.
      Stopped 60,900.00, frozen 10,000.00 (once).
    - case B, reported T: ICBC's stop-payment in ICBC's inbox since T+1, never
      opened (deadline T+31): overdue, nothing accepted, no golden hour.
    - case C, reported T: ABC's stop-payment held 5,000.00 from T+10 (executed
      T+8) and lapsed at T+100 (expired): holds nothing now; its golden hour is 8 min.
    - BOC: 24 victim warnings received at T+3, none answered (deadline T+33).
    - CMCC: a victim warning reached at T+12 (received T+4), one rejected at T+6,
      one cancelled by the centre.
    """
    now = timezone.now()
    t0 = now - timedelta(hours=2)
    period = Period(now - timedelta(days=1), now + M)
    a, b, c = (make_case(analyst) for _ in range(3))
    Case.objects.filter(pk__in=[a.pk, b.pk, c.pk]).update(reported_at=t0)
    stop = task(
        a,
        analyst,
        "CCB",
        state="completed",
        dispatched_at=t0 + 2 * M,
        accepted_at=t0 + 7 * M,
        executed_at=t0 + 20 * M,
        finished_at=t0 + 22 * M,
        deadline=t0 + 60 * M,
        amount_held=Decimal("70900.00"),
        lapses_at=now + timedelta(hours=40),
    )
    task(
        a,
        analyst,
        "CCB",
        "freeze",
        state="completed",
        follows=stop,
        dispatched_at=t0 + 30 * M,
        accepted_at=t0 + 31 * M,
        executed_at=t0 + 40 * M,
        finished_at=t0 + 40 * M,
        deadline=t0 + 30 * M + timedelta(days=1),
        amount_held=Decimal("10000.00"),
        lapses_at=now + timedelta(days=180),
    )
    task(b, analyst, "ICBC", state="dispatched", dispatched_at=t0 + M, deadline=t0 + 31 * M)
    task(
        c,
        analyst,
        "ABC",
        state="expired",
        dispatched_at=t0 + 5 * M,
        executed_at=t0 + 8 * M,
        finished_at=t0 + 10 * M,
        deadline=t0 + 35 * M,
        amount_held=Decimal("5000.00"),
        lapses_at=t0 + 100 * M,
    )
    for _ in range(24):
        task(a, analyst, "BOC", "victim_warning", state="dispatched", dispatched_at=t0 + 3 * M, deadline=t0 + 33 * M)
    task(
        a,
        analyst,
        "CMCC",
        "victim_warning",
        state="completed",
        dispatched_at=t0 + 4 * M,
        finished_at=t0 + 12 * M,
        deadline=t0 + 34 * M,
        result={"outcome": "reached"},
    )
    task(
        a,
        analyst,
        "CMCC",
        "victim_warning",
        state="rejected",
        dispatched_at=t0 + 4 * M,
        finished_at=t0 + 6 * M,
        deadline=t0 + 34 * M,
    )
    task(
        a,
        analyst,
        "CMCC",
        "victim_warning",
        state="cancelled",
        dispatched_at=t0 + 4 * M,
        finished_at=t0 + 5 * M,
        deadline=t0 + 34 * M,
    )
    # Before the period: not counted in it.
    task(a, analyst, "CCB", "number_shutdown", state="completed", dispatched_at=now - timedelta(days=3))
    return World(now=now, period=period, cases={"a": a, "b": b, "c": c})
