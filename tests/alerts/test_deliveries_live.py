"""Pushes end to end with real processes: PostgreSQL, a private Redis, a Celery worker,
the demo partner as an HTTP server, and the platform (``live_server``) taking results.
"""

from __future__ import annotations

import itertools
import json
import time
from datetime import timedelta

import pytest
from rest_framework.test import APIClient

from alerts.choices import DeliveryState
from alerts.models import Delivery, DeliveryAttempt, Notification
from cases import actions
from cases.choices import TargetKind, TaskState, TaskType
from cases.models import FollowUpProposal, Task

from ..conftest import agency, make_case

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _stop_payment(analyst, *, bank: str = "CCB", account: str = "6217000010012345678") -> Task:
    case = make_case(analyst, to_account=account, to_bank=bank)
    [task] = actions.issue_stop_payments(case, acting_user=analyst)  # approved; pushed on commit
    return task


def _delivery(task: Task) -> Delivery:
    return Delivery.objects.get(task=task)


def _queued_pushes(live) -> int:
    """Push jobs waiting in the broker's default queue (beat may have queued a sweep too)."""
    messages = [json.loads(raw) for raw in live.redis.client().lrange("celery", 0, -1)]
    return sum(1 for m in messages if m["headers"]["task"] == "alerts.push_delivery")


def _accepted(live, key: str) -> list[dict]:
    return [r for r in live.sim.received() if r["idempotency_key"] == key and r["status"] == 202]


def test_stop_payment_reaches_the_partner_signed_and_the_result_comes_back(live, analyst):
    task = _stop_payment(analyst)
    delivery = _delivery(task)
    live.wait(lambda: Task.objects.get(pk=task.pk).state == TaskState.COMPLETED)

    [push] = live.sim.received("CCB")
    assert push["verified"] and push["status"] == 202
    assert push["idempotency_key"] == str(delivery.pk)
    assert push["body"]["type"] == "emergency_stop_payment" and push["body"]["amount"] == "52000.00"
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.DELIVERED and delivery.attempts == 1
    [attempt] = DeliveryAttempt.objects.filter(delivery=delivery)
    assert attempt.status_code == 202 and attempt.duration_ms < 3000
    task.refresh_from_db()
    assert task.amount_held is not None and task.lapses_at is not None
    assert task.dispatched_at is not None
    # The partner reported onward transfers: proposed follow-ups and a notification for the analyst.
    assert FollowUpProposal.objects.filter(source_task=task).exists()
    live.wait(lambda: Notification.objects.filter(user=analyst, kind="result", task=task).exists())
    # The partner records its act once the platform has answered its result: after our notification.
    live.wait(lambda: len(live.sim.acted("CCB")) >= 1)
    assert len(live.sim.acted("CCB")) == 1


def test_worker_killed_mid_push_completes_after_restart_and_partner_acts_once(live, analyst):
    live.sim.set_mode("slow", "CCB", slow_seconds=2)
    task = _stop_payment(analyst)
    delivery = _delivery(task)
    # The claim is committed just before the POST; the partner then holds the request for 2 s.
    live.wait(lambda: Delivery.objects.filter(pk=delivery.pk, locked_until__isnull=False).exists(), interval=0.02)
    time.sleep(0.5)
    live.worker.kill()
    killed_at = time.monotonic()
    # The partner finishes handling the push the killed worker sent, and takes it.
    live.wait(lambda: _accepted(live, str(delivery.pk)))
    live.sim.set_mode("ok", "CCB")
    assert Delivery.objects.get(pk=delivery.pk).state == DeliveryState.PENDING  # nobody recorded the answer
    live.worker.start()
    live.wait(lambda: Delivery.objects.get(pk=delivery.pk).state == DeliveryState.DELIVERED, timeout=30)
    recovery = time.monotonic() - killed_at
    live.wait(lambda: Task.objects.get(pk=task.pk).state == TaskState.COMPLETED)

    pushes = [r for r in live.sim.received("CCB") if r["idempotency_key"] == str(delivery.pk)]
    assert [r["status"] for r in pushes] == [202, 409]  # the re-send is recognised as a duplicate
    assert len(live.sim.acted("CCB")) == 1  # acted on once
    assert recovery < 30
    delivery.refresh_from_db()
    assert delivery.attempts == 1  # the killed attempt left no record; the re-send's 409 is the one


