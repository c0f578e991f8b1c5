"""Visibility of deliveries and notifications."""

from __future__ import annotations

from coordination.querysets import RestrictedQuerySet


class DeliveryQuerySet(RestrictedQuerySet):
    def visible_to(self, user, action: str = "view") -> DeliveryQuerySet:
        """A delivery is visible to whoever sees its task; only the centre re-sends."""
        from cases.models import Task

        if not self._is_signed_in(user):
            return self.none()
        if action == "change":
            if user.is_superuser or user.role == "supervisor":
                return self.all()
            return self.none()
        return self.filter(task__in=Task.objects.visible_to(user, "view"))


class NotificationQuerySet(RestrictedQuerySet):
    def visible_to(self, user, action: str = "view") -> NotificationQuerySet:
        """Everyone reads and marks only their own notifications."""
        if not self._is_signed_in(user):
            return self.none()
        return self.filter(user_id=user.pk)
