"""Log lines stamped in the platform's zone, with the zone written out.

``logging.Formatter`` stamps with the process's local time and no offset, so a
line read beside an audit row or a CSV (Asia/Shanghai, ``+08:00``) could be
taken for UTC, or be UTC on a host whose clock is. This formatter always writes
``2026-12-01 21:24:13.156+08:00`` in ``TIME_ZONE``, whatever ``TZ`` says.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime
from zoneinfo import ZoneInfo

from .masking import mask_value


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


# --- personal data out of log lines -------------------------------------------------
#
# A log line is read by whoever runs the servers, not only by the roles that see
# personal data in full; it is copied, shipped and kept longer than any page. So no
# line of the platform (web, workers, beat, gunicorn's access log) carries a whole
# resident ID, mobile number or account number: ``MaskPersonalData`` rewrites digit
# runs of those shapes with the masks the pages use (``coordination.masking``), on
# every handler (``mask_every_handler``; ``settings.LOGGING`` names it on its own).


# Most specific first: an 18-character resident ID, a mainland mobile (with or
# without +86 / 0086, as typed or URL-encoded), then any run of 12 to 19 digits
# (bank cards and accounts), also written in groups ("6217 0000 1001 2345 678").
_PERSONAL = re.compile(
    r"(?<![0-9A-Za-z])(?P<id>[1-9][0-9]{16}[0-9Xx])(?![0-9A-Za-z])"
    r"|(?<![0-9])(?P<phone>(?:(?:\+|%2[Bb]|00)?86[- ]?)?1[3-9][0-9]{9})(?![0-9])"
    r"|(?<![0-9])(?P<account>[0-9]{12,19}|[0-9]{4}(?:[ -][0-9]{3,4}){2,4})(?![0-9])"
)


def _mask_match(match: re.Match) -> str:
    if match.group("id"):
        return mask_value("id_number", match.group("id"))
    if match.group("phone"):
        phone = match.group("phone")
        return phone[: len(phone) - 11] + mask_value("phone", phone[-11:])
    digits = match.group("account")
    return mask_value("bank_account", digits)


def mask_text(text: str) -> str:
    """``text`` with every resident ID, mobile and account number masked."""
    if not text or not any(c.isdigit() for c in text):
        return text
    return _PERSONAL.sub(_mask_match, text)


class MaskPersonalData(logging.Filter):
    """Masks personal numbers in the message, the traceback and the stack of every record.

    The message is formatted here (``getMessage``) and the record's ``args`` dropped,
    so a handler further on formats the masked text; the traceback is formatted
    once and kept masked in ``exc_text``, which formatters use as is.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_personal_data_masked", False):
            return True
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a malformed call: leave it to the formatter to report
            return True
        record.msg, record.args = mask_text(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_text(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_text(record.stack_info)
        record._personal_data_masked = True
        return True


def _all_loggers() -> list[logging.Logger]:
    known = logging.Logger.manager.loggerDict.values()
    return [logging.getLogger(), *(v for v in known if isinstance(v, logging.Logger))]


def _has_mask(handler: logging.Handler) -> bool:
    return any(isinstance(f, MaskPersonalData) for f in handler.filters)


def mask_every_handler() -> int:
    """Put ``MaskPersonalData`` on every handler of every logger that exists now; how many got it.

    ``settings.LOGGING`` names the filter on its handlers; this also reaches those
    Django (``django.server``, ``mail_admins``), Celery and gunicorn add on their own.
    Called once logging is configured (``CoordinationConfig.ready``, Celery's
    ``setup_logging``, gunicorn's ``AccessLogger.setup``).
    """
    loggers = _all_loggers()
    added = 0
    for logger in loggers:
        for handler in logger.handlers:
            if not _has_mask(handler):
                handler.addFilter(MaskPersonalData())
                added += 1
    return added


def unmasked_handlers() -> list[str]:
    """Handlers without the filter, as ``logger: handler`` (empty when every one has it)."""
    loggers = _all_loggers()
    return [f"{log.name}: {handler!r}" for log in loggers for handler in log.handlers if not _has_mask(handler)]


#: Query parameters that carry an identifier or a search for one (``?value=`` of the
#: lookup, ``?identifier=``/``?q=`` of the case lists, ``?target=`` of the task lists):
#: a request line that has one is logged with its path only.
PERSONAL_QUERY_KEYS = frozenset({"value", "identifier", "target", "q", "search", "account", "phone"})


def redact_uri(uri: str) -> str:
    """``uri`` for a log line: without its query string when it names a personal key, else masked."""
    if not uri or "?" not in uri:
        return mask_text(uri or "")
    path, _, query = uri.partition("?")
    keys = {part.partition("=")[0].lower() for part in query.split("&")}
    if keys & PERSONAL_QUERY_KEYS:
        return mask_text(path)
    return mask_text(uri)
