"""Notifications: grouped by case, marked done per notification and per group; the badge.

The page lists groups (a case, or "not about a case" for digests) newest
activity first, in keyset pages of groups; the query count does not depend on
the page size (tests/pages/test_query_counts.py).
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from coordination.masking import mask_free_text
from coordination.validators import parse_instant
from coordination.views import ScopedView, redirect_back

from .actions import mark_notifications_done
from .models import Notification

GROUP_PAGE = 20


def _position(raw: str):
    """``<latest ISO 8601>|<group id>`` from ``?after=``; None (the first page) when it does not parse."""
    latest, sep, gid = raw.partition("|")
    if not sep or not gid.isascii() or not gid.isdigit() or len(gid) > 18:
        return None
    try:
        return parse_instant(latest, check_range=False), int(gid)
    except ValidationError:
        return None


class NotificationListView(ScopedView):
    def get(self, request):
        show_all = request.GET.get("show") == "all"
        mine = self.scoped(Notification)
        rows = mine if show_all else mine.undone()
        after = _position(request.GET.get("after", ""))
        groups, following = rows.groups(after, GROUP_PAGE)
        by_group: dict[int, list[Notification]] = {g["gid"]: [] for g in groups}
        items = rows.in_groups(list(by_group)).select_related("case", "task__agency").order_by("-last_at", "-id")
        for note in items:
            # Free text (a bank's reason) may carry an account: masked by the one rule for the reader.
            note.shown_title, note.shown_body = (mask_free_text(request.user, t) for t in note.text)
            by_group[note.case_id or 0].append(note)
        for group in groups:
            group["notifications"] = by_group[group["gid"]]
            group["case"] = next((n.case for n in group["notifications"] if n.case_id), None)
        query = request.GET.copy()
        next_url = first_url = ""
        if following is not None:
            query["after"] = f"{following[0].isoformat()}|{following[1]}"
            next_url = "?" + query.urlencode()
        if after is not None:
            query.pop("after", None)
            first_url = "?" + query.urlencode()
        context = {
            "groups": groups,
            # Flat, in the order shown: what the list-engine test compares with the API.
            "notifications": [n for g in groups for n in g["notifications"]],
            "to_do": mine.badge(),
            "show_all": show_all,
            "next_url": next_url,
            "first_url": first_url,
            "nav": "notifications",
        }
        return render(request, "alerts/notifications.html", context)

    def post(self, request):
        """Mark done: the ``id``s posted, or everything (``all``)."""
        ids = [int(i) for i in request.POST.getlist("id") if i.isascii() and i.isdigit() and len(i) <= 18]
        if not ids and not request.POST.get("all"):
            messages.warning(request, _("Select at least one notification."))
            return redirect("notifications")
        changed = mark_notifications_done(request.user, ids=None if request.POST.get("all") else ids)
        messages.success(
            request, ngettext("%(n)d notification done.", "%(n)d notifications done.", changed) % {"n": changed}
        )
        return redirect("notifications")


class NotificationDoneView(ScopedView):
    """POST: one notification done. Another person's answers 404, like a missing one."""

    def post(self, request, pk: int):
        note = self.get_scoped(Notification, pk=pk)
        changed = mark_notifications_done(request.user, ids=[note.pk])
        if changed:
            messages.success(request, _("Notification done."))
        return redirect_back(request, "notifications")


class NotificationGroupDoneView(ScopedView):
    """POST: every notification of one group (a case id, or 0 for those about no case) done."""

    def post(self, request, gid: int):
        if not self.scoped(Notification).in_groups([gid]).exists():
            raise Http404
        changed = mark_notifications_done(request.user, group=gid)
        messages.success(
            request, ngettext("%(n)d notification done.", "%(n)d notifications done.", changed) % {"n": changed}
        )
        return redirect_back(request, "notifications")


class NotificationBadgeView(ScopedView):
    """HTMX fragment: what is to do (``NotificationQuerySet.badge``: undone groups and loose items)."""

    def get(self, request):
        count = self.scoped(Notification).badge()
        return HttpResponse(str(count) if count else "")
