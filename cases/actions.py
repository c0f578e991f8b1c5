"""Every change to cases, identifiers, transfers and tasks.

Each action is atomic, writes its audit row in the same transaction and
registers side effects (pushes, notifications) with ``transaction.on_commit``.
Views, serializers, the admin, commands and tests call these; nothing else
saves a case or a task.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from guardian.shortcuts import assign_perm, remove_perm

from agencies.choices import FINANCIAL_SECTORS
from agencies.models import Agency, User
from coordination import audit
from coordination.audit import snapshot
from coordination.exceptions import ActionNotAllowed, Conflict

from . import permissions
from .choices import (
    FLOW_TASK_TYPES,
    MAX_STOP_PAYMENTS_PER_ACCOUNT,
    STOP_PAYMENT_HOURS,
    CaseStatus,
    IdentifierRole,
    ProposalState,
    ResultStatus,
    TargetKind,
    TaskState,
    TaskType,
    TransferSource,
)
from .models import (
    Case,
    CaseIdentifier,
    Channel,
    District,
    FollowUpProposal,
    FraudType,
    Identifier,
    Task,
    TaskTypeConfig,
    Transfer,
    Victim,
)
from .results import clean_result
from .validators import normalise_identifier, validate_amount, validate_identifier, validate_resident_id

# Roles under which an identifier counts as "involved" for the payment-time
# lookup: a victim's own account or phone is not a fraud signal.
SUSPECT_ROLES = frozenset({IdentifierRole.RECEIVING_ACCOUNT, IdentifierRole.ONWARD_ACCOUNT, IdentifierRole.SUSPECT})
# Stop-payments in these states still count against the per-account limit.
LIVE_STOP_STATES = frozenset(
    {TaskState.PENDING_APPROVAL, TaskState.APPROVED, TaskState.DISPATCHED, TaskState.ACCEPTED, TaskState.COMPLETED}
)
FREEZE_DAYS = 180


def _require(allowed: bool, message: str) -> None:
    if not allowed:
        raise ActionNotAllowed(message)


def next_case_reference(reported_at: datetime) -> str:
    """``CD-<year>-<serial>`` from a PostgreSQL sequence: unique, gaps allowed."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval('case_reference_seq')")
        (serial,) = cursor.fetchone()
    return f"CD-{timezone.localtime(reported_at).year}-{serial:06d}"


# --- cases -----------------------------------------------------------------------


@dataclass(frozen=True)
class VictimData:
    name: str
    id_number: str = ""
    phone: str = ""


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
    _require(permissions.can_create_case(acting_user), _("Only centre analysts record cases."))
    validate_amount(loss_amount)
    for victim in victims:
        if victim.id_number:
            validate_resident_id(victim.id_number)
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
    )
    Victim.objects.bulk_create(
        Victim(case=case, name=v.name, id_number=v.id_number.upper(), phone=normalise_identifier("phone", v.phone))
        for v in victims
    )
    audit.record(user=acting_user, action="case.create", obj=case, case_id=case.pk, after=snapshot(case))
    for transfer in transfers:
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
        add_transfer(
            case,
            from_identifier=source,
            to_identifier=target,
            amount=transfer.amount,
            at=transfer.at,
            source=TransferSource.VICTIM_REPORT,
            acting_user=acting_user,
        )
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


CASE_EDITABLE_FIELDS = ("fraud_type", "channel", "district", "reported_at", "occurred_at", "loss_amount", "summary")


@transaction.atomic
def update_case(case: Case, *, acting_user: User, **changes: Any) -> Case:
    """Correct a case's facts; the audit row keeps the values before and after."""
    _require(permissions.can_edit_case(acting_user), _("Only the centre edits cases."))
    unknown = set(changes) - set(CASE_EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"Not editable: {sorted(unknown)}")
    if "loss_amount" in changes:
        validate_amount(changes["loss_amount"])
    case = Case.objects.select_for_update().get(pk=case.pk)
    before = snapshot(case, list(changes))
    for field, value in changes.items():
        setattr(case, field, value)
    case.save(update_fields=[*changes, "updated_at"])
    audit.record(
        user=acting_user,
        action="case.update",
        obj=case,
        case_id=case.pk,
        before=before,
        after=snapshot(case, list(changes)),
    )
    return case


