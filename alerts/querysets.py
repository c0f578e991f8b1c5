"""Visibility of deliveries and notifications."""

from __future__ import annotations

from coordination.querysets import RestrictedQuerySet


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
