"""Legal document numbers (文号): their shape, and the key that makes one number one document.

A number such as ``成公冻字〔2026〕7号`` names the issuing office and kind
(``成公冻字``: the agency's abbreviation and the document's word), the year and
the serial. The administrator's ``LegalDocumentFormat`` rows say which shapes
are accepted (a regular expression with the named groups ``issuer``, ``year``
and ``serial``); with none active, ``DEFAULT_PATTERN`` applies, so free text is
never a legal document number. ``LegalDocument`` keeps each number once, bound
to the case that first used it (docs/legal-limits.md).

This module imports no models at import time (the model validates its
pattern with ``check_pattern``).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

REQUIRED_GROUPS = frozenset({"issuer", "year", "serial"})

#: The usual Chinese shape: ``<office and kind>〔year〕<serial>号``, the office
#: optionally with a bracketed unit (``成公(反诈)冻字``); the year in 〔〕, [] or ()
#: (full-width brackets are read as their ASCII forms).
DEFAULT_PATTERN = (
    r"^(?P<issuer>[\u4e00-\u9fff]{1,16}(?:\([\u4e00-\u9fff]{1,8}\)[\u4e00-\u9fff]{0,8})?)"
    r"[〔\[(](?P<year>(?:19|20)\d{2})[〕\])]"
    r"(?P<serial>\d{1,6})号$"
)
DEFAULT_DESCRIPTION = "机关代字〔年份〕序号号，如 成公冻字〔2026〕7号、成公(反)立字[2026]1号"


@dataclass(frozen=True)
class DocumentKey:
    """What makes two spellings one document: the issuer, the year, the serial."""

    issuer: str
    year: int
    serial: int


def normalise(number: str) -> str:
    """Full-width forms as ASCII (``（）`` as ``()``, ``［］`` as ``[]``), no spaces."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", number or ""))


def check_pattern(pattern: str) -> re.Pattern:
    """Compile an administrator's pattern; it must name the groups ``issuer``, ``year`` and ``serial``."""
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        raise ValidationError(_("Not a valid regular expression: %(error)s") % {"error": exc}) from None
    missing = REQUIRED_GROUPS - set(compiled.groupindex)
    if missing:
        raise ValidationError(
            _("The pattern must name the groups %(groups)s.") % {"groups": ", ".join(sorted(REQUIRED_GROUPS))}
        )
    return compiled


def parse(number: str, patterns: list[tuple[str, str]]) -> DocumentKey:
    """The key of ``number`` by the first of ``patterns`` (``(regex, description)``) it matches.

    Raises ``ValidationError`` naming the accepted shapes when none matches.
    """
    text = normalise(number)
    for pattern, _description in patterns:
        match = check_pattern(pattern).search(text)
        if match is None:
            continue
        try:
            year, serial = int(match["year"]), int(match["serial"])
        except (TypeError, ValueError):
            continue
        return DocumentKey(issuer=match["issuer"], year=year, serial=serial)
    shapes = "; ".join(description for _pattern, description in patterns if description)
    raise ValidationError(
        _("This is not a legal document number of an accepted shape (%(shapes)s).") % {"shapes": shapes}
    )
