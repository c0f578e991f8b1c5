"""Role rules for actions on visible objects.

``visible_to`` decides what a user may see at all (404 otherwise); these
predicates decide which actions a role may take on what it sees (403). Pages use
them to show only the buttons that work; actions enforce them.
"""

from __future__ import annotations

from agencies.choices import AGENCY_ROLES, Role


def _active(user) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active)


def can_create_case(user) -> bool:
    return _active(user) and (user.is_superuser or user.role == Role.ANALYST)


def can_edit_case(user) -> bool:
    return _active(user) and (user.is_superuser or user.role in (Role.ANALYST, Role.SUPERVISOR))


def can_create_task(user) -> bool:
    return _active(user) and (user.is_superuser or user.role in (Role.ANALYST, Role.SUPERVISOR))


def can_approve(user, task, needs_supervisor: bool) -> bool:
    if not _active(user):
        return False
    if user.is_superuser or user.role == Role.SUPERVISOR:
        return True
    return user.role == Role.ANALYST and not needs_supervisor


def can_cancel(user) -> bool:
    return _active(user) and (user.is_superuser or user.role in (Role.ANALYST, Role.SUPERVISOR))


def can_resend(user) -> bool:
    return _active(user) and (user.is_superuser or user.role == Role.SUPERVISOR)


def can_act_for_agency(user, task) -> bool:
    """Accept, reject and report results: the assigned agency's liaisons and manager only."""
    return _active(user) and user.role in AGENCY_ROLES and user.agency_id == task.agency_id


def can_share(user) -> bool:
    return _active(user) and (user.is_superuser or user.role == Role.SUPERVISOR)
