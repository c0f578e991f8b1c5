"""The golden-hour actions: approval rules, results, follow-ups, limits, and their audit rows."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from cases import actions
from cases.choices import ProposalState, TaskState
from cases.models import Case, FollowUpProposal, Identifier, Task, Transfer
from coordination.exceptions import ActionNotAllowed, Conflict, InvalidTransition
from coordination.models import AuditRecord

from ..conftest import agency, make_case


def result_body() -> dict:
    """A bank's stop-payment result whose onward transfer left 25 minutes ago."""
    return {
        "amount_held": "31000.00",
        "balance": "31000.00",
        "onward_transfers": [
            {
                "account_number": "6230000000000001",
                "bank": "ABC",
                "holder_name": "李四",
                "amount": "21000.00",
                "at": (timezone.now() - timedelta(minutes=25)).isoformat(),
            }
        ],
    }


def audit_actions(case):
    return list(AuditRecord.objects.filter(case_id=case.pk).order_by("id").values_list("action", flat=True))


@pytest.mark.django_db
def test_create_case_records_everything(analyst):
    case = make_case(analyst)
    assert case.reference.startswith("CD-")
    assert case.victims.get().id_number == "51010719900101123X"
    assert case.transfers.get().amount == Decimal("52000.00")
    assert audit_actions(case) == ["case.create", "identifier.link", "identifier.link", "transfer.create"]
    create = AuditRecord.objects.get(case_id=case.pk, action="case.create")
    assert create.user_name == analyst.username and create.agency_code == "AFC"
    assert create.after["loss_amount"] == "52000.00"


@pytest.mark.django_db
def test_references_are_unique(analyst):
    refs = {make_case(analyst).reference for _ in range(3)}
    assert len(refs) == 3


@pytest.mark.django_db
def test_only_analysts_record_cases(ccb_liaison, auditor, supervisor):
    for user in (ccb_liaison, auditor, supervisor):
        with pytest.raises(ActionNotAllowed):
            make_case(user)
    assert not Case.objects.exists()


@pytest.mark.django_db
def test_golden_hour(case, analyst, ccb_liaison):
    [task] = actions.issue_stop_payments(case, acting_user=analyst)
    assert task.state == TaskState.DISPATCHED  # CCB has no endpoint: waits in its inbox
    assert task.amount == Decimal("52000.00") and task.agency.code == "CCB"
    case.refresh_from_db()
    assert case.first_stop_delivered_at is not None
    actions.accept_task(task, acting_user=ccb_liaison)
    task, changed = actions.submit_result(task, acting_user=ccb_liaison, status="completed", result=result_body())
    assert changed and task.state == TaskState.COMPLETED
    assert task.amount_held == Decimal("31000.00")
    assert task.lapses_at == task.executed_at + __import__("datetime").timedelta(hours=48)
    case.refresh_from_db()
    assert case.amount_stopped == Decimal("31000.00")
    onward = Identifier.objects.get(value="6230000000000001")
    assert onward.bank.code == "ABC" and onward.holder_name == "李四"
    assert Transfer.objects.filter(case=case, source="partner_result", to_identifier=onward).exists()
    proposal = FollowUpProposal.objects.get(case=case)
    assert proposal.agency.code == "ABC" and proposal.amount == Decimal("21000.00")
    [follow] = actions.issue_follow_ups(case, acting_user=analyst)
    assert follow.follows_id == task.pk and follow.state == TaskState.DISPATCHED
    proposal.refresh_from_db()
    assert proposal.state == ProposalState.ISSUED and proposal.issued_task == follow
    assert {
        "task.create",
        "task.approve",
        "task.dispatch",
        "task.accept",
        "task.result",
        "case.follow_ups_proposed",
    } <= set(audit_actions(case))


@pytest.mark.django_db
def test_same_result_twice_changes_nothing_and_different_is_conflict(stop_task, ccb_liaison):
    result = result_body()
    actions.submit_result(stop_task, acting_user=ccb_liaison, status="completed", result=result)
    count = AuditRecord.objects.count()
    task, changed = actions.submit_result(stop_task, acting_user=ccb_liaison, status="completed", result=result)
    assert not changed and AuditRecord.objects.count() == count
    assert Transfer.objects.filter(source="partner_result").count() == 1
    with pytest.raises(Conflict):
        actions.submit_result(
            stop_task, acting_user=ccb_liaison, status="completed", result={**result, "amount_held": "1.00"}
        )
    task.refresh_from_db()
    assert task.amount_held == Decimal("31000.00")


@pytest.mark.django_db
def test_result_validation(stop_task, ccb_liaison):
    with pytest.raises(ValidationError) as raised:
        actions.submit_result(stop_task, acting_user=ccb_liaison, status="completed", result={})
    assert "result.amount_held" in raised.value.message_dict
    for bad in (
        {"amount_held": 1.5},
        {"amount_held": "-1"},
        {"amount_held": "1", "colour": "red"},
        {"amount_held": "1", "onward_transfers": [{"account_number": "x"}]},
    ):
        with pytest.raises(ValidationError):
            actions.submit_result(stop_task, acting_user=ccb_liaison, status="completed", result=bad)
    stop_task.refresh_from_db()
    assert stop_task.state == TaskState.DISPATCHED and not stop_task.result_digest


@pytest.mark.django_db
def test_only_the_assigned_agency_acts(stop_task, icbc_liaison, analyst, auditor):
    for user in (icbc_liaison, analyst, auditor):
        with pytest.raises(ActionNotAllowed):
            actions.accept_task(stop_task, acting_user=user)
        with pytest.raises(ActionNotAllowed):
            actions.submit_result(stop_task, acting_user=user, status="failed")


