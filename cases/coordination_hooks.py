"""What cases add to the pages of lower floors (``coordination.hooks``).

``agencies`` draws the manager's page and ``coordination`` the audit trail, and
neither may import ``cases``: the agency's task performance and the audit page's
lookup of a case by its reference are registered here.
"""

from __future__ import annotations

from coordination import hooks

from . import measures, permissions, stats
from .models import Case, Task


@hooks.register("agency_page_panels")
def agency_performance(view, agency) -> hooks.Panel:
    """The agency's tasks in the window (``?window=``, 90 days by default): counts, response, on time."""
    since, _window = stats.window(view.request.GET.get("window", "90d"))
    performance = stats.agency_performance(view.scoped(Task), since, agency_id=agency.pk)
    return hooks.Panel(
        template="cases/_agency_performance.html",
        context={"performance": performance[0] if performance else None, "since": since},
    )


@hooks.register("audit_case_reference")
def case_by_reference(user, reference: str) -> int | None:
    """The id of the case ``reference`` if ``user`` may see it (the audit trail's ``?case=``, page and API)."""
    return Case.objects.visible_to(user).filter(reference=reference.upper()).values_list("pk", flat=True).first()


@hooks.register("task_page_panels")
def task_follow_ups(view, task) -> hooks.Panel | None:
    """The centre's next step on a task: re-issue a refused one corrected, renew a holding before it lapses."""
    if not permissions.can_create_task(view.request.user):
        return None
    reissuable, renewable = measures.can_reissue(task), measures.can_renew(task)
    if not (reissuable or renewable):
        return None
    return hooks.Panel(
        template="cases/_task_follow_ups.html",
        context={"task": task, "reissuable": reissuable, "renewable": renewable},
    )
