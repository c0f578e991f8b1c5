"""Allocation (cases.allocation): hand-worked cases, then properties."""

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cases.allocation import allocate

D = Decimal


def test_one_victim_gets_all_up_to_their_cap():
    result = allocate(D("9000.00"), {"A": D("9000")})
    assert result.parts == {"A": D("9000.00")} and result.unallocated == 0


def test_frozen_more_than_traced_leaves_the_rest_unallocated():
    result = allocate(D("10000.00"), {"A": D("6000"), "B": D("2000")})
    assert result.parts == {"A": D("6000.00"), "B": D("2000.00")}
    assert result.unallocated == D("2000.00")


def test_pro_rata_when_less_is_frozen_than_traced():
    # 6,000 frozen of 4,000 + 8,000 traced: a third and two thirds.
    result = allocate(D("6000.00"), {"A": D("4000"), "B": D("8000")})
    assert result.parts == {"A": D("2000.00"), "B": D("4000.00")}


def test_largest_remainder_in_cents():
    # 100.00 among three equal victims: 33.34, 33.33, 33.33 (ties: the order given).
    result = allocate(D("100.00"), {"A": D("50"), "B": D("50"), "C": D("50")})
    assert result.parts == {"A": D("33.34"), "B": D("33.33"), "C": D("33.33")}
    assert result.allocated == D("100.00")
    # 10.00 in 1:2: 3.333… and 6.666…: the larger remainder takes the cent.
    assert allocate(D("10.00"), {"A": D("1000"), "B": D("2000")}).parts == {"A": D("3.33"), "B": D("6.67")}


def test_remaining_loss_caps_and_the_rest_goes_to_the_others():
    # A lost 9,000 and got 8,000 back before: at most 1,000 more. B takes the rest up to their traced amount.
    result = allocate(D("6000.00"), {"A": D("6000"), "B": D("6000")}, {"A": D("1000"), "B": D("6000")})
    assert result.parts == {"A": D("1000.00"), "B": D("5000.00")}
    assert result.unallocated == 0


def test_nothing_traced_nothing_allocated():
    result = allocate(D("500.00"), {})
    assert result.parts == {} and result.unallocated == D("500.00")


def test_frozen_amount_is_in_cents():
    with pytest.raises(ValueError):
        allocate(D("1.005"), {"A": D("1")})


traced_amounts = st.integers(min_value=0, max_value=10_000_000).map(lambda n: D(n) / 7)
money = st.integers(min_value=0, max_value=5_000_000).map(lambda n: D(n) / 100)


@settings(max_examples=300, deadline=None)
@given(
    money,
    st.dictionaries(st.sampled_from("ABCDE"), traced_amounts, max_size=5),
    st.dictionaries(st.sampled_from("ABCDE"), money, max_size=5),
)
def test_allocation_properties(frozen, traced, losses):
    result = allocate(frozen, traced, losses)
    assert result.allocated <= frozen
    assert result.unallocated >= 0
    for victim, part in result.parts.items():
        assert part == part.quantize(D("0.01")) and part > 0
        assert part <= traced[victim]
        if victim in losses:
            assert part <= losses[victim]
    # Everything that can go back does: the least of the frozen amount and the caps' sum.
    assert result.allocated == min(frozen, sum(result.caps.values(), D(0)))


@settings(max_examples=200, deadline=None)
@given(money, st.lists(st.integers(min_value=1, max_value=1_000_000), min_size=2, max_size=4))
def test_uncapped_parts_follow_the_traced_proportions(frozen, weights):
    traced = {i: D(w) for i, w in enumerate(weights)}
    total = sum(traced.values())
    if frozen > total:
        return
    result = allocate(frozen, traced)
    for victim, weight in traced.items():
        exact = frozen * weight / total
        assert abs(result.parts.get(victim, D(0)) - exact) < D("0.01")
