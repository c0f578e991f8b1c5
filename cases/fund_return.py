"""A fund return's figures from the database: the graph around a frozen account, its trace and allocation.

``cases.tracing`` and ``cases.allocation`` are the pure definitions
(docs/fund-return.md); this module feeds them from ``Transfer`` rows of every
case (serial cases share accounts, so the graph is the platform's, not one
case's) and reads what is frozen and what earlier returns gave back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Max, Q, Sum
from django.utils import timezone

from .allocation import Allocation, allocate
from .choices import HOLDING_STATES, ResultStatus, TaskState, TaskType, TransferSource
from .models import Case, Identifier, ReturnAllocation, Task, Transfer, Victim
from .tracing import Flow, Trace, trace

FUND_RETURN = "fund_return"
# How far upstream the graph is followed, and how many accounts at most.
MAX_LAYERS = 12
MAX_ACCOUNTS = 5000
# A return that is not refused, failed or withdrawn holds its allocation.
LIVE_RETURN_STATES = frozenset(
    {TaskState.PENDING_APPROVAL, TaskState.APPROVED, TaskState.DISPATCHED, TaskState.ACCEPTED}
)
ZERO = Decimal("0.00")


@dataclass
class VictimRow:
    """One victim (a case's victim) in the trace and allocation of a frozen account."""

    case: Case
    victim: Victim | None
    account: Identifier
    traced: Decimal
    mixed: bool
    uncertain: bool
    remaining_loss: Decimal
    amount: Decimal


@dataclass
class AccountReturn:
    """What a return from ``account`` would be now."""

    account: Identifier
    frozen: Decimal
    trace: Trace
    allocation: Allocation
    rows: list[VictimRow] = field(default_factory=list)

    @property
    def untraced(self) -> Decimal:
        """Frozen money the allocation cannot give back (untraceable: it stays frozen)."""
        return self.allocation.unallocated

    @property
    def mixed(self) -> bool:
        return any(row.mixed and row.amount for row in self.rows)


def upstream_accounts(account_id: int) -> set[int]:
    """The account and every account money reached it from, layer by layer (bounded)."""
    seen = {account_id}
    frontier = {account_id}
    for _layer in range(MAX_LAYERS):
        if not frontier or len(seen) >= MAX_ACCOUNTS:
            break
        sources = set(
            Transfer.objects.filter(to_identifier_id__in=frontier).values_list("from_identifier_id", flat=True)
        )
        frontier = sources - seen
        seen |= frontier
    return seen


def flows_into(account_id: int) -> tuple[list[Flow], dict[int, int]]:
    """The graph's flows that decide what is in the account, and each victim case's own account.

    Every transfer out of an upstream account (what left matters as much as what
    came), deduplicated across cases: the same payment recorded by two serial
    cases (same accounts, amount and time) is one flow.
    """
    accounts = upstream_accounts(account_id)
    rows = (
        Transfer.objects.filter(from_identifier_id__in=accounts)
        .order_by("at", "id")
        .values_list("id", "case_id", "from_identifier_id", "to_identifier_id", "amount", "at", "source")
    )
    flows, seen, own_account, own_amount = [], set(), {}, {}
    for order, (pk, case_id, source, target, amount, at, kind) in enumerate(rows):
        key = (source, target, amount, at)
        if key in seen:
            continue
        seen.add(key)
        victim = case_id if kind == TransferSource.VICTIM_REPORT else None
        if victim is not None and amount > own_amount.get(victim, ZERO):
            own_account[victim], own_amount[victim] = source, amount
        flows.append(Flow(id=pk, source=source, target=target, amount=amount, at=at, victim=victim, order=order))
    return flows, own_account


def frozen_amount(account_id: int) -> Decimal:
    """What is frozen on the account now, less what returns from it hold or gave back.

    The largest live freeze on it (several cases' freezes of one account hold
    the same money), less earlier returns from it.
    """
    now = timezone.now()
    held = Task.objects.filter(
        target_id=account_id,
        type=TaskType.FREEZE,
        state__in=HOLDING_STATES,
        result_status=ResultStatus.COMPLETED,
        amount_held__isnull=False,
    ).filter(Q(lapses_at__isnull=True) | Q(lapses_at__gt=now))
    frozen = held.aggregate(m=Max("amount_held"))["m"] or ZERO
    return max(ZERO, frozen - returns_from(account_id))


def returns_from(account_id: int) -> Decimal:
    """What earlier returns from the account hold (live) or gave back (completed)."""
    allocations = ReturnAllocation.objects.filter(task__target_id=account_id, task__type=FUND_RETURN)
    live = allocations.filter(task__state__in=LIVE_RETURN_STATES).aggregate(s=Sum("amount"))["s"] or ZERO
    done = allocations.filter(task__state=TaskState.COMPLETED).aggregate(s=Sum("returned"))["s"] or ZERO
    return live + done


def returns_by_case(account_id: int) -> dict[int, Decimal]:
    """Per victim case, what returns from the account hold (live) or gave back (completed)."""
    allocations = ReturnAllocation.objects.filter(task__target_id=account_id, task__type=FUND_RETURN)
    taken: dict[int, Decimal] = {}
    for case_id, amount, returned, state in allocations.values_list("case_id", "amount", "returned", "task__state"):
        if state in LIVE_RETURN_STATES:
            taken[case_id] = taken.get(case_id, ZERO) + amount
        elif state == TaskState.COMPLETED:
            taken[case_id] = taken.get(case_id, ZERO) + returned
    return taken


def prepare_return(account: Identifier) -> AccountReturn:
    """Trace the account and allocate what is frozen on it (nothing is stored)."""
    flows, own_account = flows_into(account.pk)
    cases = {c.pk: c for c in Case.objects.filter(pk__in=own_account).select_related("district")}
    # What earlier (and live) returns already give each victim case counts against their loss.
    pending = dict(
        ReturnAllocation.objects.filter(case_id__in=cases, task__state__in=LIVE_RETURN_STATES)
        .values_list("case_id")
        .annotate(s=Sum("amount"))
    )
    remaining = {pk: max(ZERO, c.loss_amount - c.amount_returned - pending.get(pk, ZERO)) for pk, c in cases.items()}
    losses = {pk: c.loss_amount for pk, c in cases.items()}
    traced = trace(flows, account.pk, losses)
    frozen = frozen_amount(account.pk)
    # Earlier returns from this account took their victims' money out of it.
    taken = returns_by_case(account.pk)
    amounts = {
        victim: max(ZERO, share.amount - taken.get(victim, ZERO))
        for victim, share in traced.shares.items()
        if victim in cases
    }
    allocation = allocate(frozen, amounts, remaining)
    victims = {}
    for victim in Victim.objects.filter(case_id__in=cases).order_by("id"):
        victims.setdefault(victim.case_id, victim)
    accounts = Identifier.objects.select_related("bank").in_bulk(set(own_account.values()))
    rows = [
        VictimRow(
            case=cases[pk],
            victim=victims.get(pk),
            account=accounts[own_account[pk]],
            traced=amounts[pk],
            mixed=share.mixed,
            uncertain=share.uncertain,
            remaining_loss=remaining[pk],
            amount=allocation.parts.get(pk, ZERO),
        )
        for pk, share in sorted(traced.shares.items(), key=lambda item: -item[1].amount)
        if pk in cases
    ]
    return AccountReturn(account=account, frozen=frozen, trace=traced, allocation=allocation, rows=rows)


def frozen_accounts(case: Case) -> list[Identifier]:
    """The accounts a live freeze of ``case`` holds money on, in the order they were frozen."""
    now = timezone.now()
    ids = (
        Task.objects.filter(
            case=case,
            type=TaskType.FREEZE,
            state__in=HOLDING_STATES,
            result_status=ResultStatus.COMPLETED,
            amount_held__gt=0,
            target__isnull=False,
        )
        .filter(Q(lapses_at__isnull=True) | Q(lapses_at__gt=now))
        .order_by("id")
        .values_list("target_id", flat=True)
    )
    accounts = Identifier.objects.select_related("bank").in_bulk(list(ids))
    return [accounts[pk] for pk in dict.fromkeys(ids)]


def case_untraced(case: Case) -> Decimal:
    """The untraced remainder of a case: money frozen on its accounts that no victim's trace claims.

    For each account a live freeze of the case holds, what a return from it now
    would leave unallocated (``AccountReturn.untraced``): it stays frozen and
    goes to court, not back to a victim this way.
    """
    return sum((prepare_return(account).untraced for account in frozen_accounts(case)), ZERO)
