"""After the golden hour: stop-payments become freezes, freezes are renewed, rejected tasks re-issued corrected.

Each is a new task that names the one it comes from (``Task.follows``), made by
``create_task`` (so the registry's rules hold: filed case, legal document,
sectors, target kinds, approver) and audited twice: the task's creation and
what it converts, renews or re-issues (product brief, "The rest of a case's life").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from agencies.models import Agency, User
from coordination import audit
from coordination.choices import AuditAction

from .. import permissions, task_types
from ..choices import CaseStatus, TargetKind, TaskState, TaskType
from ..measures import CONVERTIBLE_STATES, REISSUABLE_STATES, renewable
from ..models import Case, Identifier, Task
from ..validators import normalise_identifier
from .common import require
from .legal_documents import use_legal_document
from .tasks import LIVE_STATES, approve_if_allowed, create_task, live_tasks, lock_target, task_state


@dataclass
class Conversion:
    """What ``convert_stop_payments`` did: the freezes it issued, the accounts it skipped and why."""

    freezes: list[Task] = field(default_factory=list)
    skipped: list[tuple[Identifier, str]] = field(default_factory=list)


def _legal_document(case: Case, number: str) -> str:
    number = (number or "").strip()
    if not number:
        raise ValidationError({"legal_document_number": _("This task type needs a legal document number.")})
    return use_legal_document(case, number)


@transaction.atomic
def convert_stop_payments(
    case: Case, *, acting_user: User, legal_document_number: str, approve: bool = True
) -> Conversion:
    """Every live stop-payment of a filed case becomes a freeze to the same bank and account.

    One legal document covers them all. Idempotent: an account already frozen
    or with a live freeze (``LIVE_STATES``) is skipped and listed as such, so a
    second click issues nothing. Each freeze follows its stop-payment and has
    a ``task.convert`` audit row; it awaits the approver its type declares.
    """
    require(permissions.can_create_task(acting_user), _("Only the centre creates tasks."))
    if case.status != CaseStatus.FILED:
        raise ValidationError({"case": _("This task type needs a formally filed case.")})
    number = _legal_document(case, legal_document_number)
    # As the one-click stop-payment: concurrent conversions of one case run one after the other.
    Case.objects.select_for_update(no_key=True).filter(pk=case.pk).values_list("pk", flat=True).first()
    freeze = task_types.get(TaskType.FREEZE)
    stops = (
        Task.objects.filter(
            case=case, type=TaskType.EMERGENCY_STOP_PAYMENT, state__in=CONVERTIBLE_STATES, target__isnull=False
        )
        .select_related("target", "agency")
        .order_by("-id")
    )
    result, seen = Conversion(), set()
    for stop in stops:
        if stop.target_id in seen:
            continue  # the latest stop-payment of an account (a renewal) stands for it
        seen.add(stop.target_id)
        lock_target(stop.target_id)
        if live_tasks(case.pk, stop.target_id, freeze.code):
            result.skipped.append((stop.target, _("already frozen or has a live freeze")))
            continue
        try:
            with transaction.atomic():
                task = create_task(
                    case,
                    acting_user=acting_user,
                    type=freeze.code,
                    agency=stop.agency,
                    target_kind=TargetKind.BANK_ACCOUNT,
                    target_value=stop.target.value,
                    target_bank=stop.agency,
                    amount=stop.amount_held if stop.amount_held else stop.amount,
                    legal_document_number=number,
                    follows=stop,
                    note=_("Conversion of stop-payment #%(id)s") % {"id": stop.pk},
                )
        except ValidationError as exc:
            result.skipped.append((stop.target, " ".join(exc.messages)))
            continue
        audit.record(
            user=acting_user,
            action=AuditAction.TASK_CONVERT,
            obj=task,
            case_id=case.pk,
            before={"stop_payment": stop.pk},
            after={**task_state(task), "follows": stop.pk},
        )
        result.freezes.append(task)
    if approve:
        result.freezes = [approve_if_allowed(task, acting_user) for task in result.freezes]
    return result


def _locked(task: Task) -> Task:
    return Task.objects.select_for_update(of=("self",)).select_related("target__bank", "agency", "case").get(pk=task.pk)


def _live_follow_up(task: Task) -> Task | None:
    return task.follow_ups.filter(type=task.type, state__in=LIVE_STATES).order_by("id").first()


@transaction.atomic
def renew_task(
    task: Task, *, acting_user: User, legal_document_number: str, amount: Decimal | None = None, note: str = ""
) -> Task:
    """Renew a holding before it lapses: a new task of its type, same agency and target, naming it.

    Only a type the registry says is renewed (``measures.renewable``: a holding
    with a renewal reminder, the freeze) and only while it holds (completed).
    Idempotent: a holding already renewed by a live task is refused, naming it.
    """
    require(permissions.can_create_task(acting_user), _("Only the centre creates tasks."))
    task = _locked(task)
    spec = task_types.get(task.type)
    if not renewable(spec):
        raise ValidationError({"task": _("This kind of task is not renewed.")})
    if task.state != TaskState.COMPLETED:
        raise ValidationError({"task": _("Only a measure that holds money now can be renewed.")})
    existing = _live_follow_up(task)
    if existing is not None:
        raise ValidationError({"task": _("Already renewed by task #%(id)s.") % {"id": existing.pk}})
    renewal = create_task(
        task.case,
        acting_user=acting_user,
        type=task.type,
        agency=task.agency,
        target_kind=task.target_kind,
        target_value=task.target.value if task.target else "",
        target_bank=task.target.bank if task.target else None,
        amount=amount if amount is not None else (task.amount_held or task.amount),
        legal_document_number=_legal_document(task.case, legal_document_number)
        if spec.needs_legal_document
        else legal_document_number,
        follows=task,
        note=note or _("Renewal of task #%(id)s") % {"id": task.pk},
    )
    audit.record(
        user=acting_user,
        action=AuditAction.TASK_RENEW,
        obj=renewal,
        case_id=task.case_id,
        before={"renews": task.pk, "lapses_at": task.lapses_at.isoformat() if task.lapses_at else None},
        after={**task_state(renewal), "follows": task.pk},
    )
    return approve_if_allowed(renewal, acting_user)


@transaction.atomic
def reissue_task(
    task: Task,
    *,
    acting_user: User,
    target_value: str | None = None,
    agency: Agency | None = None,
    amount: Decimal | None = None,
    legal_document_number: str = "",
    note: str = "",
) -> Task:
    """Issue a rejected (or failed) task again with corrected details, naming the one it replaces.

    Something must be corrected (the target, its agency or the amount): what
    the agency refused is not sent to it again unchanged. For a bank account
    the corrected bank is the agency. The rejection reason goes with the new
    task's note and the ``task.reissue`` audit row. Refused once a live
    re-issue exists.
    """
    require(permissions.can_create_task(acting_user), _("Only the centre creates tasks."))
    task = _locked(task)
    if task.state not in REISSUABLE_STATES:
        raise ValidationError({"task": _("Only a rejected or failed task is re-issued.")})
    existing = _live_follow_up(task)
    if existing is not None:
        raise ValidationError({"task": _("Already re-issued as task #%(id)s.") % {"id": existing.pk}})
    old_value = task.target.value if task.target else ""
    value = (target_value or "").strip() or old_value
    agency = agency or task.agency
    amount = amount if amount is not None else task.amount
    same_target = task.target is None or normalise_identifier(task.target_kind, value) == old_value
    if same_target and agency.pk == task.agency_id and amount == task.amount:
        raise ValidationError(
            {"target_value": _("Correct the details the agency refused: sent unchanged, it would be refused again.")}
        )
    spec = task_types.get(task.type)
    number = (legal_document_number or "").strip() or task.legal_document_number
    reason = task.reason or task.attention_reason
    reissued = create_task(
        task.case,
        acting_user=acting_user,
        type=task.type,
        agency=agency,
        target_kind=task.target_kind,
        target_value=value if task.target else "",
        target_bank=agency if task.target_kind == TargetKind.BANK_ACCOUNT else None,
        amount=amount,
        legal_document_number=number if spec.needs_legal_document or number else "",
        follows=task,
        note=(note or task.note)[:1000]
        + ("\n" if (note or task.note) else "")
        + _("Re-issue of task #%(id)s, refused: %(reason)s") % {"id": task.pk, "reason": reason},
    )
    audit.record(
        user=acting_user,
        action=AuditAction.TASK_REISSUE,
        obj=reissued,
        case_id=task.case_id,
        before={
            "reissues": task.pk,
            "reason": reason,
            "target_id": task.target_id,
            "agency_id": task.agency_id,
            "amount": str(task.amount) if task.amount is not None else None,
        },
        after={**task_state(reissued), "follows": task.pk, "target_id": reissued.target_id, "agency_id": agency.pk},
    )
    return approve_if_allowed(reissued, acting_user)
