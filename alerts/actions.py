"""Dispatching approved tasks: the outbox row, written in the approving transaction."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from cases.models import Task

from .choices import DeliveryState
from .models import Delivery

log = logging.getLogger(__name__)


def delivery_window() -> timedelta:
    return timedelta(seconds=getattr(settings, "DELIVERY_WINDOW_SECONDS", 24 * 3600))


def dispatch_task(task: Task) -> Delivery | None:
    """Push ``task`` to its agency's endpoint, or leave it in the agency's inbox.

    Must run inside the approving transaction: the delivery row commits with
    the approval or not at all; the job is queued only after commit.
    """
    from cases.actions import mark_dispatched

    from . import events

    agency = task.agency
    if not agency.has_endpoint:
        mark_dispatched(task)
        transaction.on_commit(lambda: events.task_event("task_new", task.pk))
        return None
    now = timezone.now()
    delivery = Delivery.objects.create(task=task, agency=agency, give_up_at=now + delivery_window())
    transaction.on_commit(lambda: enqueue(delivery.pk))
    return delivery


def enqueue(delivery_id) -> None:
    """Put the push job on the broker; if the broker is away the sweeper re-queues it."""
    from .tasks import push_delivery

    try:
        push_delivery.apply_async(args=[str(delivery_id)])
    except Exception:
        log.warning("broker unavailable, delivery %s left for the sweeper", delivery_id, exc_info=True)
        return
    Delivery.objects.filter(pk=delivery_id, state=DeliveryState.PENDING).update(queued_at=timezone.now())


@transaction.atomic
def resend_delivery(delivery: Delivery, *, acting_user) -> Delivery:
    """A supervisor re-sends a failed or dead-lettered delivery; the ``Idempotency-Key`` stays."""
    from cases import permissions
    from cases.actions import clear_flag
    from coordination import audit
    from coordination.exceptions import ActionNotAllowed, Conflict

    if not permissions.can_resend(acting_user):
        raise ActionNotAllowed("Only a supervisor re-sends deliveries.")
    delivery = Delivery.objects.select_for_update().get(pk=delivery.pk)
    if delivery.state not in (DeliveryState.FAILED, DeliveryState.DEAD):
        raise Conflict(f"Only a failed or dead-lettered delivery is re-sent (this one is {delivery.state}).")
    before = {"state": delivery.state, "attempts": delivery.attempts}
    now = timezone.now()
    delivery.state, delivery.next_attempt_at, delivery.give_up_at = DeliveryState.PENDING, now, now + delivery_window()
    delivery.save(update_fields=["state", "next_attempt_at", "give_up_at"])
    if delivery.task.needs_attention:
        clear_flag(delivery.task, acting_user=acting_user)
    audit.record(
        user=acting_user,
        action="delivery.resend",
        obj=delivery.task,
        case_id=delivery.task.case_id,
        before=before,
        after={"state": delivery.state, "delivery_id": str(delivery.pk)},
    )
    transaction.on_commit(lambda: enqueue(delivery.pk))
    return delivery


def mark_notifications_read(user, ids=None) -> int:
    """Mark the user's notifications (all, or those ``ids``) read; returns how many changed."""
    from .models import Notification

    rows = Notification.objects.visible_to(user).filter(read_at__isnull=True)
    if ids is not None:
        rows = rows.filter(pk__in=list(ids))
    return rows.update(read_at=timezone.now())
