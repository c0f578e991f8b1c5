"""Tracing (cases.tracing): hand-worked histories, then properties over generated graphs."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal, localcontext

from hypothesis import given, settings
from hypothesis import strategies as st

from cases.tracing import PRECISION, Flow, trace

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
D = Decimal
TINY = D("1e-25")


def at(minutes):
    return T0 + timedelta(minutes=minutes)


def pay(n, victim, target, amount, minute):
    """A victim's own payment from their account."""
    return Flow(id=n, source=f"own-{victim}", target=target, amount=D(amount), at=at(minute), victim=victim, order=n)


def move(n, source, target, amount, minute):
    return Flow(
        id=n,
        source=source,
        target=target,
        amount=None if amount is None else D(amount),
        at=None if minute is None else at(minute),
        order=n,
    )


def amounts(result):
    return {v: s.amount for v, s in result.shares.items()}


def test_one_victim_all_in_the_account():
    result = trace([pay(1, "A", "M", "9000.00", 0)], "M", {"A": D("9000.00")})
    assert amounts(result) == {"A": D("9000.00")}
    assert not result.shares["A"].mixed and not result.flagged
    assert result.traced == D("9000.00") and result.untraced == 0


def test_one_victim_part_moved_on():
    # 9,000 in, 4,000 out to the next layer: 5,000 stays, 4,000 is in the next account.
    flows = [pay(1, "A", "M", "9000", 0), move(2, "M", "N", "4000", 5)]
    assert amounts(trace(flows, "M")) == {"A": D("5000")}
    assert amounts(trace(flows, "N")) == {"A": D("4000")}
    assert not trace(flows, "N").shares["A"].mixed


def test_two_victims_into_one_account_pro_rata():
    # A 6,000 and B 3,000 in; 3,000 leaves: each loses a third. Both mixed.
    flows = [pay(1, "A", "M", "6000", 0), pay(2, "B", "M", "3000", 1), move(3, "M", "X", "3000", 2)]
    result = trace(flows, "M")
    assert amounts(result) == {"A": D("4000"), "B": D("2000")}
    assert result.shares["A"].mixed and result.shares["B"].mixed


def test_two_victims_nothing_left_keeps_them_exact():
    # Two deposits, nothing moved: the timestamps separate them (situation 2).
    flows = [pay(1, "A", "M", "6000", 0), pay(2, "B", "M", "3000", 1)]
    result = trace(flows, "M")
    assert amounts(result) == {"A": D("6000"), "B": D("3000")}
    assert not result.mixed


def test_money_that_left_before_a_victim_arrived_carries_none_of_it():
    # A pays 5,000; 5,000 leaves to X; then B pays 2,000. X holds only A's money, M only B's.
    flows = [pay(1, "A", "M", "5000", 0), move(2, "M", "X", "5000", 10), pay(3, "B", "M", "2000", 20)]
    assert amounts(trace(flows, "X")) == {"A": D("5000")}
    result = trace(flows, "M")
    assert amounts(result) == {"B": D("2000")}
    assert not result.shares["B"].mixed


def test_two_layers_with_a_split():
    # A 10,000 into M1; M1 sends 6,000 to M2 and 4,000 to M3; M2 sends 2,000 to M4.
    flows = [
        pay(1, "A", "M1", "10000", 0),
        move(2, "M1", "M2", "6000", 5),
        move(3, "M1", "M3", "4000", 6),
        move(4, "M2", "M4", "2000", 7),
    ]
    assert amounts(trace(flows, "M2")) == {"A": D("4000")}
    assert amounts(trace(flows, "M3")) == {"A": D("4000")}
    assert amounts(trace(flows, "M4")) == {"A": D("2000")}
    assert trace(flows, "M1").shares == {}


def test_serial_cases_sharing_the_second_layer():
    # Case 1's victim A pays 8,000 into M1, case 2's victim B pays 4,000 into M2;
    # both mules send everything to the shared S (second layer), which sends 6,000 on.
    flows = [
        pay(1, "A", "M1", "8000", 0),
        pay(2, "B", "M2", "4000", 1),
        move(3, "M1", "S", "8000", 10),
        move(4, "M2", "S", "4000", 11),
        move(5, "S", "T", "6000", 20),
    ]
    result = trace(flows, "S")
    assert amounts(result) == {"A": D("4000"), "B": D("2000")}
    assert result.shares["A"].mixed and result.shares["B"].mixed
    assert amounts(trace(flows, "T")) == {"A": D("4000"), "B": D("2000")}
    assert result.sent == {"A": D("8000"), "B": D("4000")}


def test_untraced_money_takes_its_part():
    # M held 1,000 of its own (arrived from outside sight) when A's 3,000 came; 2,000 leaves.
    flows = [move(1, "outside", "M", "1000", 0), pay(2, "A", "M", "3000", 1), move(3, "M", "X", "2000", 2)]
    result = trace(flows, "M")
    assert amounts(result) == {"A": D("1500")}
    assert result.untraced == D("500")
    assert not result.shares["A"].mixed  # untraced money mixes no victim


def test_outflow_beyond_what_was_seen_empties_the_account():
    flows = [pay(1, "A", "M", "3000", 0), move(2, "M", "X", "5000", 1)]
    assert trace(flows, "M").shares == {}
    result = trace(flows, "X")
    assert amounts(result) == {"A": D("3000")} and result.untraced == D("2000")


