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


#: What a masked value keeps in sight, per kind: (characters kept at the start, at the end).
#: Kinds not listed are shown in full. ``visible_parts`` (the case search of masked
#: roles) reads the same table, so a search never reaches what the mask hides.
KEPT: dict[str, tuple[int, int]] = {
    "id_number": (3, 2),
    "phone": (3, 4),
    "mobile": (3, 4),
    "bank_account": (4, 4),
    "person": (3, 2),
    "name": (1, 0),  # the surname's first character
    # The district or street prefix says where; the house number does not leave the centre.
    "address": (6, 0),
}


def _kept(kind: str, value: str) -> tuple[str, str] | None:
    """The (head, tail) a masked ``value`` shows, or None when it is shown in full."""
    if kind not in KEPT:
        return None
    head, tail = KEPT[kind]
    if kind == "name":
        return value[:head], ""
    if kind == "address":
        return value[: min(head, len(value) // 2)], ""
    if len(value) <= head + tail:
        return "", ""
    return value[:head], value[len(value) - tail :] if tail else ""


def mask_value(kind: str, value: str) -> str:
    """The masked form of one value of ``kind``."""
    if not value:
        return value
    kept = _kept(kind, value)
    if kept is None:
        return value
    head, tail = kept
    return head + "*" * (len(value) - len(head) - len(tail)) + tail


def visible_parts(kind: str, value: str) -> list[str]:
    """The pieces of ``value`` a masked reader sees, each whole (never joined across a hidden run)."""
    if not value:
        return []
    kept = _kept(kind, value)
    if kept is None:
        return [value]
    return [part for part in kept if part]


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
