"""Visibility rules for agencies and users (one per model)."""

from __future__ import annotations

from coordination.querysets import RestrictedQuerySet


class AgencyQuerySet(RestrictedQuerySet):
    """The directory is public to every signed-in user; changes are narrower.

    A manager changes only its own agency (its endpoint); administrators any.
    """

    change_all = "manages_all_agencies"

    def _restrict(self, user, action: str) -> AgencyQuerySet:
        if action == "view":
            return self.all()
        if action == "change" and user.policy.manages_agency and user.agency_id:
            return self.filter(pk=user.agency_id)
        return self.none()


class UserQuerySet(RestrictedQuerySet):
    """Managers see and manage their own agency's people; the centre sees everyone."""

    view_all = "sees_all_people"
    change_all = "manages_all_agencies"

    def _restrict(self, user, action: str) -> UserQuerySet:
        if user.policy.manages_agency and user.agency_id:
            return self.filter(agency_id=user.agency_id)
        return self.filter(pk=user.pk) if action == "view" else self.none()
