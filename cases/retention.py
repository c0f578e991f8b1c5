"""Retention: the personal data of cases closed longer than ``RETENTION_DAYS`` is pseudonymised.

A scheduled job (Celery beat, ``cases.apply_retention``, daily) replaces, in every case
closed before the cut-off and not done yet:

- each victim's name, resident ID number, phone and address;
- the person to reach, their phone and address on each of the case's tasks;
- the victim's phone among the case's identifiers, and the holder's name of the
  victim's accounts, once no case still in retention links them;
- those same values wherever the case's summary and closure summary quote them;

by **stable pseudonyms**: ``PSN-`` and the first 12 hex digits of an HMAC of the kind and
value (key from ``SECRET_KEY``), so one person keeps one pseudonym across cases and the
figures that count people still count them. The search texts are rebuilt from the new
values (``reindex_case``). The money trail stays: accounts, transfers, amounts, tasks
and their results, the case's figures and dates.

The audit trail is not touched: its records are append-only and chained
(``coordination.chain``), kept whole (at least six months, in practice for good), so the
chain still verifies after retention; the job's own record (``case.pseudonymise``, one per
case) says which fields were replaced, never their values.
"""

from __future__ import annotations

import hmac
import re
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from coordination import audit
from coordination.choices import AuditAction

from .choices import CaseStatus, IdentifierKind, IdentifierRole
from .models import Case, CaseIdentifier, Task, Victim
from .search import reindex_case

PREFIX = "PSN-"
PSEUDONYM = re.compile(r"^PSN-[0-9a-f]{12}$")


def pseudonym(kind: str, value: str) -> str:
    """The stable pseudonym of ``value`` (``""`` stays ``""``, a pseudonym stays itself)."""
    value = (value or "").strip()
    if not value or PSEUDONYM.match(value):
        return value
    key = f"{settings.SECRET_KEY}:cases.retention".encode()
    return PREFIX + hmac.new(key, f"{kind}:{value}".encode(), "sha256").hexdigest()[:12]


def cutoff(now: datetime | None = None) -> datetime:
    return (now or timezone.now()) - timedelta(days=settings.RETENTION_DAYS)


def due(now: datetime | None = None):
    """Cases past retention and not pseudonymised yet (index ``case_retention_idx``)."""
    return Case.objects.filter(
        status=CaseStatus.CLOSED, closed_at__lt=cutoff(now), pseudonymised_at__isnull=True
    ).order_by("closed_at", "id")


def apply_retention(*, now: datetime | None = None, limit: int = 500) -> int:
    """Pseudonymise up to ``limit`` cases due at ``now``; returns how many. One transaction per case."""
    done = 0
    for case_id in list(due(now).values_list("id", flat=True)[:limit]):
        if pseudonymise_case(case_id, now=now):
            done += 1
    return done


def _replace_in_text(text: str, replacements: dict[str, str]) -> str:
    # Longest first: a phone inside an ID number must not be replaced half.
    for original in sorted(replacements, key=len, reverse=True):
        if len(original) >= 2:
            text = text.replace(original, replacements[original])
    return text


@transaction.atomic
def pseudonymise_case(case_id: int, *, now: datetime | None = None) -> bool:
    """Pseudonymise one case (locked); False if it is not due any more (another run did it)."""
    case = due(now).select_for_update(of=("self",)).filter(pk=case_id).first()
    if case is None:
        return False
    replaced: dict[str, int] = {}
    replacements: dict[str, str] = {}

    def swap(kind: str, value: str) -> str:
        new = pseudonym(kind, value)
        if new != value:
            replaced[kind] = replaced.get(kind, 0) + 1
            replacements[value.strip()] = new
        return new

    for victim in Victim.objects.filter(case=case).order_by("id"):
        victim.name = swap("name", victim.name)
        victim.id_number = swap("id_number", victim.id_number)
        victim.phone = swap("phone", victim.phone)
        victim.address = swap("address", victim.address)
        victim.save(update_fields=["name", "id_number", "phone", "address"])
    for task in Task.objects.filter(case=case).order_by("id"):
        task.contact_name = swap("name", task.contact_name)
        task.contact_phone = swap("phone", task.contact_phone)
        task.contact_address = swap("address", task.contact_address)
        task.save(update_fields=["contact_name", "contact_phone", "contact_address"])

    # Identifiers are shared between cases: only when every case linking one is past retention.
    def still_live(identifier) -> bool:
        others = CaseIdentifier.objects.filter(identifier=identifier, case__pseudonymised_at__isnull=True)
        return others.exclude(case_id=case.pk).exists()

    links = CaseIdentifier.objects.filter(case=case).select_related("identifier")
    for link in links.filter(role=IdentifierRole.VICTIM_PHONE, identifier__kind=IdentifierKind.PHONE):
        identifier = link.identifier
        if still_live(identifier):
            continue
        identifier.value = swap("phone", identifier.value)
        identifier.holder_name = swap("name", identifier.holder_name)
        identifier.save(update_fields=["value", "holder_name"])
    for link in links.filter(role=IdentifierRole.VICTIM_ACCOUNT).exclude(identifier__holder_name=""):
        identifier = link.identifier
        if still_live(identifier):
            continue
        identifier.holder_name = swap("name", identifier.holder_name)
        identifier.save(update_fields=["holder_name"])

    case.summary = _replace_in_text(case.summary, replacements)
    case.closure_summary = _replace_in_text(case.closure_summary, replacements)
    case.pseudonymised_at = timezone.now()
    # update(): a closed case refuses changes through its actions; this is the one that is allowed.
    Case.objects.filter(pk=case.pk).update(
        summary=case.summary, closure_summary=case.closure_summary, pseudonymised_at=case.pseudonymised_at
    )
    reindex_case(case.pk)
    audit.record(
        user=None,
        action=AuditAction.CASE_PSEUDONYMISE,
        obj=case,
        case_id=case.pk,
        after={
            "replaced": replaced,
            "closed_at": case.closed_at,
            "retention_days": settings.RETENTION_DAYS,
            "pseudonymised_at": case.pseudonymised_at,
        },
    )
    return True
