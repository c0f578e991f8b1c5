"""Who may see what: one ``visible_to(user, action)`` per model of the cases app.

- Centre roles (analyst, supervisor) and auditors see every case and task;
  auditors may change nothing.
- An agency user (liaison, manager) sees its own agency's tasks and the targets
  of those tasks, never a case as such (the task carries the case data it needs).
- A person a case is shared with through django-guardian sees that case.
- Anyone else, including anonymous users, sees nothing.
Agency scope is an indexed foreign-key filter; guardian holds only the shares.
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q

from coordination.querysets import RestrictedQuerySet

CHANGERS = ("analyst", "supervisor")


def _may_change_all(user) -> bool:
    return user.is_superuser or (user.is_active and user.role in CHANGERS)


def _may_view_all(user) -> bool:
    return user.is_superuser or getattr(user, "sees_all", False)


def shared_case_filter(user, action: str, case_ref: str = "pk") -> Q:
    """Rows whose case (``case_ref``) is shared with ``user`` or a group of theirs for ``action``."""
    from .models import CaseGroupObjectPermission, CaseUserObjectPermission

    codename = f"{action}_case"
    pk = case_ref
    by_user = CaseUserObjectPermission.objects.filter(
        content_object_id=OuterRef(pk), user_id=user.pk, permission__codename=codename
    )
    by_group = CaseGroupObjectPermission.objects.filter(
        content_object_id=OuterRef(pk), group__user=user, permission__codename=codename
    )
    return Q(Exists(by_user)) | Q(Exists(by_group))


class CaseQuerySet(RestrictedQuerySet):
    def visible_to(self, user, action: str = "view") -> CaseQuerySet:
        if not self._is_signed_in(user):
            return self.none()
        if action == "view" and _may_view_all(user):
            return self.all()
        if action == "change" and _may_change_all(user):
            return self.all()
        return self.filter(shared_case_filter(user, action))

    def linked_to(self, case) -> CaseQuerySet:
        """Cases sharing at least one identifier with ``case`` (串并案), newest first."""
        from .models import CaseIdentifier

        identifiers = CaseIdentifier.objects.filter(case_id=case.pk).values("identifier_id")
        shares = CaseIdentifier.objects.filter(case_id=OuterRef("pk"), identifier_id__in=identifiers)
        return self.filter(Exists(shares)).exclude(pk=case.pk)


class VictimQuerySet(RestrictedQuerySet):
    def visible_to(self, user, action: str = "view") -> VictimQuerySet:
        if not self._is_signed_in(user):
            return self.none()
        if (action == "view" and _may_view_all(user)) or (action == "change" and _may_change_all(user)):
            return self.all()
        return self.filter(shared_case_filter(user, action, case_ref="case_id"))


class TaskQuerySet(RestrictedQuerySet):
    def visible_to(self, user, action: str = "view") -> TaskQuerySet:
        if not self._is_signed_in(user):
            return self.none()
        if action == "view" and _may_view_all(user):
            return self.all()
        if action == "change" and _may_change_all(user):
            return self.all()
        if user.role in ("liaison", "manager") and user.agency_id:
            return self.filter(agency_id=user.agency_id)
        return self.none()


class IdentifierQuerySet(RestrictedQuerySet):
    def visible_to(self, user, action: str = "view") -> IdentifierQuerySet:
        if not self._is_signed_in(user):
            return self.none()
        if action == "view" and _may_view_all(user):
            return self.all()
        if action == "change" and _may_change_all(user):
            return self.all()
        if action != "view":
            return self.none()
        from .models import CaseIdentifier, Task

        own_targets = Task.objects.filter(target_id=OuterRef("pk"), agency_id=user.agency_id)
        shared = CaseIdentifier.objects.filter(identifier_id=OuterRef("pk")).filter(
            shared_case_filter(user, "view", case_ref="case_id")
        )
        return self.filter(Q(Exists(own_targets)) | Q(Exists(shared)))


class CaseIdentifierQuerySet(RestrictedQuerySet):
    def visible_to(self, user, action: str = "view") -> CaseIdentifierQuerySet:
        if not self._is_signed_in(user):
            return self.none()
        if (action == "view" and _may_view_all(user)) or (action == "change" and _may_change_all(user)):
            return self.all()
        return self.filter(shared_case_filter(user, action, case_ref="case_id"))


class TransferQuerySet(RestrictedQuerySet):
    def visible_to(self, user, action: str = "view") -> TransferQuerySet:
        if not self._is_signed_in(user):
            return self.none()
        if (action == "view" and _may_view_all(user)) or (action == "change" and _may_change_all(user)):
            return self.all()
        return self.filter(shared_case_filter(user, action, case_ref="case_id"))


class FollowUpProposalQuerySet(RestrictedQuerySet):
    def visible_to(self, user, action: str = "view") -> FollowUpProposalQuerySet:
        if not self._is_signed_in(user):
            return self.none()
        if (action == "view" and _may_view_all(user)) or (action == "change" and _may_change_all(user)):
            return self.all()
        return self.none()
