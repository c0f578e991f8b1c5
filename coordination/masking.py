"""Masking of personal data, in one place, keyed by role.

Roles whose policy grants ``sees_full_pii`` (``agencies.roles``: centre analysts
and supervisors, administrators) work with victims and accounts and see them in
full; everyone else sees masked values, except the assigned agency, which sees
the full target of its own task (a bank cannot stop an account it cannot read).
Every serializer and template goes through ``mask``.
"""

from __future__ import annotations


def sees_full_pii(user) -> bool:
    """Whether ``user``'s policy (``user.policy``, set by the user model) unmasks personal data."""
    return bool(user is not None and user.is_authenticated and user.policy.sees_full_pii)


def _keep(value: str, head: int, tail: int) -> str:
    if len(value) <= head + tail:
        return "*" * len(value)
    return value[:head] + "*" * (len(value) - head - tail) + value[-tail:]


def mask_value(kind: str, value: str) -> str:
    """The masked form of one value of ``kind``."""
    if not value:
        return value
    if kind == "id_number":
        return _keep(value, 3, 2)
    if kind in ("phone", "mobile"):
        return _keep(value, 3, 4)
    if kind == "bank_account":
        return _keep(value, 4, 4)
    if kind == "person":
        return _keep(value, 3, 2)
    if kind == "name":
        return value[0] + "*" * (len(value) - 1)
    return value


def mask(user, kind: str, value: str, *, own_task_target: bool = False) -> str:
    """``value`` as ``user`` may see it.

    ``own_task_target`` marks the target of a task assigned to the user's agency.
    """
    if sees_full_pii(user) or own_task_target:
        return value
    return mask_value(kind, value)
