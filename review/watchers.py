"""The supervision items' deadline watcher, like the tasks' (``alerts.watchers.overdue``).

Open items past their deadline, read through ``supervision_watch_idx`` in
batches; each one's mark (``is_overdue``) is claimed by a conditional UPDATE in
the same transaction as its audit row and notifications, and a notification's
``dedupe_key`` is unique per person: running the watcher twice notifies once.
Run by Celery beat (``review.tasks.watch_supervision``) with the task watchers.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from agencies.models import User
from alerts.choices import NotificationKind
from alerts.models import Notification

from .actions import mark_overdue
from .models import SupervisionItem, SupervisionStatus

log = logging.getLogger(__name__)
BATCH = 500


def people_to_tell(item: SupervisionItem) -> list[User]:
    """The owner unit's managers and liaisons, and the meeting's office (supervisors)."""
    return list(
        User.objects.filter(is_active=True).filter(
            Q(agency_id=item.owner_id, role__in=("manager", "liaison")) | Q(role="supervisor")
        )
    )


def notify_overdue(item: SupervisionItem, now: datetime) -> int:
    params = {"item": item.pk, "resolution": item.resolution[:80], "deadline": item.deadline.isoformat()}
    url = reverse("supervision-detail", args=[item.pk])
    count = 0
    for user in people_to_tell(item):
        _row, created = Notification.objects.get_or_create(
            user=user,
            dedupe_key=f"supervision_overdue:{item.pk}",
            defaults={"kind": NotificationKind.SUPERVISION_OVERDUE, "params": params, "url": url, "last_at": now},
        )
        count += created
    return count


def supervision_overdue(now: datetime | None = None) -> int:
    """Mark open items past their deadline overdue and tell the people concerned; returns how many."""
    now = now or timezone.now()
    count, last = 0, 0
    while True:
        batch = list(
            SupervisionItem.objects.filter(
                status=SupervisionStatus.OPEN, is_overdue=False, deadline__lt=now, pk__gt=last
            ).order_by("pk")[:BATCH]
        )
        for item in batch:
            with transaction.atomic():
                if mark_overdue(item, now):
                    notify_overdue(item, now)
                    count += 1
        if len(batch) < BATCH:
            break
        last = batch[-1].pk
    if count:
        log.info("watchers: %d supervision items overdue", count)
    return count
