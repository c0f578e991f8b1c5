"""Filter fields shared by every FilterSet, and the API's filter backend: strict parsing.

django-filter's ``IsoDateTimeFilter`` takes a time without a zone as local
time and any offset Python can hold (``+18:21``), which PostgreSQL then refuses
mid-query: a 500. These parse with ``coordination.validators.parse_instant``
and answer 400 naming the filter instead.
"""

from __future__ import annotations

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.exceptions import ValidationError as APIValidationError

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


class StrictBooleanFormField(forms.Field):
    """``true`` or ``false`` (or 1/0); anything else is a 400, not silently "no filter"."""

    VALUES = {"true": True, "1": True, "false": False, "0": False}

    def to_python(self, value):
        if value in self.empty_values:
            return None
        try:
            return self.VALUES[str(value).strip().lower()]
        except KeyError:
            raise forms.ValidationError("Enter true or false.", code="invalid") from None


class BooleanFilter(django_filters.BooleanFilter):
    """django-filter's ``BooleanFilter`` (same schema: a boolean) that refuses other values."""

    field_class = StrictBooleanFormField


class StrictFilterBackend(DjangoFilterBackend):
    """DRF's django-filter backend that refuses a single-valued filter given twice, or given empty.

    ``?type=a&type=b`` would otherwise filter on whichever value Django's
    ``QueryDict`` returns, silently dropping the other, and ``?type=`` would
    mean no filter at all; a 400 names the filter instead.
    """

    def get_filterset(self, request, queryset, view):
        filterset = super().get_filterset(request, queryset, view)
        if filterset is not None:
            repeated = [
                name
                for name, values in request.query_params.lists()
                if len(values) > 1
                and name in filterset.filters
                and not isinstance(filterset.filters[name], django_filters.MultipleChoiceFilter)
            ]
            blank = [
                name for name, values in request.query_params.lists() if name in filterset.filters and "" in values
            ]
            errors = {name: ["Give this filter once."] for name in repeated}
            # ``?type=`` is no type: a value, or leave the filter out.
            errors.update({name: ["Give a value, or leave this filter out."] for name in blank})
            if errors:
                raise APIValidationError(errors)
        return filterset
