"""What a simulated partner reports back for a pushed task.

Results follow the "Result" section of partner protocol v1 exactly. Everything
random is drawn from a generator seeded by the task id, so a test that knows
the push can predict the result (all but the timestamps, which hang off ``now``).
Money is :class:`~decimal.Decimal` throughout and leaves as a two-decimal string.
The shape of each type's answer, and how long a hold lasts, come from the
type's declaration (``cases.task_types``: plain data, no settings or database).
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from decimal import ROUND_DOWN, Decimal, InvalidOperation
from typing import Any

from cases.task_types import DemoAnswer, TaskTypeSpec, registry

from .data import BANKS, CHENGDU_DISTRICTS, is_male_id, make_account_number, make_id_number, make_mobile, make_name

__all__ = [
    "CST",
    "FREEZE_LASTS",
    "RESULT_STATUSES",
    "STOP_PAYMENT_LASTS",
    "build_result",
    "money",
    "parse_amount",
    "task_rng",
]

#: China Standard Time; no daylight saving, so a fixed offset is exact.
CST = timezone(timedelta(hours=8))
#: An emergency stop-payment lapses after 48 hours unless a freeze replaces it.
STOP_PAYMENT_LASTS = registry.get("emergency_stop_payment").holding.lapses_after
#: A deposit freeze lasts at most six months before it must be renewed.
FREEZE_LASTS = registry.get("freeze").holding.lapses_after
RESULT_STATUSES = ("completed", "failed")

_CENT = Decimal("0.01")
_DEFAULT_FAILURE_REASON = "账户已销户，无法执行"


def task_rng(task_id: Any) -> random.Random:
    """The random generator a task's result is drawn from, seeded by its id alone."""
    digest = hashlib.sha256(f"task:{task_id}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def parse_amount(value: Any) -> Decimal | None:
    """A positive amount from a push (string or number), to the cent; ``None`` otherwise."""
    if value is None or isinstance(value, bool):
        return None
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    if not amount.is_finite() or amount <= 0:
        return None
    return amount.quantize(_CENT, rounding=ROUND_DOWN)


def money(value: Decimal) -> str:
    """An amount as the protocol writes it: a plain string with exactly two decimals."""
    return format(value.quantize(_CENT, rounding=ROUND_DOWN), "f")


def _iso(moment: datetime) -> str:
    return moment.astimezone(CST).replace(microsecond=0).isoformat()


def _cents(value: int) -> Decimal:
    return (Decimal(value) / 100).quantize(_CENT)


def _split(rng: random.Random, cents: int, share: tuple[int, int]) -> tuple[int, list[int]]:
    """Split ``cents`` into what is still in the account and 1-2 onward transfers.

    Integer cents keep the arithmetic exact; ``share`` bounds the percentage
    still in the account. The transfers sum to at most the rest.
    """
    kept = cents * rng.randint(*share) // 100
    if share[0] > 0 and cents > 0:
        kept = max(kept, 1)  # a completed hold holds something, however small the sum
    rest = cents - kept
    moved = rest * rng.randint(60, 100) // 100
    if rng.random() < 0.5 and moved >= 2:
        first = moved * rng.randint(35, 65) // 100
        parts = [first, moved - first]
    else:
        parts = [moved]
    # Fraudsters move round sums; rounding down keeps the total within the rest.
    parts = [p - p % 10000 if p >= 10000 else p for p in parts]
    return kept, [p for p in parts if p > 0]


def _onward_transfers(
    rng: random.Random, parts: list[int], *, exclude: set[str], now: datetime, window: timedelta
) -> list[dict[str, str]]:
    """Transfers out to accounts at other banks, oldest first, all before ``now``."""
    if not parts:
        return []
    banks = rng.sample([code for code in BANKS if code not in exclude], len(parts))
    seconds = int(window.total_seconds())
    offsets = sorted(rng.sample(range(60, seconds), len(parts)), reverse=True)
    transfers = []
    for part, bank, offset in zip(parts, banks, offsets, strict=True):
        transfers.append(
            {
                "account_number": make_account_number(rng, bank),
                "bank": bank,
                "holder_name": make_name(rng, male=rng.random() < 0.6),
                "amount": money(_cents(part)),
                "at": _iso(now - timedelta(seconds=offset)),
            }
        )
    return transfers


def _holder_name(target: Mapping[str, Any], rng: random.Random, male: bool) -> str:
    # The bank knows the real holder; when the push names one, the bank confirms it.
    name = target.get("holder_name")
    if isinstance(name, str) and name.strip() and name.strip() != "...":
        return name.strip()
    return make_name(rng, male=male)


def _holding(spec: TaskTypeSpec, push: Mapping[str, Any], agency: str, rng: random.Random, now: datetime) -> dict:
    target = push.get("target") or {}
    amount = parse_amount(push.get("amount"))
    cents = int(amount * 100) if amount is not None else rng.randint(5_000, 80_000) * 100
    held, parts = _split(rng, cents, (30, 85))
    exclude = {agency, str(target.get("bank") or "")}
    result: dict[str, Any] = {
        "amount_held": money(_cents(held)),
        # The account held all it still had: what was not held had already moved on.
        "balance": money(_cents(held)),
        "onward_transfers": _onward_transfers(rng, parts, exclude=exclude, now=now, window=timedelta(minutes=45)),
    }
    result["lapses_at"] = _iso(now + spec.holding.lapses_after)
    return result


def _account_query(push: Mapping[str, Any], agency: str, rng: random.Random, now: datetime) -> dict:
    target = push.get("target") or {}
    id_number = make_id_number(rng)
    amount = parse_amount(push.get("amount"))
    cents = int(amount * 100) if amount is not None else rng.randint(2_000, 60_000) * 100
    balance, parts = _split(rng, cents, (0, 40))
    opened = now - timedelta(days=rng.randint(120, 3_000))
    opened = opened.astimezone(CST).replace(
        hour=rng.randint(9, 16), minute=rng.randint(0, 59), second=rng.randint(0, 59)
    )
    return {
        "holder_name": _holder_name(target, rng, is_male_id(id_number)),
        "holder_id_number": id_number,
        "balance": money(_cents(balance)),
        "opened_at": _iso(opened),
        "onward_transfers": _onward_transfers(
            rng, parts, exclude={agency, str(target.get("bank") or "")}, now=now, window=timedelta(hours=72)
        ),
    }


def _number_trace(push: Mapping[str, Any], agency: str, rng: random.Random) -> dict:
    target = push.get("target") or {}
    id_number = make_id_number(rng)
    wanted = rng.randint(1, 3)
    related: list[str] = []
    while len(related) < wanted:
        number = make_mobile(rng, agency)
        if number != target.get("value") and number not in related:
            related.append(number)
    return {
        "registered_name": make_name(rng, male=is_male_id(id_number)),
        "registered_id_number": id_number,
        "location": rng.choice(CHENGDU_DISTRICTS),
        "related_numbers": related,
    }


def build_result(
    push: Mapping[str, Any],
    agency: str,
    *,
    now: datetime | None = None,
    status: str = "completed",
    reason: str | None = None,
) -> dict[str, Any]:
    """The body a partner POSTs to ``result_url`` for ``push`` received by ``agency``.

    ``status="failed"`` reports a refusal with ``reason`` and an empty result,
    for demonstrating the platform's handling of failed tasks.
    """
    if status not in RESULT_STATUSES:
        raise ValueError(f"status must be one of {RESULT_STATUSES}")
    now = (now or datetime.now(CST)).astimezone(CST).replace(microsecond=0)
    if status == "failed":
        return {"status": "failed", "executed_at": _iso(now), "reason": reason or _DEFAULT_FAILURE_REASON, "result": {}}
    spec = registry.find(push.get("type"))
    answer = spec.demo_answer if spec is not None else DemoAnswer.NOTHING
    rng = task_rng(push.get("task_id", push.get("delivery_id")))
    result: dict[str, Any]
    if answer == DemoAnswer.HOLD:
        result = _holding(spec, push, agency, rng, now)
    elif answer == DemoAnswer.ACCOUNT_QUERY:
        result = _account_query(push, agency, rng, now)
    elif answer == DemoAnswer.DONE:
        result = {"done_at": _iso(now)}
    elif answer == DemoAnswer.NUMBER_TRACE:
        result = _number_trace(push, agency, rng)
    elif answer == DemoAnswer.RETURN:
        # Every allocation back in full to the victim's account.
        result = {
            "returned": [
                {"account_number": row["account_number"], "amount": row["amount"], "at": _iso(now)}
                for row in push.get("allocations") or []
                if isinstance(row, dict) and row.get("account_number") and parse_amount(row.get("amount"))
            ]
        }
    elif answer == DemoAnswer.WARNING:
        result = {"contacted_at": _iso(now), "outcome": "reached"}
    else:
        result = {}
    return {"status": "completed", "executed_at": _iso(now), "reason": None, "result": result}
