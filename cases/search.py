"""Partial search of cases: a surname, part of a name, the last digits of an account or phone, summary words.

Chinese has no spaces between words, so a word index (full text) would need a
segmenter and would still miss "part of a name". The search is by substring
instead, served by an n-gram index built into PostgreSQL (docs/adr/0007-case-search.md):

- Each case carries two search texts kept by the actions (``reindex_case`` /
  ``append_identifier``): ``search_text`` holds its victims' names and phones
  and its identifiers' values in full; ``search_masked`` only the parts of them
  that masking (``coordination.masking.KEPT``) leaves in sight, each part a word
  of its own, so a match can never run through a hidden digit.
- SQL function ``cases_search_grams(summary, text)`` gives every 1-, 2- and
  3-character piece of every word of the summary and the text, lower-cased; a
  GIN index on it exists for each search text (``case_search_idx``,
  ``case_search_masked_idx``). A term's pieces (itself when shorter than three
  characters, else its 3-grams; ``cases_search_query_grams``) must all be
  there (``@>``, the index), then ``cases_search_match`` checks the term is a
  substring (the recheck).
- A query is split at spaces; every term must match (``张 5678``: a victim
  surnamed 张 and an account ending 5678).

Who searches what: a role that sees personal data in full (``sees_full_pii``)
searches ``search_text``; everyone else ``search_masked`` and so finds a case
only by what its pages show them: a surname, an account's first and last four
digits, a phone's first three and last four, the summary (shown to all).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.lookups import DataContains
from django.core.exceptions import ValidationError
from django.db.models import BooleanField, F, Func, TextField, Value
from django.db.models.functions import Concat
from django.utils.translation import gettext_lazy as _

from coordination.masking import sees_full_pii, visible_parts

from .models import Case, CaseIdentifier, Victim
from .models.case import search_grams

#: At most this many space-separated terms; more is a form error, not a slow query.
MAX_TERMS = 6
#: The search texts, by whether the reader sees personal data in full.
FULL, MASKED = "search_text", "search_masked"

GRAMS = ArrayField(TextField())


def validate_query(query: str) -> None:
    """A query of at most ``MAX_TERMS`` words (the form's and the API's 400)."""
    if len(terms(query)) > MAX_TERMS:
        raise ValidationError(
            _("Search with at most %(count)d words."), code="too_many_terms", params={"count": MAX_TERMS}
        )


def terms(query: str) -> list[str]:
    """The words of ``query``, without control characters and repeats, in order."""
    cleaned = "".join(ch if ch.isprintable() else " " for ch in query)
    return list(dict.fromkeys(cleaned.split()))


def search_texts(victims: Iterable[tuple[str, str]], identifiers: Iterable[tuple[str, str]]) -> tuple[str, str]:
    """``(search_text, search_masked)`` of a case from its victims' (name, phone) and identifiers' (kind, value)."""
    full, masked = [], []
    pairs = [("name", name) for name, _phone in victims]
    pairs += [("phone", phone) for _name, phone in victims]
    pairs += list(identifiers)
    for kind, value in pairs:
        value = " ".join((value or "").split())
        if value:
            full.append(value)
            masked.extend(part for part in visible_parts(kind, value) if part.strip())
    return " ".join(dict.fromkeys(full)), " ".join(dict.fromkeys(masked))


def reindex_case(case_id: int) -> None:
    """Rebuild a case's search texts from its rows: every action that changes victims or identifiers calls it."""
    victims = Victim.objects.filter(case_id=case_id).order_by("id").values_list("name", "phone")
    links = (
        CaseIdentifier.objects.filter(case_id=case_id)
        .order_by("id")
        .values_list("identifier__kind", "identifier__value")
    )
    full, masked = search_texts(victims, links)
    Case.objects.filter(pk=case_id).update(search_text=full, search_masked=masked)


def append_identifier(case_id: int, kind: str, value: str) -> None:
    """Add one newly linked identifier to a case's search texts (one UPDATE, no read: intake's hot path)."""
    full, masked = search_texts((), [(kind, value)])
    Case.objects.filter(pk=case_id).update(
        search_text=Concat(F("search_text"), Value(" " + full)),
        search_masked=Concat(F("search_masked"), Value(" " + masked)) if masked else F("search_masked"),
    )


def filter_cases(queryset, query: str, user):
    """Cases of ``queryset`` matching every term of ``query`` in what ``user`` may see."""
    column = FULL if sees_full_pii(user) else MASKED
    for term in terms(query):
        wanted = Func(Value(term), function="cases_search_query_grams", output_field=GRAMS)
        matches = Func(F("summary"), F(column), Value(term), function="cases_search_match", output_field=BooleanField())
        queryset = queryset.filter(DataContains(search_grams(column), wanted), matches)
    return queryset
