"""Validation of the personal and financial data a case carries.

Each validator raises ``ValidationError`` with a message that says what is
wrong, so forms and the API can show it beside the field. Numbers are checked
with the libraries made for them: python-stdnum for resident IDs (GB 11643)
and the Luhn digit of bank cards, phonenumbers for telephone numbers. Times
and amounts use the platform's one set of edge checks
(``coordination.validators``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from stdnum import luhn
from stdnum.cn import ric
from stdnum.exceptions import InvalidChecksum, InvalidComponent
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.util import isdigits

from coordination.validators import CLOCK_SKEW, EARLIEST, MAX_AMOUNT, check_instant, parse_amount

__all__ = ["MAX_AMOUNT"]

_ACCOUNT_RE = re.compile(r"^[0-9]{12,30}$")
# Bank cards (UnionPay, Visa...) carry a Luhn digit; corporate account numbers do not.
CARD_LENGTHS = range(16, 20)
PHONE_REGION = "CN"


def resident_id_check_digit(first17: str) -> str:
    """ISO 7064 MOD 11-2 check character of a resident ID (GB 11643-1999)."""
    return ric.calc_check_digit(first17 + "0")


def validate_resident_id(value: str) -> None:
    """An 18-character resident ID: digits, a real birth date and the right check character.

    python-stdnum's ``cn.ric`` checks the form, the check character and the
    birth date. Its birth-place check is left out on purpose: a card keeps the
    area code of a county abolished since it was issued, and stdnum's table
    does not know every such code (for some it fails with a ``KeyError``).
    """
    value = (value or "").strip().upper()
    if len(value) != 18 or not isdigits(value[:17]) or value[17] not in "0123456789X":
        raise ValidationError(
            _("A resident ID number has 17 digits followed by a digit or X."), code="invalid_id_number"
        )
    try:
        born = ric.get_birth_date(value)
    except InvalidComponent:
        raise ValidationError(_("The birth date in this ID number does not exist."), code="invalid_id_number") from None
    if born.year < 1900 or born > date.today():
        raise ValidationError(_("The birth date in this ID number is not plausible."), code="invalid_id_number")
    if ric.calc_check_digit(value) != value[17]:
        raise ValidationError(_("The check character of this ID number is wrong."), code="invalid_id_number")


def _parse_phone(value: str) -> phonenumbers.PhoneNumber | None:
    text = (value or "").strip()
    # ASCII digits and the usual punctuation only: phonenumbers would read full-width digits.
    if not text or not re.fullmatch(r"\+?[0-9 ()\-]{3,24}", text):
        return None
    try:
        return phonenumbers.parse(text, PHONE_REGION)
    except phonenumbers.NumberParseException:
        return None


def validate_mobile(value: str) -> None:
    """A mainland mobile number (phonenumbers' CN metadata), with or without +86."""
    number = _parse_phone(value)
    mobile = (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)
    if (
        number is None
        or number.country_code != 86
        or not phonenumbers.is_valid_number(number)
        or phonenumbers.number_type(number) not in mobile
    ):
        raise ValidationError(_("A mainland mobile number has 11 digits starting with 13-19."), code="invalid_phone")


def validate_victim_phone(value: str) -> None:
    """A victim's phone: a real number, mobile or landline, mainland or abroad (phonenumbers)."""
    number = _parse_phone(value)
    if number is None or not phonenumbers.is_valid_number(number):
        raise ValidationError(_("Enter a valid phone number, e.g. 13800000000."), code="invalid_phone")


def validate_bank_account(value: str) -> None:
    """A bank card or account number: 12 to 30 digits (after removing spaces)."""
    if not _ACCOUNT_RE.match(normalise_account(value)):
        raise ValidationError(_("An account number has 12 to 30 digits."), code="invalid_account")


def account_warning(value: str) -> str:
    """A likely typo in a card number, or ``""``: a warning, never an error.

    A 16 to 19 digit number looks like a bank card, whose last digit is a Luhn
    check; corporate account numbers of the same length carry none, so the
    analyst may confirm the number as typed.
    """
    number = normalise_account(value)
    if not (_ACCOUNT_RE.match(number) and len(number) in CARD_LENGTHS):
        return ""
    try:
        luhn.validate(number)
    except (InvalidChecksum, StdnumError):
        return str(_("This looks like a card number but its check digit is wrong: check for a typo."))
    return ""


def validate_amount(value) -> None:
    """A positive amount in yuan with at most two decimals (``coordination.validators.parse_amount``)."""
    parse_amount(value)


def check_case_times(
    *,
    reported_at: datetime | None,
    occurred_at: datetime | None = None,
    transfer_times: Iterable[tuple[str, datetime]] = (),
    now: datetime | None = None,
) -> dict[str, list[str]]:
    """Errors of a case's times by field: reported not in the future, occurred not after reported,
    transfers not after the report, nothing before 1990. Empty when all hold."""
    now = now or timezone.now()
    errors: dict[str, list[str]] = {}

    def check(field, value, *, not_after, message):
        try:
            check_instant(value, not_before=EARLIEST)
        except ValidationError as exc:
            errors.setdefault(field, []).extend(exc.messages)
            return
        if not_after is not None and value > not_after:
            errors.setdefault(field, []).append(str(message))

    if reported_at is not None:
        check("reported_at", reported_at, not_after=now + CLOCK_SKEW, message=_("This time is in the future."))
    latest = reported_at if "reported_at" not in errors else None
    if occurred_at is not None:
        check(
            "occurred_at",
            occurred_at,
            not_after=latest or now + CLOCK_SKEW,
            message=_("The fraud cannot have occurred after it was reported."),
        )
    for field, at in transfer_times:
        check(
            field,
            at,
            not_after=latest or now + CLOCK_SKEW,
            message=_("A transfer cannot be later than the report."),
        )
    return errors


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
        number = _parse_phone(value)
        # Landlines, service numbers and numbers abroad are fraud numbers too: 5 to 15 digits
        # that phonenumbers finds possible (it rejects lengths no numbering plan uses).
        if (
            not re.fullmatch(r"[0-9]{5,15}", normalised)
            or number is None
            or not phonenumbers.is_possible_number(number)
        ):
            raise ValidationError(_("A phone number has 5 to 15 digits."), code="invalid_phone")
    elif kind == "url":
        normalised = normalise_url(value)
        if not re.match(r"^[a-z0-9\u4e00-\u9fff.-]+\.[a-z\u4e00-\u9fff]{2,}(:\d+)?(/\S*)?$", normalised):
            raise ValidationError(_("Enter a URL or domain such as example.com/path."), code="invalid_url")
    elif kind == "person":
        validate_resident_id(value)
    elif not normalise_identifier(kind, value) or len(value) > 200 or "\x00" in value:
        raise ValidationError(_("Enter a value of at most 200 characters."), code="invalid_identifier")
