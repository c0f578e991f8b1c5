"""Who is told what when a task changes: in-app notifications, email by job."""

from __future__ import annotations

from django.utils.translation import gettext as _

from agencies.models import User
from cases.models import Task

from .choices import NotificationKind
from .models import Notification


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
    from .tasks import send_notification_emails

    if any(u.notify_by_email for u in users):
        send_notification_emails.delay(key)
    return created


def agency_people(agency_id: int, roles=("liaison", "manager")):
    return list(User.objects.filter(agency_id=agency_id, role__in=roles, is_active=True))


def centre_people(task: Task, roles=("analyst",)):
    people = {u.pk: u for u in User.objects.filter(pk=task.case.created_by_id, is_active=True)}
    if "supervisor" in roles:
        people.update({u.pk: u for u in User.objects.filter(role="supervisor", is_active=True)})
    return list(people.values())


def task_event(event: str, task_id: int) -> None:
    """Notify for ``event`` on task ``task_id`` (runs after the action's commit)."""
    task = Task.objects.select_related("case", "agency").filter(pk=task_id).first()
    if task is None:
        return
    label = f"{task.case.reference} {task.get_type_display()}"
    if event == "task_new":
        _notify(
            agency_people(task.agency_id),
            kind=NotificationKind.NEW_TASK,
            task=task,
            title=_("New task: %(label)s") % {"label": label},
            key=f"new:{task.pk}",
        )
    elif event == "task_result":
        _notify(
            centre_people(task),
            kind=NotificationKind.RESULT,
            task=task,
            title=_("Result received: %(label)s") % {"label": label},
            key=f"result:{task.pk}",
        )
    elif event == "task_rejected":
        _notify(
            centre_people(task, ("analyst", "supervisor")),
            kind=NotificationKind.RESULT,
            task=task,
            title=_("Task rejected: %(label)s") % {"label": label},
            body=task.reason,
            key=f"rejected:{task.pk}",
        )
    elif event == "follow_ups":
        _notify(
            centre_people(task),
            kind=NotificationKind.FOLLOW_UPS,
            task=task,
            title=_("Follow-up stop-payments proposed: %(ref)s") % {"ref": task.case.reference},
            key=f"followups:{task.pk}",
        )
    elif event == "delivery_failed":
        _notify(
            centre_people(task, ("analyst", "supervisor")),
            kind=NotificationKind.DELIVERY_FAILED,
            task=task,
            title=_("Push failed: %(label)s") % {"label": label},
            body=task.attention_reason,
            key=f"failed:{task.pk}:{task.attention_reason[:60]}",
        )
