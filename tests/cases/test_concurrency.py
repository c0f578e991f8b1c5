"""Concurrent requests against the real PostgreSQL: the row locks keep the record and the limits whole.

Real threads, each with its own database connection, started together at a
barrier; transactional tests, so every thread sees what the others commit.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from rest_framework.test import APIClient

from agencies.actions import set_endpoint
from alerts.models import Delivery
from cases import actions
from cases.choices import TaskState
from cases.models import Case, Task
from coordination.exceptions import InvalidTransition
from coordination.models import AuditRecord

from ..conftest import agency, make_case

pytestmark = pytest.mark.django_db(transaction=True)


def run_together(*calls: Callable[[], object]) -> list[object]:
    """Run ``calls`` in threads released at once; each one's return value or the exception it raised."""
    barrier = threading.Barrier(len(calls))
    outcomes: list[object] = [None] * len(calls)

    def run(index: int, call: Callable[[], object]) -> None:
        try:
            barrier.wait(timeout=30)
            outcomes[index] = call()
        except Exception as exc:  # noqa: BLE001 - the outcome under test
            outcomes[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a thread is stuck (a lock never released?)"
    return outcomes


def audit_rows(action: str, **filters) -> int:
    return AuditRecord.objects.filter(action=action, **filters).count()


def test_twenty_parallel_one_clicks_issue_one_stop_payment_per_account(analyst):
    case = make_case(analyst, extra_transfers=2)  # three receiving accounts: CCB, and two at ABC

    def one_click():
        return actions.issue_stop_payments(Case.objects.get(pk=case.pk), acting_user=analyst)

    outcomes = run_together(*[one_click] * 20)
    assert not [o for o in outcomes if isinstance(o, Exception)]
    assert sum(len(o) for o in outcomes) == 3  # the first click issued all three; the rest skipped them
    tasks = Task.objects.filter(case=case)
    assert tasks.count() == 3
    assert len({t.target_id for t in tasks}) == 3
    assert audit_rows("task.create", case_id=case.pk) == 3
    assert {t.state for t in tasks} == {TaskState.DISPATCHED}


def test_twenty_parallel_stop_payments_to_one_account_stop_at_the_law_s_two(analyst):
    case = make_case(analyst)

    def create():
        return actions.create_task(
            Case.objects.get(pk=case.pk),
            acting_user=analyst,
            type="emergency_stop_payment",
            agency=agency("CCB"),
            target_kind="bank_account",
            target_value="6217000010012345678",
            amount=Decimal("100.00"),
        )

    outcomes = run_together(*[create] * 20)
    assert sum(isinstance(o, Task) for o in outcomes) == 2
    assert Task.objects.filter(case=case).count() == 2
    assert audit_rows("task.create", case_id=case.pk) == 2


def test_one_clicks_and_single_stop_payments_at_once_neither_deadlock_nor_pass_the_limit(analyst):
    case = make_case(analyst, extra_transfers=2)

    def one_click():
        return actions.issue_stop_payments(Case.objects.get(pk=case.pk), acting_user=analyst)

    def single():
        return actions.create_task(
            Case.objects.get(pk=case.pk),
            acting_user=analyst,
            type="emergency_stop_payment",
            agency=agency("CCB"),
            target_kind="bank_account",
            target_value="6217000010012345678",
            amount=Decimal("100.00"),
        )

    outcomes = run_together(*[one_click, single] * 8)
    # Refusals of the limit only: no deadlock, no integrity error.
    assert all(not isinstance(o, Exception) or isinstance(o, ValidationError) for o in outcomes), outcomes
    ccb = Task.objects.filter(case=case, agency__code="CCB")
    assert ccb.count() == 2  # the law's two, whoever issued them
    assert Task.objects.filter(case=case, agency__code="ABC").count() == 2  # one per ABC account
    assert audit_rows("task.create", case_id=case.pk) == 4


def result_client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.mark.parametrize(
    ("second_amount", "statuses"),
    [pytest.param("31000.00", [200, 200], id="identical"), pytest.param("30000.00", [200, 409], id="different")],
)
def test_parallel_results_on_one_task_apply_once(stop_task, ccb_liaison, second_amount, statuses):
    def post(amount):
        body = {"status": "completed", "executed_at": None, "reason": None, "result": {"amount_held": amount}}
        return lambda: result_client(ccb_liaison).post(f"/api/v1/tasks/{stop_task.pk}/result/", body, format="json")

    responses = run_together(post("31000.00"), post(second_amount))
    assert sorted(r.status_code for r in responses) == statuses
    assert sorted(r.json().get("changed", False) for r in responses) == [False, True]
    assert audit_rows("task.result", object_id=stop_task.pk) == 1
    stop_task.refresh_from_db()
    assert stop_task.state == TaskState.COMPLETED
    assert stop_task.amount_held in (Decimal("31000.00"), Decimal(second_amount))
    case = Case.objects.get(pk=stop_task.case_id)
    assert case.amount_stopped == stop_task.amount_held  # added to the case's total once


def test_approve_racing_a_return_ends_in_one_state_with_one_audit_row(analyst, supervisor, monkeypatch):
    # CCB has an endpoint: an approval writes the outbox row. The push job itself is not the subject.
    monkeypatch.setattr("alerts.actions.enqueue", lambda delivery_id: None)
    set_endpoint(agency("CCB"), url="https://127.0.0.1:9/push", secret=None, acting_user=None)
    case = make_case(analyst)
    seen = set()
    for round_ in range(6):
        task = actions.create_task(case, acting_user=analyst, type="other", agency=agency("CCB"), note=f"协查 {round_}")
        outcomes = run_together(
            lambda task=task: actions.approve_task(Task.objects.get(pk=task.pk), acting_user=analyst),
            lambda task=task: actions.cancel_task(
                Task.objects.get(pk=task.pk), acting_user=supervisor, reason="退回", pending_only=True
            ),
        )
        approved, returned = (not isinstance(o, Exception) for o in outcomes)
        assert approved != returned, outcomes  # exactly one of the two took effect
        loser = outcomes[1] if approved else outcomes[0]
        assert isinstance(loser, InvalidTransition)  # a 409 in the API, a message in the pages
        task.refresh_from_db()
        approvals, cancels = audit_rows("task.approve", object_id=task.pk), audit_rows("task.cancel", object_id=task.pk)
        deliveries = Delivery.objects.filter(task=task).count()
        if approved:
            assert task.state == TaskState.APPROVED and (approvals, cancels, deliveries) == (1, 0, 1)
        else:
            assert task.state == TaskState.CANCELLED and (approvals, cancels, deliveries) == (0, 1, 0)
        seen.add(task.state)
    # Which one wins is the scheduler's; each round's outcome is whole either way.
    assert seen <= {TaskState.APPROVED, TaskState.CANCELLED}
