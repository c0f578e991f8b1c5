"""Cases: intake, corrections, filing, closing and sharing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from guardian.shortcuts import assign_perm, remove_perm

from agencies.models import Agency, User
from coordination import audit
from coordination.audit import snapshot
from coordination.choices import AuditAction
from coordination.exceptions import Conflict

from .. import holdings, permissions, search
from ..choices import CaseOutcome, CaseStatus, IdentifierRole, TargetKind, TransferSource
from ..fund_return import case_untraced
from ..models import Case, Channel, District, FraudType, Victim
from ..validators import normalise_identifier, validate_amount, validate_resident_id
from .common import change_row, ensure_open, require
from .identifiers import add_identifier, add_transfer
from .legal_documents import use_legal_document


def next_case_reference(reported_at: datetime) -> str:
    """``CD-<year>-<serial>`` from a PostgreSQL sequence: unique, gaps allowed."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval('case_reference_seq')")
        (serial,) = cursor.fetchone()
    return f"CD-{timezone.localtime(reported_at).year}-{serial:06d}"


@dataclass(frozen=True)
class VictimData:
    name: str
    id_number: str = ""
    phone: str = ""
    address: str = ""


@dataclass(frozen=True)
class TransferData:
    from_account: str
    from_bank: Agency | None
    to_account: str
    to_bank: Agency | None
    amount: Decimal
    at: datetime


@dataclass(frozen=True)
class IdentifierData:
    kind: str
    value: str
    bank: Agency | None = None
    holder_name: str = ""


@transaction.atomic
def create_case(
    *,
    acting_user: User,
    fraud_type: FraudType,
    channel: Channel,
    district: District,
    reported_at: datetime,
    loss_amount: Decimal,
    summary: str = "",
    occurred_at: datetime | None = None,
    victims: Sequence[VictimData] = (),
    transfers: Sequence[TransferData] = (),
    identifiers: Sequence[IdentifierData] = (),
) -> Case:
    """Record a reported case with its victims, transfers and identifiers (golden-hour step 1-2)."""
    require(permissions.can_create_case(acting_user), _("Only centre analysts record cases."))
    validate_amount(loss_amount)
    for victim in victims:
        if victim.id_number:
            validate_resident_id(victim.id_number)
    victims = [
        VictimData(
            name=v.name,
            id_number=v.id_number.upper(),
            phone=normalise_identifier("phone", v.phone),
            address=v.address,
        )
        for v in victims
    ]
    # The victims' part of the search texts; ``add_identifier`` appends each identifier's.
    search_text, search_masked = search.search_texts([(v.name, v.phone) for v in victims], ())
    case = Case.objects.create(
        reference=next_case_reference(reported_at),
        fraud_type=fraud_type,
        channel=channel,
        district=district,
        reported_at=reported_at,
        occurred_at=occurred_at,
        loss_amount=loss_amount,
        summary=summary,
        created_by=acting_user,
        search_text=search_text,
        search_masked=search_masked,
    )
    Victim.objects.bulk_create(
        Victim(
            case=case,
            name=v.name,
            id_number=v.id_number,
            phone=v.phone,
            address=v.address,
        )
        for v in victims
    )
    audit.record(user=acting_user, action=AuditAction.CASE_CREATE, obj=case, case_id=case.pk, after=snapshot(case))
    for transfer in transfers:
        record_victim_transfer(case, transfer, acting_user=acting_user)
    for item in identifiers:
        add_identifier(
            case,
            kind=item.kind,
            value=item.value,
            bank=item.bank,
            holder_name=item.holder_name,
            role=IdentifierRole.SUSPECT,
            acting_user=acting_user,
        )
    return case


def record_victim_transfer(case: Case, transfer: TransferData, *, acting_user: User):
    """A payment the victim reports: both accounts on the case and the money-flow edge between them.

    Returns the transfer and its receiving account (intake and later additions both record them so).
    """
    source = add_identifier(
        case,
        kind=TargetKind.BANK_ACCOUNT,
        value=transfer.from_account,
        bank=transfer.from_bank,
        role=IdentifierRole.VICTIM_ACCOUNT,
        acting_user=acting_user,
    )
    target = add_identifier(
        case,
        kind=TargetKind.BANK_ACCOUNT,
        value=transfer.to_account,
        bank=transfer.to_bank,
        role=IdentifierRole.RECEIVING_ACCOUNT,
        acting_user=acting_user,
    )
    edge = add_transfer(
        case,
        from_identifier=source,
        to_identifier=target,
        amount=transfer.amount,
        at=transfer.at,
        source=TransferSource.VICTIM_REPORT,
        acting_user=acting_user,
    )
    return edge, target


CASE_EDITABLE_FIELDS = ("fraud_type", "channel", "district", "reported_at", "occurred_at", "loss_amount", "summary")


