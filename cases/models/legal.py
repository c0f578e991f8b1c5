"""Legal document numbers: the shapes an administrator accepts, and each number used once."""

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from .. import legal_documents


class LegalDocumentFormat(models.Model):
    """An accepted shape of legal document number (文号), editable in the admin.

    ``pattern`` is a regular expression with the named groups ``issuer``,
    ``year`` and ``serial``, matched against the number with full-width
    brackets read as ASCII and spaces removed (``cases.legal_documents``).
    """

    name = models.CharField(_("name"), max_length=100)
    pattern = models.CharField(_("pattern"), max_length=500)
    description = models.CharField(_("description"), max_length=200, help_text=_("The shape, as users are told it."))
    sort_order = models.PositiveSmallIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("legal document format")
        verbose_name_plural = _("legal document formats")
        ordering = ["sort_order", "id"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        try:
            legal_documents.check_pattern(self.pattern)
        except ValidationError as exc:
            raise ValidationError({"pattern": exc.messages}) from None


class LegalDocument(models.Model):
    """A legal document number in use: one issuer, year and serial belongs to one case.

    Several tasks of that case may carry it (a freeze decision that covers
    several accounts); another case cannot (docs/legal-limits.md).
    """

    issuer = models.CharField(_("issuer"), max_length=64)
    year = models.PositiveSmallIntegerField(_("year"))
    serial = models.PositiveIntegerField(_("serial"))
    number = models.CharField(_("legal document number"), max_length=64)
    case = models.ForeignKey(
        "cases.Case", verbose_name=_("case"), on_delete=models.PROTECT, related_name="legal_documents"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("legal document")
        verbose_name_plural = _("legal documents")
        constraints = [
            models.UniqueConstraint(fields=["issuer", "year", "serial"], name="legal_document_issuer_year_serial_uniq")
        ]

    def __str__(self) -> str:
        return self.number
