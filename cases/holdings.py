"""What a case holds now: the amounts stopped and frozen, defined once (docs/holdings.md).

A holding measure (a type with ``holding`` in the registry: the stop-payment,
the freeze) counts only while it is **live**: completed (the bank reported
``amount_held``) and not lapsed (``lapses_at`` unset or still ahead; the
watcher then moves it to ``expired``, which never counts).

Money is counted once. A measure that follows another (``Task.follows``: a
freeze converted from a stop-payment, a renewal) takes over what it holds from
the one it follows: a live measure counts its ``amount_held`` less what its live
follow-ups hold, never below zero. A stop-payment of 70,900.00 converted into a
freeze that holds 10,000.00 therefore counts 60,900.00 stopped and 10,000.00
frozen; a freeze still awaiting the bank's result takes over nothing yet.

Each live measure's counted amount goes to its type's total
(``Holding.case_total``: ``amount_stopped`` or ``amount_frozen``). The case page
computes this from the tasks (``case_totals``); the stored columns on ``Case``,
which lists, statistics and the API read, are rewritten by ``refresh_totals``
whenever a holding's result is recorded, it lapses, or the case is closed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import Q
from django.utils import timezone

from . import task_types
from .choices import TaskState

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Totals:
    """A case's money held now, by total (``amount_stopped``, ``amount_frozen``)."""

    amount_stopped: Decimal = ZERO
    amount_frozen: Decimal = ZERO

    @property
    def stopped(self) -> Decimal:
        return self.amount_stopped

    @property
    def frozen(self) -> Decimal:
        return self.amount_frozen


def holding_codes() -> list[str]:
    return task_types.registry.where(lambda spec: spec.holding is not None)


def is_live(task, now: datetime) -> bool:
    """Whether a holding measure holds money now: completed with an amount, not lapsed."""
    return (
        task.state == TaskState.COMPLETED
        and task.amount_held is not None
        and (task.lapses_at is None or task.lapses_at > now)
    )


def counted(tasks: Iterable, now: datetime | None = None) -> dict[int, Decimal]:
    """Per live holding task (by id), the amount it counts: its own held less what its live follow-ups hold.

    ``tasks`` are a case's tasks (any types: those without a holding are ignored);
    each needs ``pk``, ``type``, ``state``, ``amount_held``, ``lapses_at`` and ``follows_id``.
    """
    now = now or timezone.now()
    codes = set(holding_codes())
    live = {task.pk: task for task in tasks if task.type in codes and is_live(task, now)}
    taken: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for task in live.values():
        if task.follows_id in live:
            taken[task.follows_id] += task.amount_held
    return {pk: max(ZERO, task.amount_held - taken[pk]) for pk, task in live.items()}


def totals_of(tasks: Iterable, now: datetime | None = None) -> Totals:
    """The case totals of one case's ``tasks`` (the definition above)."""
    tasks = list(tasks)
    by_total: dict[str, Decimal] = defaultdict(lambda: ZERO)
    types = {task.pk: task.type for task in tasks}
    for pk, amount in counted(tasks, now).items():
        by_total[task_types.get(types[pk]).holding.case_total] += amount
    return Totals(**{name: by_total[name] for name in ("amount_stopped", "amount_frozen")})


def _rows(case_ids: Iterable[int], now: datetime):
    from .models import Task

    return (
        Task.objects.filter(
            case_id__in=list(case_ids), type__in=holding_codes(), state=TaskState.COMPLETED, amount_held__isnull=False
        )
        .filter(Q(lapses_at__isnull=True) | Q(lapses_at__gt=now))
        .only("id", "case_id", "type", "state", "amount_held", "lapses_at", "follows_id")
    )


def case_totals(case_ids: Iterable[int], now: datetime | None = None) -> dict[int, Totals]:
    """The totals of several cases in one query (every case asked for is in the answer)."""
    now = now or timezone.now()
    case_ids = list(case_ids)
    by_case: dict[int, list] = defaultdict(list)
    for task in _rows(case_ids, now):
        by_case[task.case_id].append(task)
    return {case_id: totals_of(by_case.get(case_id, ()), now) for case_id in case_ids}


def refresh_totals(case_id: int, now: datetime | None = None) -> Totals:
    """Rewrite the case's stored ``amount_stopped`` and ``amount_frozen`` from its tasks; returns them."""
    from .models import Case

    # The case row first: two results of one case recorded at once are counted one after the other,
    # each reading the other's committed task (READ COMMITTED reads after the lock is granted).
    Case.objects.select_for_update(no_key=True).filter(pk=case_id).values_list("pk", flat=True).first()
    totals = case_totals([case_id], now)[case_id]
    Case.objects.filter(pk=case_id).update(amount_stopped=totals.amount_stopped, amount_frozen=totals.amount_frozen)
    return totals
