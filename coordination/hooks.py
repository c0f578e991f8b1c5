"""Hooks: how a lower floor lets a higher one add to what it draws (Wagtail's ``hooks``).

The floors (``coordination`` ← ``agencies`` ← ``cases`` ← ``alerts``) forbid an
import upwards. When a page of a lower app shows something that belongs to a
higher one (the task page's deliveries, the audit page's case references), the
lower app calls the hooks registered under a name and the higher app registers
into it from its ``hooks.py`` module, which ``CoordinationConfig.ready`` imports
for every installed app (as Django's admin does with ``admin.py``).

The hooks of the platform, with what each registered function takes and gives:

- ``agency_page_panels(view, agency) -> Panel | None``: a card of the manager's
  agency page (cases: the agency's task performance).
- ``case_page_task_columns(view, case, tasks) -> Panel | None``: a column of the
  case page's task table (``label``; ``template`` draws one cell with ``t``, the
  task); the function prepares the tasks it needs in one query (alerts: deliveries).
- ``task_list_columns(view, tasks) -> Panel | None``: a column of a task queue
  (the approval queue, the "needs attention" page), drawn like the case page's
  task columns, with the tasks of one page prepared in one query (alerts: the
  latest failed or dead-lettered push and the partner's reason).
- ``task_page_panels(view, task) -> Panel | None``: a card of the task page
  (alerts: the task's deliveries).
- ``task_action.<what>(view, task) -> None``: the one-button task action
  ``<what>`` posted to ``/tasks/<id>/<what>/`` (alerts: ``resend``).
- ``audit_case_reference(user, reference) -> int | None``: the id of the case
  with ``reference`` that ``user`` may see (the audit trail's ``?case=`` filter,
  page and API; cases).
- ``audit_object_labels(user, records, known) -> dict[(object_type, object_id), str]``:
  the words for the objects of audit rows that ``user`` may see, in the active
  language, masked for the reader (``coordination.audit.describe``; the audit
  trail and the case timeline), leaving out the keys already in ``known``. One
  query per kind; cases: cases, tasks, identifiers, transfers; agencies: agencies.

A page draws a ``Panel`` with ``{% panel p %}`` (``coordination_tags``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

_hooks: dict[str, list[Callable]] = defaultdict(list)


def register(name: str, fn: Callable | None = None):
    """Register ``fn`` under ``name``; as a decorator, ``@hooks.register(name)``."""
    if fn is None:
        return lambda f: register(name, f)
    if fn not in _hooks[name]:
        _hooks[name].append(fn)
    return fn


def get_hooks(name: str) -> list[Callable]:
    """The functions registered under ``name``, in registration order."""
    return list(_hooks.get(name, ()))


@dataclass(frozen=True)
class Panel:
    """A part of a page drawn by another app: its template, that template's context, a label."""

    template: str
    context: dict[str, Any] = field(default_factory=dict)
    label: str = ""


def panels(name: str, *args) -> list[Panel]:
    """The panels the hooks under ``name`` give for ``args`` (those that give ``None`` add nothing)."""
    return [panel for hook in get_hooks(name) if (panel := hook(*args)) is not None]