@transaction.atomic
def file_case(case: Case, *, acting_user: User, filing_number: str) -> Case:
    """Record the formal filing (立案): it unlocks freezes and account queries."""
    _require(permissions.can_edit_case(acting_user), _("Only the centre files cases."))
    if not filing_number.strip():
        raise ValidationError({"filing_number": _("The filing number is required.")})
    case = Case.objects.select_for_update().get(pk=case.pk)
    if case.status != CaseStatus.OPEN:
        raise Conflict(_("Only an open case can be filed."))
    before = snapshot(case, ["status", "filing_number"])
    case.status, case.filing_number = CaseStatus.FILED, filing_number.strip()
    case.save(update_fields=["status", "filing_number", "updated_at"])
    audit.record(
        user=acting_user,
        action="case.file",
        obj=case,
        case_id=case.pk,
        before=before,
        after=snapshot(case, ["status", "filing_number"]),
    )
    return case


@transaction.atomic
def close_case(case: Case, *, acting_user: User, amount_returned: Decimal = Decimal("0.00")) -> Case:
    """Close a case with the amount returned to the victims (closure and review)."""
    _require(permissions.can_edit_case(acting_user), _("Only the centre closes cases."))
    if amount_returned < 0:
        raise ValidationError({"amount_returned": _("The amount must not be negative.")})
    case = Case.objects.select_for_update().get(pk=case.pk)
    if case.status == CaseStatus.CLOSED:
        raise Conflict(_("The case is already closed."))
    before = snapshot(case, ["status", "amount_returned"])
    case.status, case.amount_returned = CaseStatus.CLOSED, amount_returned
    case.save(update_fields=["status", "amount_returned", "updated_at"])
    audit.record(
        user=acting_user,
        action="case.close",
        obj=case,
        case_id=case.pk,
        before=before,
        after=snapshot(case, ["status", "amount_returned"]),
    )
    return case


@transaction.atomic
def share_case(case: Case, *, user: User, acting_user: User, action: str = "view") -> None:
    """Share a case with a named person (django-guardian), e.g. a station's investigator."""
    _require(permissions.can_share(acting_user), _("Only a supervisor shares cases."))
    if action not in ("view", "change"):
        raise ValueError(action)
    assign_perm(f"cases.{action}_case", user, case)
    audit.record(
        user=acting_user,
        action="case.share",
        obj=case,
        case_id=case.pk,
        after={"user": user.get_username(), "permission": action},
    )


@transaction.atomic
def unshare_case(case: Case, *, user: User, acting_user: User, action: str = "view") -> None:
    _require(permissions.can_share(acting_user), _("Only a supervisor shares cases."))
    remove_perm(f"cases.{action}_case", user, case)
    audit.record(
        user=acting_user,
        action="case.unshare",
        obj=case,
        case_id=case.pk,
        before={"user": user.get_username(), "permission": action},
    )


