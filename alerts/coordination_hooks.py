"""What deliveries add to the pages of cases and tasks (``coordination.hooks``).

``cases`` draws the case and task pages but may not import ``alerts``: the
deliveries column of the case page's task table, the queues' failed-push column,
the task page's deliveries card and its re-send button are registered here, in
the app they belong to.
"""

from __future__ import annotations

from collections import defaultdict

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from agencies import roles
from coordination import hooks

from .actions import resend_delivery
from .choices import DeliveryState
from .models import Delivery


@hooks.register("case_page_task_columns")
def case_task_deliveries(view, case, tasks) -> hooks.Panel:
    """Each task's pushes and their attempts (two queries for the whole case)."""
    deliveries = defaultdict(list)
    for delivery in (
        view.scoped(Delivery).filter(task__case_id=case.pk).prefetch_related("attempt_log").order_by("created_at")
    ):
        deliveries[delivery.task_id].append(delivery)
    for task in tasks:
        task.delivery_list = deliveries[task.pk]
    return hooks.Panel(template="alerts/_case_task_deliveries.html", label=gettext_lazy("Deliveries"))


@hooks.register("task_list_columns")
def task_list_failed_push(view, tasks) -> hooks.Panel:
    """Each task's latest failed or dead-lettered push with the partner's reason (one query for the page)."""
    latest = {}
    ids = [task.pk for task in tasks]
    if ids:
        failed = (
            view.scoped(Delivery)
            .filter(task_id__in=ids, state__in=[DeliveryState.FAILED, DeliveryState.DEAD])
            .order_by("task_id", "-created_at")
            .distinct("task_id")
        )
        latest = {delivery.task_id: delivery for delivery in failed}
    for task in tasks:
        task.failed_push = latest.get(task.pk)
    return hooks.Panel(template="alerts/_task_list_failed_push.html", label=gettext_lazy("Failed push"))


@hooks.register("task_page_panels")
def task_deliveries(view, task) -> hooks.Panel:
    """The task's pushes with every attempt, and a re-send button for those who re-send."""
    deliveries = list(view.scoped(Delivery).filter(task=task).prefetch_related("attempt_log").order_by("created_at"))
    return hooks.Panel(
        template="alerts/_task_deliveries.html",
        context={
            "deliveries": deliveries,
            "can_resend": roles.can(view.request.user, "resends"),
            # What the partner's refusal said is the centre's; the agency is told the class only.
            "show_reason": roles.can(view.request.user, "changes_all_cases"),
        },
    )


@hooks.register("task_action.resend")
def resend(view, task) -> None:
    """Re-send one failed or dead-lettered push of ``task`` (``POST delivery=<id>``)."""
    user = view.request.user
    if not roles.can(user, "resends"):
        raise PermissionDenied
    delivery = view.get_scoped(Delivery, "change", pk=view.request.POST.get("delivery"), task=task)
    view.run_action(resend_delivery, delivery, acting_user=user, success=_("Delivery re-sent."))
