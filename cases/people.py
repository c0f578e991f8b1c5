"""The people a case's free text may name, for masking it (``coordination.masking.mask_text``).

A summary, a closing summary, a task's note or a bank's reason is typed by a
person and may name the victim ("受害人张三称..."), an account's holder or the
person a warning must reach. A reader who sees names masked must not read them
there either: those texts are masked with the case's own names, which the
platform knows. One query for any number of cases.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from coordination.masking import sees_full_pii

from .models import CaseIdentifier, Task, Victim


def names_of_cases(case_ids: Iterable[int]) -> dict[int, set[str]]:
    """Each case's victims, account holders and persons to reach, by case id."""
    ids = sorted(set(case_ids))
    found: dict[int, set[str]] = defaultdict(set)
    if not ids:
        return found
    victims = Victim.objects.filter(case_id__in=ids).values_list("case_id", "name")
    holders = (
        CaseIdentifier.objects.filter(case_id__in=ids)
        .exclude(identifier__holder_name="")
        .values_list("case_id", "identifier__holder_name")
    )
    contacts = Task.objects.filter(case_id__in=ids).exclude(contact_name="").values_list("case_id", "contact_name")
    for case_id, name in victims.union(holders, contacts, all=True):
        if name:
            found[case_id].add(name)
    return found


def names_for(user, case_id: int | None) -> set[str]:
    """The names to mask in one case's free text for ``user``: none for a reader who sees them in full."""
    if case_id is None or sees_full_pii(user):
        return set()
    return names_of_cases([case_id]).get(case_id, set())
