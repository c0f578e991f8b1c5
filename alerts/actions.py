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
