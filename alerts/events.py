"""Who is told what when a task changes: in-app notifications, email by job.

A notification is a kind and parameters about one task (``alerts.kinds`` draws
the text when it is shown). One row per person, kind and task: a repeated event
of the same kind for the same task (a push that fails again after a re-send, an
overdue task whose new deadline passes too) collapses into that row, counted,
with its latest time, and is undone again; it does not add a row.
"""

from __future__ import annotations

import json
import logging

from django.db import connection, transaction
from django.utils import timezone

from agencies.models import User
from cases.choices import TaskEvent
from cases.models import Task

from .choices import NotificationKind
from .kinds import failure_params

log = logging.getLogger(__name__)

# One statement for every person told: a new row, or the existing row of the same
# kind and task counted again. ``event_key`` keeps it idempotent: the same event
# delivered twice (a signal and a retry) finds its own key and changes nothing.
UPSERT = """
INSERT INTO alerts_notification
    (user_id, kind, params, title, body, url, task_id, case_id, dedupe_key, event_key,
     count, created_at, last_at, done, done_at, read_at, emailed_at)
VALUES {values}
ON CONFLICT ON CONSTRAINT notification_dedupe_uniq DO UPDATE SET
    count = alerts_notification.count + 1,
    last_at = EXCLUDED.last_at,
    params = EXCLUDED.params,
    event_key = EXCLUDED.event_key,
    done = false,
    done_at = NULL,
    read_at = NULL
WHERE alerts_notification.event_key IS DISTINCT FROM EXCLUDED.event_key
RETURNING id
"""
ROW = "(%s, %s, %s::jsonb, '', '', %s, %s, %s, %s, %s, 1, %s, %s, false, NULL, NULL, NULL)"


def _notify(users, *, kind: str, task: Task, key: str, event: str | None = None, params: dict | None = None) -> int:
    """Tell ``users`` of ``kind`` on ``task``: one row per person for ``key``, counted on repeats.

    ``key`` names what the row is about (kind and task); ``event`` names this
    occurrence (defaults to ``key``: an event that happens once per task).
    Returns how many rows were written or counted again.
    """
    users = [user for user in users if user.notify_in_app or user.notify_by_email]
    if not users:
        return 0
    now = timezone.now()
    payload = json.dumps(params or {}, default=str)
    args: list = []
    for user in users:
        args += [user.pk, kind, payload, f"/tasks/{task.pk}/", task.pk, task.case_id, key, event or key, now, now]
    with connection.cursor() as cursor:
        cursor.execute(UPSERT.format(values=", ".join([ROW] * len(users))), args)
        written = len(cursor.fetchall())
    if written and any(u.notify_by_email for u in users):
        # After commit: the email job must find the rows; inside a watcher's transaction
        # this waits for it, outside one it runs now. A repeat is not emailed again:
        # the row keeps its ``emailed_at`` (the digest covers it).
        transaction.on_commit(lambda: queue_email(key))
    return written


def queue_email(key: str) -> None:
    from .tasks import send_notification_emails

    try:
        send_notification_emails.delay(key)
    except Exception:
        # The notification is in the inbox; email is best effort when the broker is away.
        log.warning("broker unavailable; email for %s not queued", key, exc_info=True)


def agency_people(agency_id: int, roles=("liaison", "manager")) -> list[User]:
    return list(User.objects.filter(agency_id=agency_id, role__in=roles, is_active=True))


def centre_people(task: Task, roles=("analyst",)) -> list[User]:
    if task.case_id:
        people = {u.pk: u for u in User.objects.filter(pk=task.case.created_by_id, is_active=True)}
    else:
        # A clue's warning has no case: its creator if it is the centre's (a partner who sent
        # the clue is told nothing but its outcome, through the warnings API).
        creator = User.objects.filter(pk=task.created_by_id, is_active=True, role__in=("analyst", "supervisor"))
        people = {u.pk: u for u in creator}
    if "supervisor" in roles:
        people.update({u.pk: u for u in User.objects.filter(role="supervisor", is_active=True)})
    return list(people.values())


