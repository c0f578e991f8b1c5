"""A partner's result taken into the case: amounts held, lapses, onward transfers, follow-ups."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from agencies.models import Agency, User
from coordination import audit
from coordination.choices import AuditAction
from coordination.exceptions import Conflict

from .. import holdings, permissions, signals, task_types
from ..choices import (
    IdentifierRole,
    ResultStatus,
    TargetKind,
    TaskEvent,
    TaskState,
    TaskType,
    TransferSource,
)
from ..models import Case, FollowUpProposal, ReturnAllocation, Task
from ..result_rules import clean_task_result
from .common import NoChange, notify, require
from .identifiers import add_identifier, add_transfer
from .tasks import at_target_limit, change_task, live_tasks, task_type


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
    from_statement: bool = False,
) -> tuple[Task, bool]:
    """Take a partner's result into the case (golden-hour step 4).

    Returns ``(task, changed)``. The same result twice changes nothing; a
    different second result raises ``Conflict``. Onward transfers become
    identifiers and money-flow edges, and each receiving account not yet stopped
    gets a proposed follow-up stop-payment.
    """
    if from_statement:
        # The bank's statement file brought in by the centre (imports.statements): the same result, the
        # same rules; only who may record it differs (docs/imports.md).
        require(permissions.can_import_records(acting_user), _("Only the centre imports bank statements."))
    else:
        require(permissions.can_act_for_agency(acting_user, task), _("Only the assigned agency reports results."))
    spec = task_type(task.type)
    # The type's fields and the v1.1 rules that need the task: every path (API, page,
    # import) gets them, so a refused result names its field and stores nothing.
    cleaned = clean_task_result(task, status=status, result=result, executed_at=executed_at)
    executed_iso = executed_at.isoformat() if executed_at else None
    digest = result_digest(status, executed_iso, reason, cleaned)
    fields = ["state", "result_status", "result", "result_digest", "executed_at", "finished_at", "reason"]
    changed = False
    with change_task(
        task, acting_user=acting_user, action=AuditAction.TASK_RESULT, fields=fields, agency_acts=True
    ) as task:
        if task.result_digest:
            if task.result_digest == digest:
                raise NoChange
            raise Conflict(_("A different result was already recorded for this task."))
        task.transition_to(TaskState.COMPLETED if status == ResultStatus.COMPLETED else TaskState.FAILED)
        now = timezone.now()
        task.result_status, task.result, task.result_digest = status, cleaned, digest
        task.executed_at, task.finished_at = executed_at or now, now
        task.reason = (reason or "")[:2000]
        holding = spec.holding
        if holding is not None and status == ResultStatus.COMPLETED and "amount_held" in cleaned:
            task.amount_held = Decimal(cleaned["amount_held"])
            task.lapses_at = _parse(cleaned.get("lapses_at")) or task.executed_at + holding.lapses_after
            fields += ["amount_held", "lapses_at"]
        changed = True
    if not changed:
        return task, False
    signals.task_result_recorded.send(sender=Task, task=task, acting_user=acting_user)
    if spec.holding is not None:
        # The case's stopped and frozen totals, counted once (a freeze takes over from its stop-payment).
        holdings.refresh_totals(task.case_id)
    if spec.allocates_return and status == ResultStatus.COMPLETED and cleaned.get("returned"):
        _take_returns(task, cleaned["returned"], acting_user)
    if spec.feeds_flow and cleaned.get("onward_transfers"):
        _take_onward_transfers(task, cleaned["onward_transfers"], acting_user)
    notify(TaskEvent.RESULT, task)
    return task, True


def _parse(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _take_returns(task: Task, rows: list[dict], acting_user: User) -> None:
    """The bank's ``returned`` onto each allocation, and each victim case's amount returned from them.

    An account's amount goes to its allocations in order, each at most its
    allocation (the rules refused more). Every victim case changed gets an
    audit row with its amount returned before and after.
    """
    allocations = list(ReturnAllocation.objects.filter(task=task).select_related("account").order_by("id"))
    by_case: dict[int, Decimal] = {}
    for row in rows:
        left, at = Decimal(row["amount"]), datetime.fromisoformat(row["at"])
        for allocation in allocations:
            if allocation.account.value != row["account_number"] or left <= 0:
                continue
            part = min(left, allocation.amount)
            allocation.returned, allocation.returned_at = part, at
            allocation.save(update_fields=["returned", "returned_at"])
            by_case[allocation.case_id] = by_case.get(allocation.case_id, Decimal("0.00")) + part
            left -= part
    for case in Case.objects.select_for_update().filter(pk__in=by_case).order_by("pk"):
        before = case.amount_returned
        case.amount_returned = before + by_case[case.pk]
        case.save(update_fields=["amount_returned", "updated_at"])
        audit.record(
            user=acting_user,
            action=AuditAction.CASE_FUNDS_RETURNED,
            obj=case,
            case_id=case.pk,
            before={"amount_returned": f"{before}"},
            after={"amount_returned": f"{case.amount_returned}", "task": task.pk},
        )


def _take_onward_transfers(task: Task, transfers: list[dict], acting_user: User) -> None:
    case = task.case
    source = task.target
    follow_up = task_types.get(TaskType.EMERGENCY_STOP_PAYMENT)
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
        # The next layer is stopped by a stop-payment to the bank holding the account.
        if (
            bank is None
            or bank.sector not in follow_up.sectors
            or live_tasks(case.pk, account.pk, follow_up.code)
            or at_target_limit(follow_up, case.pk, account.pk)
        ):
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
            action=AuditAction.CASE_FOLLOW_UPS_PROPOSED,
            obj=case,
            case_id=case.pk,
            after={"source_task": task.pk, "count": proposed},
        )
        notify(TaskEvent.FOLLOW_UPS, task)
