"""Dispatching approved tasks: the outbox row, written in the approving transaction."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from cases import permissions, task_types
from cases.actions import clear_flag, mark_dispatched
from cases.choices import TaskEvent
from cases.models import Task
from coordination import audit
from coordination.choices import AuditAction
from coordination.exceptions import ActionNotAllowed, Conflict

from . import events
from .choices import DeliveryState
from .models import Delivery, Notification
from .payloads import push_body

log = logging.getLogger(__name__)


def delivery_window() -> timedelta:
    return timedelta(seconds=settings.DELIVERY_WINDOW_SECONDS)


def legal_lapse(task: Task) -> datetime | None:
    """When the instruction's legal basis runs out: a stop-payment's 48 hours from its approval.

    Pushing it later would ask a bank to hold money without authority, so no
    retry or re-send of such a delivery goes past this instant. The type's
    declaration says whether its lapse bounds delivery (``lapse_bounds_delivery``).
    """
    spec = task_types.get(task.type)
    if not spec.lapse_bounds_delivery:
        return None
    return (task.approved_at or timezone.now()) + spec.holding.lapses_after


def give_up_time(task: Task, now: datetime) -> datetime:
    """The end of the retry window: the configured window, never past the legal lapse."""
    window_end = now + delivery_window()
    lapse = legal_lapse(task)
    return min(window_end, lapse) if lapse else window_end


def dispatch_task(task: Task) -> Delivery | None:
    """Push ``task`` to its agency's endpoint, or leave it in the agency's inbox.

    Must run inside the approving transaction: the delivery row commits with
    the approval or not at all; the job is queued only after commit.
    """
    agency = task.agency
    if not agency.has_endpoint:
        mark_dispatched(task)
        transaction.on_commit(lambda: events.task_event(TaskEvent.NEW, task.pk))
        return None
    now = timezone.now()
    # queued_at is set now: if the process dies before publishing, the sweeper
    # sees a stale queued_at and publishes the job itself.
    delivery = Delivery(task=task, agency=agency, give_up_at=give_up_time(task, now), queued_at=now)
    # The body is prepared now, with the task and its case at hand: the claim returns it (issue 16).
    delivery.body = push_body(delivery).decode()
    delivery.save(force_insert=True)
    transaction.on_commit(lambda: enqueue(delivery.pk))
    return delivery


def enqueue(delivery_id) -> None:
    """Put the push job on the broker; if the broker is away the sweeper re-queues it."""
    from .tasks import publish_push

    publish_push(str(delivery_id))


@transaction.atomic
def resend_delivery(delivery: Delivery, *, acting_user) -> Delivery:
    """A supervisor re-sends a failed or dead-lettered delivery; the ``Idempotency-Key`` stays."""
    if not permissions.can_resend(acting_user):
        raise ActionNotAllowed(_("Only a supervisor re-sends deliveries."))
    delivery = Delivery.objects.select_for_update().get(pk=delivery.pk)
    if delivery.state not in (DeliveryState.FAILED, DeliveryState.DEAD):
        raise Conflict(
            _("Only a failed or dead-lettered delivery is re-sent (this one is %(state)s).") % {"state": delivery.state}
        )
    before = {"state": delivery.state, "attempts": delivery.attempts}
    now = timezone.now()
    give_up_at = give_up_time(delivery.task, now)
    if give_up_at <= now:
        raise Conflict(_("This stop-payment has lapsed in law; issue a new one instead of re-sending."))
    delivery.state, delivery.next_attempt_at, delivery.give_up_at = DeliveryState.PENDING, now, give_up_at
    delivery.queued_at, delivery.locked_until, delivery.lease_token = now, None, None
    delivery.save(update_fields=["state", "next_attempt_at", "give_up_at", "queued_at", "locked_until", "lease_token"])
    if delivery.task.needs_attention:
        clear_flag(delivery.task, acting_user=acting_user)
    audit.record(
        user=acting_user,
        action=AuditAction.DELIVERY_RESEND,
        obj=delivery.task,
        case_id=delivery.task.case_id,
        before=before,
        after={"state": delivery.state, "delivery_id": str(delivery.pk)},
    )
    transaction.on_commit(lambda: enqueue(delivery.pk))
    return delivery


def mark_notifications_read(user, ids=None) -> int:
    """Mark the user's notifications (all, or those ``ids``) read; returns how many changed."""
    rows = Notification.objects.visible_to(user).filter(read_at__isnull=True)
    if ids is not None:
        rows = rows.filter(pk__in=list(ids))
    return rows.update(read_at=timezone.now())


@transaction.atomic
def mark_notifications_done(user, *, ids: Iterable[int] | None = None, group: int | None = None) -> int:
    """Mark the user's undone notifications done: those ``ids``, one case's group, or all.

    ``group`` is a case id, or 0 for the notifications about no case (digests).
    Returns how many changed. Audited, one row per case: that a person dealt with
    an escalation (an overdue task, a failed push, a rejection) is part of the
    case's record; marking read is not, and stays unaudited.
    """
    rows = Notification.objects.visible_to(user).filter(done=False)
    if ids is not None:
        rows = rows.filter(pk__in=list(ids))
    if group is not None:
        rows = rows.filter(case_id=group) if group else rows.filter(case_id__isnull=True)
    changed: dict[int | None, list[int]] = {}
    for pk, case_id in rows.select_for_update().order_by("pk").values_list("pk", "case_id"):
        changed.setdefault(case_id, []).append(pk)
    if not changed:
        return 0
    now = timezone.now()
    ids_changed = [pk for pks in changed.values() for pk in pks]
    Notification.objects.filter(pk__in=ids_changed).update(
        done=True, done_at=now, read_at=Coalesce("read_at", Value(now))
    )
    for case_id, pks in changed.items():
        audit.record(
            user=user,
            action=AuditAction.NOTIFICATION_DONE,
            object_type=Notification._meta.label_lower,
            object_id=pks[0] if len(pks) == 1 else None,
            case_id=case_id,
            before={"done": False},
            after={"done": True, "notifications": pks},
        )
    return len(ids_changed)
