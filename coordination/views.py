"""The one view mixin every page goes through, and the friendly error pages.

``ScopedViewMixin`` is to pages what ``coordination.viewsets.BaseViewSet`` is to
the API: every queryset a page shows comes from ``scoped()`` (that is,
``Model.objects.visible_to(user, action)``), an object outside the user's scope
answers 404 exactly like a missing one, and a role that may see an object but not
act on it gets 403. The audit trail's page is here too: the trail is this floor's.
"""

from __future__ import annotations

import csv
import json
import logging

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseServerError, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.template import loader
from django.utils import timezone
from django.views import View

from coordination import audit, masking, reads
from coordination.choices import AuditAction
from coordination.exceptions import ActionNotAllowed, Conflict, InvalidTransition
from coordination.filtersets import AuditRecordFilterSet, named_filters
from coordination.models import AuditRecord
from coordination.pagination import Keyset, page_of
from coordination.templatetags.coordination_tags import action_label

log = logging.getLogger(__name__)

AUDIT_PAGE = 100
# Index audit_time_idx; the keyset helper is the API's (``AuditPage``).
AUDIT_ORDER = Keyset(("-at", "-id"))
# Rows of a CSV export described at a time (one query per kind of object per chunk).
CSV_CHUNK = 2000


def _chunks(iterable, size: int):
    chunk = []
    for item in iterable:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


class ScopedViewMixin(LoginRequiredMixin):
    """Login required; querysets narrowed by ``visible_to``; role checks answer 403.

    ``allowed(user)`` decides whether the page is for this role at all (403 when
    not); ``scoped(Model, action)`` is the only way a page reads rows.
    """

    raise_exception = False  # anonymous users go to the login page

    def allowed(self, user) -> bool:
        return True

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            if getattr(request, "htmx", False):
                # A poll after the session lapsed: send the whole page to the login form
                # rather than swapping the login page into a table.
                from django.contrib.auth.views import redirect_to_login
                from django_htmx.http import HttpResponseClientRedirect

                page = request.htmx.current_url_abs_path or "/"
                return HttpResponseClientRedirect(redirect_to_login(page).url)
            return self.handle_no_permission()
        if not self.allowed(request.user):
            raise PermissionDenied
        try:
            return super().dispatch(request, *args, **kwargs)
        except ActionNotAllowed as exc:
            raise PermissionDenied(str(exc)) from exc

    def scoped(self, model, action: str = "view"):
        """The rows of ``model`` this user may see (or change)."""
        return model.objects.visible_to(self.request.user, action)

    def get_scoped(self, model_or_qs, action: str = "view", **lookup):
        """One visible object, or 404 with the same page as a missing one."""
        qs = self.scoped(model_or_qs, action) if isinstance(model_or_qs, type) else model_or_qs
        obj = qs.filter(**lookup).first()
        if obj is None:
            raise Http404
        return obj

    def run_action(self, func, *args, success: str | None = None, **kwargs):
        """Call an action; refusals of state or validity become messages, not 500s.

        Returns the action's result, or ``None`` when it was refused.
        """
        try:
            result = func(*args, **kwargs)
        except (InvalidTransition, Conflict) as exc:
            messages.error(self.request, str(exc))
            return None
        except ValidationError as exc:
            messages.error(self.request, " ".join(exc.messages))
            return None
        if success:
            messages.success(self.request, success)
        return result


class ScopedView(ScopedViewMixin, View):
    """A plain view with the mixin."""


