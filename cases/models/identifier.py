"""Identifiers shared across cases, and the money flow between them."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from ..choices import IdentifierKind, IdentifierRole, TransferSource
from ..querysets import CaseIdentifierQuerySet, IdentifierQuerySet, TransferQuerySet
from .case import MONEY


class Identifier(models.Model):
    """An account, phone number, URL, app or social account, stored once, normalised.

    ``case_count`` and the first/last seen times are kept by ``add_identifier`` so
    the payment-time lookup reads one row.
    """

    kind = models.CharField(_("kind"), max_length=16, choices=IdentifierKind.choices)
    value = models.CharField(_("value"), max_length=255)
    bank = models.ForeignKey(
        "agencies.Agency", verbose_name=_("bank"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    holder_name = models.CharField(_("holder name"), max_length=100, blank=True)
    case_count = models.PositiveIntegerField(_("cases"), default=0)
    first_seen_at = models.DateTimeField(_("first seen"), auto_now_add=True)
    last_seen_at = models.DateTimeField(_("last seen"), auto_now_add=True)
    cases = models.ManyToManyField("cases.Case", through="cases.CaseIdentifier", related_name="identifiers")

    objects = IdentifierQuerySet.as_manager()

    class Meta:
        verbose_name = _("identifier")
        verbose_name_plural = _("identifiers")
        constraints = [models.UniqueConstraint(fields=["kind", "value"], name="identifier_kind_value_uniq")]
        # API filters ?identifier= / ?target= search a value in every kind at once.
        indexes = [models.Index(fields=["value"], name="identifier_value_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.value}"


class CaseIdentifier(models.Model):
    """An identifier's appearance in a case; two cases sharing one are linked (串并案)."""

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="case_identifiers")
    identifier = models.ForeignKey(Identifier, on_delete=models.PROTECT, related_name="case_links")
    role = models.CharField(_("role"), max_length=24, choices=IdentifierRole.choices)
    added_at = models.DateTimeField(_("added at"), auto_now_add=True)

    objects = CaseIdentifierQuerySet.as_manager()

    class Meta:
        verbose_name = _("case identifier")
        verbose_name_plural = _("case identifiers")
        constraints = [models.UniqueConstraint(fields=["case", "identifier"], name="case_identifier_uniq")]
        indexes = [models.Index(fields=["identifier", "case"], name="caseident_ident_idx")]

    def __str__(self) -> str:
        return f"{self.case_id}:{self.identifier_id}"


class Transfer(models.Model):
    """A money-flow edge: from one account to another, reported by a victim or a bank."""

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="transfers")
    from_identifier = models.ForeignKey(Identifier, on_delete=models.PROTECT, related_name="outgoing")
    to_identifier = models.ForeignKey(Identifier, on_delete=models.PROTECT, related_name="incoming")
    amount = models.DecimalField(_("amount"), **MONEY)
    at = models.DateTimeField(_("time"))
    source = models.CharField(_("source"), max_length=16, choices=TransferSource.choices)
    source_task = models.ForeignKey(
        "cases.Task", null=True, blank=True, on_delete=models.SET_NULL, related_name="reported_transfers"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TransferQuerySet.as_manager()

    class Meta:
        verbose_name = _("transfer")
        verbose_name_plural = _("transfers")
        ordering = ["at", "id"]
        indexes = [
            models.Index(fields=["case", "at"], name="transfer_case_idx"),
            models.Index(fields=["to_identifier"], name="transfer_to_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.from_identifier_id}→{self.to_identifier_id} {self.amount}"
