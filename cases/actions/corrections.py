"""The rest of a case's life: corrections with a reason, additions, links set by hand.

A correction keeps, in its audit row, every changed field before and after and
the reason given; unchanged fields are left out, and a "correction" that
changes nothing writes nothing. A closed case refuses all of these
(``ensure_open``): it is the record the joint meeting reviews.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from agencies.models import User
from coordination import audit
from coordination.audit import snapshot
from coordination.choices import AuditAction
from coordination.exceptions import Conflict

from .. import permissions, search
from ..choices import CaseLinkState, IdentifierRole
from ..models import Case, CaseIdentifier, CaseLink, Identifier, Transfer, Victim
from ..validators import check_case_times, normalise_identifier, validate_amount, validate_resident_id
from .cases import CASE_EDITABLE_FIELDS, IdentifierData, TransferData, VictimData, record_victim_transfer
from .common import ensure_open, require
from .identifiers import add_identifier

VICTIM_EDITABLE_FIELDS = ("name", "id_number", "phone", "address")


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Give the reason for this change.")})
    return reason


def _correct(row, *, acting_user: User, action: AuditAction, case_id: int, reason: str, changes: dict) -> list[str]:
    """Apply ``changes`` to the locked ``row``; audit the changed fields old → new with the reason."""
    names = [name for name, value in changes.items() if getattr(row, name) != value]
    if not names:
        return []
    before = snapshot(row, names)
    for name in names:
        setattr(row, name, changes[name])
    save = [*names, "updated_at"] if hasattr(row, "updated_at") else names
    row.save(update_fields=save)
    audit.record(
        user=acting_user,
        action=action,
        obj=row,
        case_id=case_id,
        before=before,
        after={**snapshot(row, names), "reason": reason},
    )
    return names


@transaction.atomic
def correct_case(case: Case, *, acting_user: User, reason: str, changes: dict[str, Any]) -> list[str]:
    """Correct a case's facts (a wrong amount, district, time); returns the fields that changed."""
    require(permissions.can_edit_case(acting_user), _("Only the centre corrects cases."))
    reason = _reason(reason)
    unknown = set(changes) - set(CASE_EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"Not editable: {sorted(unknown)}")
    locked = Case.objects.select_for_update().get(pk=case.pk)
    ensure_open(locked)
    if changes.get("loss_amount") is not None:
        validate_amount(changes["loss_amount"])
    if "reported_at" in changes or "occurred_at" in changes:
        errors = check_case_times(
            reported_at=changes.get("reported_at", locked.reported_at),
            occurred_at=changes.get("occurred_at", locked.occurred_at),
            transfer_times=[],
        )
        if errors:
            raise ValidationError(errors)
    return _correct(
        locked, acting_user=acting_user, action=AuditAction.CASE_UPDATE, case_id=case.pk, reason=reason, changes=changes
    )


@transaction.atomic
def correct_victim(victim: Victim, *, acting_user: User, reason: str, changes: dict[str, str]) -> list[str]:
    """Correct a victim's name, ID number, phone or address; returns the fields that changed."""
    require(permissions.can_edit_case(acting_user), _("Only the centre corrects cases."))
    reason = _reason(reason)
    unknown = set(changes) - set(VICTIM_EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"Not editable: {sorted(unknown)}")
    ensure_open(Case.objects.select_for_update().get(pk=victim.case_id))
    changes = dict(changes)
    if changes.get("id_number"):
        validate_resident_id(changes["id_number"])
        changes["id_number"] = changes["id_number"].strip().upper()
    if "phone" in changes:
        changes["phone"] = normalise_identifier("phone", changes["phone"]) if changes["phone"] else ""
    locked = Victim.objects.select_for_update().get(pk=victim.pk)
    changed = _correct(
        locked,
        acting_user=acting_user,
        action=AuditAction.VICTIM_UPDATE,
        case_id=victim.case_id,
        reason=reason,
        changes=changes,
    )
    if {"name", "phone"} & set(changed):
        search.reindex_case(victim.case_id)
    return changed


def _extending(case: Case, acting_user: User) -> Case:
    require(permissions.can_extend_case(acting_user), _("Only the centre adds to a case."))
    locked = Case.objects.select_for_update(no_key=True).get(pk=case.pk)
    ensure_open(locked)
    return locked


