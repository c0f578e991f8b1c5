"""Validation of the personal and financial data a case carries.

Each validator raises ``ValidationError`` with a message that says what is
wrong, so forms and the API can show it beside the field.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_ID_RE = re.compile(r"^\d{17}[\dX]$")
_MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")
_ACCOUNT_RE = re.compile(r"^\d{12,30}$")
MAX_AMOUNT = Decimal("999999999999.99")


def resident_id_check_digit(first17: str) -> str:
    """ISO 7064 MOD 11-2 check character of a resident ID (GB 11643-1999)."""
    total = sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def validate_resident_id(value: str) -> None:
    """An 18-character resident ID: digits, a real birth date and the right check character."""
    value = (value or "").strip().upper()
    if not _ID_RE.match(value):
        raise ValidationError(
            _("A resident ID number has 17 digits followed by a digit or X."), code="invalid_id_number"
        )
    try:
        born = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        raise ValidationError(_("The birth date in this ID number does not exist."), code="invalid_id_number") from None
    if born.year < 1900 or born > date.today():
        raise ValidationError(_("The birth date in this ID number is not plausible."), code="invalid_id_number")
    if resident_id_check_digit(value[:17]) != value[17]:
        raise ValidationError(_("The check character of this ID number is wrong."), code="invalid_id_number")


def validate_mobile(value: str) -> None:
    """A mainland mobile number, 11 digits starting 13-19 (after normalisation)."""
    if not _MOBILE_RE.match(normalise_phone(value)):
        raise ValidationError(_("A mainland mobile number has 11 digits starting with 13-19."), code="invalid_phone")


def validate_bank_account(value: str) -> None:
    """A bank card or account number: 12 to 30 digits (after removing spaces)."""
    if not _ACCOUNT_RE.match(normalise_account(value)):
        raise ValidationError(_("An account number has 12 to 30 digits."), code="invalid_account")


def validate_amount(value) -> None:
    """A positive amount in yuan with at most two decimals."""
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValidationError(_("Enter an amount such as 52000.00."), code="invalid_amount") from None
    if not amount.is_finite() or amount <= 0:
        raise ValidationError(_("The amount must be greater than zero."), code="invalid_amount")
    if amount.as_tuple().exponent < -2:
        raise ValidationError(_("The amount has at most two decimals."), code="invalid_amount")
    if amount > MAX_AMOUNT:
        raise ValidationError(_("The amount is too large."), code="invalid_amount")


def normalise_account(value: str) -> str:
    return re.sub(r"[\s-]", "", value or "")


def normalise_phone(value: str) -> str:
    value = re.sub(r"[\s()-]", "", value or "")
    for prefix in ("+86", "0086"):
        if value.startswith(prefix):
            value = value[len(prefix) :]
    return value


def normalise_url(value: str) -> str:
    """A URL or domain down to host and path: the part that identifies a fraud site.

    Scheme, ``www.``, default ports, fragments and trailing slashes do not make a
    different site; the host is case-insensitive, the path is kept as given.
    """
    value = (value or "").strip()
    value = re.sub(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", "", value)
    value = value.split("#", 1)[0]
    host, sep, rest = value.partition("/")
    host = host.lower().rsplit("@", 1)[-1]
    for port in (":80", ":443"):
        if host.endswith(port):
            host = host[: -len(port)]
    if host.startswith("www."):
        host = host[4:]
    path = (sep + rest).rstrip("/")
    return host + path


def normalise_identifier(kind: str, value: str) -> str:
    """The one stored form of an identifier, so the same thing is found across cases."""
    if kind == "bank_account":
        return normalise_account(value)
    if kind == "phone":
        return normalise_phone(value)
    if kind == "url":
        return normalise_url(value)
    if kind == "person":
        return (value or "").strip().upper()
    # Apps and social accounts: case and surrounding space carry no meaning.
    return re.sub(r"\s+", " ", (value or "").strip()).lower()


def validate_identifier(kind: str, value: str) -> None:
    """Check an identifier's value against its kind (raises ``ValidationError``)."""
    if kind == "bank_account":
        validate_bank_account(value)
    elif kind == "phone":
        normalised = normalise_phone(value)
        # Landlines and service numbers are fraud numbers too: 5 to 15 digits.
        if not re.match(r"^\d{5,15}$", normalised):
            raise ValidationError(_("A phone number has 5 to 15 digits."), code="invalid_phone")
    elif kind == "url":
        normalised = normalise_url(value)
        if not re.match(r"^[a-z0-9\u4e00-\u9fff.-]+\.[a-z\u4e00-\u9fff]{2,}(:\d+)?(/\S*)?$", normalised):
            raise ValidationError(_("Enter a URL or domain such as example.com/path."), code="invalid_url")
    elif kind == "person":
        validate_resident_id(value)
    elif not normalise_identifier(kind, value) or len(value) > 200:
        raise ValidationError(_("Enter a value of at most 200 characters."), code="invalid_identifier")
