"""Validation of ID numbers, phones, accounts and amounts (property-based where it fits)."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from cases.validators import (
    normalise_phone,
    resident_id_check_digit,
    validate_amount,
    validate_bank_account,
    validate_identifier,
    validate_mobile,
    validate_resident_id,
)

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


@given(st.from_regex(r"\A1[3-9]\d{9}\Z"))
def test_mobiles(value):
    validate_mobile(value)
    validate_mobile("+86 " + value[:3] + "-" + value[3:])


@pytest.mark.parametrize("value", ["12800000000", "1380000000", "138000000000", "abcdefghijk", ""])
def test_invalid_mobiles(value):
    with pytest.raises(ValidationError):
        validate_mobile(value)


def test_phone_normalisation():
    assert normalise_phone("+86 138-0000-0000") == "13800000000"
    assert normalise_phone("0086 13800000000") == "13800000000"


@given(st.from_regex(r"\A\d{12,30}\Z"))
def test_accounts(value):
    validate_bank_account(value)


@pytest.mark.parametrize("value", ["12345", "6217 0000 1001 2345 678X", "1" * 31, ""])
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
