"""The edge's checks of times and amounts: one set for the API, pages, results, filters and imports.

Whatever enters is checked here before anything is stored, so a stored value
is always one every page, export and partner can read back: an instant has a
time zone no wider than the world's (UTC-12 to UTC+14) and a plausible year,
an amount is a plain ASCII decimal with at most two places. Each check raises
Django's ``ValidationError``; forms show it beside the field, the API answers
400 naming the field.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# Nothing the platform records happened before this (the partner protocol's floor).
EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)
# Nothing may be dated later than this, whatever the rule: a filter, a lapse, a deadline.
LATEST = datetime(2100, 1, 1, tzinfo=UTC)
# Clocks differ: "now" at the sender may be a little ahead of ours.
CLOCK_SKEW = timedelta(minutes=5)
# Real time zones run from UTC-12:00 to UTC+14:00; PostgreSQL refuses wider offsets.
MAX_OFFSET = timedelta(hours=14)
MAX_AMOUNT = Decimal("999999999999.99")

# ASCII digits only ([0-9], never \d: Python's \d matches Arabic-Indic and full-width digits).
_INSTANT_RE = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?(Z|z|[+-][0-9]{2}(:?[0-9]{2})?)"
)
_AMOUNT_RE = re.compile(r"[0-9]{1,12}(\.[0-9]{1,2})?")

INSTANT_FORMAT = _("Enter a time in ISO 8601 with a time zone, e.g. 2026-11-24T09:12:00+08:00.")


def parse_instant(value, *, check_range: bool = True) -> datetime:
    """An ISO 8601 instant with its zone (``Z`` or an offset within ±14:00) and a year in range.

    A ``datetime`` passes if it is aware and in range. Anything else (no zone,
    ``+18:21``, year 1 or 9999, non-ASCII digits, a number) raises ``ValidationError``.
    ``check_range=False`` keeps only the form and the zone (a page cursor may
    point at a stored time at either end of the calendar).
    """
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str) and _INSTANT_RE.fullmatch(value):
        try:
            parsed = datetime.fromisoformat(value.replace("z", "Z"))
        except ValueError:
            raise ValidationError(INSTANT_FORMAT, code="invalid_instant") from None
    else:
        raise ValidationError(INSTANT_FORMAT, code="invalid_instant")
    offset = parsed.utcoffset()
    if offset is None:
        raise ValidationError(INSTANT_FORMAT, code="invalid_instant")
    if abs(offset) > MAX_OFFSET:
        raise ValidationError(_("A time zone lies between -12:00 and +14:00."), code="invalid_offset")
    if check_range:
        check_instant(parsed)
    return parsed


def check_instant(value: datetime, *, not_before: datetime | None = None, not_after: datetime | None = None) -> None:
    """``value`` lies within [``not_before``, ``not_after``], and always within [1990, 2100).

    Comparing aware datetimes never converts them, so even year 9999 at -14:00
    is compared without overflowing.
    """
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValidationError(INSTANT_FORMAT, code="invalid_instant")
    if value < EARLIEST or value >= LATEST:
        raise ValidationError(_("Enter a time between 1990 and 2099."), code="instant_out_of_range")
    if not_before is not None and value < not_before:
        raise ValidationError(_("This time is too early."), code="instant_too_early")
    if not_after is not None and value > not_after:
        raise ValidationError(_("This time is too late."), code="instant_too_late")


def check_past(value: datetime, *, now: datetime | None = None) -> None:
    """An instant that has happened: not more than the clock skew ahead of now."""
    check_instant(value)
    if value > (now or timezone.now()) + CLOCK_SKEW:
        raise ValidationError(_("This time is in the future."), code="instant_in_future")


def parse_amount(value, *, allow_zero: bool = False, maximum: Decimal = MAX_AMOUNT) -> Decimal:
    """A positive amount in yuan: a string of ASCII digits with at most two decimals (or a ``Decimal``).

    No spaces, signs, exponents, thousands separators or other scripts' digits:
    what a partner sends is what is stored, or it is refused. JSON numbers are
    refused (the protocol sends amounts as strings): a float has already lost
    its cents, and accepting integers only would invite floats.
    """
    if value is None:
        raise ValidationError(_("Enter an amount such as 52000.00."), code="invalid_amount")
    if isinstance(value, bool | int | float):
        raise ValidationError(_('Send amounts as strings such as "52000.00".'), code="invalid_amount")
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValidationError(_("Enter an amount such as 52000.00."), code="invalid_amount")
        text = f"{value:f}"
    elif isinstance(value, str):
        text = value
    else:
        raise ValidationError(_("Enter an amount such as 52000.00."), code="invalid_amount")
    if text.startswith("-") and _AMOUNT_RE.fullmatch(text[1:]):
        raise ValidationError(_("The amount must be greater than zero."), code="invalid_amount")
    if not _AMOUNT_RE.fullmatch(text):
        if re.fullmatch(r"[0-9]+\.[0-9]{3,}", text):
            raise ValidationError(_("The amount has at most two decimals."), code="invalid_amount")
        if re.fullmatch(r"[0-9]{13,}(\.[0-9]*)?", text):
            raise ValidationError(_("The amount is too large."), code="invalid_amount")
        raise ValidationError(_("Enter an amount such as 52000.00."), code="invalid_amount")
    try:
        amount = Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern admits only valid decimals
        raise ValidationError(_("Enter an amount such as 52000.00."), code="invalid_amount") from None
    if amount < 0 or (amount == 0 and not allow_zero):
        raise ValidationError(_("The amount must be greater than zero."), code="invalid_amount")
    if amount > maximum:
        raise ValidationError(_("The amount is too large."), code="invalid_amount")
    return amount.quantize(Decimal("0.01"))
