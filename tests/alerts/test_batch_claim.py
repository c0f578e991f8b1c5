"""The one-statement claim and its batches (issue 16): disjoint leases, per-agency limits, expiry.

``alerts.tasks.claim_deliveries`` leases the wanted delivery and, with ``extra``,
other due ones waiting behind it. Two claimers never lease the same delivery,
an agency never has more than ``DELIVERY_AGENCY_CONCURRENCY`` leases live, and a
batch whose worker died is recovered exactly like a single push: the leases run
out, the sweeper sees the rows, a new claim takes them with new tokens, and the
old holder's late answer is recorded as an attempt only.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from agencies.actions import set_endpoint
from alerts.choices import DeliveryState
from alerts.models import Delivery, DeliveryAttempt
from alerts.tasks import Claim, Outcome, claim_deliveries, record_outcome, stale_deliveries
from cases import actions
from cases.choices import TaskState

from ..conftest import agency, make_case

BANKS = ("CCB", "ICBC", "ABC")


def _pending(analyst, per_bank: int, capture) -> list[Delivery]:
    """``per_bank`` approved stop-payments to each bank, their outbox rows written, no job run."""
    from alerts import actions as alerts_actions

    enqueue, alerts_actions.enqueue = alerts_actions.enqueue, lambda delivery_id: None
    try:
        return _approved(analyst, per_bank, capture)
    finally:
        alerts_actions.enqueue = enqueue


def _approved(analyst, per_bank: int, capture) -> list[Delivery]:
    for code in BANKS:
        set_endpoint(
            agency(code), url=f"http://127.0.0.1:9/{code}/", secret=f"s3cret-{code}-0123456789", acting_user=None
        )
    with capture(execute=False):
        for code in BANKS:
            for index in range(per_bank):
                case = make_case(analyst, to_bank=code, to_account=f"6217{BANKS.index(code)}{index:014d}")
                actions.issue_stop_payments(case, acting_user=analyst)
    rows = list(Delivery.objects.select_related("agency").order_by("created_at"))
    assert len(rows) == per_bank * len(BANKS)
    return rows


def _leased(claims) -> list[str]:
    return [c.delivery_id for c in claims if isinstance(c, Claim)]


@pytest.mark.django_db
def test_the_body_is_prepared_at_approval_and_the_claim_returns_it(analyst, django_capture_on_commit_callbacks):
    delivery = _pending(analyst, 1, django_capture_on_commit_callbacks)[0]
    body = json.loads(delivery.body)
    assert body["delivery_id"] == str(delivery.pk) and body["task_id"] == delivery.task_id
    claim, others = claim_deliveries(str(delivery.pk))
    assert isinstance(claim, Claim) and not others
    assert claim.body == delivery.body.encode() and claim.task_id == delivery.task_id
    assert claim.secrets == [agency(delivery.agency.code).endpoint_secret]
    assert claim_deliveries(str(delivery.pk))[0] == "claimed"  # under our live lease


@pytest.mark.django_db
def test_a_batch_keeps_every_agencys_in_flight_limit(analyst, settings, django_capture_on_commit_callbacks):
    settings.DELIVERY_AGENCY_CONCURRENCY = 2
    rows = _pending(analyst, 4, django_capture_on_commit_callbacks)
    ccb = [r for r in rows if r.agency.code == "CCB"]
    claim, others = claim_deliveries(str(ccb[0].pk), extra=20)
    leased = [claim, *others]
    per_agency = Counter(c.agency_code for c in leased)
    assert per_agency == {"CCB": 2, "ICBC": 2, "ABC": 2}
    assert claim.delivery_id == str(ccb[0].pk)  # the job's own delivery comes first
    # Every agency is at its limit: another job's own delivery steps aside, no extra is taken.
    assert claim_deliveries(str(ccb[3].pk), extra=20) == ("busy", [])
    live = Delivery.objects.filter(state=DeliveryState.PENDING, locked_until__gt=timezone.now())
    assert Counter(live.values_list("agency__code", flat=True)) == {"CCB": 2, "ICBC": 2, "ABC": 2}


@pytest.mark.django_db(transaction=True)
def test_two_claimers_at_once_never_lease_the_same_delivery(analyst, settings, django_capture_on_commit_callbacks):
    settings.DELIVERY_AGENCY_CONCURRENCY = 50
    rows = _pending(analyst, 6, django_capture_on_commit_callbacks)
    start = threading.Barrier(4)
    got: list[list[str]] = []
    lock = threading.Lock()

    def claimer(own):
        try:
            start.wait()
            for _ in range(3):
                claim, others = claim_deliveries(own, extra=5)
                with lock:
                    got.append(_leased([claim, *others]))
        finally:
            connection.close()

    threads = [threading.Thread(target=claimer, args=(str(rows[i].pk),)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    every = [pk for batch in got for pk in batch]
    assert len(every) == len(set(every))  # disjoint: no delivery leased twice
    assert set(every) <= {str(r.pk) for r in rows}
    tokens = Delivery.objects.filter(pk__in=every).values_list("lease_token", flat=True)
    assert len(set(tokens)) == len(every) and None not in tokens


@pytest.mark.django_db(transaction=True)
def test_a_row_another_claimer_holds_is_skipped_not_waited_for(analyst, django_capture_on_commit_callbacks):
    """``SKIP LOCKED``: a row another transaction holds this instant is neither waited for nor leased."""
    import psycopg

    from harness.processes import database_url_of

    rows = _pending(analyst, 2, django_capture_on_commit_callbacks)
    held = rows[0]
    other = psycopg.connect(database_url_of(connection.settings_dict), autocommit=False)
    try:
        other.execute("SELECT 1 FROM alerts_delivery WHERE id = %s FOR UPDATE", [held.pk])
        claim, others = claim_deliveries(str(held.pk), extra=20)
        assert claim == "skipped"
        assert str(held.pk) not in _leased(others) and len(others) == 5
    finally:
        other.rollback()
        other.close()
        connection.close()


@pytest.mark.django_db
def test_a_dead_batchs_leases_run_out_and_are_claimed_again_the_late_answer_only_an_attempt(
    analyst, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.DELIVERY_AGENCY_CONCURRENCY = 2
    rows = _pending(analyst, 2, django_capture_on_commit_callbacks)
    first, others = claim_deliveries(str(rows[0].pk), extra=10)
    batch = [first, *others]
    assert len(batch) == 6
    now = timezone.now()
    assert not stale_deliveries(now).filter(pk__in=[c.delivery_id for c in batch]).exists()
    # The worker died with the batch in flight; the leases run out.
    later = now + timedelta(seconds=settings.DELIVERY_CONNECT_TIMEOUT + settings.DELIVERY_READ_TIMEOUT + 60)
    monkeypatch.setattr(timezone, "now", lambda: later)
    stale = set(map(str, stale_deliveries(later).values_list("pk", flat=True)))
    assert {c.delivery_id for c in batch} <= stale  # the sweeper publishes them again
    again, more = claim_deliveries(str(rows[0].pk), extra=10)
    retaken = {c.delivery_id: c.token for c in [again, *more]}
    assert set(retaken) == {c.delivery_id for c in batch}
    assert all(retaken[c.delivery_id] != c.token for c in batch)
    # The dead holder's answer arrives late: an attempt on record, the outcome is the new holder's.
    late = Outcome(status=202, failure="", reason="", retry_after=None, duration_ms=5)
    assert record_outcome(first, late) == ("lease lost", 0.0)
    assert DeliveryAttempt.objects.filter(delivery_id=first.delivery_id).count() == 1
    assert Delivery.objects.get(pk=first.delivery_id).state == DeliveryState.PENDING
    # The new holder's answer decides, once: delivered, the task dispatched and audited.
    assert record_outcome(again, late)[0] == "delivered"
    delivery = Delivery.objects.select_related("task").get(pk=first.delivery_id)
    assert delivery.state == DeliveryState.DELIVERED and delivery.attempts == 1 and delivery.lease_token is None
    assert delivery.task.state == TaskState.DISPATCHED
    from coordination.models import AuditRecord

    assert (
        AuditRecord.objects.filter(object_type="cases.task", object_id=delivery.task_id, action="task.dispatch").count()
        == 1
    )
