"""Cases and their victims."""

from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.utils.translation import gettext_lazy as _
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from coordination.exceptions import Conflict

from ..choices import CASE_TRANSITIONS, CaseLinkState, CaseOutcome, CaseStatus
from ..querysets import CaseLinkQuerySet, CaseQuerySet, VictimQuerySet

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
    # Closure and review: how it ended, in the analyst's words and as a code.
    outcome = models.CharField(_("outcome"), max_length=24, choices=CaseOutcome.choices, blank=True)
    closure_summary = models.TextField(_("closure summary"), blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    # Set by retention (cases.retention) when its personal data was replaced by pseudonyms.
    pseudonymised_at = models.DateTimeField(_("pseudonymised at"), null=True, blank=True, editable=False)
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
            # Retention's daily pick: closed cases not pseudonymised yet, oldest closure first.
            models.Index(
                fields=["closed_at", "id"],
                name="case_retention_idx",
                condition=models.Q(status="closed", pseudonymised_at__isnull=True),
            ),
            # The case search (``cases.search``): one n-gram index per reader's view.
            GinIndex(search_grams("search_text"), name="case_search_idx"),
            GinIndex(search_grams("search_masked"), name="case_search_masked_idx"),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def is_closed(self) -> bool:
        return self.status == CaseStatus.CLOSED

    def can_transition_to(self, new_status: str) -> bool:
        return new_status in CASE_TRANSITIONS[self.status]

    def transition_to(self, new_status: str) -> str:
        """Move to ``new_status`` if ``CASE_TRANSITIONS`` allows it (409 otherwise); returns the previous one."""
        if not self.can_transition_to(new_status):
            if self.is_closed:
                raise Conflict(_("The case is closed: it can no longer be changed."))
            raise Conflict(
                _("A case that is %(current)s cannot become %(requested)s.")
                % {"current": self.get_status_display(), "requested": CaseStatus(new_status).label}
            )
        previous, self.status = self.status, new_status
        return previous


class Victim(models.Model):
    """A person who lost money in a case. Personal data: masked by role."""

    case = models.ForeignKey(Case, verbose_name=_("case"), on_delete=models.CASCADE, related_name="victims")
    name = models.CharField(_("name"), max_length=100, db_index=True)
    id_number = models.CharField(_("resident ID number"), max_length=18, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    # Where a victim warning's station finds them.
    address = models.CharField(_("address"), max_length=255, blank=True)

    objects = VictimQuerySet.as_manager()

    class Meta:
        verbose_name = _("victim")
        verbose_name_plural = _("victims")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class CaseLink(models.Model):
    """Two cases joined by hand (串并案 on the analyst's judgement), or kept apart though they share an identifier.

    One row per pair (``case`` the lower id): linking again or unlinking changes
    its state, and the audit trail keeps every change with its reason.
    """

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="+")
    other = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="+")
    state = models.CharField(_("state"), max_length=16, choices=CaseLinkState.choices)
    reason = models.TextField(_("reason"))
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    changed_at = models.DateTimeField(_("changed at"), auto_now=True)

    objects = CaseLinkQuerySet.as_manager()

    class Meta:
        verbose_name = _("case link")
        verbose_name_plural = _("case links")
        constraints = [
            models.UniqueConstraint(fields=["case", "other"], name="case_link_pair_uniq"),
            models.CheckConstraint(condition=models.Q(case__lt=models.F("other")), name="case_link_ordered"),
        ]
        indexes = [models.Index(fields=["other"], name="case_link_other_idx")]

    def __str__(self) -> str:
        return f"{self.case_id}-{self.other_id} {self.state}"


class CaseUserObjectPermission(UserObjectPermissionBase):
    """A case shared with a named person (django-guardian, direct foreign key)."""

    content_object = models.ForeignKey(Case, on_delete=models.CASCADE)

    class Meta(UserObjectPermissionBase.Meta):
        indexes = [models.Index(fields=["user", "permission"], name="case_share_user_idx")]


class CaseGroupObjectPermission(GroupObjectPermissionBase):
    """A case shared with a group (django-guardian, direct foreign key)."""

    content_object = models.ForeignKey(Case, on_delete=models.CASCADE)
