"""Cases and their victims."""

from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.utils.translation import gettext_lazy as _
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from ..choices import CaseStatus
from ..querysets import CaseQuerySet, VictimQuerySet

MONEY = {"max_digits": 14, "decimal_places": 2}


def search_grams(column: str) -> models.Func:
    """The n-grams of the summary and one search text: the expression the search indexes hold (``cases.search``)."""
    return models.Func(
        models.F("summary"),
        models.F(column),
        function="cases_search_grams",
        output_field=ArrayField(models.TextField()),
    )


class Case(models.Model):
    """A reported fraud: the unit the centre works and every task belongs to.

    ``reference`` (CD-2026-000123) comes from a PostgreSQL sequence: unique and
    gap-tolerant. The amounts stopped, frozen and returned are kept up to date by
    the actions that record partner results, so lists never sum tasks.
    """

    reference = models.CharField(_("reference"), max_length=20, unique=True)
    fraud_type = models.ForeignKey("cases.FraudType", verbose_name=_("fraud type"), on_delete=models.PROTECT)
    channel = models.ForeignKey("cases.Channel", verbose_name=_("reporting channel"), on_delete=models.PROTECT)
    district = models.ForeignKey("cases.District", verbose_name=_("district"), on_delete=models.PROTECT)
    reported_at = models.DateTimeField(_("reported at"))
    occurred_at = models.DateTimeField(_("occurred at"), null=True, blank=True)
    loss_amount = models.DecimalField(_("amount lost"), **MONEY)
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    summary = models.TextField(_("summary"), blank=True)
    status = models.CharField(_("status"), max_length=16, choices=CaseStatus.choices, default=CaseStatus.OPEN)
    filing_number = models.CharField(_("filing number"), max_length=64, blank=True)
    amount_stopped = models.DecimalField(_("amount stopped"), default=Decimal("0.00"), **MONEY)
    amount_frozen = models.DecimalField(_("amount frozen"), default=Decimal("0.00"), **MONEY)
    amount_returned = models.DecimalField(_("amount returned"), default=Decimal("0.00"), **MONEY)
    # Golden-hour measure: set once, when the first stop-payment reaches its bank.
    first_stop_delivered_at = models.DateTimeField(_("first stop-payment delivered at"), null=True, blank=True)
    # What the case list's search reads (``cases.search``): its victims' names and phones
    # and its identifiers in full, and only the parts masking leaves in sight.
    search_text = models.TextField(default="", blank=True, editable=False)
    search_masked = models.TextField(default="", blank=True, editable=False)
    agencies = models.ManyToManyField(
        "agencies.Agency", verbose_name=_("participating agencies"), related_name="cases", blank=True
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = CaseQuerySet.as_manager()
    # Derived copies of the victims' and identifiers' data: not facts of the case's audit rows.
    audit_exclude = ("search_text", "search_masked")

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        ordering = ["-reported_at", "-id"]
        indexes = [
            # Keyset pagination of every case list, newest first, with or without filters.
            models.Index(fields=["-reported_at", "-id"], name="case_reported_idx"),
            models.Index(fields=["status", "-reported_at", "-id"], name="case_status_idx"),
            models.Index(fields=["district", "-reported_at", "-id"], name="case_district_idx"),
            models.Index(fields=["fraud_type", "-reported_at", "-id"], name="case_fraud_type_idx"),
            # API filter ?channel= (keyset order kept).
            models.Index(fields=["channel", "-reported_at", "-id"], name="case_channel_idx"),
            models.Index(fields=["-loss_amount", "-id"], name="case_loss_idx"),
            # The case search (``cases.search``): one n-gram index per reader's view.
            GinIndex(search_grams("search_text"), name="case_search_idx"),
            GinIndex(search_grams("search_masked"), name="case_search_masked_idx"),
        ]

    def __str__(self) -> str:
        return self.reference


class Victim(models.Model):
    """A person who lost money in a case. Personal data: masked by role."""

    case = models.ForeignKey(Case, verbose_name=_("case"), on_delete=models.CASCADE, related_name="victims")
    name = models.CharField(_("name"), max_length=100, db_index=True)
    id_number = models.CharField(_("resident ID number"), max_length=18, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)

    objects = VictimQuerySet.as_manager()

    class Meta:
        verbose_name = _("victim")
        verbose_name_plural = _("victims")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class CaseUserObjectPermission(UserObjectPermissionBase):
    """A case shared with a named person (django-guardian, direct foreign key)."""

    content_object = models.ForeignKey(Case, on_delete=models.CASCADE)

    class Meta(UserObjectPermissionBase.Meta):
        indexes = [models.Index(fields=["user", "permission"], name="case_share_user_idx")]


class CaseGroupObjectPermission(GroupObjectPermissionBase):
    """A case shared with a group (django-guardian, direct foreign key)."""

    content_object = models.ForeignKey(Case, on_delete=models.CASCADE)
