"""The periodic digest: one notification per person summarising what is still to do.

Run by Celery beat (``alerts.send_digests``), fanned out by batches of user ids
(``alerts.digest_users``). One digest per person and day (Asia/Shanghai): a run
later the same day refreshes that row's numbers instead of adding one, so beat
running twice, or a retried job, leaves one digest. A new day's digest marks the
previous undone one done: digests replace each other, they never pile up.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from agencies.models import User

from .choices import NotificationKind
from .events import queue_email
from .models import Notification

BATCH = 200


def parse_moment(at: str | None) -> datetime:
    """The digest's instant from a job argument (ISO 8601), or now."""
    if not at:
        return timezone.now()
    moment = parse_datetime(at)
    if moment is None or timezone.is_naive(moment):
        raise ValueError(f"not an aware ISO 8601 instant: {at!r}")
    return moment


def recipients(batch: int = BATCH) -> Iterator[list[int]]:
    """Ids of people with anything undone, in keyset batches (index notification_undone_idx)."""
    last = 0
    while True:
        ids = list(
            Notification.objects.filter(done=False, user_id__gt=last)
            .order_by("user_id")
            .values_list("user_id", flat=True)
            .distinct()[:batch]
        )
        if not ids:
            return
        yield ids
        last = ids[-1]
        if len(ids) < batch:
            return


def summary(user_id: int) -> dict:
    """What is undone for the person: notifications, cases, and how many of each kind."""
    rows = Notification.objects.filter(user_id=user_id, done=False).exclude(kind=NotificationKind.DIGEST)
    by_kind = dict(rows.values_list("kind").annotate(n=Count("id")).order_by("kind"))
    cases = rows.filter(case_id__isnull=False).values("case_id").distinct().count()
    return {"items": sum(by_kind.values()), "cases": cases, "by_kind": by_kind}


@transaction.atomic
def digest_for(user_id: int, moment: datetime) -> Notification | None:
    """The person's digest for the day of ``moment``, written or refreshed; None when nothing is undone."""
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None or not (user.notify_in_app or user.notify_by_email):
        return None
    period = timezone.localdate(moment).isoformat()
    key = f"digest:{period}"
    # Serialise runs for one person: two jobs at once write one row with one set of numbers.
    User.objects.select_for_update().filter(pk=user_id).first()
    # The previous days' digests are replaced by this one (the platform's own mark: no audit).
    Notification.objects.filter(user_id=user_id, kind=NotificationKind.DIGEST, done=False).exclude(
        dedupe_key=key
    ).update(done=True, done_at=moment)
    params = {**summary(user_id), "period": period}
    if not params["items"]:
        return None
    note, created = Notification.objects.update_or_create(
        user_id=user_id,
        dedupe_key=key,
        defaults={"params": params},
        create_defaults={
            "params": params,
            "kind": NotificationKind.DIGEST,
            "event_key": key,
            "url": "/notifications/",
            "created_at": moment,
            "last_at": moment,
        },
    )
    if created and user.notify_by_email and user.email:
        transaction.on_commit(lambda: queue_email(key))
    return note
