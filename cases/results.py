"""Validation of partner results, per task type (partner protocol, "Result" and "v1.1 rules on results").

``clean_result`` checks a result's shape and canonicalises it (what the action
stores and digests); ``clean_task_result`` adds the rules that need the task:
times between the case's first transfer less 30 days and now, ``lapses_at``
within the legal limit after ``executed_at``, ``amount_held`` at most the
amount asked for. The API and the result page call ``clean_task_result`` before
the action, so a result that breaks them answers 400 naming the field and
nothing is stored.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Min
from django.utils import timezone
from django.utils.translation import gettext as _

from coordination.validators import CLOCK_SKEW, EARLIEST, parse_amount, parse_instant

from .choices import FLOW_TASK_TYPES, FREEZE_DAYS, STOP_PAYMENT_HOURS, ResultStatus, TaskType, WarningOutcome
from .models import Transfer
from .validators import normalise_account, validate_bank_account, validate_mobile, validate_resident_id

# The fields each type may report; anything else is refused so typos are seen.
RESULT_FIELDS: dict[str, set[str]] = {
    TaskType.EMERGENCY_STOP_PAYMENT: {"amount_held", "balance", "onward_transfers", "lapses_at"},
    TaskType.FREEZE: {"amount_held", "balance", "onward_transfers", "lapses_at"},
    TaskType.ACCOUNT_QUERY: {"holder_name", "holder_id_number", "balance", "opened_at", "onward_transfers"},
    TaskType.NUMBER_SHUTDOWN: {"done_at"},
    TaskType.URL_BLOCK: {"done_at"},
    TaskType.ACCOUNT_BAN: {"done_at"},
    TaskType.NUMBER_TRACE: {"registered_name", "registered_id_number", "location", "related_numbers"},
    TaskType.VICTIM_WARNING: {"contacted_at", "outcome"},
    TaskType.OTHER: set(),
}
REQUIRED_WHEN_COMPLETED: dict[str, set[str]] = {
    TaskType.EMERGENCY_STOP_PAYMENT: {"amount_held"},
    TaskType.FREEZE: {"amount_held"},
    TaskType.NUMBER_SHUTDOWN: {"done_at"},
    TaskType.URL_BLOCK: {"done_at"},
    TaskType.ACCOUNT_BAN: {"done_at"},
}
MAX_ONWARD_TRANSFERS = 200


# Results may be dated this long before the case's first transfer (protocol v1.1).
BEFORE_FIRST_TRANSFER = timedelta(days=30)
LAPSE_LIMITS = {
    TaskType.EMERGENCY_STOP_PAYMENT: timedelta(hours=STOP_PAYMENT_HOURS),
    TaskType.FREEZE: timedelta(days=FREEZE_DAYS),
}
# The instants a result may carry, checked against the case and the clock.
EVENT_TIMES = ("done_at", "contacted_at")


def _money(value: Any, field: str, *, allow_zero: bool = True) -> str:
    try:
        amount = parse_amount(value, allow_zero=allow_zero)
    except ValidationError as exc:
        raise ValidationError({field: exc.messages}) from None
    return f"{amount}"


def _time(value: Any, field: str) -> datetime:
    try:
        return parse_instant(value)
    except ValidationError as exc:
        raise ValidationError({field: exc.messages}) from None


def _text(value: Any, field: str, max_length: int = 200) -> str:
    # PostgreSQL's jsonb cannot hold U+0000: refused here rather than failing on write.
    if not isinstance(value, str) or len(value) > max_length or "\x00" in value:
        raise ValidationError({field: _("Enter text of at most %(n)d characters.") % {"n": max_length}})
    return value


def clean_onward_transfers(value: Any) -> list[dict[str, str]]:
    if not isinstance(value, list) or len(value) > MAX_ONWARD_TRANSFERS:
        raise ValidationError({"onward_transfers": _("Send a list of at most 200 transfers.")})
    cleaned = []
    for index, item in enumerate(value):
        prefix = f"onward_transfers.{index}"
        if not isinstance(item, dict):
            raise ValidationError({prefix: _("Each transfer is an object.")})
        account = item.get("account_number")
        try:
            validate_bank_account(account if isinstance(account, str) else "")
        except ValidationError as exc:
            raise ValidationError({f"{prefix}.account_number": exc.messages}) from None
        row = {
            "account_number": normalise_account(account),
            "bank": _text(item.get("bank") or "", f"{prefix}.bank", 32).upper(),
            "holder_name": _text(item.get("holder_name") or "", f"{prefix}.holder_name", 100),
            "amount": _money(item.get("amount"), f"{prefix}.amount", allow_zero=False),
            "at": _time(item.get("at"), f"{prefix}.at").isoformat(),
        }
        cleaned.append(row)
    return cleaned


def clean_result(task_type: str, status: str, result: Any) -> dict[str, Any]:
    """The result in canonical form (amounts as two-decimal strings, times ISO), or errors."""
    if status not in ResultStatus.values:
        raise ValidationError({"status": _("Status is completed or failed.")})
    if result is None:
        result = {}
    if not isinstance(result, dict):
        raise ValidationError({"result": _("The result is an object.")})
    allowed = RESULT_FIELDS[task_type]
    unknown = sorted(set(result) - allowed)
    if unknown:
        raise ValidationError({"result": _("Unknown fields for this task type: %(f)s.") % {"f": ", ".join(unknown)}})
    if status == ResultStatus.COMPLETED:
        missing = sorted(f for f in REQUIRED_WHEN_COMPLETED.get(task_type, ()) if result.get(f) in (None, ""))
        if missing:
            required = _("This field is required when the task is completed.")
            raise ValidationError({f"result.{f}": required for f in missing})
    cleaned: dict[str, Any] = {}
    for field, value in result.items():
        if value is None:
            continue
        key = f"result.{field}"
        if field in ("amount_held", "balance"):
            cleaned[field] = _money(value, key)
        elif field in ("lapses_at", "opened_at", "done_at", "contacted_at"):
            cleaned[field] = _time(value, key).isoformat()
        elif field == "onward_transfers":
            if task_type not in FLOW_TASK_TYPES:
                raise ValidationError({key: _("Not reported for this task type.")})
            cleaned[field] = clean_onward_transfers(value)
        elif field in ("holder_id_number", "registered_id_number"):
            try:
                validate_resident_id(value if isinstance(value, str) else "")
            except ValidationError as exc:
                raise ValidationError({key: exc.messages}) from None
            cleaned[field] = value.upper()
        elif field == "related_numbers":
            if not isinstance(value, list) or len(value) > 100:
                raise ValidationError({key: _("Send a list of at most 100 numbers.")})
            for number in value:
                try:
                    validate_mobile(number if isinstance(number, str) else "")
                except ValidationError as exc:
                    raise ValidationError({key: exc.messages}) from None
            cleaned[field] = list(value)
        elif field == "outcome":
            if value not in WarningOutcome.values:
                raise ValidationError({key: _("One of reached, unreachable, already_lost.")})
            cleaned[field] = value
        else:
            cleaned[field] = _text(value, key)
    return cleaned


def _earliest(task) -> datetime:
    """The earliest time a result of ``task`` may carry: the case's first transfer less 30 days."""
    first = Transfer.objects.filter(case_id=task.case_id).aggregate(first=Min("at"))["first"]
    if first is None:
        first = task.case.occurred_at or task.case.reported_at
    return max(EARLIEST, first - BEFORE_FIRST_TRANSFER)


def clean_task_result(
    task, *, status: str, result: Any, executed_at: datetime | None = None, now: datetime | None = None
) -> dict[str, Any]:
    """``clean_result`` plus the v1.1 rules that need the task; errors name their fields."""
    cleaned = clean_result(task.type, status, result)
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
        limit = LAPSE_LIMITS.get(task.type)
        if lapses < executed:
            errors.setdefault("result.lapses_at", []).append(_("A measure cannot lapse before it was executed."))
        elif limit is not None and lapses > executed + limit:
            errors.setdefault("result.lapses_at", []).append(
                _("A stop-payment lapses within 48 hours of execution, a freeze within six months.")
            )
    if "amount_held" in cleaned and task.amount is not None and Decimal(cleaned["amount_held"]) > task.amount:
        errors.setdefault("result.amount_held", []).append(_("The amount held cannot exceed the amount requested."))
    if errors:
        raise ValidationError(errors)
    return cleaned
