"""Signals the cases app sends for work above it (floors: the actions never import alerts).

Django's own ``post_save`` pattern: the alerts app connects its receivers in
``AlertsConfig.ready``.
"""

from django.dispatch import Signal

#: A task was approved: ``task`` (saved ``approved``). Sent synchronously inside the
#: approving transaction, so a receiver's rows (the push outbox) commit with the
#: approval or not at all, and a receiver's error undoes the approval.
task_approved = Signal()

#: Something happened to a task that people should hear of: ``event`` (a
#: ``cases.choices.TaskEvent``) and ``task_id``. Sent after the action's commit.
task_event = Signal()

#: A result was recorded on a task: ``task`` (saved), ``acting_user``. Sent synchronously
#: inside the recording transaction (the dissuasion app closes the warning clue with it).
task_result_recorded = Signal()
