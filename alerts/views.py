"""Notifications: the header's unread count, the list, mark read."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from coordination.views import ScopedView

from .actions import mark_notifications_read
from .models import Notification

LIST_LIMIT = 100


class NotificationListView(ScopedView):
    def get(self, request):
        rows = list(self.scoped(Notification).order_by("-created_at", "-id")[:LIST_LIMIT])
        return render(request, "alerts/notifications.html", {"notifications": rows, "nav": "notifications"})

    def post(self, request):
        ids = [int(i) for i in request.POST.getlist("id") if i.isdigit()]
        if not ids and not request.POST.get("all"):
            messages.warning(request, _("Select at least one notification."))
            return redirect("notifications")
        changed = mark_notifications_read(request.user, None if request.POST.get("all") else ids)
        messages.success(request, _("%(n)d notification(s) marked read.") % {"n": changed})
        return redirect("notifications")


class NotificationBadgeView(ScopedView):
    """HTMX fragment: the unread count (an index-only count of the user's unread rows)."""

    def get(self, request):
        count = self.scoped(Notification).filter(read_at__isnull=True).count()
        return HttpResponse(str(count) if count else "")
