"""Filter fields shared by every FilterSet: strict instants.

django-filter's ``IsoDateTimeFilter`` takes a time without a zone as local
time and any offset Python can hold (``+18:21``), which PostgreSQL then refuses
mid-query: a 500. These parse with ``coordination.validators.parse_instant``
and answer 400 naming the filter instead.
"""

from __future__ import annotations

import django_filters
from django import forms
from django.core.exceptions import ValidationError

from .validators import parse_instant


class InstantFormField(forms.DateTimeField):
    """An ISO 8601 instant with its zone, in range; empty means "no filter"."""

    def to_python(self, value):
        if value in self.empty_values:
            return None
        try:
            return parse_instant(value.strip() if isinstance(value, str) else value)
        except ValidationError as exc:
            raise forms.ValidationError(exc.messages, code="invalid") from None

    def prepare_value(self, value):
        return value


class InstantFilter(django_filters.IsoDateTimeFilter):
    """``IsoDateTimeFilter`` (same schema: a date-time) with the strict parse."""

    field_class = InstantFormField
