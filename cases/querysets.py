"""Who may see what: one ``visible_to(user, action)`` per model of the cases app.

- Roles whose policy (``agencies.roles``) sees all cases (centre roles,
  auditors, administrators) see every case and task; those that change all
  cases (centre roles, administrators) change them: the shared opening of
  ``RestrictedQuerySet.visible_to``. Below is only each model's narrowing.
- An agency user (liaison, manager) sees its own agency's tasks, the targets
  of those tasks and the transfers into them (what a bank verifies), never a
  case as such (the task carries the case data it needs).
- A person a case is shared with through django-guardian sees that case.
- Anyone else, including anonymous users, sees nothing.
Agency scope is an indexed foreign-key filter; guardian holds only the shares.
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q

from coordination.querysets import RestrictedQuerySet


class CaseScopedQuerySet(RestrictedQuerySet):
    """Rows of the case file: every row for roles that see (change) all cases."""

    view_all = "sees_all_cases"
    change_all = "changes_all_cases"


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


class CaseQuerySet(CaseScopedQuerySet):
    def _restrict(self, user, action: str) -> CaseQuerySet:
        return self.filter(shared_case_filter(user, action))

    def linked_to(self, case) -> CaseQuerySet:
        """Cases sharing at least one identifier with ``case`` (串并案), newest first."""
        from .models import CaseIdentifier

        identifiers = CaseIdentifier.objects.filter(case_id=case.pk).values("identifier_id")
        shares = CaseIdentifier.objects.filter(case_id=OuterRef("pk"), identifier_id__in=identifiers)
        return self.filter(Exists(shares)).exclude(pk=case.pk)


class VictimQuerySet(CaseScopedQuerySet):
    def _restrict(self, user, action: str) -> VictimQuerySet:
        return self.filter(shared_case_filter(user, action, case_ref="case_id"))


class TaskQuerySet(CaseScopedQuerySet):
    def _restrict(self, user, action: str) -> TaskQuerySet:
        if user.policy.acts_for_own_agency and user.agency_id:
            return self.filter(agency_id=user.agency_id)
        return self.none()


class IdentifierQuerySet(CaseScopedQuerySet):
    def _restrict(self, user, action: str) -> IdentifierQuerySet:
        if action != "view":
            return self.none()
        from .models import CaseIdentifier, Task

        own_targets = Task.objects.filter(target_id=OuterRef("pk"), agency_id=user.agency_id)
        shared = CaseIdentifier.objects.filter(identifier_id=OuterRef("pk")).filter(
            shared_case_filter(user, "view", case_ref="case_id")
        )
        return self.filter(Q(Exists(own_targets)) | Q(Exists(shared)))


class CaseIdentifierQuerySet(CaseScopedQuerySet):
    def _restrict(self, user, action: str) -> CaseIdentifierQuerySet:
        return self.filter(shared_case_filter(user, action, case_ref="case_id"))


class TransferQuerySet(CaseScopedQuerySet):
    def _restrict(self, user, action: str) -> TransferQuerySet:
        shared = shared_case_filter(user, action, case_ref="case_id")
        if action == "view" and user.policy.acts_for_own_agency and user.agency_id:
            # The bank verifies the payment its task is about: the transfers into its own
            # task's target in that task's case (the payer's account is masked for it).
            from .models import Task

            own = Task.objects.filter(
                agency_id=user.agency_id, case_id=OuterRef("case_id"), target_id=OuterRef("to_identifier_id")
            )
            return self.filter(shared | Q(Exists(own)))
        return self.filter(shared)


class FollowUpProposalQuerySet(CaseScopedQuerySet):
    """Centre work only: nobody below the shortcut sees a proposal."""


class CaseLinkQuerySet(CaseScopedQuerySet):
    """Links set by hand: the centre's judgement; below the shortcut only a case shared with the reader."""

    def _restrict(self, user, action: str) -> CaseLinkQuerySet:
        return self.filter(shared_case_filter(user, action, case_ref="case_id")).filter(
            shared_case_filter(user, action, case_ref="other_id")
        )


class ReturnAllocationQuerySet(CaseScopedQuerySet):
    """A return's allocation: the centre; the bank of the return task (its own tasks only); a shared victim case."""

    def _restrict(self, user, action: str) -> ReturnAllocationQuerySet:
        shared = shared_case_filter(user, action, case_ref="case_id")
        if action == "view" and user.policy.acts_for_own_agency and user.agency_id:
            return self.filter(shared | Q(task__agency_id=user.agency_id))
        return self.filter(shared)
