"""Role rules for actions on visible objects, read from ``agencies.roles``.

``visible_to`` decides what a user may see at all (404 otherwise); these
predicates decide which actions a role may take on what it sees (403). Pages use
them to show only the buttons that work; actions enforce them. Each one is a
capability of the role's policy: the table of who may do what is written once,
in ``agencies/roles.py``.
"""

from __future__ import annotations

from agencies import roles


def can_create_case(user) -> bool:
    return roles.can(user, "creates_cases")


def can_edit_case(user) -> bool:
    return roles.can(user, "edits_cases")


def can_extend_case(user) -> bool:
    return roles.can(user, "extends_cases")


def can_link_cases(user) -> bool:
    return roles.can(user, "links_cases")


def can_create_task(user) -> bool:
    return roles.can(user, "creates_tasks")


def can_approve(user, task, needs_supervisor: bool) -> bool:
    """Approve ``task``: its type may need a supervisor (``TaskTypeSpec.needs_supervisor``).

    Four eyes: a task that needs a supervisor is never approved by the person
    who created it (``roles.is_own_request``), whatever their role.
    """
    if needs_supervisor:
        return roles.can(user, "approves_supervisor_types") and not roles.is_own_request(user, task)
    return roles.can(user, "approves_analyst_types")


def awaits_another_approver(user, task, needs_supervisor: bool) -> bool:
    """``user`` could approve the type but created ``task``: another supervisor must (the queue says so)."""
    return needs_supervisor and roles.can(user, "approves_supervisor_types") and roles.is_own_request(user, task)


def can_import_records(user) -> bool:
    """Import historical cases and bank statements (an account query's statement as its result)."""
    return roles.can(user, "imports_records")


def can_cancel(user) -> bool:
    return roles.can(user, "cancels")


def can_resend(user) -> bool:
    return roles.can(user, "resends")


def can_act_for_agency(user, task) -> bool:
    """Accept, reject and report results: the assigned agency's liaisons and manager only."""
    return roles.acts_for(user, task.agency_id)


def can_share(user) -> bool:
    return roles.can(user, "shares")
