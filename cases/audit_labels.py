"""How audit rows name the objects of cases: in the reader's language, masked for the reader.

Used by the ``audit_object_labels`` hook (``coordination_hooks``: the audit trail
reads the objects) and by the case page (``known_labels``: it holds them already).
"""

from __future__ import annotations

from coordination.masking import mask
from coordination.templatetags.coordination_tags import yuan

from .models import Case, Identifier, Task, Transfer


def task_label(task: Task) -> str:
    """``#12 紧急止付 · 中国建设银行四川省分行``: the task, its type and agency in the active language."""
    return f"#{task.pk} {task.get_type_display()} · {task.agency.display_name}"


def identifier_label(user, identifier: Identifier) -> str:
    return f"{identifier.get_kind_display()} {mask(user, identifier.kind, identifier.value)}"


def transfer_label(user, transfer: Transfer) -> str:
    source, target = transfer.from_identifier, transfer.to_identifier
    return f"{yuan(transfer.amount)} {mask(user, source.kind, source.value)} → {mask(user, target.kind, target.value)}"


def known_labels(user, *, case: Case, tasks=(), identifiers=(), transfers=()) -> dict[tuple[str, int], str]:
    """Labels of objects a page already holds (the case page), so ``describe`` reads nothing more."""
    labels = {("cases.case", case.pk): case.reference}
    labels.update({("cases.task", t.pk): task_label(t) for t in tasks})
    labels.update({("cases.identifier", i.pk): identifier_label(user, i) for i in identifiers})
    labels.update({("cases.transfer", t.pk): transfer_label(user, t) for t in transfers})
    return labels
