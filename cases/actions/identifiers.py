"""Identifiers and money-flow edges: stored once, linked to every case that names them."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.db.models import F, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from agencies.models import Agency, User
from coordination import audit
from coordination.audit import snapshot
from coordination.choices import AuditAction

from .. import search
from ..choices import IdentifierRole
from ..models import Case, CaseIdentifier, Identifier, Task, Transfer
from ..validators import normalise_identifier, validate_amount, validate_identifier

# Roles under which an identifier counts as "involved" for the payment-time
# lookup: a victim's own account or phone is not a fraud signal.
SUSPECT_ROLES = frozenset({IdentifierRole.RECEIVING_ACCOUNT, IdentifierRole.ONWARD_ACCOUNT, IdentifierRole.SUSPECT})


EARLIER_CASES_LISTED = 50


def earlier_cases(identifier_ids, *, exclude=frozenset()) -> dict[int, list[int]]:
    """The cases already naming each identifier (串并案), at most ``EARLIER_CASES_LISTED`` each, oldest first.

    What the audit row of a link lists: intake (``add_identifier``) and the bulk import of
    historical cases (``imports.cases_import``) ask this one query.
    """
    found: dict[int, list[int]] = {}
    ids = list(identifier_ids)
    if not ids:
        return found
    # The first links of each identifier only (a window, not every link of a much-used account).
    numbered = (
        CaseIdentifier.objects.filter(identifier_id__in=ids)
        .exclude(case_id__in=list(exclude))
        .annotate(n=Window(RowNumber(), partition_by=[F("identifier_id")], order_by=F("id").asc()))
        .filter(n__lte=EARLIER_CASES_LISTED)
        .order_by("identifier_id", "n")
        .values_list("identifier_id", "case_id")
    )
    for identifier_id, case_id in numbered:
        found.setdefault(identifier_id, []).append(case_id)
    return found


@transaction.atomic
def add_identifier(
    case: Case,
    *,
    kind: str,
    value: str,
    role: str,
    acting_user: User | None,
    bank: Agency | None = None,
    holder_name: str = "",
) -> Identifier:
    """Link an identifier to a case, creating it on first sight (串并案).

    Stored once in normalised form; a second case that names it is linked to
    every earlier case at once, which the audit row lists.
    """
    validate_identifier(kind, value)
    normalised = normalise_identifier(kind, value)
    identifier, _created = Identifier.objects.get_or_create(
        kind=kind, value=normalised, defaults={"bank": bank, "holder_name": holder_name[:100]}
    )
    fill = {}
    if bank is not None and identifier.bank_id is None:
        fill["bank"] = bank
    if holder_name and not identifier.holder_name:
        fill["holder_name"] = holder_name[:100]
    link, linked_now = CaseIdentifier.objects.get_or_create(case=case, identifier=identifier, defaults={"role": role})
    if not linked_now and role in SUSPECT_ROLES and link.role not in SUSPECT_ROLES:
        link.role = role
        link.save(update_fields=["role"])
    if linked_now:
        search.append_identifier(case.pk, kind, normalised)
        counts = {"last_seen_at": timezone.now()}
        if role in SUSPECT_ROLES:
            counts["case_count"] = F("case_count") + 1
        Identifier.objects.filter(pk=identifier.pk).update(**counts, **fill)
        identifier.refresh_from_db()
        earlier = earlier_cases([identifier.pk], exclude={case.pk}).get(identifier.pk, [])
        audit.record(
            user=acting_user,
            action=AuditAction.IDENTIFIER_LINK,
            obj=identifier,
            case_id=case.pk,
            after={"kind": kind, "value": normalised, "role": role, "linked_case_ids": earlier},
        )
    elif fill:
        Identifier.objects.filter(pk=identifier.pk).update(**fill)
        identifier.refresh_from_db()
    return identifier


@transaction.atomic
def add_transfer(
    case: Case,
    *,
    from_identifier: Identifier,
    to_identifier: Identifier,
    amount: Decimal,
    at: datetime,
    source: str,
    acting_user: User | None,
    source_task: Task | None = None,
) -> Transfer:
    """Record one money-flow edge of a case."""
    validate_amount(amount)
    transfer = Transfer.objects.create(
        case=case,
        from_identifier=from_identifier,
        to_identifier=to_identifier,
        amount=amount,
        at=at,
        source=source,
        source_task=source_task,
    )
    audit.record(
        user=acting_user, action=AuditAction.TRANSFER_CREATE, obj=transfer, case_id=case.pk, after=snapshot(transfer)
    )
    return transfer
