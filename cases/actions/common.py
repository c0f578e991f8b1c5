"""What every action module shares: the role guard, the one way a row is changed, task events."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TypeVar

from django.db import models, transaction
from django.utils.translation import gettext as _

from agencies.models import User
from coordination import audit
from coordination.audit import snapshot
from coordination.choices import AuditAction
from coordination.exceptions import ActionNotAllowed, Conflict

from .. import signals
from ..choices import TaskEvent
from ..models import Task

Row = TypeVar("Row", bound=models.Model)


def require(allowed: bool, message: str) -> None:
    """Refuse the action (403) unless the role rule ``allowed`` it."""
    if not allowed:
        raise ActionNotAllowed(message)


def ensure_open(case) -> None:
    """Refuse (409) any change to a closed case: it is the record the joint meeting reviews."""
    if case.is_closed:
        raise Conflict(_("The case is closed: it can no longer be changed."))


class NoChange(Exception):
    """Raised inside ``change_row`` to leave the row as it was: no save, no audit row."""


@contextmanager
def change_row(
    row: Row,
    *,
    acting_user: User | None,
    action: AuditAction,
    save: Sequence[str],
    audit_fields: Sequence[str],
    prepare: Callable[[Row], None] | None = None,
    annotate: Callable[[Row], dict] | None = None,
) -> Iterator[Row]:
    """Lock ``row``, snapshot ``audit_fields``, let the block change it, save ``save``, write the audit row.

    The sequence every change of a case or a task follows, inside the caller's
    transaction. ``prepare`` runs on the locked row before the snapshot.
    ``save`` is read when the block ends, so the block may add to a list it
    passed. Raising ``NoChange`` in the block leaves the row untouched; any other
    exception propagates and the transaction undoes the rest. The audit row
    belongs to the row's case (``case_id``, or the case itself). ``annotate``
    adds figures that are not columns to the row's ``after`` (a closing's
    untraced remainder).
    """
    locked = type(row)._default_manager.select_for_update().get(pk=row.pk)
    if prepare is not None:
        prepare(locked)
    before = snapshot(locked, list(audit_fields))
    try:
        yield locked
    except NoChange:
        return
    locked.save(update_fields=list(save))
    audit.record(
        user=acting_user,
        action=action,
        obj=locked,
        case_id=getattr(locked, "case_id", locked.pk),
        before=before,
        after={**snapshot(locked, list(audit_fields)), **(annotate(locked) if annotate else {})},
    )


def notify(event: TaskEvent, task: Task) -> None:
    """Announce ``event`` once the transaction commits; the alerts app tells the people concerned."""
    transaction.on_commit(lambda: signals.task_event.send(sender=Task, event=event, task_id=task.pk))