def task_event(event: TaskEvent | str, task_id: int, *, occurrence: str = "") -> None:
    """Notify for ``event`` on task ``task_id`` (runs after the action's commit).

    ``occurrence`` tells repeated events apart (a delivery's attempt): each one
    counts once on the task's row.
    """
    task = Task.objects.select_related("case", "agency").filter(pk=task_id).first()
    if task is None:
        return
    if event == TaskEvent.NEW:
        _notify(agency_people(task.agency_id), kind=NotificationKind.NEW_TASK, task=task, key=f"new:{task.pk}")
    elif event == TaskEvent.RESULT:
        _notify(centre_people(task), kind=NotificationKind.RESULT, task=task, key=f"result:{task.pk}")
    elif event == TaskEvent.REJECTED:
        _notify(
            centre_people(task, ("analyst", "supervisor")),
            kind=NotificationKind.REJECTED,
            task=task,
            params={"reason": task.reason},
            key=f"rejected:{task.pk}",
        )
    elif event == TaskEvent.FOLLOW_UPS:
        _notify(centre_people(task), kind=NotificationKind.FOLLOW_UPS, task=task, key=f"followups:{task.pk}")
    elif event == TaskEvent.DELIVERY_FAILED:
        key = f"failed:{task.pk}"
        _notify(
            centre_people(task, ("analyst", "supervisor")),
            kind=NotificationKind.DELIVERY_FAILED,
            task=task,
            params=failure_params(task.attention_reason),
            key=key,
            event=f"{key}:{occurrence}" if occurrence else f"{key}:{task.attention_reason[:60]}",
        )


def overdue(task: Task, supervisors: list[User] | None = None) -> None:
    """A task passed its deadline: the case's analyst, the supervisors and the agency's manager.

    Counted per deadline: the same task overdue again after a new deadline adds to its row.
    """
    people = {u.pk: u for u in centre_people(task)}
    for user in supervisors if supervisors is not None else centre_people(task, ("supervisor",)):
        people[user.pk] = user
    for user in agency_people(task.agency_id, ("manager",)):
        people[user.pk] = user
    deadline = task.deadline.isoformat() if task.deadline else ""
    _notify(
        list(people.values()),
        kind=NotificationKind.OVERDUE,
        task=task,
        params={"deadline": deadline},
        key=f"overdue:{task.pk}",
        event=f"overdue:{task.pk}:{deadline}",
    )


def warning_escalated(task: Task, people: list[User], stage: str) -> None:
    """A victim warning passed its deadline unreached: the sub-bureau (``stage`` bureau), then the centre."""
    _notify(
        people,
        kind=NotificationKind.WARNING_ESCALATED,
        task=task,
        params={"deadline": task.deadline.isoformat() if task.deadline else "", "stage": stage},
        key=f"warning:{stage}:{task.pk}",
    )


def lapse_warning(task: Task) -> None:
    """A stop-payment lapses within two hours: the analyst freezes or re-issues."""
    _notify(
        centre_people(task),
        kind=NotificationKind.LAPSE_WARNING,
        task=task,
        params={"at": task.lapses_at.isoformat() if task.lapses_at else None},
        key=f"lapse:{task.pk}",
    )


def expired(task: Task) -> None:
    """A stop-payment or freeze lapsed and the task moved to expired."""
    _notify(centre_people(task), kind=NotificationKind.EXPIRED, task=task, key=f"expired:{task.pk}")


def renewal_reminder(task: Task) -> None:
    """A freeze expires within 15 days: renew it or let it go, deliberately."""
    _notify(
        centre_people(task),
        kind=NotificationKind.RENEWAL,
        task=task,
        params={"at": task.lapses_at.isoformat() if task.lapses_at else None},
        key=f"renewal:{task.pk}",
    )
