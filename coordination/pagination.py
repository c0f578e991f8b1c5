"""Keyset (cursor) pagination: one helper for the API's lists and the pages' lists.

A keyset page costs the same at page 1 and page 10,000: the position is a
``WHERE`` on the ordering columns (which an index serves), never an ``OFFSET``
over skipped rows, and no ``COUNT(*)`` is run. The ordering always ends with a
unique column (the id), so a position names exactly one row and a row inserted
while someone pages is either before the position or after it, never seen twice.

- ``Keyset``: an ordering, the position of a row in it, and the rows after a
  position. Both surfaces use it; only the spelling of the position differs.
- ``CursorPage``: the API's paginator. The partner protocol fixes the shape
  ``{"next": url-or-null, "results": [...]}``; the position travels as an opaque
  ``?cursor=``.
- ``page_of``: a page's list. The position travels as ``?after=<value>|<id>``
  (readable, and what bookmarks and the page benchmark use).
"""

from __future__ import annotations

from base64 import b64decode, b64encode
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from urllib import parse

from django.core.exceptions import FieldDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.db.models import Q
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import BasePagination, CursorPagination, _positive_int
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from .validators import parse_instant


class InvalidCursor(ValueError):
    """A position that does not parse for the list's ordering."""


@dataclass(frozen=True)
class Keyset:
    """An ordering on indexed columns, the last one unique, all in one direction.

    ``("-reported_at", "-id")`` pages newest first; ``("code",)`` pages by a
    unique code. Every ordering used must match an index (see the models).
    """

    ordering: tuple[str, ...]

    def __post_init__(self):
        if isinstance(self.ordering, str):
            object.__setattr__(self, "ordering", (self.ordering,))
        if len({name.startswith("-") for name in self.ordering}) != 1:
            raise ValueError(f"A keyset ordering runs in one direction: {self.ordering}")

    @property
    def descending(self) -> bool:
        return self.ordering[0].startswith("-")

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(name.lstrip("-") for name in self.ordering)

    def order(self, queryset):
        return queryset.order_by(*self.ordering)

    def position(self, row) -> tuple[str, ...]:
        """The row's place in the ordering, as text (ISO 8601 for times)."""
        values = []
        for name in self.fields:
            value = row[name] if isinstance(row, dict) else getattr(row, name)
            values.append(value.isoformat() if isinstance(value, datetime | date) else str(value))
        return tuple(values)

    def after(self, queryset, position: Sequence[str]):
        """The rows of ``queryset`` that come after ``position``; ``InvalidCursor`` if it does not parse."""
        if len(position) != len(self.fields):
            raise InvalidCursor(position)
        values = [self.parse_value(queryset.model, name, raw) for name, raw in zip(self.fields, position, strict=True)]
        op = "lt" if self.descending else "gt"
        # (a, b) < (x, y)  <=>  a < x  OR  (a = x AND b < y), and so on for more columns.
        beyond = Q()
        for i in reversed(range(len(values))):
            here = Q(**{f"{self.fields[i]}__{op}": values[i]})
            beyond = here if i == len(values) - 1 else here | (Q(**{self.fields[i]: values[i]}) & beyond)
        if len(values) > 1:
            # The first, redundant bound is what PostgreSQL can start the index scan at;
            # without it the OR is a filter and a deep page reads every row above it.
            queryset = queryset.filter(**{f"{self.fields[0]}__{op}e": values[0]})
        return queryset.filter(beyond)

    def page(self, queryset, position: Sequence[str] | None, size: int) -> tuple[list, tuple[str, ...] | None]:
        """``size`` rows after ``position`` (from the start when None) and the next page's position.

        One query: the page plus one row to know whether there is a next page.
        """
        queryset = self.order(queryset)
        if position is not None:
            queryset = self.after(queryset, position)
        rows = list(queryset[: size + 1])
        if len(rows) <= size:
            return rows, None
        rows = rows[:size]
        return rows, self.position(rows[-1])

    @staticmethod
    def parse_value(model, name: str, raw: str):
        """One column's value from its text in a position; ``InvalidCursor`` when it is not one."""
        if "\x00" in raw:
            raise InvalidCursor(raw)
        try:
            field = model._meta.pk if name == "pk" else model._meta.get_field(name)
            if isinstance(field, models.DateTimeField):
                # A zone PostgreSQL refuses (``+18:21``) would fail in SQL: a 500. Any year:
                # a stored out-of-range time (read at the representable end) may be a page boundary.
                value = parse_instant(raw, check_range=False)
            else:
                value = field.to_python(raw)
                field.run_validators(value)  # an id beyond bigint, a NaN amount
        except (FieldDoesNotExist, DjangoValidationError, TypeError, ValueError, ArithmeticError) as exc:
            raise InvalidCursor(raw) from exc
        if value is None:
            raise InvalidCursor(raw)
        return value


# --- the API ----------------------------------------------------------------------------


