"""Visibility rules for agencies and users (one per model)."""

from __future__ import annotations

from coordination.querysets import RestrictedQuerySet


class AgencyQuerySet(RestrictedQuerySet):
    def visible_to(self, user, action: str = "view") -> AgencyQuerySet:
        """The directory is public to every signed-in user; changes are narrower.

        A manager changes only its own agency (its endpoint); administrators any.
        """
        if not self._is_signed_in(user):
            return self.none()
        if action == "view":
            return self.all()
        if user.is_superuser:
            return self.all()
        if action == "change" and user.role == "manager" and user.agency_id:
            return self.filter(pk=user.agency_id)
        return self.none()


class UserQuerySet(RestrictedQuerySet):
    def visible_to(self, user, action: str = "view") -> UserQuerySet:
        """Managers see and manage their own agency's people; the centre sees everyone."""
        if not self._is_signed_in(user):
            return self.none()
        if user.is_superuser:
            return self.all()
        if action == "view" and getattr(user, "sees_all", False):
            return self.all()
        if user.role == "manager" and user.agency_id:
            return self.filter(agency_id=user.agency_id)
        return self.filter(pk=user.pk) if action == "view" else self.none()
