"""Allocation: the frozen money back to the victims it was traced to (a pure function).

Definitions in docs/fund-return.md. Each victim's *cap* is the least of their
traced amount and their remaining loss (loss less what earlier returns gave
back), in whole cents rounded down. The frozen amount is shared pro rata to the
traced amounts; a victim whose pro-rata part exceeds their cap gets the cap and
the rest is shared again among the others, pro rata to their traced amounts,
until no one exceeds their cap (so all of it goes to one victim when only one
victim's money is there, up to that victim's cap). Parts are turned into cents
by the largest-remainder rule: everyone gets the cents of their part rounded
down, and the cents left over go one each to the largest remainders (ties: the
larger traced amount, then the order given). What no victim can take is
*unallocated*: it stays frozen (untraceable money goes to court, not back this
way).
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal, localcontext

from .tracing import PRECISION, ZERO

CENT = Decimal("0.01")


@dataclass
class Allocation:
    """Each victim's part in cents, and what is left unallocated."""

    frozen: Decimal
    parts: dict[Hashable, Decimal] = field(default_factory=dict)
    caps: dict[Hashable, Decimal] = field(default_factory=dict)

    @property
    def allocated(self) -> Decimal:
        return sum(self.parts.values(), ZERO)

    @property
    def unallocated(self) -> Decimal:
        return self.frozen - self.allocated


def cents_down(amount: Decimal) -> Decimal:
    return max(ZERO, amount).quantize(CENT, rounding=ROUND_DOWN)


def allocate(
    frozen: Decimal, traced: dict[Hashable, Decimal], remaining_loss: dict[Hashable, Decimal] | None = None
) -> Allocation:
    """Share ``frozen`` (in cents) among the victims of ``traced``; see the module's definition."""
    if frozen < 0 or frozen != frozen.quantize(CENT):
        raise ValueError("the frozen amount is a non-negative amount in cents")
    remaining_loss = remaining_loss or {}
    order = [v for v in traced if traced[v] > 0]
    caps = {}
    for victim in order:
        cap = traced[victim]
        if victim in remaining_loss:
            cap = min(cap, remaining_loss[victim])
        caps[victim] = cents_down(cap)
    result = Allocation(frozen=frozen, caps=caps)
    with localcontext() as ctx:
        ctx.prec = PRECISION
        share: dict[Hashable, Decimal] = {}
        open_ = [v for v in order if caps[v] > 0]
        left = min(frozen, sum(caps.values(), ZERO))
        # Water-filling: cap whoever exceeds their cap, share the rest again among the others.
        while open_ and left > 0:
            weight = sum((traced[v] for v in open_), ZERO)
            over = [v for v in open_ if left * traced[v] / weight >= caps[v]]
            if not over:
                for victim in open_:
                    share[victim] = left * traced[victim] / weight
                break
            for victim in over:
                share[victim] = caps[victim]
                left -= caps[victim]
                open_.remove(victim)
        total = sum(share.values(), ZERO)
        # Exact shares add up to a whole number of cents (the least of frozen and the caps' sum).
        target = cents_down(total + Decimal("1e-20"))
        floors = {v: cents_down(share.get(v, ZERO)) for v in order}
        leftover = int((target - sum(floors.values(), ZERO)) / CENT)
        by_remainder = sorted(
            (v for v in order if floors[v] < caps[v]),
            key=lambda v: (-(share.get(v, ZERO) - floors[v]), -traced[v], order.index(v)),
        )
        for victim in by_remainder[: max(0, leftover)]:
            floors[victim] += CENT
    result.parts = {v: floors[v] for v in order if floors[v] > 0}
    return result
