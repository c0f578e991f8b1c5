"""The review's own rows: the score's weights, and the supervision items (督办事项)."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ScoreWeights(models.Model):
    """How the review's score weighs its parts (one row, set by the meeting's office; audited)."""

    on_time = models.PositiveSmallIntegerField(
        _("weight of the on-time rate"), default=40, validators=[MaxValueValidator(100)]
    )
    completion = models.PositiveSmallIntegerField(
        _("weight of the completion rate"), default=40, validators=[MaxValueValidator(100)]
    )
    response = models.PositiveSmallIntegerField(
        _("weight of the response time"), default=20, validators=[MaxValueValidator(100)]
    )
    response_target_minutes = models.PositiveIntegerField(
        _("response target (minutes)"), default=30, validators=[MaxValueValidator(7 * 24 * 60)]
    )
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("score weights")
        verbose_name_plural = _("score weights")

    def __str__(self) -> str:
        return f"{self.on_time}/{self.completion}/{self.response}"

    @classmethod
    def current(cls) -> ScoreWeights:
        """The row in force (the defaults until the office sets them; never saved by reading)."""
        return cls.objects.order_by("-pk").first() or cls()


class SupervisionStatus(models.TextChoices):
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")


class SupervisionItem(models.Model):
    """A matter the joint meeting assigns to a member unit, with a deadline, progress and closure."""

    resolution = models.TextField(_("resolution"))
    owner = models.ForeignKey(
        "agencies.Agency", verbose_name=_("owner unit"), on_delete=models.PROTECT, related_name="supervision_items"
    )
    deadline = models.DateTimeField(_("deadline"))
    status = models.CharField(
        _("status"), max_length=16, choices=SupervisionStatus.choices, default=SupervisionStatus.OPEN
    )
    closure_evidence = models.TextField(_("closure evidence"), blank=True)
    closure_document_number = models.CharField(_("document number"), max_length=64, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    is_overdue = models.BooleanField(_("overdue"), default=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("supervision item")
        verbose_name_plural = _("supervision items")
        ordering = ["deadline", "id"]
        indexes = [
            models.Index(fields=["owner", "status", "deadline"], name="supervision_owner_idx"),
            # The watcher: open items past their deadline not yet marked.
            models.Index(
                fields=["deadline", "id"], name="supervision_watch_idx", condition=Q(status="open", is_overdue=False)
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="open", closed_at__isnull=True) | Q(status="closed", closed_at__isnull=False),
                name="supervision_closed_at_matches",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.resolution[:40]}"

    @property
    def closed_on_time(self) -> bool:
        return self.closed_at is not None and self.closed_at <= self.deadline


class SupervisionNote(models.Model):
    """A progress note the owner unit adds to an item."""

    item = models.ForeignKey(SupervisionItem, on_delete=models.CASCADE, related_name="notes")
    text = models.TextField(_("progress"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("progress note")
        verbose_name_plural = _("progress notes")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.text[:40]