@transaction.atomic
def add_victim(case: Case, *, acting_user: User, data: VictimData, address: str = "") -> Victim:
    """Add a victim found after intake (another person who paid the same accounts)."""
    case = _extending(case, acting_user)
    if data.id_number:
        validate_resident_id(data.id_number)
    victim = Victim.objects.create(
        case=case,
        name=data.name.strip(),
        id_number=data.id_number.strip().upper(),
        phone=normalise_identifier("phone", data.phone) if data.phone else "",
        address=address.strip(),
    )
    audit.record(
        user=acting_user, action=AuditAction.VICTIM_CREATE, obj=victim, case_id=case.pk, after=snapshot(victim)
    )
    search.reindex_case(case.pk)
    return victim


def earlier_cases(case: Case, identifier: Identifier) -> list[int]:
    """Ids of the other cases that named ``identifier`` (串并案, as at intake)."""
    return list(
        CaseIdentifier.objects.filter(identifier=identifier).exclude(case_id=case.pk).values_list("case_id", flat=True)
    )


@transaction.atomic
def add_case_transfer(case: Case, *, acting_user: User, data: TransferData) -> tuple[Transfer, list[int]]:
    """Add a transfer the victim remembered later; returns it and the cases its receiving account links."""
    case = _extending(case, acting_user)
    errors = check_case_times(reported_at=case.reported_at, occurred_at=None, transfer_times=[("at", data.at)])
    if errors:
        raise ValidationError(errors)
    transfer, target = record_victim_transfer(case, data, acting_user=acting_user)
    return transfer, earlier_cases(case, target)


@transaction.atomic
def add_case_identifier(case: Case, *, acting_user: User, data: IdentifierData) -> tuple[Identifier, list[int]]:
    """Add a suspect's phone, URL, account, app or social account; returns it and the cases it links."""
    case = _extending(case, acting_user)
    identifier = add_identifier(
        case,
        kind=data.kind,
        value=data.value,
        bank=data.bank,
        holder_name=data.holder_name,
        role=IdentifierRole.SUSPECT,
        acting_user=acting_user,
    )
    return identifier, earlier_cases(case, identifier)


def _set_link(case: Case, other: Case, *, acting_user: User, reason: str, state: str, action: AuditAction) -> CaseLink:
    require(permissions.can_link_cases(acting_user), _("Only the centre links cases."))
    reason = _reason(reason)
    if case.pk == other.pk:
        raise ValidationError({"other": _("A case cannot be linked to itself.")})
    low, high = sorted((case.pk, other.pk))
    # Both cases locked in id order: two analysts linking the same pair wait for each other.
    pair = list(Case.objects.select_for_update(no_key=True).filter(pk__in=(low, high)).order_by("pk"))
    ensure_open(next(c for c in pair if c.pk == case.pk))
    link = CaseLink.objects.filter(case_id=low, other_id=high).first()
    before = snapshot(link, ["state", "reason"]) if link else None
    share_identifier = (
        CaseIdentifier.objects.filter(case_id=case.pk)
        .filter(identifier_id__in=CaseIdentifier.objects.filter(case_id=other.pk).values("identifier_id"))
        .exists()
    )
    linked_now = link.state == CaseLinkState.LINKED if link else share_identifier
    if linked_now == (state == CaseLinkState.LINKED):
        raise Conflict(
            _("These cases are already linked.") if state == CaseLinkState.LINKED else _("These cases are not linked.")
        )
    if link is None:
        link = CaseLink(case_id=low, other_id=high)
    link.state, link.reason, link.changed_by = state, reason, acting_user
    link.changed_at = timezone.now()
    link.save()
    after = snapshot(link, ["state", "reason"])
    for one, two in ((case, other), (other, case)):
        # On both timelines, each naming the other case.
        audit.record(
            user=acting_user,
            action=action,
            obj=link,
            case_id=one.pk,
            before=before,
            after={**after, "other_case_id": two.pk, "other_reference": two.reference},
        )
    return link


@transaction.atomic
def link_cases(case: Case, other: Case, *, acting_user: User, reason: str) -> CaseLink:
    """Join two cases by hand (串并案 on the analyst's judgement), with the reason; both timelines show it."""
    return _set_link(
        case, other, acting_user=acting_user, reason=reason, state=CaseLinkState.LINKED, action=AuditAction.CASE_LINK
    )


@transaction.atomic
def unlink_cases(case: Case, other: Case, *, acting_user: User, reason: str) -> CaseLink:
    """Separate two cases: a link set by hand, or one a shared identifier made that the analyst judges wrong."""
    return _set_link(
        case,
        other,
        acting_user=acting_user,
        reason=reason,
        state=CaseLinkState.UNLINKED,
        action=AuditAction.CASE_UNLINK,
    )