def test_a_victim_never_has_more_traced_than_lost():
    flows = [pay(1, "A", "M", "5000", 0), pay(2, "A", "M", "5000", 1)]
    result = trace(flows, "M", {"A": D("7000")})
    assert amounts(result) == {"A": D("7000")} and result.untraced == D("3000")


def test_unknown_time_is_replayed_last_and_follows_nothing():
    # The unknown-time outflow is taken from M after everything else, and delivers untraced money.
    flows = [pay(1, "A", "M", "6000", 0), move(2, "M", "X", "2000", None), move(3, "M", "Y", "1000", 5)]
    result = trace(flows, "M")
    assert amounts(result) == {"A": D("3000")}
    assert result.shares["A"].uncertain and result.flagged == [2]
    x = trace(flows, "X")
    assert x.shares == {} and x.untraced == D("2000")


def test_unknown_amount_takes_everything_traced():
    flows = [pay(1, "A", "M", "6000", 0), move(2, "M", "X", None, 1), pay(3, "B", "M", "1000", 2)]
    result = trace(flows, "M")
    assert amounts(result) == {"B": D("1000")} and result.flagged == [2]
    assert trace(flows, "X").shares == {}


def test_victim_payment_of_unknown_time_is_not_followed():
    flows = [Flow(id=1, source="own-A", target="M", amount=D("100"), at=None, victim="A")]
    result = trace(flows, "M")
    assert result.shares == {} and result.untraced == D("100") and result.flagged == [1]


# --- properties -----------------------------------------------------------------------

ACCOUNTS = ["M0", "M1", "M2", "M3"]
VICTIMS = ["A", "B", "C"]
cents = st.integers(min_value=1, max_value=2_000_000).map(lambda n: D(n) / 100)


@st.composite
def histories(draw):
    """Victims' payments into mule accounts and moves between mules, with times."""
    flows = []
    for n in range(draw(st.integers(min_value=1, max_value=12))):
        minute = draw(st.integers(min_value=0, max_value=60))
        if draw(st.booleans()):
            victim = draw(st.sampled_from(VICTIMS))
            flows.append(pay(n, victim, draw(st.sampled_from(ACCOUNTS)), draw(cents), minute))
        else:
            source, target = draw(st.lists(st.sampled_from(ACCOUNTS), min_size=2, max_size=2, unique=True))
            flows.append(move(n, source, target, draw(cents), minute))
    losses = {v: draw(cents) for v in VICTIMS if draw(st.booleans())}
    return flows, losses


def balance(flows, account):
    """Replay plain balances (floored at zero: money out of sight pays the excess)."""
    held = D(0)
    for f in sorted(flows, key=lambda f: (f.at, f.order)):
        if f.target == account:
            held += f.amount
        if f.source == account:
            held = max(D(0), held - f.amount)
    return held


@settings(max_examples=200, deadline=None)
@given(histories())
def test_shares_never_exceed_what_a_victim_sent_or_lost(history):
    flows, losses = history
    for account in ACCOUNTS:
        result = trace(flows, account, losses)
        for victim, share in result.shares.items():
            sent = sum(f.amount for f in flows if f.victim == victim)
            assert share.amount <= sent + TINY
            if victim in losses:
                assert share.amount <= losses[victim] + TINY
            assert share.amount <= result.sent[victim] + TINY


@settings(max_examples=200, deadline=None)
@given(histories())
def test_shares_add_up_to_what_reached_the_account(history):
    flows, losses = history
    total_sent = D(0)
    # The sums here at the trace's own precision: Python's default 28 digits would round a
    # total of 10,000.01 at the 23rd decimal, above the tolerance.
    with localcontext() as ctx:
        ctx.prec = PRECISION
        for account in ACCOUNTS:
            result = trace(flows, account, losses)
            # Victims' money and untraced money together are what the account holds.
            assert abs(result.traced + result.untraced - balance(flows, account)) < D("1e-20")
            total_sent += result.traced
        # Across the accounts, no more than the victims put in.
        assert total_sent <= sum(trace(flows, "M0", losses).sent.values()) + TINY


@settings(max_examples=200, deadline=None)
@given(histories(), st.data())
def test_splitting_or_merging_equivalent_transfers_changes_nothing(history, data):
    flows, losses = history
    index = data.draw(st.integers(min_value=0, max_value=len(flows) - 1))
    chosen = flows[index]
    part = data.draw(st.integers(min_value=1, max_value=99))
    first = (chosen.amount * part / 100).quantize(D("0.01"))
    if first <= 0 or first >= chosen.amount:
        return
    # Two transfers of the same time, side by side in the order, instead of one.
    halves = [
        Flow(
            id=(chosen.id, 1),
            source=chosen.source,
            target=chosen.target,
            amount=first,
            at=chosen.at,
            victim=chosen.victim,
            order=chosen.order,
        ),
        Flow(
            id=(chosen.id, 2),
            source=chosen.source,
            target=chosen.target,
            amount=chosen.amount - first,
            at=chosen.at,
            victim=chosen.victim,
            order=chosen.order,
        ),
    ]
    split = flows[:index] + halves + flows[index + 1 :]
    for account in ACCOUNTS:
        whole, parts = trace(flows, account, losses), trace(split, account, losses)
        for victim in set(whole.shares) | set(parts.shares):
            a, b = whole.shares.get(victim), parts.shares.get(victim)
            assert abs((a.amount if a else 0) - (b.amount if b else 0)) < D("1e-20")
            if a and b:
                assert a.mixed == b.mixed
        assert abs(whole.untraced - parts.untraced) < D("1e-20")
