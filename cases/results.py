"""Validation of partner results (partner protocol, "Result" and "v1.1 rules on results").

Each task type declares its result fields in ``cases.task_types``, each with
one of the cleaners below; ``clean_result`` checks a result against them. A
cleaner takes the value and its error key and returns the canonical form
(amounts as two-decimal strings, times in ISO 8601), or raises
``ValidationError`` naming the field. Amounts and instants go through the
platform's one set of edge validators (``coordination.validators``). The rules
that need the task itself (time windows, the legal lapse, the amount asked for)
are ``cases.result_rules.clean_task_result``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from coordination.validators import parse_amount, parse_instant

from .choices import ResultStatus, WarningOutcome
from .validators import normalise_account, validate_bank_account, validate_mobile, validate_resident_id

MAX_ONWARD_TRANSFERS = 200


@dataclass(frozen=True)
class ResultField:
    """One field a partner may report for a task type, and how it is checked."""

    name: str
    clean: Callable[[Any, str], Any]
    # Must be present when the task is reported completed.
    required: bool = False


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


# --- the cleaners a result field may use ---------------------------------------------


def money(value: Any, key: str) -> str:
    """An amount, zero allowed, as a two-decimal string."""
    return _money(value, key)


def moment(value: Any, key: str) -> str:
    """An instant with a time zone, in ISO 8601."""
    return _time(value, key).isoformat()


def text(value: Any, key: str) -> str:
    """Free text of at most 200 characters."""
    return _text(value, key)


def resident_id(value: Any, key: str) -> str:
    """A resident ID number (checksum verified), upper case."""
    try:
        validate_resident_id(value if isinstance(value, str) else "")
    except ValidationError as exc:
        raise ValidationError({key: exc.messages}) from None
    return value.upper()


def mobile_numbers(value: Any, key: str) -> list[str]:
    """A list of at most 100 mainland mobile numbers."""
    if not isinstance(value, list) or len(value) > 100:
        raise ValidationError({key: _("Send a list of at most 100 numbers.")})
    for number in value:
        try:
            validate_mobile(number if isinstance(number, str) else "")
        except ValidationError as exc:
            raise ValidationError({key: exc.messages}) from None
    return list(value)


def warning_outcome(value: Any, key: str) -> str:
    """How a victim warning went: one of ``WarningOutcome``."""
    if value not in WarningOutcome.values:
        raise ValidationError({key: _("One of reached, unreachable, already_lost.")})
    return value


def contact_method(value: Any, key: str) -> str:
    """How a victim warning's person was contacted: ``call`` or ``visit``."""
    if value not in ("call", "visit"):
        raise ValidationError({key: _("One of call, visit.")})
    return value


def onward_transfers(value: Any, key: str = "onward_transfers") -> list[dict[str, str]]:
    """Transfers out of the target account; errors are keyed ``onward_transfers.<n>.<field>``."""
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


def returned_rows(value: Any, key: str = "returned") -> list[dict[str, str]]:
    """A fund return's ``returned`` (v1.1): what went back to which account, and when.

    Errors are keyed ``<key>.<n>.<field>``; an account appears once.
    """
    if not isinstance(value, list) or not value or len(value) > MAX_ONWARD_TRANSFERS:
        raise ValidationError({key: _("Send a list of one to 200 returns.")})
    cleaned, accounts = [], set()
    for index, item in enumerate(value):
        prefix = f"{key}.{index}"
        if not isinstance(item, dict):
            raise ValidationError({prefix: _("Each return is an object.")})
        account = item.get("account_number")
        try:
            validate_bank_account(account if isinstance(account, str) else "")
        except ValidationError as exc:
            raise ValidationError({f"{prefix}.account_number": exc.messages}) from None
        account = normalise_account(account)
        if account in accounts:
            raise ValidationError({f"{prefix}.account_number": _("Each account appears once.")})
        accounts.add(account)
        cleaned.append(
            {
                "account_number": account,
                "amount": _money(item.get("amount"), f"{prefix}.amount"),
                "at": _time(item.get("at"), f"{prefix}.at").isoformat(),
            }
        )
    return cleaned


def clean_result(fields: Sequence[ResultField], status: str, result: Any) -> dict[str, Any]:
    """``result`` in canonical form against a type's ``fields``, or errors; unknown fields are refused."""
    if status not in ResultStatus.values:
        raise ValidationError({"status": _("Status is completed or failed.")})
    if result is None:
        result = {}
    if not isinstance(result, dict):
        raise ValidationError({"result": _("The result is an object.")})
    declared = {f.name: f for f in fields}
    # Anything a type does not declare is refused, so typos are seen.
    unknown = sorted(set(result) - set(declared))
    if unknown:
        raise ValidationError({"result": _("Unknown fields for this task type: %(f)s.") % {"f": ", ".join(unknown)}})
    if status == ResultStatus.COMPLETED:
        missing = sorted(f.name for f in fields if f.required and result.get(f.name) in (None, ""))
        if missing:
            required = _("This field is required when the task is completed.")
            raise ValidationError({f"result.{f}": required for f in missing})
    cleaned: dict[str, Any] = {}
    for name, value in result.items():
        if value is None:
            continue
        cleaned[name] = declared[name].clean(value, f"result.{name}")
    return cleaned
