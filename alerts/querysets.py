"""Visibility of deliveries and notifications; the notification page's groups and badge."""

from __future__ import annotations

from datetime import datetime

from django.db.models import BigIntegerField, Count, Max, Q, Sum, Value
from django.db.models.functions import Coalesce

from coordination.querysets import RestrictedQuerySet

# The group of a notification: its case, or 0 for those about no case (digests).
GROUP = Coalesce("case_id", Value(0), output_field=BigIntegerField())


class DeliveryQuerySet(RestrictedQuerySet):
    """A delivery is visible to whoever sees its task; only those who re-send change one."""

    view_all = "sees_all_cases"
    change_all = "resends"

    def _restrict(self, user, action: str) -> DeliveryQuerySet:
        from cases.models import Task

        if action == "change":
            return self.none()
        return self.filter(task__in=Task.objects.visible_to(user, "view"))


class NotificationQuerySet(RestrictedQuerySet):
    """Everyone reads and marks only their own notifications (no role sees another's)."""

    def _restrict(self, user, action: str) -> NotificationQuerySet:
        return self.filter(user_id=user.pk)

    def undone(self) -> NotificationQuerySet:
        return self.filter(done=False)

    def badge(self) -> int:
        """The header's count: undone case groups, plus each undone notification about no case.

        One aggregate over index notification_undone_idx. It is the number of
        groups the notifications page lists under "to do" (docs/deliveries.md).
        """
        counts = self.undone().aggregate(
            groups=Count("case_id", distinct=True), loose=Count("id", filter=Q(case_id__isnull=True))
        )
        return counts["groups"] + counts["loose"]

    def groups(self, after: tuple[datetime, int] | None, size: int) -> tuple[list[dict], tuple[datetime, int] | None]:
        """One keyset page of groups (a case, or 0), latest activity first, and the next position.

        A group row: ``gid``, ``latest`` (its newest ``last_at``), ``items``,
        ``undone`` and ``events`` (the collapsed repeats summed). The position is
        ``(latest, gid)``; an ``OFFSET`` is never used.
        """
        rows = (
            self.values(gid=GROUP)
            .annotate(
                latest=Max("last_at"),
                items=Count("id"),
                undone=Count("id", filter=Q(done=False)),
                events=Sum("count"),
            )
            .order_by("-latest", "-gid")
        )
        if after is not None:
            latest, gid = after
            rows = rows.filter(Q(latest__lt=latest) | Q(latest=latest, gid__lt=gid))
        page = list(rows[: size + 1])
        if len(page) <= size:
            return page, None
        page = page[:size]
        return page, (page[-1]["latest"], page[-1]["gid"])

    def in_groups(self, gids) -> NotificationQuerySet:
        """The notifications of these groups (case ids, 0 for those about no case)."""
        cases = [gid for gid in gids if gid]
        where = Q(case_id__in=cases)
        if 0 in gids:
            where |= Q(case_id__isnull=True)
        return self.filter(where)
