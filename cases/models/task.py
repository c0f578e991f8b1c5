"""Tasks: every action a case needs from an agency."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from coordination.exceptions import InvalidTransition

from .. import task_types
from ..choices import (
    AWAITING_AGENCY_STATES,
    OPEN_TASK_STATES,
    TASK_TRANSITIONS,
    ProposalState,
    ResultStatus,
    TargetKind,
    TaskState,
)
from ..querysets import FollowUpProposalQuerySet, TaskQuerySet
from .case import MONEY


class Task(models.Model):
    """One action assigned to one agency, with its state, deadline and result.

    State changes go through ``cases.actions``; ``transition_to`` is the one place
    the state table is consulted.
    """

    # Every task belongs to a case, except a victim warning raised from a partner's clue
    # (``dissuasion.Warning``): the person has not lost money yet, so there is no case.
    case = models.ForeignKey(
        "cases.Case", verbose_name=_("case"), null=True, blank=True, on_delete=models.PROTECT, related_name="tasks"
    )
    # The registry's codes, read when used: a registered type needs no migration.
    type = models.CharField(_("type"), max_length=32, choices=task_types.choices)
    agency = models.ForeignKey(
        "agencies.Agency", verbose_name=_("assigned agency"), on_delete=models.PROTECT, related_name="tasks"
    )
    target_kind = models.CharField(_("target kind"), max_length=16, choices=TargetKind.choices)
    target = models.ForeignKey(
        "cases.Identifier",
        verbose_name=_("target"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tasks",
    )
    amount = models.DecimalField(_("amount"), null=True, blank=True, **MONEY)
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    legal_document_number = models.CharField(_("legal document number"), max_length=64, blank=True)
    # A pro-rata fund return's public notice (``TaskTypeSpec.notice_when_mixed``): not approved before.
    notice_until = models.DateTimeField(_("public notice until"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)
    state = models.CharField(_("state"), max_length=20, choices=TaskState.choices, default=TaskState.PENDING_APPROVAL)
    deadline = models.DateTimeField(_("deadline"))
    is_overdue = models.BooleanField(_("overdue"), default=False)
    # Set when a person must look: a permanent push failure or a dead letter.
    needs_attention = models.BooleanField(_("needs attention"), default=False)
    attention_reason = models.CharField(_("attention reason"), max_length=200, blank=True)
    # The person a victim warning must reach (预警劝阻): a copy of the victim's data, or a
    # person named at creation. In full for the centre and the assigned station only.
    contact_name = models.CharField(_("person to reach"), max_length=100, blank=True)
    contact_phone = models.CharField(_("their phone"), max_length=20, blank=True)
    contact_address = models.CharField(_("their address"), max_length=255, blank=True)
    contact_victim = models.ForeignKey(
        "cases.Victim", verbose_name=_("victim"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    follows = models.ForeignKey(
        "self", verbose_name=_("follows"), null=True, blank=True, on_delete=models.SET_NULL, related_name="follow_ups"
    )

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    dispatched_at = models.DateTimeField(_("dispatched at"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    reason = models.TextField(_("reason"), blank=True)

    result_status = models.CharField(_("result"), max_length=16, choices=ResultStatus.choices, blank=True)
    result = models.JSONField(_("result details"), null=True, blank=True)
    # Canonical form of the reported result: the same result posted twice is a no-op.
    result_digest = models.CharField(max_length=64, blank=True)
    executed_at = models.DateTimeField(_("executed at"), null=True, blank=True)
    amount_held = models.DecimalField(_("amount held"), null=True, blank=True, **MONEY)
    lapses_at = models.DateTimeField(_("lapses at"), null=True, blank=True)
    # Watchers' marks, so running a watcher twice notifies once.
    lapse_warned_at = models.DateTimeField(null=True, blank=True)
    renewal_reminded_at = models.DateTimeField(null=True, blank=True)

    objects = TaskQuerySet.as_manager()

    class Meta:
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        ordering = ["-id"]
        indexes = [
            # An agency's inbox: its tasks by state and deadline.
            models.Index(fields=["agency", "state", "deadline", "id"], name="task_agency_state_idx"),
            models.Index(fields=["agency", "-id"], name="task_agency_idx"),
            models.Index(fields=["case", "id"], name="task_case_idx"),
            # Watchers and the approval queue.
            models.Index(fields=["state", "deadline"], name="task_state_deadline_idx"),
            models.Index(fields=["state", "created_at"], name="task_state_created_idx"),
            # Payment-time lookup: active holds on an identifier.
            models.Index(fields=["target", "type", "state"], name="task_target_idx"),
            # API list filters in keyset order (-id): ?status=, ?type=, ?created_after=, and an
            # agency's inbox by status.
            models.Index(fields=["state", "-id"], name="task_state_id_idx"),
            models.Index(fields=["agency", "state", "-id"], name="task_agency_state_id_idx"),
            models.Index(fields=["type", "-id"], name="task_type_id_idx"),
            models.Index(fields=["created_at"], name="task_created_idx"),
            # The review's cohorts (cases/review.py): a unit's tasks by the time they reached it.
            models.Index(fields=["dispatched_at", "agency"], name="task_received_idx"),
            # The work queues over live tasks only (docs/queues.md, "Indexes"): an agency's
            # inbox newest first and by urgency, and the supervisor's "needs attention" list
            # in urgency order. Finished tasks (nearly all of them at a million cases) are
            # not in these indexes, so a queue's page reads about its own rows, not history.
            models.Index(
                fields=["agency", "-id"],
                name="task_inbox_new_idx",
                condition=Q(state__in=sorted(AWAITING_AGENCY_STATES)),
            ),
            models.Index(
                fields=["agency", "deadline", "id"],
                name="task_inbox_urgent_idx",
                condition=Q(state__in=sorted(AWAITING_AGENCY_STATES)),
            ),
            models.Index(
                fields=["deadline", "id"],
                name="task_attention_idx",
                condition=Q(needs_attention=True) | Q(state__in=sorted(OPEN_TASK_STATES)),
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_type_display()}"

    def get_type_display(self) -> str:
        """The type's declared label, read from the registry directly.

        Django's own builds the field's choices (the registry's callable) and
        normalises them on every call: a queue page of 50 rows paid for it 50 times.
        """
        spec = task_types.registry.find(self.type)
        return spec.label if spec is not None else self.type

    def get_state_display(self) -> str:
        try:
            return TaskState(self.state).label
        except ValueError:
            return self.state

    def person_to_reach(self) -> dict | None:
        """The protocol's ``person`` (v1.1) of a type that reaches one, unmasked; ``None`` otherwise.

        Callers mask it (``coordination.masking.mask_contact``) unless the reader is
        the centre or the assigned agency. Reads ``case.district`` (select it).
        """
        spec = task_types.registry.find(self.type)
        if spec is None or not spec.reaches_person:
            return None
        if self.case_id is None:
            # From a clue: the clue's person, with its level and reason (protocol v1.1 ``person``).
            clue = getattr(self, "warning", None)
            return clue.person() if clue is not None else None
        return {
            "name": self.contact_name,
            "phone": self.contact_phone or None,
            "id_number": None,
            "district": self.case.district.code,
            "address": self.contact_address or None,
        }

    def can_transition_to(self, new_state: str) -> bool:
        return new_state in TASK_TRANSITIONS[self.state]

    def transition_to(self, new_state: str) -> str:
        """Move to ``new_state`` if the table allows it; returns the previous state."""
        if not self.can_transition_to(new_state):
            raise InvalidTransition(self.state, new_state)
        previous, self.state = self.state, new_state
        return previous


class FollowUpProposal(models.Model):
    """A next-layer stop-payment the platform suggests after a partner's result."""

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="proposals")
    identifier = models.ForeignKey("cases.Identifier", on_delete=models.PROTECT, related_name="+")
    agency = models.ForeignKey("agencies.Agency", on_delete=models.PROTECT, related_name="+")
    amount = models.DecimalField(_("amount"), **MONEY)
    source_task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="proposals")
    state = models.CharField(_("state"), max_length=16, choices=ProposalState.choices, default=ProposalState.PROPOSED)
    issued_task = models.ForeignKey(Task, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = FollowUpProposalQuerySet.as_manager()

    class Meta:
        verbose_name = _("proposed follow-up")
        verbose_name_plural = _("proposed follow-ups")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["case", "identifier", "source_task"], name="proposal_uniq"),
        ]
        indexes = [
            models.Index(fields=["case", "state"], name="proposal_case_state_idx"),
            models.Index(fields=["state", "-id"], name="proposal_state_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.agency_id} {self.identifier_id} {self.amount}"
