"""What the alerts app does when the cases app signals (connected in ``AlertsConfig.ready``)."""

from __future__ import annotations

from cases.models import Task

from . import actions, events


def dispatch_approved_task(sender, *, task: Task, **kwargs) -> None:
    """``cases.signals.task_approved``: push the task, in the approving transaction."""
    actions.dispatch_task(task)


def tell_the_people_concerned(sender, *, event: str, task_id: int, **kwargs) -> None:
    """``cases.signals.task_event``: notifications (the action has committed)."""
    events.task_event(event, task_id)
