"""Filters of the audit trail, and the date rule every list shares.

Dates: a whole local day is the range ``[local midnight, next local midnight)``
on the datetime column, never ``::date``, so the column's index applies; this is
the API's ``*_after`` (>=) / ``*_before`` (<) rule with a day turned into instants.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

import django_filters
from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from . import hooks
from .choices import READ_ACTIONS
from .models import AuditRecord
from .validators import MAX_OFFSET

# A case id: digits only (``str.isdigit`` also takes "²"), and small enough for a bigint.
CASE_ID = re.compile(r"[0-9]{1,18}")


def local_midnight(day: date) -> datetime:
    """The first instant of ``day`` in the current time zone."""
    return timezone.make_aware(datetime.combine(day, time.min))


def named_filters(filterset_class, query):
    """``query`` when it names one of the FilterSet's filters, else None.

    An unbound FilterSet filters nothing and never builds its form: a page viewed
    without filters (the commonest view) skips that work, as the API's backend does.
    """
    return query if any(name in query for name in filterset_class.base_filters) else None


class DayOrInstantField(forms.Field):
    """A whole local day (``2026-11-24``) or an instant (ISO 8601; naive is local time)."""

    default_error_messages = {"invalid": forms.DateTimeField.default_error_messages["invalid"]}

    def to_python(self, value):
        value = (value or "").strip()
        if not value:
            return None
        try:
            parsed = parse_date(value) if len(value) == 10 else parse_datetime(value)
        except ValueError:  # well formed but impossible: 2026-13-45
            parsed = None
        if parsed is None:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        if isinstance(parsed, datetime) and timezone.is_naive(parsed):
            parsed = timezone.make_aware(parsed)
        elif isinstance(parsed, datetime) and abs(parsed.utcoffset()) > MAX_OFFSET:
            # Python holds +18:21, PostgreSQL refuses it (a 500): the zone rule of every instant.
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return parsed


class DayOrInstantFilter(django_filters.Filter):
    """``from``: from the day's first instant (or the instant); ``to``: before the next day (or up to the instant)."""

    field_class = DayOrInstantField

    def __init__(self, *args, bound: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.bound = bound

    def filter(self, qs, value):
        if value is None:
            return qs
        if isinstance(value, datetime):
            return qs.filter(**{f"{self.field_name}__{'gte' if self.bound == 'from' else 'lte'}": value})
        if self.bound == "from":
            return qs.filter(**{f"{self.field_name}__gte": local_midnight(value)})
        return qs.filter(**{f"{self.field_name}__lt": local_midnight(value + timedelta(days=1))})


class AuditRecordFilterSet(django_filters.FilterSet):
    """The audit trail's filters: exact values on the columns its indexes serve."""

    action = django_filters.CharFilter()
    user = django_filters.CharFilter(field_name="user_name")
    case = django_filters.CharFilter(method="filter_case")
    object_type = django_filters.CharFilter()
    date_from = DayOrInstantFilter(field_name="at", bound="from")
    date_to = DayOrInstantFilter(field_name="at", bound="to")

    class Meta:
        model = AuditRecord
        fields = ["action", "object_type"]

    def filter_case(self, queryset, name, value):
        if CASE_ID.fullmatch(value):
            return _of_case(queryset, int(value))
        # coordination imports no app, yet ``?case=`` takes a case reference as well as
        # an id: the cases app answers through the ``audit_case_reference`` hook.
        user = getattr(self.request, "user", None)
        found = [case_id for hook in hooks.get_hooks("audit_case_reference") if (case_id := hook(user, value))]
        return _of_case(queryset, found[0] if found else -1)


def _of_case(queryset, case_id: int):
    """Rows of the case: its own (``case_id``) and the reads that showed its data among other cases'.

    Who read whose data: a read of one case carries its ``case_id``; a read of a list that
    showed several cases' data lists them in ``after.cases`` (``coordination.reads``).
    """
    return queryset.filter(Q(case_id=case_id) | Q(action__in=READ_ACTIONS, after__cases__contains=[case_id]))
