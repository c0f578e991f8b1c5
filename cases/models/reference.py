"""Reference data: seeded, editable by administrators, listed at /api/v1/reference/."""

from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from .. import task_types
from ..choices import DistrictKind

reference_code_validator = RegexValidator(r"^[a-z][a-z0-9_]*$", _("Codes are lower-case snake case."))


class ReferenceItem(models.Model):
    """A coded item with a Chinese and an English name."""

    code = models.CharField(_("code"), max_length=40, unique=True, validators=[reference_code_validator])
    name = models.CharField(_("Chinese name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=150)
    sort_order = models.PositiveSmallIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        abstract = True
        ordering = ["sort_order", "code"]

    def __str__(self) -> str:
        return self.name


class FraudType(ReferenceItem):
    """A kind of fraud (刷单返利, 冒充公检法, ...)."""

    class Meta(ReferenceItem.Meta):
        verbose_name = _("fraud type")
        verbose_name_plural = _("fraud types")


class Channel(ReferenceItem):
    """How a report reached the police (110, 96110, ...)."""

    class Meta(ReferenceItem.Meta):
        verbose_name = _("reporting channel")
        verbose_name_plural = _("reporting channels")


class District(ReferenceItem):
    """One of Chengdu's districts, county-level cities, counties or functional zones."""

    kind = models.CharField(_("kind"), max_length=16, choices=DistrictKind.choices, default=DistrictKind.DISTRICT)
    # The district police sub-bureau that warns potential victims here.
    police_agency = models.ForeignKey(
        "agencies.Agency", verbose_name=_("police sub-bureau"), null=True, blank=True, on_delete=models.SET_NULL
    )

    class Meta(ReferenceItem.Meta):
        verbose_name = _("district")
        verbose_name_plural = _("districts")


class TaskTypeConfig(models.Model):
    """What an administrator may change of a task type: its names and how long the agency has.

    Seeded from the type's declaration (``cases.task_types``), which holds
    everything else (who may receive and approve it, what it needs).
    """

    code = models.CharField(_("code"), max_length=40, unique=True, choices=task_types.choices)
    name = models.CharField(_("Chinese name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=150)
    deadline_minutes = models.PositiveIntegerField(_("deadline (minutes)"))
    sort_order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("task type")
        verbose_name_plural = _("task types")
        ordering = ["sort_order", "code"]

    def __str__(self) -> str:
        return self.name