@pytest.mark.django_db
def test_reject_needs_a_reason(stop_task, ccb_liaison, analyst):
    with pytest.raises(ValidationError):
        actions.reject_task(stop_task, acting_user=ccb_liaison, reason="  ")
    task = actions.reject_task(stop_task, acting_user=ccb_liaison, reason="账户不存在")
    assert task.state == TaskState.REJECTED and task.reason == "账户不存在"
    with pytest.raises(InvalidTransition):
        actions.accept_task(task, acting_user=ccb_liaison)


@pytest.mark.django_db
def test_freeze_needs_supervisor_document_and_filed_case(case, analyst, supervisor):
    kwargs = {
        "type": "freeze",
        "agency": agency("CCB"),
        "target_kind": "bank_account",
        "target_value": "6217000010012345678",
        "amount": Decimal("10.00"),
    }
    with pytest.raises(ValidationError) as raised:
        actions.create_task(case, acting_user=analyst, **kwargs)
    assert {"legal_document_number", "case"} <= set(raised.value.message_dict)
    case = actions.file_case(case, acting_user=analyst, filing_number="成公立字〔2026〕123号")
    task = actions.create_task(case, acting_user=analyst, legal_document_number="成公冻字〔2026〕7号", **kwargs)
    with pytest.raises(ActionNotAllowed):
        actions.approve_task(task, acting_user=analyst)
    assert actions.approve_task(task, acting_user=supervisor).state == TaskState.DISPATCHED


@pytest.mark.django_db
def test_task_goes_to_the_right_sector(case, analyst):
    with pytest.raises(ValidationError) as raised:
        actions.create_task(
            case,
            acting_user=analyst,
            type="number_shutdown",
            agency=agency("CCB"),
            target_kind="phone",
            target_value="13800000009",
        )
    assert "agency" in raised.value.message_dict


@pytest.mark.django_db
def test_at_most_two_stop_payments_per_account(case, analyst):
    for _ in range(2):
        actions.create_task(
            case,
            acting_user=analyst,
            type="emergency_stop_payment",
            agency=agency("CCB"),
            target_kind="bank_account",
            target_value="6217000010012345678",
        )
    with pytest.raises(ValidationError):
        actions.create_task(
            case,
            acting_user=analyst,
            type="emergency_stop_payment",
            agency=agency("CCB"),
            target_kind="bank_account",
            target_value="6217000010012345678",
        )
    assert Task.objects.filter(case=case).count() == 2
    # One click issues nothing more for an account already being stopped.
    assert actions.issue_stop_payments(case, acting_user=analyst) == []


@pytest.mark.django_db
def test_cancel_and_expire(case, analyst, supervisor, ccb_liaison, stop_task):
    pending = actions.create_task(case, acting_user=analyst, type="other", agency=agency("CCB"), note="协查")
    assert actions.cancel_task(pending, acting_user=supervisor, reason="退回").state == TaskState.CANCELLED
    with pytest.raises(InvalidTransition):
        actions.expire_task(stop_task)
    actions.submit_result(stop_task, acting_user=ccb_liaison, status="completed", result={"amount_held": "5.00"})
    assert actions.expire_task(stop_task).state == TaskState.EXPIRED


@pytest.mark.django_db
def test_case_lifecycle_audited(case, analyst):
    actions.update_case(case, acting_user=analyst, summary="更新后的案情")
    actions.file_case(case, acting_user=analyst, filing_number="成公立字〔2026〕1号")
    with pytest.raises(ValidationError) as refused:
        actions.close_case(case, acting_user=analyst)
    assert set(refused.value.message_dict) == {"outcome", "summary"}  # the page's and the API's one rule
    actions.close_case(case, acting_user=analyst, outcome="partly_returned", summary="部分返还")
    update = AuditRecord.objects.get(case_id=case.pk, action="case.update")
    assert update.before == {"summary": "测试案件"} and update.after == {"summary": "更新后的案情"}
    assert {"case.file", "case.close"} <= set(audit_actions(case))
    with pytest.raises(Conflict):
        actions.close_case(case, acting_user=analyst, outcome="returned", summary="again")


@pytest.mark.django_db
def test_overdue_marks_once(stop_task):
    assert actions.mark_overdue(stop_task) is True
    assert actions.mark_overdue(stop_task) is False
    assert AuditRecord.objects.filter(action="task.overdue", object_id=stop_task.pk).count() == 1


@pytest.mark.django_db(transaction=True)
def test_audit_rows_cannot_be_rewritten(analyst):
    make_case(analyst)
    record = AuditRecord.objects.first()
    with pytest.raises(RuntimeError):
        record.save()
    with pytest.raises(RuntimeError):
        record.delete()
    # The platform's role has no UPDATE or DELETE on the table; its owner meets the trigger.
    from coordination.dbroles import as_owner

    for sql in ("UPDATE coordination_auditrecord SET action = 'x'", "DELETE FROM coordination_auditrecord"):
        with pytest.raises(Exception, match="permission denied"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)
        with (
            as_owner(connection),
            pytest.raises(Exception, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql)
    assert AuditRecord.objects.filter(action="x").count() == 0


@pytest.mark.django_db
def test_identifier_uniqueness_is_enforced_by_the_database():
    Identifier.objects.create(kind="phone", value="13800000000")
    with pytest.raises(IntegrityError), transaction.atomic():
        Identifier.objects.create(kind="phone", value="13800000000")