@pytest.mark.parametrize("fault", ["restart", "flush"])
def test_redis_lost_with_deliveries_pending_all_delivered(live, analyst, fault):
    live.worker.stop()
    tasks = [_stop_payment(analyst, account=f"62170000100123{index:05d}") for index in range(5)]
    assert _queued_pushes(live) == 5  # the jobs are on the broker, and only there
    if fault == "restart":
        live.redis.restart()
    else:
        live.redis.flush()
    assert _queued_pushes(live) == 0
    live.worker.start()
    keys = {str(_delivery(task).pk) for task in tasks}
    live.wait(lambda: Delivery.objects.filter(pk__in=keys, state=DeliveryState.DELIVERED).count() == 5, timeout=30)
    for key in keys:
        assert len(_accepted(live, key)) == 1
    live.wait(lambda: len(live.sim.acted("CCB")) >= 5)
    assert sorted(r["idempotency_key"] for r in live.sim.acted("CCB")) == sorted(keys)


def test_broker_down_at_approval_the_outbox_row_is_delivered_when_it_is_back(live, analyst):
    live.redis.stop()
    started = time.monotonic()
    task = _stop_payment(analyst)  # the approval commits; publishing fails and is logged, not raised
    assert time.monotonic() - started < 10
    delivery = _delivery(task)
    assert delivery.queued_at is None  # marked for the sweeper
    live.redis.start()
    # The worker's and beat's reconnect back-off grows while the broker is down; on a
    # loaded 2-core machine it alone has taken more than 30 s, so allow a minute.
    live.wait(lambda: Delivery.objects.get(pk=delivery.pk).state == DeliveryState.DELIVERED, timeout=60)
    assert len(_accepted(live, str(delivery.pk))) == 1


def test_partner_503_for_a_while_then_200_delivered_once(live, analyst):
    live.sim.set_mode("flaky", "CCB", fail_count=3, retry_after=1)
    task = _stop_payment(analyst)
    delivery = _delivery(task)
    live.wait(lambda: Delivery.objects.get(pk=delivery.pk).state == DeliveryState.DELIVERED, timeout=30)
    attempts = list(DeliveryAttempt.objects.filter(delivery=delivery).order_by("at"))
    assert [a.status_code for a in attempts] == [503, 503, 503, 202]
    # Retry-After: 1 is honoured between every attempt.
    gaps = [(b.at - a.at).total_seconds() for a, b in itertools.pairwise(attempts)]
    assert all(gap >= 0.9 for gap in gaps), gaps
    assert len(_accepted(live, str(delivery.pk))) == 1
    live.wait(lambda: len(live.sim.acted("CCB")) == 1)
    assert {r["idempotency_key"] for r in live.sim.received("CCB")} == {str(delivery.pk)}


def test_retry_after_beyond_the_backoff_cap_is_honoured_through_the_row(live, analyst):
    # Retry-After 3 s > DELIVERY_BACKOFF_MAX 1 s: the job is published with a 1 s countdown,
    # finds the row not due, and the sweeper publishes it once it is.
    live.sim.set_mode("flaky", "CCB", fail_count=1, retry_after=3)
    task = _stop_payment(analyst)
    delivery = _delivery(task)
    live.wait(lambda: Delivery.objects.get(pk=delivery.pk).state == DeliveryState.DELIVERED, timeout=30)
    first, second = DeliveryAttempt.objects.filter(delivery=delivery).order_by("at")
    assert (first.status_code, second.status_code) == (503, 202)
    assert (second.at - first.at).total_seconds() >= 2.9
    assert "not due" in live.worker.log()


def test_partner_400_is_not_retried_and_the_task_is_flagged(live, analyst, supervisor):
    live.sim.set_mode("bad_request", "CCB")
    task = _stop_payment(analyst)
    delivery = _delivery(task)
    live.wait(lambda: Delivery.objects.get(pk=delivery.pk).state == DeliveryState.FAILED)
    time.sleep(1.5)  # several sweeps and back-off periods: still one attempt
    delivery.refresh_from_db()
    assert delivery.attempts == 1 and delivery.last_status == 400
    # The partner's own words (its JSON ``detail``), shown beside the failed push.
    assert delivery.partner_reason == "simulated: this partner refuses the request"
    assert delivery.last_error == "http_4xx"  # what the agency is told: the class only
    assert len(live.sim.received("CCB")) == 1
    task.refresh_from_db()
    assert task.needs_attention and "400" in task.attention_reason
    assert task.state == TaskState.APPROVED  # the agency never got it
    live.wait(lambda: Notification.objects.filter(user=supervisor, kind="delivery_failed", task=task).exists())
    assert Notification.objects.filter(user=analyst, kind="delivery_failed", task=task).exists()


