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
    if kind == "address":
        # The district or street prefix says where; the house number does not leave the centre.
        head = min(6, len(value) // 2)
        return value[:head] + "*" * (len(value) - head)
    return value


def sees_warning_contact(user, *, own_task: bool) -> bool:
    """Whether ``user`` reads a victim warning's person to reach in full.

    The centre (``sees_full_pii``) and the station the warning is assigned to
    (``own_task``, for roles whose policy grants ``sees_own_warning_contacts``):
    the station must call or visit them. Nobody else outside the centre.
    """
    return sees_full_pii(user) or bool(own_task and user.policy.sees_own_warning_contacts)


def mask_contact(user, contact: dict[str, str], *, own_task: bool) -> dict[str, str]:
    """A warning's person to reach (``name``, ``phone``, ``address``) as ``user`` may see it."""
    if sees_warning_contact(user, own_task=own_task):
        return dict(contact)
    return {key: mask_value(key, value) for key, value in contact.items()}


def mask(user, kind: str, value: str, *, own_task_target: bool = False) -> str:
    """``value`` as ``user`` may see it.

    ``own_task_target`` marks the target of a task assigned to the user's agency.
    """
    if sees_full_pii(user) or own_task_target:
        return value
    return mask_value(kind, value)
