"""An import job (its file, progress, errors, cancel flag) and the rows it brought in."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from coordination.querysets import RestrictedQuerySet


class ImportKind(models.TextChoices):
    CASES = "cases", _("Historical cases")
    STATEMENT = "statement", _("Bank statement")


class ImportStatus(models.TextChoices):
    CHECKED = "checked", _("Checked (dry run)")
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")
    FAILED = "failed", _("Failed")


class ImportJobQuerySet(RestrictedQuerySet):
    """Jobs are the centre's: a role that may import sees every job (imports are shared work)."""

    view_all = "imports_records"
    change_all = "imports_records"


class ImportJob(models.Model):
    """One file being imported: the content is kept so a cancelled or failed job can resume.

    ``done`` counts the rows committed (every batch is one transaction), ``created`` the
    new records among them, ``skipped`` the rows already imported before (same external
    reference), ``error_count`` the rows refused. ``resume`` continues at row ``done``.
    """

    kind = models.CharField(_("kind"), max_length=16, choices=ImportKind.choices, default=ImportKind.CASES)
    status = models.CharField(_("status"), max_length=16, choices=ImportStatus.choices, default=ImportStatus.QUEUED)
    file_name = models.CharField(_("file name"), max_length=255)
    file_sha256 = models.CharField(_("file hash"), max_length=64)
    content = models.BinaryField(_("file content"), editable=False)
    bank = models.CharField(_("bank layout"), max_length=16, blank=True)
    task = models.ForeignKey(
        "cases.Task", verbose_name=_("task"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    total = models.PositiveIntegerField(_("rows"), default=0)
    done = models.PositiveIntegerField(_("rows committed"), default=0)
    created = models.PositiveIntegerField(_("records created"), default=0)
    skipped = models.PositiveIntegerField(_("rows already imported"), default=0)
    error_count = models.PositiveIntegerField(_("rows refused"), default=0)
    errors = models.JSONField(_("errors"), default=list, blank=True)
    cancel_requested = models.BooleanField(_("cancel requested"), default=False)
    message = models.TextField(_("message"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ImportJobQuerySet.as_manager()

    class Meta:
        verbose_name = _("import job")
        verbose_name_plural = _("import jobs")
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.get_status_display()})"

    @property
    def percent(self) -> int:
        return int(100 * self.done / self.total) if self.total else (100 if self.status == ImportStatus.DONE else 0)

    @property
    def finished(self) -> bool:
        return self.status in (ImportStatus.DONE, ImportStatus.CANCELLED, ImportStatus.FAILED, ImportStatus.CHECKED)


class ImportedCase(models.Model):
    """Where an imported case came from: its external reference (unique), the file and the row."""

    reference = models.CharField(_("external reference"), max_length=64, unique=True)
    case = models.OneToOneField("cases.Case", on_delete=models.CASCADE, related_name="imported_from")
    job = models.ForeignKey(ImportJob, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    file_name = models.CharField(_("file name"), max_length=255)
    file_sha256 = models.CharField(_("file hash"), max_length=64)
    row_number = models.PositiveIntegerField(_("row"))
    imported_at = models.DateTimeField(_("imported at"), auto_now_add=True)

    class Meta:
        verbose_name = _("imported case")
        verbose_name_plural = _("imported cases")

    def __str__(self) -> str:
        return self.reference
