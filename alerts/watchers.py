"""Deadline watchers, run by Celery beat (``alerts.tasks.watch_*``).

Each one reads a narrow, indexed slice of tasks in batches of ids (partial
indexes ``task_overdue_watch_idx`` and ``task_lapse_watch_idx``, migration
alerts/0004), so its cost follows the number of tasks that need action, not the
size of the table. Each is idempotent: the task's own mark (``is_overdue``,
``lapse_warned_at``, ``renewal_reminded_at``, the ``expired`` state) is claimed
with a conditional UPDATE in the same transaction as the notifications, and
``Notification.dedupe_key`` is unique per user, so running a watcher twice, or
two at once, notifies once.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from agencies.models import User
from cases import task_types
from cases.actions import expire_task, mark_overdue
from cases.choices import AWAITING_AGENCY_STATES, TaskState
from cases.models import Task
from cases.task_types import Watcher

from . import events

log = logging.getLogger(__name__)

BATCH = 500
LAPSE_WARNING = timedelta(hours=2)
RENEWAL_NOTICE = timedelta(days=15)


def _types(predicate) -> list[str]:
    """Codes of the registered types a watcher follows (their declarations say which)."""
    return task_types.registry.where(predicate)


def _batches(queryset, order: str) -> Iterator[list[Task]]:
    """Tasks of ``queryset`` in keyset-paginated batches (never OFFSET, never the whole table)."""
    last = None
    while True:
        page = queryset.order_by(order, "id")
        if last is not None:
            page = page.filter(**{f"{order}__gte": last[0]}).exclude(**{order: last[0], "id__lte": last[1]})
        rows = list(page.select_related("case", "agency")[:BATCH])
        if not rows:
            return
        yield rows
        tail = rows[-1]
        last = (getattr(tail, order), tail.pk)
        if len(rows) < BATCH:
            return


def _supervisors() -> list[User]:
    return list(User.objects.filter(role="supervisor", is_active=True))


def overdue(now: datetime | None = None) -> int:
    """Tasks the agency still owes an answer on, past their deadline: mark overdue and escalate."""
    now = now or timezone.now()
    rows = Task.objects.filter(is_overdue=False, state__in=AWAITING_AGENCY_STATES, deadline__lt=now)
    supervisors = _supervisors()
    count = 0
    for batch in _batches(rows, "deadline"):
        for task in batch:
            with transaction.atomic():
                if mark_overdue(task):
                    if task.case_id is not None:
                        events.overdue(task, supervisors)
                    # A clue's warning (no case) is escalated by ``warning_escalations``:
                    # its sub-bureau first, then the centre.
                    count += 1
    if count:
        log.info("watchers: %d tasks overdue", count)
    return count


def _claim_once(rows, mark: str, notify, now: datetime) -> int:
    """Notify for each task whose ``mark`` this call sets; a second run finds it set and skips it."""
    count = 0
    for batch in _batches(rows, "lapses_at"):
        for task in batch:
            with transaction.atomic():
                # Watcher marks are not domain changes of the task; a conditional UPDATE claims them.
                if Task.objects.filter(pk=task.pk, **{f"{mark}__isnull": True}).update(**{mark: now}):
                    notify(task)
                    count += 1
    return count


def lapse_warnings(now: datetime | None = None) -> int:
    """Stop-payments (types with the lapse-warning watcher) lapsing within two hours: freeze or re-issue."""
    now = now or timezone.now()
    rows = Task.objects.filter(
        state=TaskState.COMPLETED,
        type__in=_types(lambda spec: Watcher.LAPSE_WARNING in spec.watchers),
        lapse_warned_at__isnull=True,
        lapses_at__gt=now,
        lapses_at__lte=now + LAPSE_WARNING,
    )
    return _claim_once(rows, "lapse_warned_at", events.lapse_warning, now)


def expire_lapsed(now: datetime | None = None) -> int:
    """Measures that hold money (stop-payments, freezes) whose lapse time has passed move to ``expired``."""
    now = now or timezone.now()
    time_limited = _types(lambda spec: spec.holding is not None)
    rows = Task.objects.filter(state=TaskState.COMPLETED, type__in=time_limited, lapses_at__lte=now)
    count = 0
    for batch in _batches(rows, "lapses_at"):
        for task in batch:
            with transaction.atomic():
                locked = Task.objects.select_for_update(skip_locked=True).filter(pk=task.pk).first()
                if locked is None or locked.state != TaskState.COMPLETED:
                    continue
                expire_task(locked)
                events.expired(task)
                count += 1
    return count


def renewal_reminders(now: datetime | None = None) -> int:
    """Freezes (types with the renewal watcher) expiring within 15 days: remind the analyst to renew."""
    now = now or timezone.now()
    rows = Task.objects.filter(
        state=TaskState.COMPLETED,
        type__in=_types(lambda spec: Watcher.RENEWAL_REMINDER in spec.watchers),
        renewal_reminded_at__isnull=True,
        lapses_at__gt=now,
        lapses_at__lte=now + RENEWAL_NOTICE,
    )
    return _claim_once(rows, "renewal_reminded_at", events.renewal_reminder, now)


def warning_escalations(now: datetime | None = None) -> int:
    """Victim warnings from clues still unreached past their deadline (docs/warnings.md, "Escalation").

    First the sub-bureau of the station that has it (a warning still at the sub-bureau goes
    straight to the centre); a second deadline's length later, the centre's supervisors and
    analysts. Each stage is claimed with a conditional UPDATE (``escalated_*_at``) in the
    transaction of its notifications and audit row: twice run, once told. Reads the partial
    index ``warning_due_idx`` (pending warnings by deadline).
    """
    from coordination import audit
    from coordination.choices import AuditAction
    from dissuasion.models import Warning

    now = now or timezone.now()
    centre = list(User.objects.filter(role__in=("supervisor", "analyst"), is_active=True, agency__code="AFC"))
    count = 0
    due = Warning.objects.filter(outcome="pending", deadline__lt=now, task__isnull=False).filter(
        escalated_centre_at__isnull=True
    )
    last = 0
    while True:
        batch = list(due.filter(id__gt=last).select_related("task", "task__agency").order_by("id")[:BATCH])
        if not batch:
            break
        last = batch[-1].pk
        for warning in batch:
            stage = None
            if warning.escalated_bureau_at is None:
                stage = "bureau" if warning.unit_id != warning.bureau_id else "centre"
            elif warning.deadline + (warning.deadline - warning.created_at) < now:
                stage = "centre"
            if stage is None:
                continue
            marks = {"escalated_bureau_at": warning.escalated_bureau_at or now}
            if stage == "centre":
                marks["escalated_centre_at"] = now
            with transaction.atomic():
                claim = Warning.objects.filter(pk=warning.pk, outcome="pending", escalated_centre_at__isnull=True)
                if stage == "bureau":
                    claim = claim.filter(escalated_bureau_at__isnull=True)
                if not claim.update(**marks):
                    continue
                people = centre if stage == "centre" else events.agency_people(warning.bureau_id)
                events.warning_escalated(warning.task, people, stage)
                audit.record(
                    user=None,
                    action=AuditAction.WARNING_ESCALATE,
                    obj=warning.task,
                    case_id=None,
                    after={"stage": stage, "warning": warning.pk, "deadline": warning.deadline.isoformat()},
                )
                count += 1
    if count:
        log.info("watchers: %d warnings escalated", count)
    return count
