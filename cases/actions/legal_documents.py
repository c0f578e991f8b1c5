"""Legal document numbers as they enter: of an accepted shape, and one document for one case."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from ..legal_documents import DEFAULT_DESCRIPTION, DEFAULT_PATTERN, parse
from ..models import Case, LegalDocument, LegalDocumentFormat


def accepted_formats() -> list[tuple[str, str]]:
    """``(pattern, description)`` of the active formats; the built-in shape when the administrator left none."""
    rows = list(LegalDocumentFormat.objects.filter(is_active=True).values_list("pattern", "description"))
    return rows or [(DEFAULT_PATTERN, DEFAULT_DESCRIPTION)]


def use_legal_document(case: Case, number: str, *, field: str = "legal_document_number") -> str:
    """Check ``number``'s shape and bind it to ``case``; returns it as stored.

    The first use registers the document (``LegalDocument``); the same case may
    use it again (one decision covering several of its tasks), another case
    cannot. The unique constraint decides between concurrent first uses: the
    loser's ``get_or_create`` finds the winner's row. Errors are on ``field``.
    """
    number = (number or "").strip()
    try:
        key = parse(number, accepted_formats())
    except ValidationError as exc:
        raise ValidationError({field: exc.messages}) from None
    document, _created = LegalDocument.objects.get_or_create(
        issuer=key.issuer, year=key.year, serial=key.serial, defaults={"number": number, "case": case}
    )
    if document.case_id != case.pk:
        raise ValidationError(
            {
                field: _("This legal document number is already used in another case (%(number)s).")
                % {"number": document.number}
            }
        )
    return number
