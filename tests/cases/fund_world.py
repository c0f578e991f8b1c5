"""Serial cases sharing a frozen second-layer account, built through the actions (tests of fund returns)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from cases import actions
from cases.models import Case, Identifier, Task
from tests.conftest import agency, make_case, make_user

V1 = "6222020200112233445"  # case 1's victim
V2 = "6222020200112233999"  # case 2's victim
M1 = "6228480000000000011"  # first layer of case 1 (ABC)
M2 = "6216610000000000022"  # first layer of case 2 (BOC)
S = "6217000010000000033"  # the shared second layer (CCB), frozen
T = "6228480000000000044"  # where part of S's money went on (ABC)
FREEZE_DOCUMENT = "成公冻字〔2026〕7号"
RETURN_DOCUMENT = "成公冻字〔2026〕8号"


@dataclass
class World:
    case1: Case
    case2: Case
    freeze: Task
    account: Identifier


def onward(account, bank, amount, minutes_ago):
    at = (timezone.now() - timedelta(minutes=minutes_ago)).isoformat()
    return {"account_number": account, "bank": bank, "holder_name": "王五", "amount": amount, "at": at}


def stop_with_onward(case, analyst, code, account, rows):
    """A stop-payment on ``account`` at ``code`` whose bank reports nothing held and the money moved on."""
    liaison = make_user(f"{code.lower()}-liaison", code, "liaison")
    task = actions.create_task(
        case,
        acting_user=analyst,
        type="emergency_stop_payment",
        agency=agency(code),
        target_kind="bank_account",
        target_value=account,
        amount=Decimal("8000.00"),
    )
    task = actions.approve_task(task, acting_user=analyst)
    actions.submit_result(
        task, acting_user=liaison, status="completed", result={"amount_held": "0.00", "onward_transfers": rows}
    )


def serial_world(analyst, supervisor, ccb_liaison) -> World:
    """Case 1: 8,000 to M1; case 2: 4,000 to M2; both on to S (12,000), 3,000 left S, 9,000 frozen there.

    Traced in S: case 1 8,000 - 2,000 = 6,000, case 2 4,000 - 1,000 = 3,000 (mixed).
    """
    case1 = make_case(analyst, to_account=M1, to_bank="ABC", amount="8000.00", from_account=V1)
    case2 = make_case(analyst, to_account=M2, to_bank="BOC", amount="4000.00", from_account=V2)
    stop_with_onward(case1, analyst, "ABC", M1, [onward(S, "CCB", "8000.00", 20)])
    stop_with_onward(case2, analyst, "BOC", M2, [onward(S, "CCB", "4000.00", 19)])
    case1 = actions.file_case(case1, acting_user=analyst, filing_number="成公立字〔2026〕1号")
    freeze = actions.create_task(
        case1,
        acting_user=analyst,
        type="freeze",
        agency=agency("CCB"),
        target_kind="bank_account",
        target_value=S,
        amount=Decimal("12000.00"),
        legal_document_number=FREEZE_DOCUMENT,
    )
    freeze = actions.approve_task(freeze, acting_user=supervisor)
    actions.submit_result(
        freeze,
        acting_user=ccb_liaison,
        status="completed",
        result={"amount_held": "9000.00", "onward_transfers": [onward(T, "ABC", "3000.00", 10)]},
    )
    return World(case1=case1, case2=case2, freeze=freeze, account=Identifier.objects.get(value=S))


def frozen_alone(analyst, supervisor, ccb_liaison, account: str, *, paid: str, held: str, n: int) -> Case:
    """One filed case whose victim paid ``paid`` into ``account`` at CCB, where a freeze holds ``held``.

    Only that victim's money is there: a return from it is exact. ``n`` keeps the
    filing and freeze document numbers apart between cases of one test.
    """
    case = actions.file_case(
        make_case(analyst, to_account=account, amount=paid), acting_user=analyst, filing_number=f"成公立字〔2026〕{n}号"
    )
    freeze = actions.create_task(
        case,
        acting_user=analyst,
        type="freeze",
        agency=agency("CCB"),
        target_kind="bank_account",
        target_value=account,
        amount=max(Decimal(paid), Decimal(held)),
        legal_document_number=f"成公冻字〔2026〕{n}号",
    )
    freeze = actions.approve_task(freeze, acting_user=supervisor)
    actions.submit_result(freeze, acting_user=ccb_liaison, status="completed", result={"amount_held": held})
    return case


def prepare_return(case: Case, analyst, account: str) -> Task:
    """The analyst prepares a return from ``account`` (the supervisor names the legal document at approval)."""
    return actions.create_task(
        case,
        acting_user=analyst,
        type="fund_return",
        agency=agency("CCB"),
        target_kind="bank_account",
        target_value=account,
    )