class CursorPage(BasePagination):
    """Newest first by id unless a view sets ``ordering`` (which must match an index)."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering: str | tuple[str, ...] = "-id"
    cursor_query_param = "cursor"
    invalid_cursor_message = CursorPagination.invalid_cursor_message
    # Cursors handed out before the keyset helper (DRF's CursorPagination) carry the first
    # column only and an offset over ties; they are still honoured, with DRF's offset cap.
    offset_cutoff = 1000

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        self.base_url = request.build_absolute_uri()
        self.page_size = self.get_page_size(request)
        keyset = Keyset(self.ordering)
        encoded = request.query_params.get(self.cursor_query_param)
        try:
            position, offset = self.decode_cursor(encoded, keyset) if encoded is not None else (None, 0)
            if position is not None and (len(position) < len(keyset.fields) or offset):
                rows, self.next_position = self._legacy_page(keyset, queryset, position, offset)
            else:
                rows, self.next_position = keyset.page(queryset, position, self.page_size)
        except InvalidCursor:
            raise NotFound(self.invalid_cursor_message) from None
        return rows

    def _legacy_page(self, keyset, queryset, position, offset):
        """A DRF cursor: strictly beyond the first column's value, then ``offset`` rows skipped."""
        op = "lt" if keyset.descending else "gt"
        value = keyset.parse_value(queryset.model, keyset.fields[0], position[0]) if position else None
        queryset = keyset.order(queryset)
        if value is not None:
            queryset = queryset.filter(**{f"{keyset.fields[0]}__{op}": value})
        rows = list(queryset[offset : offset + self.page_size + 1])
        if len(rows) <= self.page_size:
            return rows, None
        return rows[: self.page_size], keyset.position(rows[self.page_size - 1])

    def get_page_size(self, request):
        # Strict like the filters: ``page_size`` is one integer from 1 to 200, or absent.
        values = request.query_params.getlist(self.page_size_query_param)
        if not values:
            return self.page_size
        text = values[0]
        if len(values) > 1 or not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= self.max_page_size:
            raise ValidationError({self.page_size_query_param: [f"An integer from 1 to {self.max_page_size}."]})
        return int(text)

    @staticmethod
    def encode_cursor(position: Sequence[str]) -> str:
        return b64encode(parse.urlencode([("p", value) for value in position]).encode()).decode("ascii")

    def decode_cursor(self, encoded: str, keyset: Keyset) -> tuple[tuple[str, ...] | None, int]:
        """``(position, offset)``; a full position for our cursors, the first column for DRF's."""
        try:
            tokens = parse.parse_qs(b64decode(encoded.encode("ascii")).decode(), keep_blank_values=True)
            offset = _positive_int(tokens.get("o", ["0"])[0], cutoff=self.offset_cutoff)
            reverse = bool(int(tokens.get("r", ["0"])[0]))
        except (TypeError, ValueError, UnicodeError) as exc:
            raise InvalidCursor(encoded) from exc
        position = tuple(tokens.get("p", ()))
        # Previous links were never handed out; more values than columns is not ours either.
        if reverse or len(position) > len(keyset.fields) or (offset and len(position) > 1):
            raise InvalidCursor(encoded)
        if not position:
            # An empty cursor is the first page (as DRF had it); an offset alone is DRF's.
            return ((), offset) if offset else (None, 0)
        return position, offset

    def get_next_link(self):
        if self.next_position is None:
            return None
        return replace_query_param(self.base_url, self.cursor_query_param, self.encode_cursor(self.next_position))

    def get_paginated_response(self, data):
        return Response({"next": self.get_next_link(), "results": data})

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["next", "results"],
            "properties": {
                "next": {"type": "string", "nullable": True, "format": "uri"},
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view):
        # Only the cursor and the page size: ``previous`` links are not offered.
        return [
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": "Opaque position from a previous page's next link.",
                "schema": {"type": "string"},
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": f"Rows per page, at most {self.max_page_size}.",
                "schema": {"type": "integer", "minimum": 1, "maximum": self.max_page_size},
            },
        ]


class CasePage(CursorPage):
    # Index case_reported_idx (and its status/district/fraud-type siblings).
    ordering = ("-reported_at", "-id")


class AgencyPage(CursorPage):
    # The whole directory (a few dozen rows) fits one page in practice.
    page_size = 200
    ordering = "code"


class AscendingPage(CursorPage):
    ordering = "id"


class AuditPage(CursorPage):
    ordering = ("-at", "-id")


# --- the pages --------------------------------------------------------------------------


@dataclass
class Page:
    """One page of a list: its rows and the links to the next and the first page ("" when none)."""

    rows: list
    next_url: str
    first_url: str


def page_of(request, queryset, keyset: Keyset, size: int, param: str = "after") -> Page:
    """The page of ``queryset`` after ``?after=<value>|<id>``; an unreadable position shows the first page."""
    raw = request.GET.get(param, "")
    position = tuple(raw.split("|")) if raw else None
    try:
        rows, following = keyset.page(queryset, position, size)
    except InvalidCursor:
        rows, following = keyset.page(queryset, None, size)
    next_url = first_url = ""
    if following is not None:
        query = request.GET.copy()
        query[param] = "|".join(following)
        next_url = "?" + query.urlencode()
    if raw:
        query = request.GET.copy()
        query.pop(param, None)
        first_url = "?" + query.urlencode()
    return Page(rows=rows, next_url=next_url, first_url=first_url)
