"""Stop-payments in one click: for every receiving account, and for the next layer a result revealed."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction
from django.db.models import Sum
from django.utils.translation import gettext as _

from agencies.models import User

from .. import permissions, task_types
from ..choices import IdentifierRole, ProposalState, TargetKind, TaskState, TaskType
from ..models import Case, CaseIdentifier, FollowUpProposal, Task, Transfer
from .common import require
from .tasks import approve_if_allowed, at_target_limit, create_task, live_tasks, lock_target


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
    stop = task_types.get(TaskType.EMERGENCY_STOP_PAYMENT)
    tasks = []
    for proposal in proposals:
        lock_target(proposal.identifier_id)
        if live_tasks(case.pk, proposal.identifier_id, stop.code) or at_target_limit(
            stop, case.pk, proposal.identifier_id
        ):
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
        tasks = [approve_if_allowed(task, acting_user) for task in tasks]
    return tasks


@transaction.atomic
def issue_stop_payments(case: Case, *, acting_user: User, approve: bool = True) -> list[Task]:
    """One click: a stop-payment to the holding bank for every receiving account of the case.

    Accounts that already have a live stop-payment or the two the law allows,
    whose stop-payment the bank rejected (re-sent unchanged it would be
    rejected again: it is re-issued corrected, ``reissue_task``), or whose bank
    is unknown or cannot receive a stop-payment (not a financial institution),
    are skipped. The case row is locked first and each account
    before it is counted (``lock_target``), so concurrent clicks on one case run one after the
    other and the later ones skip what the first issued.
    """
    require(permissions.can_create_task(acting_user), _("Only the centre creates tasks."))
    stop = task_types.get(TaskType.EMERGENCY_STOP_PAYMENT)
    # FOR NO KEY UPDATE: one-clicks exclude each other, while a single task created meanwhile
    # (its row references the case: FOR KEY SHARE) is not blocked, so the two never deadlock.
    Case.objects.select_for_update(no_key=True).filter(pk=case.pk).values_list("pk", flat=True).first()
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
        if bank is None or bank.sector not in stop.sectors:
            continue
        lock_target(identifier.pk)
        if live_tasks(case.pk, identifier.pk, stop.code) or at_target_limit(stop, case.pk, identifier.pk):
            continue
        if Task.objects.filter(case=case, target=identifier, type=stop.code, state=TaskState.REJECTED).exists():
            continue
        tasks.append(
            create_task(
                case,
                acting_user=acting_user,
                type=stop.code,
                agency=bank,
                target_kind=TargetKind.BANK_ACCOUNT,
                target_value=identifier.value,
                amount=amounts.get(identifier.pk),
            )
        )
    if approve:
        tasks = [approve_if_allowed(task, acting_user) for task in tasks]
    return tasks
