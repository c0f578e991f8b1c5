"""Tasks through their states: created, approved, dispatched, accepted or rejected, withdrawn, lapsed.

Every change of an existing task goes through ``change_task`` (``common.change_row``):
lock the row, snapshot it, change it, save the changed fields, write the audit row.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from agencies.choices import FINANCIAL_SECTORS
from agencies.models import Agency, User
from coordination import audit
from coordination.audit import snapshot
from coordination.choices import AuditAction
from coordination.exceptions import ActionNotAllowed, InvalidTransition

from .. import holdings, permissions, signals, task_types
from ..choices import CaseStatus, IdentifierRole, TargetKind, TaskEvent, TaskState
from ..fund_return import prepare_return
from ..models import Case, Identifier, ReturnAllocation, Task, TaskTypeConfig, Victim
from ..task_types import TaskTypeSpec
from ..validators import normalise_identifier, validate_amount, validate_victim_phone
from .common import NoChange, change_row, notify, require
from .identifiers import add_identifier
from .legal_documents import use_legal_document

# Tasks in these states are live: the one-click stop-payment and follow-up
# proposals skip an account that has one.
LIVE_STATES = frozenset(
    {TaskState.PENDING_APPROVAL, TaskState.APPROVED, TaskState.DISPATCHED, TaskState.ACCEPTED, TaskState.COMPLETED}
)
# What a task's audit row shows before and after.
AUDIT_FIELDS = [
    "state",
    "deadline",
    "reason",
    "result_status",
    "amount_held",
    "lapses_at",
    "needs_attention",
    "legal_document_number",
    "notice_until",
]


@dataclass(frozen=True)
class WarningContact:
    """The person a victim warning must reach: one of the case's victims, or someone named now.

    With ``victim``, the victim's name, phone and address are copied unless given
    here: the task keeps what the station was told even if the victim is corrected later.
    """

    name: str = ""
    phone: str = ""
    address: str = ""
    victim: Victim | None = None


def task_type(code: str) -> TaskTypeSpec:
    """The registered type ``code``, or a validation error on ``type``."""
    try:
        return task_types.get(code)
    except LookupError:
        raise ValidationError({"type": _("Unknown task type.")}) from None


def deadline_minutes(spec: TaskTypeSpec) -> int:
    """How long the agency has: the administrator's ``TaskTypeConfig``, else the declaration's default."""
    try:
        return TaskTypeConfig.objects.values_list("deadline_minutes", flat=True).get(code=spec.code)
    except TaskTypeConfig.DoesNotExist:
        return spec.deadline_minutes


def live_tasks(case_id: int, identifier_id: int, type: str) -> int:
    """How many tasks of ``type`` on this target in this case are live (``LIVE_STATES``)."""
    return Task.objects.filter(case_id=case_id, target_id=identifier_id, type=type, state__in=LIVE_STATES).count()


def counted_tasks(case_id: int, identifier_id: int, type: str) -> int:
    """How many tasks of ``type`` on this target in this case count against the type's ``TargetLimit``.

    Every one whatever became of it, except one withdrawn before it was approved
    (it never reached the agency).
    """
    return (
        Task.objects.filter(case_id=case_id, target_id=identifier_id, type=type)
        .exclude(state=TaskState.CANCELLED, approved_at__isnull=True)
        .count()
    )


def at_target_limit(spec: TaskTypeSpec, case_id: int, identifier_id: int) -> bool:
    """Whether the type's per-target limit is reached; call it holding the target's row lock."""
    limit = spec.target_limit
    return limit is not None and counted_tasks(case_id, identifier_id, spec.code) >= limit.count


def lock_target(identifier_id: int) -> None:
    """Serialise every issuer of a task on this target until the transaction ends.

    ``FOR NO KEY UPDATE``: issuers exclude each other, while rows that merely
    reference the identifier (a task, a transfer) are still inserted meanwhile.
    """
    Identifier.objects.select_for_update(no_key=True).filter(pk=identifier_id).values_list("pk", flat=True).first()


def required_reason(reason: str | None, message: str) -> str:
    """``reason`` stripped, or a validation error on ``reason``: a return and a rejection always say why.

    Pages call it to show the error beside the field before acting on many
    tasks; the actions call it whatever the caller did.
    """
    text = (reason or "").strip()
    if not text:
        raise ValidationError({"reason": message})
    return text[:2000]


def return_reason(reason: str | None) -> str:
    """The reason a task is returned to (withdrawn by) the centre: required."""
    return required_reason(reason, _("Say why the task is returned."))


def task_state(task: Task) -> dict:
    return snapshot(task, AUDIT_FIELDS)


def audit_task(user: User | None, action: AuditAction, task: Task, before: dict | None = None) -> None:
    audit.record(user=user, action=action, obj=task, case_id=task.case_id, before=before, after=task_state(task))


def change_task(
    task: Task, *, acting_user: User | None, action: AuditAction, fields: Sequence[str], agency_acts: bool = False
) -> AbstractContextManager[Task]:
    """``change_row`` for a task: its audit row shows ``AUDIT_FIELDS`` before and after.

    With ``agency_acts``, a task still ``approved`` that its agency acts on (it
    pulled it before the push was acknowledged) is marked dispatched first.
    """

    def dispatched_first(locked: Task) -> None:
        if locked.state == TaskState.APPROVED:
            mark_dispatched(locked, acting_user=acting_user)
            locked.refresh_from_db()

    return change_row(
        task,
        acting_user=acting_user,
        action=action,
        save=fields,
        audit_fields=AUDIT_FIELDS,
        prepare=dispatched_first if agency_acts else None,
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
    contact: WarningContact | None = None,
) -> Task:
    """Turn an action the case needs from ``agency`` into a task awaiting approval.

    A type that reaches a person (``reaches_person``: victim warnings) carries
    ``contact``; without one it is the case's first victim, and a case with no
    victim needs one named.
    """
    require(permissions.can_create_task(acting_user), _("Only the centre creates tasks."))
    spec = task_type(type)
    errors: dict[str, str] = {}
    if spec.sectors and agency.sector not in spec.sectors:
        errors["agency"] = _("This task type cannot be assigned to this agency's sector.")
    if not agency.is_active:
        errors["agency"] = _("This agency is not active.")
    if spec.needs_legal_document and not spec.legal_document_at_approval and not (legal_document_number or "").strip():
        errors["legal_document_number"] = _("This task type needs a legal document number.")
    if spec.needs_filed_case and case.status != CaseStatus.FILED:
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
    elif target_kind not in spec.target_kinds:
        # The registry's target kinds, for the API and the pages alike.
        errors["target"] = _("A %(type)s cannot be aimed at this kind of identifier (%(kinds)s).") % {
            "type": spec.label,
            "kinds": ", ".join(str(TargetKind(kind).label) for kind in spec.target_kinds),
        }
    person = _person_to_reach(case, spec, contact, errors)
    if errors:
        raise ValidationError(errors)
    legal_document_number = (legal_document_number or "").strip()
    if legal_document_number:
        # Of an accepted shape, and not another case's document (docs/legal-limits.md).
        legal_document_number = use_legal_document(case, legal_document_number)
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
    allocation = None
    if spec.allocates_return and target is not None:
        # The platform's own trace and allocation, under the account's lock: two returns
        # prepared at once cannot give the same frozen money twice.
        lock_target(target.pk)
        allocation = prepare_return(target)
        if not allocation.allocation.parts:
            raise ValidationError(
                {"target": _("Nothing frozen on this account can be traced to a victim: there is nothing to return.")}
            )
        amount = allocation.allocation.allocated
    notice_until = None
    if spec.notice_when_mixed and allocation is not None and allocation.mixed and settings.RETURN_NOTICE_DAYS:
        # Pro rata through mixing: announced first, approved only after the notice (Art. 8 (3)).
        notice_until = timezone.now() + timedelta(days=settings.RETURN_NOTICE_DAYS)
    if spec.target_limit is not None and target is not None:
        # Counted under the identifier's row lock: concurrent issuers wait here, then see each other's tasks.
        lock_target(target.pk)
        if at_target_limit(spec, case.pk, target.pk):
            raise ValidationError({"target": str(spec.target_limit.message)})
    task = Task.objects.create(
        case=case,
        type=spec.code,
        agency=agency,
        target_kind=target_kind,
        target=target,
        amount=amount,
        legal_document_number=legal_document_number,
        notice_until=notice_until,
        note=note,
        follows=follows,
        deadline=timezone.now() + timedelta(minutes=deadline_minutes(spec)),
        created_by=acting_user,
        **person,
    )
    if allocation is not None:
        ReturnAllocation.objects.bulk_create(
            ReturnAllocation(
                task=task,
                case=row.case,
                victim=row.victim,
                account=row.account,
                traced=row.traced.quantize(Decimal("0.01")),
                amount=row.amount,
                mixed=row.mixed,
            )
            for row in allocation.rows
            if row.amount > 0
        )
    case.agencies.add(agency)
    audit_task(acting_user, AuditAction.TASK_CREATE, task)
    return task


def _person_to_reach(case: Case, spec: TaskTypeSpec, contact: WarningContact | None, errors: dict) -> dict:
    """The ``contact_*`` fields of a new task, or ``{}``; problems go to ``errors``."""
    if not spec.reaches_person:
        if contact is not None:
            errors["contact"] = _("This task type reaches no person.")
        return {}
    victim = contact.victim if contact else None
    if contact is None:
        victim = Victim.objects.filter(case=case).order_by("id").first()
    if victim is not None and victim.case_id != case.pk:
        errors["contact"] = _("This victim is not in this case.")
        return {}
    name = (contact.name if contact else "").strip() or (victim.name if victim else "")
    phone = (contact.phone if contact else "").strip() or (victim.phone if victim else "")
    address = (contact.address if contact else "").strip() or (victim.address if victim else "")
    if not name or not (phone or address):
        errors["contact"] = _("Name the person to reach, with a phone number or an address.")
        return {}
    if phone and phone != (victim.phone if victim else None):
        try:
            validate_victim_phone(phone)
        except ValidationError as exc:
            errors["contact"] = exc.messages[0]
            return {}
        phone = normalise_identifier("phone", phone)
    return {
        "contact_name": name[:100],
        "contact_phone": phone[:20],
        "contact_address": address[:255],
        "contact_victim": victim,
    }


@transaction.atomic
def approve_task(task: Task, *, acting_user: User, legal_document_number: str = "") -> Task:
    """Approve a task; the deadline starts now and a pushable task is dispatched.

    ``cases.signals.task_approved`` is sent in this transaction: the alerts app
    writes the outbox row for an agency with an endpoint (the push job is queued
    on commit), or leaves the task in the agency's inbox. A type whose legal
    document is named at approval (``legal_document_at_approval``: fund return)
    needs ``legal_document_number`` here; a return under public notice, or with
    an objection not yet reviewed, is not approved.
    """
    fields = ["state", "approved_by", "approved_at", "deadline", "legal_document_number"]
    with change_task(task, acting_user=acting_user, action=AuditAction.TASK_APPROVE, fields=fields) as task:
        spec = task_type(task.type)
        require(
            not permissions.awaits_another_approver(acting_user, task, spec.needs_supervisor),
            _("You created this task: another supervisor must approve it."),
        )
        require(
            permissions.can_approve(acting_user, task, spec.needs_supervisor),
            _("This task type needs a supervisor's approval."),
        )
        if task.state == TaskState.PENDING_APPROVAL:
            if spec.notice_when_mixed:
                # Only a return can be under notice or objected to: no query for every other approval.
                approval_hold(task)
            if spec.legal_document_at_approval:
                if not (legal_document_number or "").strip():
                    raise ValidationError(
                        {"legal_document_number": _("Name the legal document that authorises this return.")}
                    )
                task.legal_document_number = use_legal_document(task.case, legal_document_number)
        task.transition_to(TaskState.APPROVED)
        now = timezone.now()
        task.approved_by, task.approved_at = acting_user, now
        task.deadline = now + timedelta(minutes=deadline_minutes(spec))
    signals.task_approved.send(sender=Task, task=task)
    task.refresh_from_db()
    return task


def approval_hold(task: Task, now: datetime | None = None) -> None:
    """Refuse (``ValidationError``) the approval of a return still under notice or with an open objection."""
    now = now or timezone.now()
    if task.notice_until is not None and now < task.notice_until:
        raise ValidationError(
            {
                "notice_until": _(
                    "This return is pro rata through mixing: it is under public notice until %(until)s "
                    "and cannot be approved before."
                )
                % {"until": timezone.localtime(task.notice_until).strftime("%Y-%m-%d %H:%M")}
            }
        )
    if task.objections.filter(reviewed_at__isnull=True).exists():
        raise ValidationError({"objections": _("An objection to this return has not been reviewed yet.")})


def approve_tasks(tasks: Iterable[Task], *, acting_user: User) -> tuple[list[Task], dict[int, str]]:
    """Approve many; each in its own transaction, so one refusal does not undo the rest."""
    approved, refused = [], {}
    for task in tasks:
        try:
            approved.append(approve_task(task, acting_user=acting_user))
        except ValidationError as exc:
            refused[task.pk] = " ".join(exc.messages)
        except (InvalidTransition, ActionNotAllowed) as exc:
            refused[task.pk] = str(exc)
    return approved, refused


def approve_if_allowed(task: Task, acting_user: User) -> Task:
    """Approve ``task`` when ``acting_user`` may (an analyst, a type that needs no supervisor)."""
    if permissions.can_approve(acting_user, task, task_type(task.type).needs_supervisor):
        return approve_task(task, acting_user=acting_user)
    return task


@transaction.atomic
def mark_dispatched(task: Task, *, acting_user: User | None = None, at: datetime | None = None) -> Task:
    """The agency has the task: its endpoint took the push, or it pulls from its inbox.

    Idempotent: a partner may have answered before the push's answer arrived.
    """
    at = at or timezone.now()
    fields = ["state", "dispatched_at"]
    with change_task(task, acting_user=acting_user, action=AuditAction.TASK_DISPATCH, fields=fields) as task:
        if task.state != TaskState.APPROVED:
            raise NoChange
        task.transition_to(TaskState.DISPATCHED)
        task.dispatched_at = at
    if task.dispatched_at is None and task.state not in (TaskState.PENDING_APPROVAL, TaskState.CANCELLED):
        # Answered before the push's answer arrived: the time it reached the agency, no state change.
        task.dispatched_at = at
        task.save(update_fields=["dispatched_at"])
    if task_type(task.type).golden_hour and task.dispatched_at is not None:
        Case.objects.filter(pk=task.case_id, first_stop_delivered_at__isnull=True).update(
            first_stop_delivered_at=task.dispatched_at
        )
    return task


@transaction.atomic
def cancel_task(task: Task, *, acting_user: User, reason: str = "", pending_only: bool = False) -> Task:
    """The centre withdraws a task (a supervisor returning it from the approval queue too).

    With ``pending_only`` (returning it from the queue) a task someone approved
    meanwhile is not withdrawn behind the returner's back: ``InvalidTransition``
    (409), decided under the row lock, so a return racing an approval loses or
    wins whole.
    """
    require(permissions.can_cancel(acting_user), _("Only the centre cancels tasks."))
    reason = return_reason(reason)
    fields = ["state", "reason", "finished_at"]
    with change_task(task, acting_user=acting_user, action=AuditAction.TASK_CANCEL, fields=fields) as task:
        if pending_only and task.state != TaskState.PENDING_APPROVAL:
            raise InvalidTransition(task.state, TaskState.CANCELLED)
        task.transition_to(TaskState.CANCELLED)
        task.reason, task.finished_at = reason, timezone.now()
    return task


@transaction.atomic
def accept_task(task: Task, *, acting_user: User) -> Task:
    """The assigned agency acknowledges the task."""
    require(permissions.can_act_for_agency(acting_user, task), _("Only the assigned agency accepts its tasks."))
    fields = ["state", "accepted_at"]
    with change_task(
        task, acting_user=acting_user, action=AuditAction.TASK_ACCEPT, fields=fields, agency_acts=True
    ) as task:
        task.transition_to(TaskState.ACCEPTED)
        task.accepted_at = timezone.now()
    return task


@transaction.atomic
def reject_task(task: Task, *, acting_user: User, reason: str) -> Task:
    """The assigned agency refuses the task, with a reason the centre reads.

    The task asks for a person (``needs_attention``): it is on the supervisor's
    "needs attention" page until someone marks it handled (``clear_flag``).
    """
    require(permissions.can_act_for_agency(acting_user, task), _("Only the assigned agency rejects its tasks."))
    reason = required_reason(reason, _("Say why the task is rejected."))
    fields = ["state", "reason", "finished_at", "needs_attention", "attention_reason"]
    with change_task(
        task, acting_user=acting_user, action=AuditAction.TASK_REJECT, fields=fields, agency_acts=True
    ) as task:
        task.transition_to(TaskState.REJECTED)
        task.reason, task.finished_at = reason, timezone.now()
        task.needs_attention, task.attention_reason = True, "rejected by the agency"
    notify(TaskEvent.REJECTED, task)
    return task


@transaction.atomic
def expire_task(task: Task, *, acting_user: User | None = None) -> Task:
    """A time-limited measure (stop-payment, freeze) has lapsed."""
    with change_task(task, acting_user=acting_user, action=AuditAction.TASK_EXPIRE, fields=["state"]) as task:
        task.transition_to(TaskState.EXPIRED)
    # What it held no longer counts in the case's totals (cases.holdings).
    holdings.refresh_totals(task.case_id)
    return task


@transaction.atomic
def flag_task(task: Task, *, reason: str, acting_user: User | None = None) -> Task:
    """Ask a person to look at a task (a permanent push failure, a dead letter)."""
    fields = ["needs_attention", "attention_reason"]
    with change_task(task, acting_user=acting_user, action=AuditAction.TASK_FLAG, fields=fields) as task:
        task.needs_attention, task.attention_reason = True, reason[:200]
    return task


@transaction.atomic
def clear_flag(task: Task, *, acting_user: User) -> Task:
    """A person has looked: the task no longer asks for attention."""
    require(permissions.can_cancel(acting_user), _("Only the centre clears flags."))
    fields = ["needs_attention", "attention_reason"]
    with change_task(task, acting_user=acting_user, action=AuditAction.TASK_UNFLAG, fields=fields) as task:
        task.needs_attention, task.attention_reason = False, ""
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
            action=AuditAction.TASK_OVERDUE,
            obj=task,
            case_id=task.case_id,
            before={"is_overdue": False},
            after={"is_overdue": True},
        )
    return bool(updated)
