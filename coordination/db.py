"""Reading the database never fails on a stored time, however it got there.

The edge validators keep out-of-range instants from being written, but a row
written around them (a hand-made fix, an old import, a restore) must not turn
every page that reads it into a 500: psycopg refuses PostgreSQL timestamps
outside Python's years 1-9999, and Python cannot shift a time near those ends
into a local zone. Such a time is read as the nearest instant that every zone
can still show, so the record can be opened and corrected in the pages or the
admin instead of in SQL.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from psycopg import errors
from psycopg.types.datetime import (
    DateBinaryLoader,
    DateLoader,
    TimestampBinaryLoader,
    TimestampLoader,
    TimestamptzBinaryLoader,
    TimestamptzLoader,
)

# One day inside Python's range: localtime() in any zone (±14 h) stays representable.
SAFE_MIN = datetime.min.replace(tzinfo=UTC) + timedelta(days=1)
SAFE_MAX = datetime.max.replace(tzinfo=UTC) - timedelta(days=1)


def _clamp(value: datetime) -> datetime:
    # Only the first and last year can be out of reach; one integer test for the rest.
    if value.year in (1, 9999):
        return min(max(value, SAFE_MIN), SAFE_MAX)
    return value


def _out_of_range(data) -> datetime:
    text = bytes(data)
    return SAFE_MIN if (text.startswith(b"-") or text.endswith(b"BC")) else SAFE_MAX


class SafeTimestamptzLoader(TimestamptzLoader):
    """Django's UTC loader, with out-of-range values read at the nearest end instead of failing."""

    timezone = UTC  # what Django's create_cursor compares with its own zone

    def load(self, data):
        try:
            value = super().load(data)
        except errors.DataError:
            return _out_of_range(data)
        return _clamp(value.replace(tzinfo=UTC))


class SafeTimestamptzBinaryLoader(TimestamptzBinaryLoader):
    timezone = UTC

    def load(self, data):
        try:
            value = super().load(data)
        except errors.DataError:
            # The binary form is microseconds since 2000: negative means before.
            return SAFE_MIN if int.from_bytes(bytes(data), "big", signed=True) < 0 else SAFE_MAX
        return _clamp(value.replace(tzinfo=UTC))


def _naive_end(before: bool):
    return (SAFE_MIN if before else SAFE_MAX).replace(tzinfo=None)


class SafeTimestampLoader(TimestampLoader):
    """Times without a zone (``::date`` casts, ``AT TIME ZONE`` in the admin's date drill-down)."""

    def load(self, data):
        try:
            return super().load(data)
        except errors.DataError:
            text = bytes(data)
            return _naive_end(text.startswith(b"-") or text.endswith(b"BC"))


class SafeTimestampBinaryLoader(TimestampBinaryLoader):
    def load(self, data):
        try:
            return super().load(data)
        except errors.DataError:
            return _naive_end(int.from_bytes(bytes(data), "big", signed=True) < 0)


class SafeDateLoader(DateLoader):
    def load(self, data):
        try:
            return super().load(data)
        except errors.DataError:
            text = bytes(data)
            return date.min if (text.startswith(b"-") or text.endswith(b"BC")) else date.max


class SafeDateBinaryLoader(DateBinaryLoader):
    def load(self, data):
        try:
            return super().load(data)
        except errors.DataError:
            return date.min if int.from_bytes(bytes(data), "big", signed=True) < 0 else date.max


def install_safe_loaders(sender, connection, **kwargs) -> None:
    """``connection_created`` receiver: replace the timestamptz loaders on each new connection."""
    if connection.vendor != "postgresql" or connection.timezone != UTC:
        return  # Django's own loader then; every deployment here stores UTC
    adapters = connection.connection.adapters
    adapters.register_loader("timestamptz", SafeTimestamptzLoader)
    adapters.register_loader("timestamptz", SafeTimestamptzBinaryLoader)
    adapters.register_loader("timestamp", SafeTimestampLoader)
    adapters.register_loader("timestamp", SafeTimestampBinaryLoader)
    adapters.register_loader("date", SafeDateLoader)
    adapters.register_loader("date", SafeDateBinaryLoader)
