"""Masking of personal data, in one place, keyed by role.

Roles whose policy grants ``sees_full_pii`` (``agencies.roles``: centre analysts
and supervisors, administrators) work with victims and accounts and see them in
full; everyone else sees masked values, except the assigned agency, which sees
the full target of its own task (a bank cannot stop an account it cannot read).
Every serializer and template goes through ``mask``.
"""

from __future__ import annotations

import contextvars
import re
from collections.abc import Iterable


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


def mask_contact(user, contact: dict[str, str], *, own_task: bool, of=None) -> dict[str, str]:
    """A warning's person to reach (``name``, ``phone``, ``address``) as ``user`` may see it."""
    if sees_warning_contact(user, own_task=own_task):
        if any(contact.values()):
            disclosed("name", of)
        return dict(contact)
    return {key: mask_value(key, value) for key, value in contact.items()}


def mask(user, kind: str, value: str, *, own_task_target: bool = False, of=None) -> str:
    """``value`` as ``user`` may see it.

    ``own_task_target`` marks the target of a task assigned to the user's agency; ``of``
    (object type, id, case id) names whose value it is, for the request's read audit.
    """
    if sees_full_pii(user) or own_task_target:
        if value and kind in KEPT:
            disclosed(kind, of)
        return value
    return mask_value(kind, value)


# --- the one rule: field kinds, their mask, who sees them in full ---------------------------
#
# Every field (a model column, a serializer field, a key of a stored JSON document: a task's
# result, an audit row's before/after) that holds a resident ID, a phone, an account number, a
# person's name or an address is named here with its kind. ``KEPT`` says what the mask of each
# kind leaves in sight; ``sees_full_pii`` (the role policy) who sees every kind in full, with two
# narrower exceptions declared by the callers' flags: the agency assigned a task reads the task's
# target in full (``own_task_target``) and the station a victim warning is assigned to reads the
# person to reach (``sees_warning_contact``). Nothing else unmasks anything.

#: Keys of stored documents and serializer fields, whatever the model: their kind.
FIELD_KINDS: dict[str, str] = {
    "id_number": "id_number",
    "holder_id_number": "id_number",
    "registered_id_number": "id_number",
    "phone": "phone",
    "contact_phone": "phone",
    "registered_phone": "phone",
    "mobile": "phone",
    "account_number": "bank_account",
    "account": "bank_account",
    "from_account": "bank_account",
    "to_account": "bank_account",
    "holder_name": "name",
    "registered_name": "name",
    "contact_name": "name",
    "victim_name": "name",
    "contact_address": "address",
    "victim_address": "address",
    # Who objected to a fund return (a victim or another interested person).
    "objector": "name",
}

#: Keys that are personal only on a model's rows: a victim's ``name`` is a person, an agency's is not.
MODEL_FIELD_KINDS: dict[str, dict[str, str]] = {
    "cases.victim": {"name": "name", "address": "address"},
    # A warning's person to reach, as stored in a task's ``person`` document.
    "person": {"name": "name", "address": "address"},
    # A warning clue's person to reach (``dissuasion.Warning``).
    "dissuasion.warning": {"name": "name", "address": "address"},
}

#: What an object's stored label (``AuditRecord.object_repr``) is, where it is personal data itself.
REPR_KINDS: dict[str, str] = {"cases.victim": "name"}

# A run of digits long enough to be an account, a phone or a resident ID (which may end in X).
_DIGITS = re.compile(r"(?<![0-9])[0-9]{7,}[0-9Xx]?(?![0-9])")


def kind_of(key: str, *, model: str | None = None) -> str | None:
    """The kind of personal data a field ``key`` holds (of ``model``'s rows, if named), or None."""
    if model and key in MODEL_FIELD_KINDS.get(model, {}):
        return MODEL_FIELD_KINDS[model][key]
    return FIELD_KINDS.get(key)


def _digits_kind(run: str) -> str:
    if len(run) == 18 or run[-1:] in "Xx":
        return "id_number"
    if len(run) == 11 and run.startswith("1"):
        return "phone"
    return "bank_account"


