"""Validation of ID numbers, phones, accounts and amounts (property-based where it fits)."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from cases.validators import (
    account_warning,
    check_case_times,
    normalise_phone,
    resident_id_check_digit,
    validate_amount,
    validate_bank_account,
    validate_identifier,
    validate_mobile,
    validate_resident_id,
    validate_victim_phone,
)
from coordination.validators import check_past, parse_amount, parse_instant

birth = st.dates(min_value=__import__("datetime").date(1930, 1, 1), max_value=__import__("datetime").date(2010, 12, 31))


@given(area=st.integers(110000, 659999), born=birth, serial=st.integers(0, 999))
def test_any_well_formed_id_with_its_check_digit_is_valid(area, born, serial):
    first = f"{area}{born:%Y%m%d}{serial:03d}"
    validate_resident_id(first + resident_id_check_digit(first))


@given(area=st.integers(110000, 659999), born=birth, serial=st.integers(0, 999), wrong=st.sampled_from("0123456789X"))
def test_a_wrong_check_digit_is_refused(area, born, serial, wrong):
    first = f"{area}{born:%Y%m%d}{serial:03d}"
    if wrong == resident_id_check_digit(first):
        return
    with pytest.raises(ValidationError):
        validate_resident_id(first + wrong)


@pytest.mark.parametrize("value", ["51010719900101123X", "11010519491231002X", "440524198001010013"])
def test_known_valid_ids(value):
    validate_resident_id(value)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "51010719900101123",
        "5101071990010112345",
        "51010719901301123X",
        "51010719900230123X",
        "510107199001011231",
        "A1010719900101123X",
        "510107209901011234",
    ],
)
def test_invalid_ids(value):
    with pytest.raises(ValidationError):
        validate_resident_id(value)


# Assigned mobile prefixes (phonenumbers' CN metadata knows which ranges are in use).
MOBILE_PREFIXES = [*(f"13{d}" for d in range(10)), "150", "151", "152", "155", "166", "177", "180", "186", "199"]


@given(st.sampled_from(MOBILE_PREFIXES), st.from_regex(r"\A[0-9]{8}\Z"))
def test_mobiles(prefix, rest):
    value = prefix + rest
    validate_mobile(value)
    validate_mobile("+86 " + value[:3] + "-" + value[3:])


@pytest.mark.parametrize(
    "value",
    [
        "12800000000",
        "1380000000",
        "138000000000",
        "abcdefghijk",
        "",
        "15400000000",  # an unassigned range: phonenumbers knows it
        "１３８００００００００",  # full-width digits
        "+1 2025550123",  # a number, but not a mainland mobile
    ],
)
def test_invalid_mobiles(value):
    with pytest.raises(ValidationError):
        validate_mobile(value)


def test_phone_normalisation():
    assert normalise_phone("+86 138-0000-0000") == "13800000000"
    assert normalise_phone("0086 13800000000") == "13800000000"


@given(st.from_regex(r"\A[0-9]{12,30}\Z"))
def test_accounts(value):
    validate_bank_account(value)


@pytest.mark.parametrize("value", ["12345", "6217 0000 1001 2345 678X", "1" * 31, "", "٦٢١٧٠٠٠٠١٠٠١٢٣٤٥٦٧٨"])
def test_invalid_accounts(value):
    with pytest.raises(ValidationError):
        validate_bank_account(value)


@given(st.decimals(min_value=Decimal("0.01"), max_value=Decimal("999999999999.99"), places=2))
def test_amounts(value):
    validate_amount(value)


@pytest.mark.parametrize("value", ["0", "-1", "1.001", "abc", "NaN", "Infinity", "1e20", None])
def test_invalid_amounts(value):
    with pytest.raises(ValidationError):
        validate_amount(value)


@pytest.mark.parametrize(
    ("kind", "value"), [("url", "not a url"), ("phone", "12"), ("bank_account", "abc"), ("app", ""), ("person", "123")]
)
def test_invalid_identifiers(kind, value):
    with pytest.raises(ValidationError):
        validate_identifier(kind, value)


# --- the edge checks of times and amounts (coordination.validators) -------------------


@pytest.mark.parametrize(
    "value",
    [
        "2026-11-24T09:12:00+08:00",
        "2026-11-24T09:12:00Z",
        "2026-11-24T09:12:00.123456-05:00",
        "2026-11-24 09:12+0800",
        "1990-01-01T00:00:00Z",
        "2026-11-24T09:12:00+14:00",
        "2026-11-24T09:12:00-12:00",
    ],
)
def test_instants(value):
    assert parse_instant(value).utcoffset() is not None


@pytest.mark.parametrize(
    "value",
    [
        "2026-11-24T09:12:00",  # no zone
        "2026-11-24T09:12:00+18:21",  # no such zone
        "2026-11-24T09:12:00-14:01",
        "9999-12-31T23:59:59-14:00",
        "0001-01-01T00:00:00+08:00",
        "1989-12-31T23:59:59Z",
        "2100-01-01T00:00:00Z",
        "２０２６-11-24T09:12:00+08:00",  # full-width digits
        "2026-13-01T00:00:00Z",
        "2026-11-24",
        "yesterday",
        "",
        20261124,
        None,
        ["2026-11-24T09:12:00Z"],
    ],
)
def test_invalid_instants(value):
    with pytest.raises(ValidationError):
        parse_instant(value)


def test_past_instants_allow_only_the_clock_skew():
    now = timezone.now()
    check_past(now + timedelta(minutes=4), now=now)
    with pytest.raises(ValidationError):
        check_past(now + timedelta(minutes=6), now=now)


@pytest.mark.parametrize(
    ("value", "expected"), [("52000.00", "52000.00"), ("52000", "52000.00"), ("0.5", "0.50"), (Decimal("7"), "7.00")]
)
def test_strict_amounts(value, expected):
    assert str(parse_amount(value)) == expected


@pytest.mark.parametrize(
    "value",
    [
        " 52000.00",
        "52000.00 ",
        "٥٢٠٠٠",  # Arabic-Indic digits
        "５２０００",  # full-width
        "52,000.00",
        "+52000",
        "-1.00",
        "1e3",
        "0x10",
        "1.001",
        "0",
        "0.00",
        "1000000000000.00",
        52000.5,
        52000,  # a JSON number: amounts are strings
        True,
        None,
        Decimal("NaN"),
        [],
    ],
)
def test_amounts_refused_at_the_edge(value):
    with pytest.raises(ValidationError):
        parse_amount(value)


def test_zero_amount_only_where_allowed():
    assert str(parse_amount("0", allow_zero=True)) == "0.00"


def test_luhn_is_a_warning_for_card_like_numbers_only():
    assert account_warning("6222020200112233445")  # 19 digits, Luhn fails: likely a typo
    assert account_warning("6222 0202 0011 2233 446") == ""  # the same card, right check digit
    assert account_warning("4111111111111111") == ""
    assert account_warning("110020003000400050006") == ""  # 21 digits: a corporate account, no Luhn
    assert account_warning("123456789012") == ""
    validate_bank_account("6222020200112233445")  # never an error


@pytest.mark.parametrize("value", ["13800000000", "+86 138 0000 0000", "028-87654321", "+1 202 555 0123"])
def test_victim_phones(value):
    validate_victim_phone(value)


@pytest.mark.parametrize("value", ["12345", "1380000000", "abc", "１３８００００００００", "+86 154 0000 0000"])
def test_invalid_victim_phones(value):
    with pytest.raises(ValidationError):
        validate_victim_phone(value)


def test_stdnum_area_code_gaps_do_not_break_the_id_check():
    # python-stdnum's birth-place table fails on some codes; the check never consults it.
    for area in ("110000", "659999", "440524"):
        first = f"{area}19900101123"
        validate_resident_id(first + resident_id_check_digit(first))


def test_case_time_rules():
    now = timezone.now()
    assert check_case_times(reported_at=now - timedelta(hours=1), occurred_at=now - timedelta(hours=2), now=now) == {}
    errors = check_case_times(
        reported_at=now - timedelta(hours=1),
        occurred_at=now - timedelta(minutes=30),
        transfer_times=[("t0", now - timedelta(hours=2)), ("t1", now - timedelta(minutes=10))],
        now=now,
    )
    assert set(errors) == {"occurred_at", "t1"}
    assert set(check_case_times(reported_at=now + timedelta(days=365 * 1000), now=now)) == {"reported_at"}
    assert set(check_case_times(reported_at=now + timedelta(hours=1), now=now)) == {"reported_at"}
    old = datetime(1989, 12, 31, tzinfo=UTC)
    assert set(check_case_times(reported_at=now, occurred_at=old, now=now)) == {"occurred_at"}
