"""A warning clue (预警线索): a potential victim a partner's risk system or the centre found.

One row per clue; ``(sender, source_reference)`` is unique, so a clue sent twice
(or by two requests at once) is one row (``INSERT ... ON CONFLICT DO NOTHING``,
``dissuasion.intake``). Each new clue becomes one ``victim_warning`` task
(``task``) to the unit that must reach the person (``unit``: a police station, or
the district's sub-bureau, ``bureau``, until it hands it over). docs/warnings.md.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from coordination.querysets import RestrictedQuerySet

from .choices import ContactMethod, Level, Outcome

MONEY = {"max_digits": 14, "decimal_places": 2}


class WarningQuerySet(RestrictedQuerySet):
    """The centre (and auditors) see every clue; an agency the clues it sent and those it must work."""

    view_all = "sees_all_cases"
    change_all = "changes_all_cases"

    def _restrict(self, user, action: str):
        if not user.agency_id:
            return self.none()
        agency = user.agency_id
        if action != "view":
            return self.filter(unit_id=agency) if user.policy.acts_for_own_agency else self.none()
        scope = Q(sender_id=agency)
        if user.policy.acts_for_own_agency:
            # A station its own warnings; a sub-bureau its district's (its stations').
            scope |= Q(unit_id=agency) | Q(bureau_id=agency)
        return self.filter(scope)

    def inbox(self, agency_id: int):
        """A unit's warnings still to reach, newest first (partial index ``warning_inbox_idx``)."""
        return self.filter(unit_id=agency_id, outcome=Outcome.PENDING)


class Warning(models.Model):
    sender = models.ForeignKey(
        "agencies.Agency", verbose_name=_("sent by"), on_delete=models.PROTECT, related_name="warnings_sent"
    )
    source_reference = models.CharField(_("source reference"), max_length=64)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), on_delete=models.PROTECT, related_name="+"
    )
    # The person to reach (personal data: masked by role, coordination/masking.py).
    name = models.CharField(_("name"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    id_number = models.CharField(_("resident ID number"), max_length=18, blank=True)
    district = models.ForeignKey("cases.District", verbose_name=_("district"), on_delete=models.PROTECT)
    address = models.CharField(_("address"), max_length=255, blank=True)
    level = models.CharField(_("level"), max_length=8, choices=Level.choices)
    # The level the sender gave, when the platform raised it (a hot identifier).
    sent_level = models.CharField(_("level as sent"), max_length=8, choices=Level.choices)
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    identifier_kind = models.CharField(_("identifier kind"), max_length=16, blank=True)
    identifier_value = models.CharField(_("identifier"), max_length=255, blank=True)
    identifier = models.ForeignKey(
        "cases.Identifier", verbose_name=_("known identifier"), null=True, blank=True, on_delete=models.SET_NULL
    )
    # Cases the identifier was already in when the clue arrived.
    cases = models.ManyToManyField("cases.Case", verbose_name=_("linked cases"), blank=True, related_name="+")
    is_hot = models.BooleanField(_("hot identifier"), default=False)
    # The sum the clue says is at risk (optional; the money a dissuasion kept).
    amount = models.DecimalField(_("amount at risk"), null=True, blank=True, **MONEY)

    bureau = models.ForeignKey(
        "agencies.Agency", verbose_name=_("sub-bureau"), on_delete=models.PROTECT, related_name="+"
    )
    unit = models.ForeignKey(
        "agencies.Agency", verbose_name=_("assigned unit"), on_delete=models.PROTECT, related_name="+"
    )
    task = models.OneToOneField(
        "cases.Task", verbose_name=_("task"), null=True, blank=True, on_delete=models.PROTECT, related_name="warning"
    )
    created_at = models.DateTimeField(_("received at"), db_index=True)
    deadline = models.DateTimeField(_("deadline"))
    handed_over_at = models.DateTimeField(_("handed over at"), null=True, blank=True)
    escalated_bureau_at = models.DateTimeField(_("escalated to the sub-bureau at"), null=True, blank=True)
    escalated_centre_at = models.DateTimeField(_("escalated to the centre at"), null=True, blank=True)

    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices, default=Outcome.PENDING)
    contacted_at = models.DateTimeField(_("contacted at"), null=True, blank=True)
    contact_method = models.CharField(_("contact method"), max_length=8, choices=ContactMethod.choices, blank=True)
    amount_lost = models.DecimalField(_("amount lost"), null=True, blank=True, **MONEY)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    # The case draft an "already lost" outcome opened for the centre.
    lost_case = models.ForeignKey(
        "cases.Case", verbose_name=_("case opened"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = WarningQuerySet.as_manager()

    class Meta:
        verbose_name = _("warning clue")
        verbose_name_plural = _("warning clues")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["sender", "source_reference"], name="warning_source_uniq"),
        ]
        indexes = [
            # A sender's clues, newest first (the API list's keyset).
            models.Index(fields=["sender", "-id"], name="warning_sender_idx"),
            # A unit's inbox and a sub-bureau's district: only warnings still to reach.
            models.Index(fields=["unit", "-id"], name="warning_inbox_idx", condition=Q(outcome="pending")),
            models.Index(fields=["bureau", "-id"], name="warning_bureau_idx", condition=Q(outcome="pending")),
            # The escalation watcher: pending warnings by deadline.
            models.Index(fields=["deadline", "id"], name="warning_due_idx", condition=Q(outcome="pending")),
            # Figures per period.
            models.Index(fields=["created_at", "unit"], name="warning_period_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.sender_id}:{self.source_reference}"

    def person(self) -> dict:
        """The protocol's ``person`` (v1.1 push body), unmasked: callers mask it."""
        return {
            "name": self.name,
            "phone": self.phone or None,
            "id_number": self.id_number or None,
            "district": self.district.code,
            "address": self.address or None,
            "level": self.level,
            "reason": self.reason,
        }
