"""Who is told what when a task changes: in-app notifications, email by job."""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils.translation import gettext as _

from agencies.models import User
from cases.choices import TaskEvent
from cases.models import Task

from .choices import NotificationKind
from .models import Notification

log = logging.getLogger(__name__)


def _notify(users, *, kind: str, task: Task, title: str, body: str = "", key: str) -> list[Notification]:
    """One notification per user for ``key``; a repeated event is ignored (idempotent)."""
    rows = [
        Notification(
            user=user,
            kind=kind,
            title=title,
            body=body,
            task=task,
            case_id=task.case_id,
            url=f"/tasks/{task.pk}/",
            dedupe_key=key,
        )
        for user in users
        if user.notify_in_app or user.notify_by_email
    ]
    created = Notification.objects.bulk_create(rows, ignore_conflicts=True)
    if any(u.notify_by_email for u in users):
        # After commit: the email job must find the rows; inside a watcher's transaction
        # this waits for it, outside one it runs now.
        transaction.on_commit(lambda: _queue_email(key))
    return created


def _queue_email(key: str) -> None:
    from .tasks import send_notification_emails

    try:
        send_notification_emails.delay(key)
    except Exception:
        # The notification is in the inbox; email is best effort when the broker is away.
        log.warning("broker unavailable; email for %s not queued", key, exc_info=True)


def agency_people(agency_id: int, roles=("liaison", "manager")) -> list[User]:
    return list(User.objects.filter(agency_id=agency_id, role__in=roles, is_active=True))


def centre_people(task: Task, roles=("analyst",)) -> list[User]:
    people = {u.pk: u for u in User.objects.filter(pk=task.case.created_by_id, is_active=True)}
    if "supervisor" in roles:
        people.update({u.pk: u for u in User.objects.filter(role="supervisor", is_active=True)})
    return list(people.values())


def task_event(event: TaskEvent | str, task_id: int) -> None:
    """Notify for ``event`` on task ``task_id`` (runs after the action's commit)."""
    task = Task.objects.select_related("case", "agency").filter(pk=task_id).first()
    if task is None:
        return
    label = f"{task.case.reference} {task.get_type_display()}"
    if event == TaskEvent.NEW:
        _notify(
            agency_people(task.agency_id),
            kind=NotificationKind.NEW_TASK,
            task=task,
            title=_("New task: %(label)s") % {"label": label},
            key=f"new:{task.pk}",
        )
    elif event == TaskEvent.RESULT:
        _notify(
            centre_people(task),
            kind=NotificationKind.RESULT,
            task=task,
            title=_("Result received: %(label)s") % {"label": label},
            key=f"result:{task.pk}",
        )
    elif event == TaskEvent.REJECTED:
        _notify(
            centre_people(task, ("analyst", "supervisor")),
            kind=NotificationKind.RESULT,
            task=task,
            title=_("Task rejected: %(label)s") % {"label": label},
            body=task.reason,
            key=f"rejected:{task.pk}",
        )
    elif event == TaskEvent.FOLLOW_UPS:
        _notify(
            centre_people(task),
            kind=NotificationKind.FOLLOW_UPS,
            task=task,
            title=_("Follow-up stop-payments proposed: %(ref)s") % {"ref": task.case.reference},
            key=f"followups:{task.pk}",
        )
    elif event == TaskEvent.DELIVERY_FAILED:
        _notify(
            centre_people(task, ("analyst", "supervisor")),
            kind=NotificationKind.DELIVERY_FAILED,
            task=task,
            title=_("Push failed: %(label)s") % {"label": label},
            body=task.attention_reason,
            key=f"failed:{task.pk}:{task.attention_reason[:60]}",
        )


def overdue(task: Task, supervisors: list[User] | None = None) -> None:
    """A task passed its deadline: the case's analyst, the supervisors and the agency's manager."""
    people = {u.pk: u for u in centre_people(task)}
    for user in supervisors if supervisors is not None else centre_people(task, ("supervisor",)):
        people[user.pk] = user
    for user in agency_people(task.agency_id, ("manager",)):
        people[user.pk] = user
    _notify(
        list(people.values()),
        kind=NotificationKind.OVERDUE,
        task=task,
        title=_("Overdue: %(label)s at %(agency)s")
        % {"label": f"{task.case.reference} {task.get_type_display()}", "agency": task.agency.code},
        key=f"overdue:{task.pk}",
    )


def lapse_warning(task: Task) -> None:
    """A stop-payment lapses within two hours: the analyst freezes or re-issues."""
    _notify(
        centre_people(task),
        kind=NotificationKind.LAPSE_WARNING,
        task=task,
        title=_("Stop-payment lapses soon: %(ref)s, freeze or re-issue") % {"ref": task.case.reference},
        body=_("Lapses at %(at)s.") % {"at": task.lapses_at.isoformat() if task.lapses_at else "?"},
        key=f"lapse:{task.pk}",
    )


def expired(task: Task) -> None:
    """A stop-payment or freeze lapsed and the task moved to expired."""
    _notify(
        centre_people(task),
        kind=NotificationKind.LAPSE_WARNING,
        task=task,
        title=_("Measure lapsed: %(label)s") % {"label": f"{task.case.reference} {task.get_type_display()}"},
        key=f"expired:{task.pk}",
    )


def renewal_reminder(task: Task) -> None:
    """A freeze expires within 15 days: renew it or let it go, deliberately."""
    _notify(
        centre_people(task),
        kind=NotificationKind.RENEWAL,
        task=task,
        title=_("Freeze expires soon: %(ref)s, renew?") % {"ref": task.case.reference},
        body=_("Expires at %(at)s.") % {"at": task.lapses_at.isoformat() if task.lapses_at else "?"},
        key=f"renewal:{task.pk}",
    )
