"""What every action module shares: the role guard and the announcement of task events."""

from __future__ import annotations

from django.db import transaction

from coordination.exceptions import ActionNotAllowed

from .. import signals
from ..choices import TaskEvent
from ..models import Task


def require(allowed: bool, message: str) -> None:
    """Refuse the action (403) unless the role rule ``allowed`` it."""
    if not allowed:
        raise ActionNotAllowed(message)


def notify(event: TaskEvent, task: Task) -> None:
    """Announce ``event`` once the transaction commits; the alerts app tells the people concerned."""
    transaction.on_commit(lambda: signals.task_event.send(sender=Task, event=event, task_id=task.pk))
