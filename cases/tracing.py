"""Tracing: whose money is in a frozen account (溯源), a pure function over the money-flow graph.

The definitions are in docs/fund-return.md. In short: every victim's own
payments put that victim's money into the graph; transfers are replayed in time
order; what leaves an account carries each victim's money in proportion to
what the account holds of it at that moment (time-ordered pro-rata taint), so
money that left before a victim's money arrived carries none of it. A share is
*exact* when no money left any account on its path while that account held
more than one victim's money (the law's situations 1 and 2); otherwise it came
through *mixing* (situation 3: a pro-rata return after public notice).

Transfers whose time or amount is unknown are handled conservatively, never in
a victim's favour, and flagged:

- unknown time: it is replayed after every timed transfer; it removes money
  from its source pro rata (as if it had left at the worst moment for what is
  still there) and delivers only untraced money to its target;
- unknown amount: it may have taken everything, so it empties its source of
  traced money and delivers nothing traced.

Money that reaches an account from no victim (the account's own money, or
money whose origin is out of sight) is *untraced*; it takes part in the pro-rata
split like a victim's money, but mixes no one. An outflow larger than all the
platform saw arrive empties the account of what it saw; the excess was money
out of sight.

Nothing here touches the database or floats: amounts are ``Decimal`` computed
at ``PRECISION`` significant digits (exact for the hand-worked cases), rounded
only by the allocation (``cases.allocation``).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, localcontext

PRECISION = 40
ZERO = Decimal("0")


@dataclass(frozen=True)
class Flow:
    """One edge of the graph: ``amount`` from ``source`` to ``target`` at ``at``.

    ``victim`` is set on a victim's own payment (its source is the victim's
    account): the money it carries is that victim's. ``amount`` or ``at`` may
    be ``None`` when unknown. ``order`` breaks ties between equal times (the
    order the transfers were recorded in).
    """

    id: Hashable
    source: Hashable
    target: Hashable
    amount: Decimal | None
    at: datetime | None
    victim: Hashable | None = None
    order: int = 0


@dataclass
class Share:
    """One victim's money in the traced account."""

    amount: Decimal = ZERO
    # Came through an account that paid out while holding more than one victim's money.
    mixed: bool = False
    # A transfer of unknown time or amount touched it on its way.
    uncertain: bool = False


@dataclass
class Trace:
    """What is in ``account``: each victim's share, untraced money and the flagged transfers."""

    account: Hashable
    shares: dict[Hashable, Share] = field(default_factory=dict)
    # Money in the account that comes from no victim (or whose origin is out of sight).
    untraced: Decimal = ZERO
    # Each victim's money put into the graph (their own payments, at most their loss).
    sent: dict[Hashable, Decimal] = field(default_factory=dict)
    # Transfers of unknown time or amount, handled conservatively.
    flagged: list[Hashable] = field(default_factory=list)

    @property
    def traced(self) -> Decimal:
        """What reached the account of every victim's money and is still there."""
        return sum((s.amount for s in self.shares.values()), ZERO)

    @property
    def mixed(self) -> bool:
        return any(s.mixed for s in self.shares.values())


@dataclass
class _Holding:
    amount: Decimal = ZERO
    mixed: bool = False
    uncertain: bool = False


class _Account:
    __slots__ = ("untraced", "victims")

    def __init__(self) -> None:
        self.victims: dict[Hashable, _Holding] = {}
        self.untraced = ZERO

    def traced(self) -> Decimal:
        return sum((h.amount for h in self.victims.values()), ZERO)

    def add(self, victim: Hashable, amount: Decimal, mixed: bool, uncertain: bool) -> None:
        if amount <= 0:
            return
        holding = self.victims.setdefault(victim, _Holding())
        holding.amount += amount
        holding.mixed = holding.mixed or mixed
        holding.uncertain = holding.uncertain or uncertain

    def take(self, amount: Decimal | None, *, uncertain: bool = False) -> tuple[dict[Hashable, _Holding], Decimal]:
        """Remove ``amount`` (``None``: everything); returns the victims' parts and the untraced part.

        What leaves is taken pro rata from everything the account is seen to
        hold, each victim's money and untraced money alike; what exceeds all of
        it was money out of sight (untraced).
        """
        traced = self.traced()
        seen = traced + self.untraced
        holders = [v for v, h in self.victims.items() if h.amount > 0]
        several = len(holders) > 1
        fraction = Decimal(1) if amount is None or amount >= seen else amount / seen
        moved: dict[Hashable, _Holding] = {}
        for victim in holders:
            holding = self.victims[victim]
            part = holding.amount if fraction == 1 else holding.amount * fraction
            # Paying out while holding several victims' money mixes them all, what stays too.
            holding.mixed = holding.mixed or several
            holding.uncertain = holding.uncertain or uncertain
            holding.amount -= part
            if part > 0:
                moved[victim] = _Holding(part, holding.mixed, holding.uncertain)
        untraced = self.untraced if fraction == 1 else self.untraced * fraction
        self.untraced -= untraced
        rest = untraced + (ZERO if amount is None else max(ZERO, amount - seen))
        return moved, rest


def trace(flows: Iterable[Flow], account: Hashable, losses: dict[Hashable, Decimal] | None = None) -> Trace:
    """Each victim's money in ``account`` after replaying ``flows`` in time order.

    ``losses`` caps what each victim's payments put into the graph (a victim
    never has more traced than they lost); a victim's payments beyond it, in
    time order, carry untraced money.
    """
    flows = list(flows)
    losses = losses or {}
    result = Trace(account=account)
    with localcontext() as ctx:
        ctx.prec = PRECISION
        timed = sorted((f for f in flows if f.at is not None), key=lambda f: (f.at, f.order))
        untimed = sorted((f for f in flows if f.at is None), key=lambda f: f.order)
        accounts: dict[Hashable, _Account] = {}
        left: dict[Hashable, Decimal] = {}

        def at(key: Hashable) -> _Account:
            if key not in accounts:
                accounts[key] = _Account()
            return accounts[key]

        for flow in timed + untimed:
            unknown = flow.at is None or flow.amount is None
            if unknown:
                result.flagged.append(flow.id)
            if flow.amount is not None and flow.amount <= 0:
                continue
            target = at(flow.target)
            if flow.victim is not None:
                # A victim's own payment: their money enters the graph, up to what they lost.
                if flow.amount is None:
                    continue
                cap = losses.get(flow.victim)
                if cap is not None:
                    room = left.setdefault(flow.victim, max(ZERO, cap))
                    own = min(flow.amount, room)
                    left[flow.victim] = room - own
                else:
                    own = flow.amount
                if flow.at is None:
                    # When it arrived is unknown: its money is not followed.
                    target.untraced += flow.amount
                    continue
                result.sent[flow.victim] = result.sent.get(flow.victim, ZERO) + own
                target.add(flow.victim, own, False, False)
                target.untraced += flow.amount - own
                continue
            moved, rest = at(flow.source).take(flow.amount, uncertain=unknown)
            if unknown:
                # Taken from the source, but nothing followed downstream.
                if flow.amount is not None:
                    target.untraced += flow.amount
                continue
            for victim, holding in moved.items():
                target.add(victim, holding.amount, holding.mixed, holding.uncertain)
            target.untraced += rest
        final = accounts.get(account, _Account())
        for victim, holding in final.victims.items():
            if holding.amount > 0:
                result.shares[victim] = Share(holding.amount, holding.mixed, holding.uncertain)
        result.untraced = final.untraced
    return result
