"""A fund return's allocation: what a return task gives back to each victim, and what the bank reported."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from ..querysets import ReturnAllocationQuerySet
from .case import MONEY


class ReturnAllocation(models.Model):
    """One victim's part of a ``fund_return`` task (溯源返还), computed by the platform.

    ``case`` is the victim's case (a serial case may be another than the
    task's); ``account`` is the victim's own account the money goes back to.
    ``traced`` and ``mixed`` keep the trace the allocation was made from;
    ``returned`` is what the bank reported returning to that account (its
    ``returned`` result), and the case's ``amount_returned`` adds it up.
    """

    task = models.ForeignKey("cases.Task", on_delete=models.CASCADE, related_name="allocations")
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="return_allocations")
    victim = models.ForeignKey("cases.Victim", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    account = models.ForeignKey("cases.Identifier", on_delete=models.PROTECT, related_name="+")
    traced = models.DecimalField(_("traced amount"), **MONEY)
    amount = models.DecimalField(_("amount to return"), **MONEY)
    mixed = models.BooleanField(_("through mixing"), default=False)
    returned = models.DecimalField(_("amount returned"), default=Decimal("0.00"), **MONEY)
    returned_at = models.DateTimeField(_("returned at"), null=True, blank=True)

    objects = ReturnAllocationQuerySet.as_manager()

    class Meta:
        verbose_name = _("return allocation")
        verbose_name_plural = _("return allocations")
        ordering = ["task", "id"]
        constraints = [models.UniqueConstraint(fields=["task", "case"], name="return_allocation_case_uniq")]
        indexes = [models.Index(fields=["case", "task"], name="return_alloc_case_idx")]

    def __str__(self) -> str:
        return f"{self.task_id}:{self.case_id} {self.amount}"


class ReturnObjection(models.Model):
    """An objection to a pro-rata return received during its public notice (CBRC/MPS 2016, Art. 8).

    The centre records it (who objected and what they say); a supervisor reviews
    it with a note. A return with an objection not yet reviewed is not approved.
    """

    task = models.ForeignKey("cases.Task", on_delete=models.CASCADE, related_name="objections")
    objector = models.CharField(_("objector"), max_length=100)
    text = models.TextField(_("objection"), max_length=2000)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    review_note = models.TextField(_("review"), blank=True, max_length=2000)

    class Meta:
        verbose_name = _("objection to a return")
        verbose_name_plural = _("objections to returns")
        ordering = ["task", "id"]
        indexes = [
            models.Index(
                fields=["task"], condition=models.Q(reviewed_at__isnull=True), name="return_objection_open_idx"
            )
        ]

    def __str__(self) -> str:
        return f"{self.task_id}: {self.objector}"
