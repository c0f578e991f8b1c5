"""Every read of personal data in the audit trail: one row per request, whatever the page or endpoint.

The masking rule (``coordination.masking``) is the one place that knows when a full
value is shown; it notes each into the request's collector (``masking.Reads``). This
middleware opens the collector and, when the answer (a page, a form shown again
with its errors, an API answer; not a server error) showed anything in full,
writes ONE audit row for the request (``data.read``, or the action a view named
with ``primary``, such as ``case.view``): who, which path
(never its query string: identifiers travel there), which kinds, which objects
and which cases. Not one row per object: a list of fifty tasks is one row listing
fifty ids, so a page's query count grows by one and stays independent of its size.

Views that must leave a row even when nothing is shown in full (a page that always
wrote ``case.view``, an identifier lookup, an export) call ``primary``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import audit
from .choices import AuditAction
from .masking import Reads, _collector

#: Objects listed per row at most (a page of a list is bounded by its page size anyway).
MAX_IDS = 500


@dataclass
class Primary:
    action: str
    obj: object | None = None
    object_type: str = ""
    object_id: int | None = None
    case_id: int | None = None
    after: dict = field(default_factory=dict)


def primary(
    request, action: str, *, obj=None, object_type: str = "", object_id: int | None = None, case_id=None, **after
) -> None:
    """Name the request's read: its audit row is written with ``action`` even if nothing is shown in full."""
    request = getattr(request, "_request", request)  # DRF's request wraps Django's, which the middleware holds
    request._read_primary = Primary(
        action=action, obj=obj, object_type=object_type, object_id=object_id, case_id=case_id, after=after
    )


def current() -> Reads | None:
    return _collector.get()


def flush(request, response=None) -> None:
    """Write the request's one read row, if it showed personal data in full or named a primary read."""
    reads = _collector.get()
    first = getattr(request, "_read_primary", None)
    if first is None and not reads:
        return
    if response is not None and response.status_code >= 500:
        return
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return
    request._read_primary = None
    after: dict = {"path": request.path}
    case_id = first.case_id if first else None
    if reads:
        if first is not None and first.obj is not None and first.case_id is not None:
            reads.cases.add(first.case_id)
        after["kinds"] = sorted(reads.kinds)
        after["objects"] = {kind: sorted(ids)[:MAX_IDS] for kind, ids in sorted(reads.objects.items())}
        after["cases"] = sorted(reads.cases)[:MAX_IDS]
        if case_id is None and len(reads.cases) == 1:
            case_id = next(iter(reads.cases))
    if first is not None:
        after.update(first.after)
    audit.record(
        user=user,
        action=first.action if first else AuditAction.DATA_READ,
        obj=first.obj if first else None,
        object_type=first.object_type if first else "",
        object_id=first.object_id if first else None,
        case_id=case_id,
        after=after,
    )


class ReadAuditMiddleware:
    """Collect what a request shows in full and write its one read row (see the module's doc)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _collector.set(Reads())
        try:
            response = self.get_response(request)
            flush(request, response)
            return response
        finally:
            _collector.reset(token)
