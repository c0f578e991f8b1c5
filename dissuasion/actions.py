"""What people do to a warning: hand it to a station, record the contact (docs/warnings.md).

Every change goes through the warning's task (``cases.actions``' lock, snapshot,
audit row) so the task's trail tells the whole story; the warning row follows.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from agencies import roles
from agencies.models import Agency, User
from cases.actions.common import change_row, require
from cases.actions.results import submit_result
from cases.actions.tasks import AUDIT_FIELDS
from cases.choices import AWAITING_AGENCY_STATES, ResultStatus, TaskState
from cases.models import Case, Channel, FraudType, Victim
from coordination import audit
from coordination.choices import AuditAction
from coordination.exceptions import Conflict

from .choices import Outcome
from .models import Warning


def stations_of(bureau_id: int):
    """The police stations under a sub-bureau, in code order."""
    return Agency.objects.filter(parent_id=bureau_id, is_active=True).order_by("code")


def can_hand_over(user, warning: Warning) -> bool:
    """The sub-bureau the warning sits with, while nobody has reached the person (the policy's agency acts)."""
    return (
        roles.acts_for(user, warning.bureau_id)
        and warning.unit_id == warning.bureau_id
        and warning.outcome == Outcome.PENDING
    )


@transaction.atomic
def hand_over(warning: Warning, *, station: Agency, acting_user: User) -> Warning:
    """The sub-bureau gives its warning to one of its stations, in one action (audited on the task).

    The deadline stays: the person must be reached within minutes of the clue, whoever has it.
    """
    warning = Warning.objects.select_for_update().get(pk=warning.pk)
    require(can_hand_over(acting_user, warning), _("Only the sub-bureau holding the warning hands it over."))
    if station.parent_id != warning.bureau_id or not station.is_active:
        raise ValidationError({"station": _("Choose one of this sub-bureau's police stations.")})
    task = warning.task
    if task is None or task.state not in AWAITING_AGENCY_STATES:
        raise Conflict(_("This warning is no longer waiting to be worked."))
    with change_row(
        task,
        acting_user=acting_user,
        action=AuditAction.TASK_HAND_OVER,
        save=["agency"],
        audit_fields=[*AUDIT_FIELDS, "agency"],
    ) as task:
        task.agency = station
    warning.unit = station
    warning.handed_over_at = timezone.now()
    warning.save(update_fields=["unit", "handed_over_at"])
    from cases.actions.common import notify
    from cases.choices import TaskEvent

    notify(TaskEvent.NEW, task)
    return warning


def record_contact(
    warning: Warning,
    *,
    acting_user: User,
    contacted_at: datetime,
    method: str,
    outcome: str,
    amount_lost: Decimal | None = None,
) -> Warning:
    """The station's contact, through the task's result (the same path as the API's result)."""
    result = {"contacted_at": contacted_at.isoformat(), "outcome": outcome, "method": method}
    if amount_lost is not None:
        result["amount_lost"] = f"{amount_lost:.2f}"
    status = ResultStatus.COMPLETED if outcome != Outcome.UNREACHABLE else ResultStatus.FAILED
    submit_result(warning.task, acting_user=acting_user, status=status, result=result)
    warning.refresh_from_db()
    return warning


def close_from_result(sender, *, task, acting_user, **kwargs) -> None:
    """``cases.signals.task_result_recorded``: the warning takes the task's outcome (same transaction)."""
    warning = Warning.objects.select_for_update().filter(task_id=task.pk).first()
    if warning is None:
        return
    result = task.result if isinstance(task.result, dict) else {}
    outcome = result.get("outcome") or (Outcome.UNREACHABLE if task.state == TaskState.FAILED else "")
    if outcome not in (Outcome.REACHED, Outcome.UNREACHABLE, Outcome.ALREADY_LOST):
        outcome = Outcome.UNREACHABLE
    warning.outcome = outcome
    warning.contacted_at = datetime.fromisoformat(result["contacted_at"]) if result.get("contacted_at") else None
    warning.contact_method = result.get("method") or ""
    warning.amount_lost = Decimal(result["amount_lost"]) if result.get("amount_lost") else None
    warning.closed_at = task.finished_at or timezone.now()
    fields = ["outcome", "contacted_at", "contact_method", "amount_lost", "closed_at"]
    if outcome == Outcome.ALREADY_LOST:
        warning.lost_case = open_lost_case(warning, acting_user)
        fields.append("lost_case")
    warning.save(update_fields=fields)


def open_lost_case(warning: Warning, acting_user: User) -> Case:
    """A case draft for the centre from an "already lost" warning: the person, the district, the amount.

    Recorded like any case (a reference from the sequence, an audit row); the analyst
    completes the fraud type, the transfers and the summary.
    """
    from cases.actions.cases import next_case_reference

    reported_at = warning.contacted_at or timezone.now()
    case = Case.objects.create(
        reference=next_case_reference(reported_at),
        # "Other" and the station's channel until the analyst knows better.
        fraud_type=FraudType.objects.get(code="other"),
        channel=Channel.objects.get(code="police_station"),
        district=warning.district,
        reported_at=reported_at,
        loss_amount=warning.amount_lost or Decimal("0.00"),
        summary=_("Opened from warning clue %(ref)s (%(sender)s): the person had already lost money. %(reason)s")
        % {"ref": warning.source_reference, "sender": warning.sender.code, "reason": warning.reason},
        created_by=acting_user,
    )
    Victim.objects.create(
        case=case, name=warning.name or "?", phone=warning.phone, id_number=warning.id_number, address=warning.address
    )
    audit.record(
        user=acting_user,
        action=AuditAction.CASE_CREATE,
        obj=case,
        case_id=case.pk,
        after={"from_warning": warning.pk, "district": warning.district.code, "loss_amount": f"{case.loss_amount}"},
    )
    return case
