"""The supervisor's "needs attention" page: what went wrong and waits for a person.

Failed and dead-lettered pushes and rejections flag their task
(``Task.needs_attention``) until a supervisor marks it handled; an overdue task
stays until it is answered (``cases.filtersets.attention_filter``). The list is
tasks, in urgency order (``cases.queues.URGENCY``), filtered by an
``AttentionFilterSet`` and paged by the keyset helper. The deliveries belong to
``alerts``: their state and the partner's reason come through the
``task_list_columns`` hook.
"""

from __future__ import annotations

from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from agencies import roles
from coordination import hooks
from coordination.filtersets import named_filters
from coordination.pagination import page_of
from coordination.views import ScopedView, redirect_back

from .. import actions, permissions, queues
from ..choices import TaskState
from ..filtersets import ATTENTION_KINDS, AttentionFilterSet, attention_filter
from ..models import Task
from .queues import filter_context

ATTENTION_PAGE = 50


def attention_kind(task) -> str:
    """Why this task is on the page (one of ``ATTENTION_KINDS``)."""
    if task.needs_attention:
        return "rejected" if task.state == TaskState.REJECTED else "delivery"
    return "overdue"


class AttentionView(ScopedView):
    def allowed(self, user):
        return roles.can(user, "works_attention")

    def get(self, request):
        now = timezone.now()
        filterset = AttentionFilterSet(
            named_filters(AttentionFilterSet, request.GET),
            queryset=self.scoped(Task).filter(attention_filter(None, now)),
            request=request,
        )
        rows = filterset.qs.select_related("case", "agency", "target")
        page = page_of(request, rows, queues.URGENCY, ATTENTION_PAGE)
        tasks = page.rows
        queues.mark_ages(tasks, now)
        labels = dict(ATTENTION_KINDS)
        for task in tasks:
            task.attention_kind = attention_kind(task)
            task.attention_label = labels[task.attention_kind]
        context = {
            "tasks": tasks,
            "page": page,
            "columns": hooks.panels("task_list_columns", self, tasks),
            "kind_choices": ATTENTION_KINDS,
            "can_clear": permissions.can_cancel(request.user),
            "nav": "attention",
            **filter_context(request, filterset, with_agency=True),
        }
        return render(request, "cases/attention.html", context)

    def post(self, request):
        """Mark one flagged task handled (``clear_flag``, audited): it leaves the page."""
        raw = request.POST.get("task", "")
        pk = int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 18 else 0
        task = self.get_scoped(Task, "change", pk=pk, needs_attention=True)
        self.run_action(actions.clear_flag, task, acting_user=request.user, success=_("Marked handled."))
        return redirect_back(request, reverse("attention")) if request.POST.get("next") else redirect("attention")
