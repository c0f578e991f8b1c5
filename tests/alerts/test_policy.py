"""The retry policy's pieces: Retry-After forms, back-off bounds, the stop-payment clamp."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from django.utils import timezone

from agencies.actions import set_endpoint
from alerts.actions import give_up_time, legal_lapse
from alerts.models import Delivery
from alerts.tasks import backoff_seconds, parse_retry_after, stale_deliveries
from cases import actions

from ..conftest import agency


def test_retry_after_seconds_and_http_date():
    now = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
    assert parse_retry_after("120", now) == 120
    assert parse_retry_after(format_datetime(now + timedelta(seconds=90), usegmt=True), now) == 90
    assert parse_retry_after(format_datetime(now - timedelta(seconds=90), usegmt=True), now) == 0
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after(None, now) is None


def test_backoff_grows_with_jitter_within_bounds(settings):
    settings.DELIVERY_BACKOFF_BASE, settings.DELIVERY_BACKOFF_MAX = 2.0, 600.0
    for attempt, ceiling in [(1, 2.0), (2, 4.0), (5, 32.0), (30, 600.0)]:
        delays = {backoff_seconds(attempt) for _ in range(50)}
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(delays) > 1  # jitter: retries of many deliveries do not arrive in step
    assert backoff_seconds(1, retry_after=45) == 45


@pytest.mark.django_db
def test_stop_payment_never_retried_past_its_legal_lapse(case, analyst, settings, django_capture_on_commit_callbacks):
    settings.DELIVERY_WINDOW_SECONDS = 72 * 3600  # a window longer than the law allows
    set_endpoint(agency("CCB"), url="http://127.0.0.1:9/CCB/", secret="s3cret-0123456789", acting_user=None)
    with django_capture_on_commit_callbacks(execute=False):
        [task] = actions.issue_stop_payments(case, acting_user=analyst)
    delivery = Delivery.objects.get(task=task)
    assert delivery.give_up_at == legal_lapse(task) == task.approved_at + timedelta(hours=48)
    settings.DELIVERY_WINDOW_SECONDS = 3600
    now = timezone.now()
    assert give_up_time(task, now) == now + timedelta(hours=1)


@pytest.mark.django_db
def test_sweeper_picks_only_stale_unclaimed_due_rows(case, analyst, settings, django_capture_on_commit_callbacks):
    settings.DELIVERY_REQUEUE_AFTER = 15
    set_endpoint(agency("CCB"), url="http://127.0.0.1:9/CCB/", secret="s3cret-0123456789", acting_user=None)
    with django_capture_on_commit_callbacks(execute=False):
        [task] = actions.issue_stop_payments(case, acting_user=analyst)
    delivery = Delivery.objects.get(task=task)
    now = timezone.now()
    assert not stale_deliveries(now).exists()  # just queued
    later = now + timedelta(seconds=20)
    assert list(stale_deliveries(later)) == [delivery]  # its job never showed up
    Delivery.objects.filter(pk=delivery.pk).update(locked_until=later + timedelta(seconds=5))
    assert not stale_deliveries(later).exists()  # a live claim: a worker is pushing it
    Delivery.objects.filter(pk=delivery.pk).update(locked_until=later - timedelta(seconds=1))
    assert list(stale_deliveries(later)) == [delivery]  # the claimer died; its lease ran out
    Delivery.objects.filter(pk=delivery.pk).update(queued_at=None, locked_until=None)
    assert list(stale_deliveries(now)) == [delivery]  # publishing failed: at once


@pytest.mark.django_db
def test_agency_without_endpoint_gets_the_task_in_its_inbox_and_its_liaisons_are_told(
    case, analyst, ccb_liaison, ccb_manager, icbc_liaison, django_capture_on_commit_callbacks
):
    from alerts.models import Notification
    from cases.choices import TaskState

    with django_capture_on_commit_callbacks(execute=True):
        [task] = actions.issue_stop_payments(case, acting_user=analyst)  # CCB has no endpoint
    assert task.state == TaskState.DISPATCHED and not Delivery.objects.filter(task=task).exists()
    told = set(Notification.objects.filter(kind="new_task", task=task).values_list("user_id", flat=True))
    assert told == {ccb_liaison.pk, ccb_manager.pk}


@pytest.mark.django_db
def test_a_cancelled_task_is_no_longer_pushed(case, analyst, django_capture_on_commit_callbacks):
    from alerts.choices import DeliveryState
    from alerts.tasks import claim_delivery

    set_endpoint(agency("CCB"), url="http://127.0.0.1:9/CCB/", secret="s3cret-0123456789", acting_user=None)
    with django_capture_on_commit_callbacks(execute=False):
        [task] = actions.issue_stop_payments(case, acting_user=analyst)
    actions.cancel_task(task, acting_user=analyst, reason="wrong account")
    delivery = Delivery.objects.get(task=task)
    assert claim_delivery(str(delivery.pk)) == "cancelled"
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.FAILED and delivery.locked_until is None
    assert not stale_deliveries(timezone.now() + timedelta(hours=1)).exists()
