"""Log lines stamped in the platform's zone, with the zone written out.

``logging.Formatter`` stamps with the process's local time and no offset, so a
line read beside an audit row or a CSV (Asia/Shanghai, ``+08:00``) could be
taken for UTC, or be UTC on a host whose clock is. This formatter always writes
``2026-12-01 21:24:13.156+08:00`` in ``TIME_ZONE``, whatever ``TZ`` says.
"""

from __future__ import annotations

import logging
from datetime import datetime
from zoneinfo import ZoneInfo


class ZonedFormatter(logging.Formatter):
    """``%(asctime)s`` as an ISO-8601 instant in ``zone`` (milliseconds, offset)."""

    def __init__(self, fmt: str | None = None, datefmt: str | None = None, style: str = "%", *, zone: str = "UTC"):
        super().__init__(fmt, datefmt, style)
        self.zone = ZoneInfo(zone)

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        when = datetime.fromtimestamp(record.created, tz=self.zone)
        if datefmt:
            return when.strftime(datefmt)
        return when.isoformat(sep=" ", timespec="milliseconds")
