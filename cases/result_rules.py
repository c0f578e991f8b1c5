"""The v1.1 rules on results that need the task itself (partner protocol, "v1.1 rules on results").

``cases.results`` checks a result's shape against its type's declared fields;
``clean_task_result`` adds what only the task and its case can tell: times
between the case's first transfer less 30 days and now (plus the clock skew),
``lapses_at`` within the type's legal limit after ``executed_at`` (its
``holding.lapses_after`` in ``cases.task_types``), ``amount_held`` at most the
amount asked for. The API and the result page call it before the action, so a
result that breaks them answers 400 naming the field and nothing is stored.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Min
from django.utils import timezone
from django.utils.translation import gettext as _

from coordination.validators import CLOCK_SKEW, EARLIEST

from .models import Transfer
from .task_types import registry

# Results may be dated this long before the case's first transfer (protocol v1.1).
BEFORE_FIRST_TRANSFER = timedelta(days=30)
# The instants a result may carry, checked against the case and the clock.
EVENT_TIMES = ("done_at", "contacted_at")


def _earliest(task) -> datetime:
    """The earliest time a result of ``task`` may carry: the case's first transfer less 30 days."""
    if task.case_id is None:
        # A clue's warning: no case, no transfer; the clue's receipt is the reference.
        return max(EARLIEST, task.created_at - BEFORE_FIRST_TRANSFER)
    first = Transfer.objects.filter(case_id=task.case_id).aggregate(first=Min("at"))["first"]
    if first is None:
        first = task.case.occurred_at or task.case.reported_at
    return max(EARLIEST, first - BEFORE_FIRST_TRANSFER)


def clean_task_result(
    task, *, status: str, result: Any, executed_at: datetime | None = None, now: datetime | None = None
) -> dict[str, Any]:
    """The type's ``clean_result`` plus the v1.1 rules that need the task; errors name their fields."""
    spec = registry.get(task.type)
    cleaned = spec.clean_result(status, result)
    now = now or timezone.now()
    latest = now + CLOCK_SKEW
    earliest = _earliest(task)
    errors: dict[str, list[str]] = {}

    def window(field: str, value: datetime, lo: datetime, hi: datetime) -> None:
        if value < lo:
            errors.setdefault(field, []).append(_("This time is before the case's first transfer less 30 days."))
        elif value > hi:
            errors.setdefault(field, []).append(_("This time is in the future."))

    executed = executed_at or now
    if executed_at is not None:
        window("executed_at", executed_at, earliest, latest)
    for field in EVENT_TIMES:
        if field in cleaned:
            window(f"result.{field}", datetime.fromisoformat(cleaned[field]), earliest, latest)
    if "opened_at" in cleaned and datetime.fromisoformat(cleaned["opened_at"]) > latest:
        errors.setdefault("result.opened_at", []).append(_("This time is in the future."))
    for index, row in enumerate(cleaned.get("onward_transfers", ())):
        window(f"result.onward_transfers.{index}.at", datetime.fromisoformat(row["at"]), earliest, latest)
    if "lapses_at" in cleaned:
        lapses = datetime.fromisoformat(cleaned["lapses_at"])
        limit = spec.holding.lapses_after if spec.holding else None
        if lapses < executed:
            errors.setdefault("result.lapses_at", []).append(_("A measure cannot lapse before it was executed."))
        elif limit is not None and lapses > executed + limit:
            errors.setdefault("result.lapses_at", []).append(
                _("A stop-payment lapses within 48 hours of execution, a freeze within six months.")
            )
    if "amount_held" in cleaned and task.amount is not None and Decimal(cleaned["amount_held"]) > task.amount:
        errors.setdefault("result.amount_held", []).append(_("The amount held cannot exceed the amount requested."))
    if spec.allocates_return and cleaned.get("returned"):
        _check_returned(task, cleaned["returned"], errors, window, earliest, latest)
    if errors:
        raise ValidationError(errors)
    return cleaned


def _check_returned(task, rows, errors, window, earliest, latest) -> None:
    """A fund return gives back at most each allocation, and only to the accounts allocated."""
    from .models import ReturnAllocation

    allocated: dict[str, Decimal] = {}
    for account, amount in ReturnAllocation.objects.filter(task=task).values_list("account__value", "amount"):
        allocated[account] = allocated.get(account, Decimal("0")) + amount
    for index, row in enumerate(rows):
        window(f"result.returned.{index}.at", datetime.fromisoformat(row["at"]), earliest, latest)
        if row["account_number"] not in allocated:
            errors.setdefault(f"result.returned.{index}.account_number", []).append(
                _("This account has no allocation in this return.")
            )
        elif Decimal(row["amount"]) > allocated[row["account_number"]]:
            errors.setdefault(f"result.returned.{index}.amount", []).append(_("More than this account's allocation."))