# --- identifiers and transfers ---------------------------------------------------


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
        counts = {"last_seen_at": timezone.now()}
        if role in SUSPECT_ROLES:
            counts["case_count"] = F("case_count") + 1
        Identifier.objects.filter(pk=identifier.pk).update(**counts, **fill)
        identifier.refresh_from_db()
        earlier = list(
            CaseIdentifier.objects.filter(identifier=identifier)
            .exclude(case=case)
            .values_list("case_id", flat=True)[:50]
        )
        audit.record(
            user=acting_user,
            action="identifier.link",
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
    audit.record(user=acting_user, action="transfer.create", obj=transfer, case_id=case.pk, after=snapshot(transfer))
    return transfer


# --- tasks -----------------------------------------------------------------------


def task_type_config(code: str) -> TaskTypeConfig:
    try:
        return TaskTypeConfig.objects.get(code=code)
    except TaskTypeConfig.DoesNotExist:
        raise ValidationError({"type": _("Unknown task type.")}) from None


def _live_stop_payments(case_id: int, identifier_id: int) -> int:
    return Task.objects.filter(
        case_id=case_id, target_id=identifier_id, type=TaskType.EMERGENCY_STOP_PAYMENT, state__in=LIVE_STOP_STATES
    ).count()


def _audit_task(user, action: str, task: Task, before: dict | None = None) -> None:
    fields = ["state", "deadline", "reason", "result_status", "amount_held", "lapses_at", "needs_attention"]
    audit.record(user=user, action=action, obj=task, case_id=task.case_id, before=before, after=snapshot(task, fields))


def _task_state(task: Task) -> dict:
    return snapshot(
        task, ["state", "deadline", "reason", "result_status", "amount_held", "lapses_at", "needs_attention"]
    )


@transaction.atomic
def create_task(
    case: Case,
    *,
    acting_user: User,
    type: str,
    agency: Agency,
    target_kind: str = TargetKind.NONE,
    target_value: str = "",
    target_bank: Agency | None = None,
    amount: Decimal | None = None,
    legal_document_number: str = "",
    note: str = "",
    follows: Task | None = None,
) -> Task:
    """Turn an action the case needs from ``agency`` into a task awaiting approval."""
    _require(permissions.can_create_task(acting_user), _("Only the centre creates tasks."))
    config = task_type_config(type)
    errors: dict[str, str] = {}
    if config.sectors and agency.sector not in config.sectors:
        errors["agency"] = _("This task type cannot be assigned to this agency's sector.")
    if not agency.is_active:
        errors["agency"] = _("This agency is not active.")
    if config.needs_legal_document and not (legal_document_number or "").strip():
        errors["legal_document_number"] = _("This task type needs a legal document number.")
    if config.needs_filed_case and case.status != CaseStatus.FILED:
        errors["case"] = _("This task type needs a formally filed case.")
    if case.status == CaseStatus.CLOSED:
        errors["case"] = _("The case is closed.")
    if amount is not None:
        try:
            validate_amount(amount)
        except ValidationError as exc:
            errors["amount"] = exc.messages[0]
    if (target_kind == TargetKind.NONE) != (not target_value):
        errors["target"] = _("Give a target value, or the target kind none without a value.")
    if errors:
        raise ValidationError(errors)
    target = None
    if target_kind != TargetKind.NONE:
        try:
            target = add_identifier(
                case,
                kind=target_kind,
                value=target_value,
                acting_user=acting_user,
                bank=target_bank
                or (agency if agency.sector in FINANCIAL_SECTORS and target_kind == TargetKind.BANK_ACCOUNT else None),
                role=IdentifierRole.RECEIVING_ACCOUNT
                if target_kind == TargetKind.BANK_ACCOUNT
                else IdentifierRole.SUSPECT,
            )
        except ValidationError as exc:
            raise ValidationError({"target": exc.messages}) from None
    if type == TaskType.EMERGENCY_STOP_PAYMENT and target is not None:
        # Serialise concurrent issuers on the identifier row so the limit holds.
        Identifier.objects.select_for_update().filter(pk=target.pk).first()
        if _live_stop_payments(case.pk, target.pk) >= MAX_STOP_PAYMENTS_PER_ACCOUNT:
            raise ValidationError({"target": _("This account already has two stop-payments in this case.")})
    task = Task.objects.create(
        case=case,
        type=type,
        agency=agency,
        target_kind=target_kind,
        target=target,
        amount=amount,
        legal_document_number=(legal_document_number or "").strip(),
        note=note,
        follows=follows,
        deadline=timezone.now() + timedelta(minutes=config.deadline_minutes),
        created_by=acting_user,
    )
    case.agencies.add(agency)
    _audit_task(acting_user, "task.create", task)
    return task


@transaction.atomic
def approve_task(task: Task, *, acting_user: User) -> Task:
    """Approve a task; the deadline starts now and a pushable task is dispatched.

    With an endpoint, an outbox row is written in this transaction and the push
    job queued on commit; without one, the task waits in the agency's inbox.
    """
    from alerts.actions import dispatch_task

    task = Task.objects.select_for_update().get(pk=task.pk)
    config = task_type_config(task.type)
    _require(
        permissions.can_approve(acting_user, task, config.needs_supervisor),
        _("This task type needs a supervisor's approval."),
    )
    before = _task_state(task)
    task.transition_to(TaskState.APPROVED)
    now = timezone.now()
    task.approved_by, task.approved_at = acting_user, now
    task.deadline = now + timedelta(minutes=config.deadline_minutes)
    task.save(update_fields=["state", "approved_by", "approved_at", "deadline"])
    _audit_task(acting_user, "task.approve", task, before)
    dispatch_task(task)
    task.refresh_from_db()
    return task


def approve_tasks(tasks: Iterable[Task], *, acting_user: User) -> tuple[list[Task], dict[int, str]]:
    """Approve many; each in its own transaction, so one refusal does not undo the rest."""
    from coordination.exceptions import InvalidTransition

    approved, refused = [], {}
    for task in tasks:
        try:
            approved.append(approve_task(task, acting_user=acting_user))
        except (InvalidTransition, ActionNotAllowed, ValidationError) as exc:
            refused[task.pk] = str(exc)
    return approved, refused


@transaction.atomic
def mark_dispatched(task: Task, *, acting_user: User | None = None, at: datetime | None = None) -> Task:
    """The agency has the task: its endpoint took the push, or it pulls from its inbox.

    Idempotent: a partner may have answered before the push's answer arrived.
    """
    task = Task.objects.select_for_update().get(pk=task.pk)
    at = at or timezone.now()
    if task.state == TaskState.APPROVED:
        before = _task_state(task)
        task.transition_to(TaskState.DISPATCHED)
        task.dispatched_at = at
        task.save(update_fields=["state", "dispatched_at"])
        _audit_task(acting_user, "task.dispatch", task, before)
    elif task.dispatched_at is None and task.state not in (TaskState.PENDING_APPROVAL, TaskState.CANCELLED):
        task.dispatched_at = at
        task.save(update_fields=["dispatched_at"])
    if task.type == TaskType.EMERGENCY_STOP_PAYMENT and task.dispatched_at is not None:
        Case.objects.filter(pk=task.case_id, first_stop_delivered_at__isnull=True).update(
            first_stop_delivered_at=task.dispatched_at
        )
    return task


@transaction.atomic
def cancel_task(task: Task, *, acting_user: User, reason: str = "") -> Task:
    """The centre withdraws a task (a supervisor returning it from the approval queue too)."""
    _require(permissions.can_cancel(acting_user), _("Only the centre cancels tasks."))
    task = Task.objects.select_for_update().get(pk=task.pk)
    before = _task_state(task)
    task.transition_to(TaskState.CANCELLED)
    task.reason, task.finished_at = reason[:2000], timezone.now()
    task.save(update_fields=["state", "reason", "finished_at"])
    _audit_task(acting_user, "task.cancel", task, before)
    return task


@transaction.atomic
def accept_task(task: Task, *, acting_user: User) -> Task:
    """The assigned agency acknowledges the task."""
    _require(permissions.can_act_for_agency(acting_user, task), _("Only the assigned agency accepts its tasks."))
    task = Task.objects.select_for_update().get(pk=task.pk)
    if task.state == TaskState.APPROVED:  # pulled before the push was acknowledged
        mark_dispatched(task, acting_user=acting_user)
        task.refresh_from_db()
    before = _task_state(task)
    task.transition_to(TaskState.ACCEPTED)
    task.accepted_at = timezone.now()
    task.save(update_fields=["state", "accepted_at"])
    _audit_task(acting_user, "task.accept", task, before)
    return task


@transaction.atomic
def reject_task(task: Task, *, acting_user: User, reason: str) -> Task:
    """The assigned agency refuses the task, with a reason the centre reads."""
    _require(permissions.can_act_for_agency(acting_user, task), _("Only the assigned agency rejects its tasks."))
    if not (reason or "").strip():
        raise ValidationError({"reason": _("Say why the task is rejected.")})
    task = Task.objects.select_for_update().get(pk=task.pk)
    if task.state == TaskState.APPROVED:
        mark_dispatched(task, acting_user=acting_user)
        task.refresh_from_db()
    before = _task_state(task)
    task.transition_to(TaskState.REJECTED)
    task.reason, task.finished_at = reason.strip()[:2000], timezone.now()
    task.save(update_fields=["state", "reason", "finished_at"])
    _audit_task(acting_user, "task.reject", task, before)
    _notify("task_rejected", task)
    return task


def result_digest(status: str, executed_at: str | None, reason: str | None, result: dict) -> str:
    canonical = json.dumps(
        {"status": status, "executed_at": executed_at, "reason": reason or None, "result": result},
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


@transaction.atomic
def submit_result(
    task: Task,
    *,
    acting_user: User,
    status: str,
    result: dict | None = None,
    executed_at: datetime | None = None,
    reason: str | None = None,
) -> tuple[Task, bool]:
    """Take a partner's result into the case (golden-hour step 4).

    Returns ``(task, changed)``. The same result twice changes nothing; a
    different second result raises ``Conflict``. Onward transfers become
    identifiers and money-flow edges, and each receiving account not yet stopped
    gets a proposed follow-up stop-payment.
    """
    _require(permissions.can_act_for_agency(acting_user, task), _("Only the assigned agency reports results."))
    cleaned = clean_result(task.type, status, result)
    executed_iso = executed_at.isoformat() if executed_at else None
    digest = result_digest(status, executed_iso, reason, cleaned)
    task = Task.objects.select_for_update().get(pk=task.pk)
    if task.result_digest:
        if task.result_digest == digest:
            return task, False
        raise Conflict(_("A different result was already recorded for this task."))
    if task.state == TaskState.APPROVED:
        mark_dispatched(task, acting_user=acting_user)
        task.refresh_from_db()
    before = _task_state(task)
    task.transition_to(TaskState.COMPLETED if status == ResultStatus.COMPLETED else TaskState.FAILED)
    now = timezone.now()
    task.result_status, task.result, task.result_digest = status, cleaned, digest
    task.executed_at, task.finished_at = executed_at or now, now
    task.reason = (reason or "")[:2000]
    fields = ["state", "result_status", "result", "result_digest", "executed_at", "finished_at", "reason"]
    if status == ResultStatus.COMPLETED and "amount_held" in cleaned:
        task.amount_held = Decimal(cleaned["amount_held"])
        fields.append("amount_held")
        if task.type == TaskType.EMERGENCY_STOP_PAYMENT:
            task.lapses_at = _parse(cleaned.get("lapses_at")) or task.executed_at + timedelta(hours=STOP_PAYMENT_HOURS)
            Case.objects.filter(pk=task.case_id).update(amount_stopped=F("amount_stopped") + task.amount_held)
        else:
            task.lapses_at = _parse(cleaned.get("lapses_at")) or task.executed_at + timedelta(days=FREEZE_DAYS)
            Case.objects.filter(pk=task.case_id).update(amount_frozen=F("amount_frozen") + task.amount_held)
        fields.append("lapses_at")
    task.save(update_fields=fields)
    _audit_task(acting_user, "task.result", task, before)
    if task.type in FLOW_TASK_TYPES and cleaned.get("onward_transfers"):
        _take_onward_transfers(task, cleaned["onward_transfers"], acting_user)
    _notify("task_result", task)
    return task, True


def _parse(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _take_onward_transfers(task: Task, transfers: list[dict], acting_user: User) -> None:
    case = task.case
    source = task.target
    banks = {a.code: a for a in Agency.objects.filter(code__in={t["bank"] for t in transfers if t["bank"]})}
    proposed = 0
    for row in transfers:
        bank = banks.get(row["bank"])
        account = add_identifier(
            case,
            kind=TargetKind.BANK_ACCOUNT,
            value=row["account_number"],
            bank=bank,
            holder_name=row["holder_name"],
            role=IdentifierRole.ONWARD_ACCOUNT,
            acting_user=acting_user,
        )
        if source is not None:
            add_transfer(
                case,
                from_identifier=source,
                to_identifier=account,
                amount=Decimal(row["amount"]),
                at=datetime.fromisoformat(row["at"]),
                source=TransferSource.PARTNER_RESULT,
                acting_user=acting_user,
                source_task=task,
            )
        if bank is None or bank.sector not in FINANCIAL_SECTORS or _live_stop_payments(case.pk, account.pk):
            continue
        _proposal, created = FollowUpProposal.objects.get_or_create(
            case=case,
            identifier=account,
            source_task=task,
            defaults={"agency": bank, "amount": Decimal(row["amount"])},
        )
        proposed += created
    if proposed:
        audit.record(
            user=acting_user,
            action="case.follow_ups_proposed",
            obj=case,
            case_id=case.pk,
            after={"source_task": task.pk, "count": proposed},
        )
        _notify("follow_ups", task)


@transaction.atomic
def issue_follow_ups(
    case: Case, *, acting_user: User, proposal_ids: Sequence[int] | None = None, approve: bool = True
) -> list[Task]:
    """Issue proposed next-layer stop-payments in one action (and approve them when allowed)."""
    proposals = (
        FollowUpProposal.objects.visible_to(acting_user, "change")
        .select_for_update()
        .filter(case=case, state=ProposalState.PROPOSED)
        .select_related("identifier", "agency", "source_task")
        .order_by("id")
    )
    if proposal_ids is not None:
        proposals = proposals.filter(pk__in=proposal_ids)
    tasks = []
    for proposal in proposals:
        if _live_stop_payments(case.pk, proposal.identifier_id):
            proposal.state = ProposalState.DISMISSED
            proposal.save(update_fields=["state"])
            continue
        task = create_task(
            case,
            acting_user=acting_user,
            type=TaskType.EMERGENCY_STOP_PAYMENT,
            agency=proposal.agency,
            target_kind=TargetKind.BANK_ACCOUNT,
            target_value=proposal.identifier.value,
            amount=proposal.amount,
            follows=proposal.source_task,
            note=_("Follow-up of task #%(id)s") % {"id": proposal.source_task_id},
        )
        proposal.state, proposal.issued_task = ProposalState.ISSUED, task
        proposal.save(update_fields=["state", "issued_task"])
        tasks.append(task)
    if approve:
        tasks = [_approve_if_allowed(task, acting_user) for task in tasks]
    return tasks


def _approve_if_allowed(task: Task, acting_user: User) -> Task:
    config = task_type_config(task.type)
    if permissions.can_approve(acting_user, task, config.needs_supervisor):
        return approve_task(task, acting_user=acting_user)
    return task


@transaction.atomic
def issue_stop_payments(case: Case, *, acting_user: User, approve: bool = True) -> list[Task]:
    """One click: a stop-payment to the holding bank for every receiving account of the case.

    Accounts that already have a live stop-payment, or whose bank is unknown or
    not a financial institution, are skipped.
    """
    _require(permissions.can_create_task(acting_user), _("Only the centre creates tasks."))
    links = (
        CaseIdentifier.objects.filter(
            case=case, role=IdentifierRole.RECEIVING_ACCOUNT, identifier__kind=TargetKind.BANK_ACCOUNT
        )
        .select_related("identifier__bank")
        .order_by("id")
    )
    amounts = dict(Transfer.objects.filter(case=case).values_list("to_identifier_id").annotate(total=Sum("amount")))
    tasks = []
    for link in links:
        identifier = link.identifier
        bank = identifier.bank
        if bank is None or bank.sector not in FINANCIAL_SECTORS or _live_stop_payments(case.pk, identifier.pk):
            continue
        tasks.append(
            create_task(
                case,
                acting_user=acting_user,
                type=TaskType.EMERGENCY_STOP_PAYMENT,
                agency=bank,
                target_kind=TargetKind.BANK_ACCOUNT,
                target_value=identifier.value,
                amount=amounts.get(identifier.pk),
            )
        )
    if approve:
        tasks = [_approve_if_allowed(task, acting_user) for task in tasks]
    return tasks


@transaction.atomic
def expire_task(task: Task, *, acting_user: User | None = None) -> Task:
    """A time-limited measure (stop-payment, freeze) has lapsed."""
    task = Task.objects.select_for_update().get(pk=task.pk)
    before = _task_state(task)
    task.transition_to(TaskState.EXPIRED)
    task.save(update_fields=["state"])
    _audit_task(acting_user, "task.expire", task, before)
    return task


@transaction.atomic
def flag_task(task: Task, *, reason: str, acting_user: User | None = None) -> Task:
    """Ask a person to look at a task (a permanent push failure, a dead letter)."""
    task = Task.objects.select_for_update().get(pk=task.pk)
    before = _task_state(task)
    task.needs_attention, task.attention_reason = True, reason[:200]
    task.save(update_fields=["needs_attention", "attention_reason"])
    _audit_task(acting_user, "task.flag", task, before)
    return task


@transaction.atomic
def clear_flag(task: Task, *, acting_user: User) -> Task:
    _require(permissions.can_cancel(acting_user), _("Only the centre clears flags."))
    task = Task.objects.select_for_update().get(pk=task.pk)
    before = _task_state(task)
    task.needs_attention, task.attention_reason = False, ""
    task.save(update_fields=["needs_attention", "attention_reason"])
    _audit_task(acting_user, "task.unflag", task, before)
    return task


@transaction.atomic
def mark_overdue(task: Task) -> bool:
    """Mark a task overdue once; returns whether this call marked it."""
    updated = (
        Task.objects.filter(pk=task.pk, is_overdue=False)
        .filter(Q(state__in=(TaskState.PENDING_APPROVAL, TaskState.APPROVED, TaskState.DISPATCHED, TaskState.ACCEPTED)))
        .update(is_overdue=True)
    )
    if updated:
        task.refresh_from_db()
        audit.record(
            user=None,
            action="task.overdue",
            obj=task,
            case_id=task.case_id,
            before={"is_overdue": False},
            after={"is_overdue": True},
        )
    return bool(updated)


def _notify(event: str, task: Task) -> None:
    """Tell the people concerned, after commit (alerts app)."""
    from alerts import events

    transaction.on_commit(lambda: events.task_event(event, task.pk))
