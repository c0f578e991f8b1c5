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
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from agencies.models import User
from coordination import audit
from coordination.audit import snapshot
from coordination.choices import AuditAction
from coordination.exceptions import Conflict

from .. import permissions, search
from ..choices import CaseLinkState, IdentifierRole, TargetKind
from ..models import Case, CaseIdentifier, CaseLink, FollowUpProposal, Identifier, Task, Transfer, Victim
from ..validators import (
    check_case_times,
    normalise_identifier,
    validate_amount,
    validate_identifier,
    validate_resident_id,
)
from .cases import CASE_EDITABLE_FIELDS, IdentifierData, TransferData, VictimData, record_victim_transfer
from .common import ensure_open, require
from .identifiers import SUSPECT_ROLES, add_identifier

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


TRANSFER_EDITABLE_FIELDS = ("from_account", "from_bank", "to_account", "to_bank", "amount", "at")
# The side of a money-flow edge, the field naming its account, and the role an account added there takes.
_SIDES = (
    ("from", IdentifierRole.VICTIM_ACCOUNT),
    ("to", IdentifierRole.RECEIVING_ACCOUNT),
)


def _transfer_errors(case: Case, changes: dict[str, Any]) -> dict[str, list[str]]:
    """The intake's checks on the corrected values: a positive amount, a time not after the report, accounts."""
    errors: dict[str, list[str]] = {}
    if "amount" in changes:
        try:
            validate_amount(changes["amount"])
        except ValidationError as exc:
            errors["amount"] = exc.messages
    if "at" in changes:
        if changes["at"] is None:
            errors["at"] = [_("Give the time of the transfer.")]
        else:
            errors.update(check_case_times(reported_at=case.reported_at, transfer_times=[("at", changes["at"])]))
    for side, _role in _SIDES:
        name = f"{side}_account"
        if name in changes:
            try:
                validate_identifier(TargetKind.BANK_ACCOUNT, changes[name] or "")
            except ValidationError as exc:
                errors[name] = exc.messages
    return errors


def _release(case: Case, identifier: Identifier) -> bool:
    """Take an account a correction replaced off the case, unless the case still uses it; True if taken off.

    Still used: another transfer of the case, a task or a proposal on it, or the
    analyst named it a suspect's. Otherwise the wrong number would go on linking
    this case to others (串并案) and be searched as the case's.
    """
    link = CaseIdentifier.objects.filter(case=case, identifier=identifier).first()
    if link is None or link.role == IdentifierRole.SUSPECT:
        return False
    used = (
        Transfer.objects.filter(case=case).filter(Q(from_identifier=identifier) | Q(to_identifier=identifier)).exists()
        or Task.objects.filter(case=case, target=identifier).exists()
        or FollowUpProposal.objects.filter(case=case, identifier=identifier).exists()
    )
    if used:
        return False
    link.delete()
    if link.role in SUSPECT_ROLES:
        Identifier.objects.filter(pk=identifier.pk, case_count__gt=0).update(case_count=F("case_count") - 1)
    return True


@transaction.atomic
def correct_transfer(transfer: Transfer, *, acting_user: User, reason: str, changes: dict[str, Any]) -> list[str]:
    """Correct a recorded transfer: its amount, time, accounts and their banks; returns the fields that changed.

    The transfer is the money-flow edge, so the graph follows at once. A
    corrected account is the account the edge now joins (found or created, as at
    intake, linking the cases that name it); the replaced one leaves the case
    unless something else of the case uses it (``_release``). A bank given for
    an unchanged account corrects that account's bank. The audit row keeps each
    changed field before and after (accounts by number, banks by code) and the
    reason; the search texts are rebuilt when an account changed. A correction
    that changes nothing writes nothing.
    """
    require(permissions.can_edit_case(acting_user), _("Only the centre corrects cases."))
    reason = _reason(reason)
    unknown = set(changes) - set(TRANSFER_EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"Not editable: {sorted(unknown)}")
    case = Case.objects.select_for_update(no_key=True).get(pk=transfer.case_id)
    ensure_open(case)
    errors = _transfer_errors(case, changes)
    if errors:
        raise ValidationError(errors)
    locked = (
        Transfer.objects.select_for_update(of=("self",))
        .select_related("from_identifier__bank", "to_identifier__bank")
        .get(pk=transfer.pk)
    )
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    changed: list[str] = []
    if "amount" in changes and changes["amount"] != locked.amount:
        before["amount"], after["amount"] = str(locked.amount), str(changes["amount"])
        locked.amount = changes["amount"]
        changed.append("amount")
    if "at" in changes and changes["at"] != locked.at:
        before["at"], after["at"] = locked.at.isoformat(), changes["at"].isoformat()
        locked.at = changes["at"]
        changed.append("at")
    replaced: list[Identifier] = []
    for side, default_role in _SIDES:
        current: Identifier = getattr(locked, f"{side}_identifier")
        bank = changes.get(f"{side}_bank")
        value = changes.get(f"{side}_account")
        if value is not None and normalise_identifier(TargetKind.BANK_ACCOUNT, value) != current.value:
            role = (
                CaseIdentifier.objects.filter(case=case, identifier=current).values_list("role", flat=True).first()
                or default_role
            )
            new = add_identifier(
                case, kind=TargetKind.BANK_ACCOUNT, value=value, bank=bank, role=role, acting_user=acting_user
            )
            before[f"{side}_account"], after[f"{side}_account"] = current.value, new.value
            setattr(locked, f"{side}_identifier", new)
            changed.append(f"{side}_account")
            replaced.append(current)
            current = new
        if bank is not None and bank.pk != current.bank_id:
            before[f"{side}_bank"] = current.bank.code if current.bank_id else None
            after[f"{side}_bank"] = bank.code
            Identifier.objects.filter(pk=current.pk).update(bank=bank)
            changed.append(f"{side}_bank")
    if not changed:
        return []
    locked.save(update_fields=["amount", "at", "from_identifier", "to_identifier"])
    released = [identifier.pk for identifier in replaced if _release(case, identifier)]
    if released:
        after["released_identifier_ids"] = released
    audit.record(
        user=acting_user,
        action=AuditAction.TRANSFER_UPDATE,
        obj=locked,
        case_id=case.pk,
        before=before,
        after={**after, "reason": reason},
    )
    if replaced:
        search.reindex_case(case.pk)
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
