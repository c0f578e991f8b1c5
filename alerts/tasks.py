"""Background jobs: pushing deliveries and sending notification email."""

from __future__ import annotations

import logging
import random
import time
from datetime import timedelta

import httpx
from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from .choices import DeliveryState
from .models import Delivery, DeliveryAttempt, Notification
from .payloads import push_body
from .signing import signature_header

log = logging.getLogger(__name__)

DONE = frozenset(range(200, 300)) | {409}
PERMANENT = frozenset({400, 401, 403, 404, 410, 422})
CONNECT_TIMEOUT = 3.0
READ_TIMEOUT = 10.0


def backoff_seconds(attempt: int, retry_after: float | None = None) -> float:
    """Exponential back-off with full jitter, capped at 10 minutes; ``Retry-After`` wins if longer."""
    delay = random.uniform(0, min(600.0, 2.0 * 2 ** min(attempt, 12)))
    return max(delay, retry_after or 0.0)


def _retry_after(response: httpx.Response | None) -> float | None:
    if response is None:
        return None
    try:
        return float(response.headers.get("Retry-After", ""))
    except ValueError:
        return None


@shared_task(name="alerts.push_delivery", acks_late=True)
def push_delivery(delivery_id: str) -> str:
    """Send one delivery: claim it, sign, POST, record the attempt, decide what next."""
    from cases.actions import flag_task, mark_dispatched

    from . import events

    with transaction.atomic():
        delivery = (
            Delivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("task__case__fraud_type", "task__target__bank", "agency")
            .filter(pk=delivery_id, state=DeliveryState.PENDING)
            .first()
        )
        if delivery is None:
            return "skipped"
        now = timezone.now()
        if delivery.next_attempt_at > now + timedelta(seconds=1):
            return "not due"
        body = push_body(delivery)
        headers = {
            "Content-Type": "application/json",
            "Idempotency-Key": str(delivery.id),
            "X-Signature": signature_header(delivery.agency.endpoint_secret, body),
        }
        started = time.monotonic()
        response, error = None, ""
        try:
            response = httpx.post(
                delivery.agency.endpoint_url,
                content=body,
                headers=headers,
                timeout=httpx.Timeout(READ_TIMEOUT, connect=CONNECT_TIMEOUT),
            )
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"[:500]
        duration = int((time.monotonic() - started) * 1000)
        status = response.status_code if response is not None else None
        DeliveryAttempt.objects.create(delivery=delivery, status_code=status, error=error, duration_ms=duration)
        delivery.attempts += 1
        delivery.last_status, delivery.last_error = status, error
        outcome = "retry"
        if status in DONE:
            delivery.state, delivery.delivered_at, outcome = DeliveryState.DELIVERED, timezone.now(), "delivered"
            mark_dispatched(delivery.task, at=delivery.delivered_at)
        elif status in PERMANENT:
            delivery.state, outcome = DeliveryState.FAILED, "failed"
            flag_task(delivery.task, reason=f"push refused with HTTP {status}")
            transaction.on_commit(lambda: events.task_event("delivery_failed", delivery.task_id))
        else:
            wait = backoff_seconds(delivery.attempts, _retry_after(response))
            next_at = timezone.now() + timedelta(seconds=wait)
            if next_at >= delivery.give_up_at:
                delivery.state, outcome = DeliveryState.DEAD, "dead"
                flag_task(delivery.task, reason="push dead-lettered after the retry window")
                transaction.on_commit(lambda: events.task_event("delivery_failed", delivery.task_id))
            else:
                delivery.next_attempt_at = next_at
                transaction.on_commit(lambda: push_delivery.apply_async(args=[str(delivery.id)], countdown=wait))
        delivery.save()
    log.info("delivery %s attempt %s -> %s (%s)", delivery.id, delivery.attempts, status or error, outcome)
    return outcome


@shared_task(name="alerts.send_notification_emails")
def send_notification_emails(dedupe_key: str) -> int:
    """Email the notifications of one event to the people who chose email."""
    sent = 0
    rows = Notification.objects.filter(dedupe_key=dedupe_key, emailed_at__isnull=True, user__notify_by_email=True)
    for note in rows.select_related("user"):
        if not note.user.email:
            continue
        send_mail(note.title, note.body or note.title, settings.DEFAULT_FROM_EMAIL, [note.user.email])
        Notification.objects.filter(pk=note.pk).update(emailed_at=timezone.now())
        sent += 1
    return sent