@transaction.atomic
def update_case(case: Case, *, acting_user: User, **changes: Any) -> Case:
    """Correct a case's facts; the audit row keeps the values before and after."""
    require(permissions.can_edit_case(acting_user), _("Only the centre edits cases."))
    unknown = set(changes) - set(CASE_EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"Not editable: {sorted(unknown)}")
    if "loss_amount" in changes:
        validate_amount(changes["loss_amount"])
    fields = list(changes)
    save = [*fields, "updated_at"]
    with change_row(
        case, acting_user=acting_user, action=AuditAction.CASE_UPDATE, save=save, audit_fields=fields
    ) as case:
        ensure_open(case)
        for field, value in changes.items():
            setattr(case, field, value)
    return case


@transaction.atomic
def file_case(case: Case, *, acting_user: User, filing_number: str) -> Case:
    """Record the formal filing (立案): it unlocks freezes and account queries."""
    require(permissions.can_edit_case(acting_user), _("Only the centre files cases."))
    if not filing_number.strip():
        raise ValidationError({"filing_number": _("The filing number is required.")})
    fields = ["status", "filing_number"]
    save = [*fields, "updated_at"]
    with change_row(
        case, acting_user=acting_user, action=AuditAction.CASE_FILE, save=save, audit_fields=fields
    ) as case:
        ensure_open(case)
        if case.status != CaseStatus.OPEN:
            raise Conflict(_("Only an open case can be filed."))
        case.transition_to(CaseStatus.FILED)
        # The filing decision (立案决定书) is a legal document: its number has the shape, and is this case's.
        case.filing_number = use_legal_document(case, filing_number, field="filing_number")
    return case


CLOSURE_SUMMARY_MAX = 20000


def closure_errors(*, summary: str, outcome: str) -> dict[str, list[str]]:
    """What is wrong with a closure, by field: the page's form and the API ask the same.

    The outcome (one of ``CaseOutcome``) and a summary in words are required; the amount
    returned is never typed (it follows from the banks' fund-return reports).
    """
    errors: dict[str, list[str]] = {}
    if not outcome:
        errors["outcome"] = [_("Choose how the case ended.")]
    elif outcome not in CaseOutcome.values:
        errors["outcome"] = [_("Unknown outcome.")]
    summary = (summary or "").strip()
    if not summary:
        errors["summary"] = [_("Write the closing summary.")]
    elif len(summary) > CLOSURE_SUMMARY_MAX:
        errors["summary"] = [_("The summary is too long.")]
    return errors


@transaction.atomic
def close_case(
    case: Case,
    *,
    acting_user: User,
    summary: str = "",
    outcome: str = "",
) -> Case:
    """Close a case (closure and review): the outcome and a summary.

    The amount returned is never typed: it is what the banks' fund-return
    reports gave back to the case's victims (``submit_result``). The audit row
    keeps the closing figures (lost, stopped, frozen, returned, and the
    untraced remainder still frozen, ``cases.fund_return.case_untraced``)
    beside the state, so the review reads them as they were.
    """
    require(permissions.can_edit_case(acting_user), _("Only the centre closes cases."))
    errors = closure_errors(summary=summary, outcome=outcome)
    if errors:
        raise ValidationError(errors)
    fields = [
        "status",
        "outcome",
        "closure_summary",
        "closed_at",
        "loss_amount",
        "amount_stopped",
        "amount_frozen",
        "amount_returned",
    ]
    save = [*fields, "updated_at"]
    # The closing figures as the review reads them: held now, each amount counted once (cases.holdings).
    holdings.refresh_totals(case.pk)
    with change_row(
        case,
        acting_user=acting_user,
        action=AuditAction.CASE_CLOSE,
        save=save,
        audit_fields=fields,
        annotate=lambda locked: {"untraced": f"{case_untraced(locked):.2f}"},
    ) as case:
        if case.status == CaseStatus.CLOSED:
            raise Conflict(_("The case is already closed."))
        case.transition_to(CaseStatus.CLOSED)
        case.outcome, case.closure_summary, case.closed_at = outcome, summary.strip(), timezone.now()
    return case


@transaction.atomic
def share_case(case: Case, *, user: User, acting_user: User, action: str = "view") -> None:
    """Share a case with a named person (django-guardian), e.g. a station's investigator."""
    require(permissions.can_share(acting_user), _("Only a supervisor shares cases."))
    if action not in ("view", "change"):
        raise ValueError(action)
    assign_perm(f"cases.{action}_case", user, case)
    audit.record(
        user=acting_user,
        action=AuditAction.CASE_SHARE,
        obj=case,
        case_id=case.pk,
        after={"user": user.get_username(), "permission": action},
    )


@transaction.atomic
def unshare_case(case: Case, *, user: User, acting_user: User, action: str = "view") -> None:
    require(permissions.can_share(acting_user), _("Only a supervisor shares cases."))
    remove_perm(f"cases.{action}_case", user, case)
    audit.record(
        user=acting_user,
        action=AuditAction.CASE_UNSHARE,
        obj=case,
        case_id=case.pk,
        before={"user": user.get_username(), "permission": action},
    )
