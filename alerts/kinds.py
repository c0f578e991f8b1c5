"""What each kind of notification says, drawn at display time in the reader's language.

A notification stores its kind and parameters (a failure code, an HTTP status, a
reason typed by a person, a time), never a sentence: the page, the API and the
email draw the text with the active language, so the same row reads in Chinese
on Chinese pages and in English on English ones. Which task and case it is about
comes from the row's task (reference, the task type's label, the agency's name in
the current language). Adding a kind is one ``NotificationKind`` choice and one
declaration here.

Rows written before texts were drawn (migration alerts/0005) and without a task
keep their stored ``title``/``body`` as a fallback.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.utils import formats, timezone
from django.utils.dateparse import parse_datetime
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from coordination.templatetags.coordination_tags import agency_name

from .choices import DeliveryFailure, NotificationKind


@dataclass(frozen=True)
class Kind:
    """One kind's title (``%(subject)s`` is the task and case) and, optionally, how its body is drawn."""

    code: str
    title: Promise
    body: Callable[[dict], str] | None = None


def _when(value) -> str:
    """An instant in the parameters, shown in the site's zone (Asia/Shanghai) and the reader's format."""
    at = parse_datetime(value) if isinstance(value, str) else value
    if not isinstance(at, datetime):
        return "?"
    return formats.date_format(timezone.localtime(at), "DATETIME_FORMAT")


def _reason(params: dict) -> str:
    reason = params.get("reason") or ""
    return _("Reason: %(reason)s") % {"reason": reason} if reason else ""


def _failure(params: dict) -> str:
    code = params.get("failure")
    if code == DeliveryFailure.REFUSED:
        return _("The partner refused the push with HTTP %(status)s.") % {"status": params.get("status", "?")}
    if code == DeliveryFailure.DEAD_LAPSED:
        return _("Push dead-lettered: the stop-payment's legal window is over; re-issue it.")
    if code == DeliveryFailure.DEAD_WINDOW:
        return _("Push dead-lettered after the retry window.")
    if code == DeliveryFailure.BLOCKED:
        return _("The push was not sent: the endpoint's address is not allowed. Correct the endpoint, then re-send.")
    return params.get("reason") or ""


def _digest(params: dict) -> str:
    labels = dict(NotificationKind.choices)
    parts = [f"{labels.get(code, code)} {n}" for code, n in sorted((params.get("by_kind") or {}).items())]
    return " · ".join(parts)


KINDS: dict[str, Kind] = {
    kind.code: kind
    for kind in (
        Kind(NotificationKind.NEW_TASK, gettext_lazy("New task: %(subject)s")),
        Kind(NotificationKind.RESULT, gettext_lazy("Result received: %(subject)s")),
        Kind(NotificationKind.REJECTED, gettext_lazy("Task rejected: %(subject)s"), _reason),
        Kind(NotificationKind.FOLLOW_UPS, gettext_lazy("Follow-up stop-payments proposed: %(subject)s")),
        Kind(NotificationKind.DELIVERY_FAILED, gettext_lazy("Push failed: %(subject)s"), _failure),
        Kind(NotificationKind.OVERDUE, gettext_lazy("Overdue: %(subject)s")),
        Kind(
            NotificationKind.LAPSE_WARNING,
            gettext_lazy("Stop-payment lapses soon: %(subject)s, freeze or re-issue"),
            lambda p: _("Lapses at %(at)s.") % {"at": _when(p.get("at"))},
        ),
        Kind(NotificationKind.EXPIRED, gettext_lazy("Measure lapsed: %(subject)s")),
        Kind(
            NotificationKind.RENEWAL,
            gettext_lazy("Freeze expires soon: %(subject)s, renew?"),
            lambda p: _("Expires at %(at)s.") % {"at": _when(p.get("at"))},
        ),
        Kind(NotificationKind.DIGEST, gettext_lazy("Digest"), _digest),
        Kind(
            NotificationKind.WARNING_ESCALATED,
            gettext_lazy("Warning not reached in time: %(subject)s"),
            lambda p: _("Deadline %(at)s; the unit has not reached the person.") % {"at": _when(p.get("deadline"))},
        ),
    )
}


def subject(task, case=None) -> str:
    """Which task of which case: "CD-2026-000123 止付 · 中国建设银行" (in the current language)."""
    case = case or task.case
    head = case.reference if case is not None else f"#{task.pk}"  # a clue's warning has no case
    return f"{head} {task.get_type_display()} · {agency_name(task.agency)}"


def render(note) -> tuple[str, str]:
    """``(title, body)`` of a notification in the active language."""
    params = note.params or {}
    kind = KINDS.get(note.kind)
    if note.kind == NotificationKind.DIGEST:
        items, cases = int(params.get("items", 0)), int(params.get("cases", 0))
        if cases and items > 1:
            title = ngettext(
                "Digest: %(items)d notifications to do in %(cases)d case",
                "Digest: %(items)d notifications to do in %(cases)d cases",
                cases,
            ) % {"items": items, "cases": cases}
        else:
            title = ngettext("Digest: %(items)d notification to do", "Digest: %(items)d notifications to do", items) % {
                "items": items
            }
        return title, _digest(params)
    if note.kind == NotificationKind.SUPERVISION_OVERDUE:
        title = _("Supervision item overdue: %(resolution)s") % {"resolution": params.get("resolution", "")}
        return title, _("The deadline was %(at)s.") % {"at": _when(params.get("deadline"))}
    if kind is None or note.task_id is None:
        # A row from before texts were drawn, or a kind this code no longer knows.
        return note.title, note.body
    title = str(kind.title) % {"subject": subject(note.task, note.case if note.case_id else None)}
    body = kind.body(params) if kind.body else ""
    return title, body or ("" if params else note.body)


# The push's failure as the worker records it on the task (``flag_task``'s reason),
# read back into a code: for rows written before failures carried a code (migration 0005).
_REFUSED = re.compile(r"push refused with HTTP (\d{3})")


def failure_params(reason: str) -> dict:
    """Parameters of a delivery failure from the task's stored reason."""
    match = _REFUSED.search(reason or "")
    if match:
        return {"failure": DeliveryFailure.REFUSED.value, "status": int(match.group(1))}
    if "push blocked" in (reason or ""):
        return {"failure": DeliveryFailure.BLOCKED.value}
    if "legal window" in (reason or ""):
        return {"failure": DeliveryFailure.DEAD_LAPSED.value}
    if "dead-lettered" in (reason or ""):
        return {"failure": DeliveryFailure.DEAD_WINDOW.value}
    return {"failure": DeliveryFailure.OTHER.value, "reason": reason or ""}
