"""Validation of partner results, per task type (partner protocol, "Result")."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from .choices import FLOW_TASK_TYPES, ResultStatus, TaskType, WarningOutcome
from .validators import MAX_AMOUNT, normalise_account, validate_bank_account, validate_mobile, validate_resident_id

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


def _money(value: Any, field: str, *, allow_zero: bool = True) -> str:
    if isinstance(value, float | bool) or value is None:
        raise ValidationError({field: _('Send amounts as strings such as "31000.00".')})
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValidationError({field: _("Enter an amount such as 31000.00.")}) from None
    if not amount.is_finite() or amount < 0 or (amount == 0 and not allow_zero):
        raise ValidationError({field: _("The amount must not be negative.")})
    if amount.as_tuple().exponent < -2 or amount > MAX_AMOUNT:
        raise ValidationError({field: _("The amount has at most two decimals and twelve digits.")})
    return f"{amount.quantize(Decimal('0.01'))}"


def _time(value: Any, field: str) -> datetime:
    parsed = parse_datetime(value) if isinstance(value, str) else None
    if parsed is None or parsed.tzinfo is None:
        raise ValidationError({field: _("Enter a time in ISO 8601 with a time zone, e.g. 2026-11-24T09:12:00+08:00.")})
    return parsed


def _text(value: Any, field: str, max_length: int = 200) -> str:
    if not isinstance(value, str) or len(value) > max_length:
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