def redirect_back(request, fallback: str):
    """Back to the page the form was on (same host only), else ``fallback``."""
    from django.utils.http import url_has_allowed_host_and_scheme

    target = request.POST.get("next") or request.META.get("HTTP_REFERER", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect(fallback)


def error_400(request, exception=None):
    return render(request, "400.html", status=400)


def error_403(request, exception=None):
    return render(request, "403.html", status=403)


def error_403_csrf(request, reason=""):
    # ``reason`` is Django's English sentence for developers; django.security.csrf logs it.
    return render(request, "403_csrf.html", status=403)


def error_404(request, exception=None):
    return render(request, "404.html", status=404)


def error_500(request):
    # The request may be half-broken (the database gone, the session unreadable):
    # then the page without the header's user, menu and session.
    try:
        return render(request, "500.html", status=500)
    except Exception:
        log.exception("500 page failed to render")
        try:
            return HttpResponseServerError(loader.get_template("500_plain.html").render({}))
        except Exception:
            log.exception("plain 500 page failed to render")
            return HttpResponseServerError("500 · Server Error", content_type="text/plain; charset=utf-8")


def csv_cell(value) -> str:
    """A text cell that a spreadsheet will not run as a formula (CSV injection)."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _json_cell(data) -> str:
    return json.dumps(data, ensure_ascii=False) if data else ""


class AuditView(ScopedView):
    """The audit trail: filterable, keyset-paginated, exportable as CSV.

    A case is named by its id or its reference; the reference is looked up by
    the ``audit_case_reference`` hook (``cases`` registers it: this floor has no
    case model). Filters are the API's ``AuditRecordFilterSet``.
    """

    def allowed(self, user):
        return user.policy.reads_audit

    def filtered(self, request):
        data = named_filters(AuditRecordFilterSet, request.GET)
        filterset = AuditRecordFilterSet(data, queryset=self.scoped(AuditRecord), request=request)
        return AUDIT_ORDER.order(filterset.qs)

    def get(self, request):
        rows = self.filtered(request)
        if request.GET.get("format") == "csv":
            # An export is a read of the trail: one row saying who took which selection.
            filters = {k: v for k, v in request.GET.items() if k in AuditRecordFilterSet.base_filters}
            reads.primary(request, AuditAction.AUDIT_EXPORT, object_type="coordination.auditrecord", filters=filters)
            return self.csv(rows)
        page = page_of(request, rows, AUDIT_ORDER, AUDIT_PAGE)
        audit.describe(request.user, page.rows)
        query = request.GET.copy()
        query.pop("after", None)
        query["format"] = "csv"
        return render(
            request,
            "coordination/audit.html",
            {
                "rows": page.rows,
                "next_url": page.next_url,
                "csv_url": "?" + query.urlencode(),
                "f": request.GET,
                "actions": AuditAction.choices,
                "nav": "audit",
            },
        )

    def csv(self, rows):
        user = self.request.user

        class Echo:
            def write(self, value):
                return value

        writer = csv.writer(Echo())

        def lines():
            yield "\ufeff"
            # The first ten columns are the trail's own, unchanged for whoever reads them by
            # position; the last three are its words in the reader's language.
            yield writer.writerow(
                [
                    "time",
                    "user",
                    "agency",
                    "action",
                    "object_type",
                    "object_id",
                    "object",
                    "case_id",
                    "before",
                    "after",
                    "action_label",
                    "case",
                    "description",
                ]
            )
            for chunk in _chunks(rows.iterator(chunk_size=CSV_CHUNK), CSV_CHUNK):
                audit.describe(user, chunk)
                for r in chunk:
                    yield writer.writerow(
                        [
                            # In the platform's zone, with its offset, as on the page.
                            timezone.localtime(r.at).isoformat(),
                            csv_cell(r.user_name),
                            r.agency_code,
                            r.action,
                            r.object_type,
                            r.object_id or "",
                            csv_cell(masking.mask_repr(user, r.object_type, r.object_repr)),
                            r.case_id or "",
                            _json_cell(masking.mask_data(user, r.before, model=r.object_type)),
                            _json_cell(masking.mask_data(user, r.after, model=r.object_type)),
                            csv_cell(action_label(r.action)),
                            csv_cell(r.case_label),
                            csv_cell(r.object_label),
                        ]
                    )

        response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="audit.csv"'
        return response