def mask_text(text: str, names: Iterable[str] = ()) -> str:
    """Free text (a stored label, a reason a bank typed) with every long digit run masked as its kind.

    ``names`` are the people the text may name (a case's victims, the holders of its
    accounts, the persons its warnings reach): each one written out is masked as a name.
    """
    if not text:
        return text
    text = _DIGITS.sub(lambda m: mask_value(_digits_kind(m.group()), m.group()), text)
    for name in sorted({n.strip() for n in names if n and len(n.strip()) >= 2}, key=len, reverse=True):
        if name in text:
            text = text.replace(name, mask_value("name", name))
    return text


def mask_free_text(user, text: str, names: Iterable[str] = (), *, of=None) -> str:
    """Free text as ``user`` may see it: in full for ``sees_full_pii``, else with digit runs and ``names`` masked."""
    if not text:
        return text
    if sees_full_pii(user):
        if mask_text(text, names) != text:
            disclosed("text", of)
        return text
    return mask_text(text, names)


def mask_data_value(data, *, model: str | None = None):
    """A stored JSON document (a result, an audit row's before/after) masked by the rule, key by key.

    A ``value`` beside a ``kind`` (an identifier) is masked as that kind; lists and nested
    documents are walked; a ``person`` document is a person's; other strings are free text.
    """
    if isinstance(data, list):
        return [mask_data_value(item, model=model) for item in data]
    if not isinstance(data, dict):
        return mask_text(data) if isinstance(data, str) else data
    kind_here = data.get("kind") if isinstance(data.get("kind"), str) else None
    shown = {}
    for key, value in data.items():
        kind = kind_of(key, model=model)
        if key in ("value", "target_value") and kind_here:
            kind = kind_here
        if isinstance(value, str):
            shown[key] = mask_value(kind, value) if kind else mask_text(value)
        elif isinstance(value, dict | list):
            shown[key] = mask_data_value(value, model="person" if key == "person" else None)
        else:
            shown[key] = value
    return shown


def mask_data(user, data, *, model: str | None = None, own: bool = False, of=None):
    """``data`` (a stored document) as ``user`` may see it: in full for ``sees_full_pii`` (or ``own``), else masked."""
    if not data:
        return data
    masked = mask_data_value(data, model=model)
    if sees_full_pii(user) or own:
        if masked != data:
            disclosed("document", of)
        return data
    return masked


def mask_repr(user, object_type: str, text: str) -> str:
    """An audit row's stored label of its object (``object_repr``) as ``user`` may see it."""
    if not text:
        return text
    if sees_full_pii(user):
        return text
    kind = REPR_KINDS.get(object_type)
    return mask_value(kind, text) if kind else mask_text(text)


# --- who read what: every full value shown is noted for the request's read audit --------------
#
# ``coordination.reads`` opens a collector per request; ``mask`` (and ``mask_contact``,
# ``mask_data``) note there every time the rule lets a full value through, with the object it
# belongs to when the caller names it (``of``). The request then writes one audit row.

_collector: contextvars.ContextVar[Reads | None] = contextvars.ContextVar("pii_reads", default=None)


class Reads:
    """What one request showed in full: kinds, objects (``type -> ids``) and the cases they belong to."""

    def __init__(self):
        self.kinds: set[str] = set()
        self.objects: dict[str, set[int]] = {}
        self.cases: set[int] = set()

    def __bool__(self) -> bool:
        return bool(self.kinds or self.objects)

    def add(self, kind: str | None, of: tuple[str, int | None, int | None] | None) -> None:
        if kind:
            self.kinds.add(kind)
        if of is not None:
            object_type, pk, case_id = of
            if pk is not None:
                self.objects.setdefault(object_type, set()).add(pk)
            if case_id is not None:
                self.cases.add(case_id)


def disclosed(kind: str | None, of: tuple[str, int | None, int | None] | None = None) -> None:
    """Note that a full value of ``kind`` (of object ``of``: type, id, case id) was shown."""
    reads = _collector.get()
    if reads is not None:
        reads.add(kind or "document", of)