def test_dead_letter_after_the_window_then_supervisor_resend_keeps_the_key(live, analyst, supervisor, settings):
    settings.DELIVERY_WINDOW_SECONDS = 2
    live.sim.set_mode("always_503", "CCB")
    task = _stop_payment(analyst)
    delivery = _delivery(task)
    live.wait(lambda: Delivery.objects.get(pk=delivery.pk).state == DeliveryState.DEAD)
    delivery.refresh_from_db()
    assert delivery.attempts >= 2 and delivery.last_status == 503
    assert DeliveryAttempt.objects.filter(delivery=delivery).count() == delivery.attempts
    task.refresh_from_db()
    assert task.needs_attention and "retry window" in task.attention_reason
    live.wait(lambda: Notification.objects.filter(user=supervisor, kind="delivery_failed", task=task).exists())

    live.sim.set_mode("ok", "CCB")
    client = APIClient()
    client.force_authenticate(supervisor)
    response = client.post(f"/api/v1/deliveries/{delivery.pk}/resend/")
    assert response.status_code == 200, response.json()
    live.wait(lambda: Delivery.objects.get(pk=delivery.pk).state == DeliveryState.DELIVERED)
    assert len(_accepted(live, str(delivery.pk))) == 1  # same Idempotency-Key as every earlier attempt
    assert {r["idempotency_key"] for r in live.sim.received("CCB")} == {str(delivery.pk)}
    task.refresh_from_db()
    assert not task.needs_attention


def test_slow_partner_does_not_delay_another_agencys_deliveries(live, analyst, settings):
    live.sim.set_mode("slow", "CCB", slow_seconds=2.5)
    live.sim.set_results(enabled=False)
    slow = [_stop_payment(analyst, account=f"62170000100124{index:05d}") for index in range(6)]
    time.sleep(0.3)  # the slow partner's pushes are in flight first
    started = time.monotonic()
    fast = [_stop_payment(analyst, bank="ICBC", account=f"62220202001124{index:05d}") for index in range(4)]
    fast_ids = [_delivery(task).pk for task in fast]
    live.wait(lambda: Delivery.objects.filter(pk__in=fast_ids, state=DeliveryState.DELIVERED).count() == 4)
    fast_elapsed = time.monotonic() - started
    # Four ICBC pushes while six CCB pushes each take 2.5 s on a four-process worker.
    assert fast_elapsed < 2.0, fast_elapsed
    slow_ids = [_delivery(task).pk for task in slow]
    live.wait(lambda: Delivery.objects.filter(pk__in=slow_ids, state=DeliveryState.DELIVERED).count() == 6, timeout=30)
    # Never more than the per-agency limit of CCB pushes in flight at once.
    spans = [
        (a.at - timedelta(milliseconds=a.duration_ms), a.at)
        for a in DeliveryAttempt.objects.filter(delivery_id__in=slow_ids)
    ]
    peak = max(sum(1 for s, e in spans if s < mid < e) for mid in (s + (e - s) / 2 for s, e in spans))
    assert peak <= settings.DELIVERY_AGENCY_CONCURRENCY


def test_every_pushable_type_goes_the_same_way_with_its_result_fields(live, analyst, supervisor):
    case = make_case(analyst)
    case = actions.file_case(case, acting_user=analyst, filing_number="成公(反)立字[2026]1号")
    specs = [
        (TaskType.FREEZE, "ABC", TargetKind.BANK_ACCOUNT, "6230000000000777", "amount_held"),
        (TaskType.ACCOUNT_QUERY, "ABC", TargetKind.BANK_ACCOUNT, "6230000000000778", "holder_name"),
        (TaskType.NUMBER_SHUTDOWN, "CMCC", TargetKind.PHONE, "13912345678", "done_at"),
        (TaskType.NUMBER_TRACE, "CMCC", TargetKind.PHONE, "13912345679", "registered_name"),
        (TaskType.URL_BLOCK, "TENCENT", TargetKind.URL, "https://fake-invest.example/", "done_at"),
        (TaskType.ACCOUNT_BAN, "TENCENT", TargetKind.SOCIAL_ACCOUNT, "wxid_fraud_0001", "done_at"),
    ]
    tasks = {}
    for task_type, code, kind, value, field in specs:
        task = actions.create_task(
            case,
            acting_user=analyst,
            type=task_type,
            agency=agency(code),
            target_kind=kind,
            target_value=value,
            legal_document_number="成公冻字[2026]88号",
        )
        tasks[task_type] = (actions.approve_task(task, acting_user=supervisor), field)
    for task, field in tasks.values():
        live.wait(lambda task=task: Task.objects.get(pk=task.pk).state == TaskState.COMPLETED)
        task.refresh_from_db()
        assert field in task.result, (task.type, task.result)
        # The partner may act before the worker records its 202: the result can come first.
        live.wait(lambda task=task: _delivery(task).state == DeliveryState.DELIVERED)
    assert {r["type"] for r in live.sim.received()} == {str(t) for t, *_ in specs}
    assert all(r["verified"] for r in live.sim.received())
