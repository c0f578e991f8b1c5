"""The work queues' shared rules: urgency order, age flags, and what the bank verifies.

The approval queue, the "needs attention" page and the inbox read these, so the
order a supervisor sees and the flag a liaison sees are defined once
(docs/queues.md):

- **Urgency**: the soonest deadline first, then the oldest request. A task's
  ``deadline`` is when its type's time runs out (from creation while it waits
  for approval, from approval afterwards), so a 30-minute stop-payment comes
  before a four-hour freeze created at the same moment, and a task whose time
  is already over comes first of all. Ties go to the older task (lower id).
  The keyset is ``(deadline, id)``: index ``task_state_deadline_idx`` and the
  inbox's ``task_agency_state_idx``.
- **Newest first**: the inbox's default, so a task that just arrived is at the
  top (``-id``: ``task_agency_idx``).
- **Age flags**: ``overdue`` once the deadline has passed (or the watcher marked
  it); ``old`` when the task has waited longer than its type's deadline without
  being overdue (a task approved late gets a fresh deadline, yet has been in the
  system longer than its type allows); otherwise ``on_time``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from coordination.pagination import Keyset

from . import task_types
from .choices import OPEN_TASK_STATES

URGENCY = Keyset(("deadline", "id"))
NEWEST = Keyset(("-id",))


class AgeFlag(models.TextChoices):
    OVERDUE = "overdue", _("Overdue")
    OLD = "old", _("Older than its type's deadline")
    ON_TIME = "on_time", _("Within its time")


def type_deadlines() -> dict[str, timedelta]:
    """Each registered type's deadline: the administrator's ``TaskTypeConfig``, else the declaration (one query)."""
    from .models import TaskTypeConfig

    deadlines = {spec.code: spec.deadline for spec in task_types.registry}
    for code, minutes in TaskTypeConfig.objects.values_list("code", "deadline_minutes"):
        if code in deadlines:
            deadlines[code] = timedelta(minutes=minutes)
    return deadlines


def _overdue(now: datetime) -> Q:
    return Q(state__in=OPEN_TASK_STATES) & (Q(deadline__lt=now) | Q(is_overdue=True))


def _older_than_type(now: datetime, deadlines: dict[str, timedelta]) -> Q:
    older = Q(pk__in=[])
    for code, allowed in deadlines.items():
        older |= Q(type=code, created_at__lt=now - allowed)
    return older


def age_filter(flag: str, now: datetime, deadlines: dict[str, timedelta] | None = None) -> Q:
    """The tasks whose age flag (``age_flag``) is ``flag``."""
    deadlines = type_deadlines() if deadlines is None else deadlines
    overdue, older = _overdue(now), _older_than_type(now, deadlines)
    if flag == AgeFlag.OVERDUE:
        return overdue
    if flag == AgeFlag.OLD:
        return older & ~overdue
    return ~overdue & ~older


def age_flag(task, now: datetime, deadlines: dict[str, timedelta]) -> str:
    """``overdue``, ``old`` or ``on_time`` for one task (the same rule as ``age_filter``)."""
    if task.state in OPEN_TASK_STATES and (task.deadline < now or task.is_overdue):
        return AgeFlag.OVERDUE
    allowed = deadlines.get(task.type)
    if allowed is not None and task.created_at < now - allowed:
        return AgeFlag.OLD
    return AgeFlag.ON_TIME


def mark_ages(tasks, now: datetime, deadlines: dict[str, timedelta] | None = None) -> None:
    """Set ``age`` (a timedelta since creation), ``age_flag`` and its label on each task of a page."""
    deadlines = type_deadlines() if deadlines is None else deadlines
    for task in tasks:
        task.age = now - task.created_at
        task.age_seconds = int(task.age.total_seconds())
        task.age_flag = age_flag(task, now, deadlines)
        task.age_flag_label = AgeFlag(task.age_flag).label


def supervisor_types() -> list[str]:
    """The types whose approver is the supervisor (the approval queue's; the registry decides)."""
    return task_types.registry.where(lambda spec: spec.needs_supervisor)


def shows_payer(code: str) -> bool:
    """Whether the bank verifies the victim's payment for this type: the measures that hold money."""
    spec = task_types.registry.find(code)
    return spec is not None and spec.holding is not None
