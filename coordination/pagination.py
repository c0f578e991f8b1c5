"""Keyset (cursor) pagination for every list that can grow.

The partner protocol fixes the shape ``{"next": url-or-null, "results": [...]}``.
A cursor page costs the same at page 1 and page 10,000: the position is a
``WHERE`` on an indexed column, never an ``OFFSET`` over skipped rows (DRF adds a
small offset only to step over rows that share the position value), and no
``COUNT(*)`` is run.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response

from .validators import parse_instant

MAX_BIGINT = 2**63 - 1


class CursorPage(CursorPagination):
    """Newest first by id unless a view sets ``ordering`` (which must match an index)."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = "-id"

    def get_page_size(self, request):
        # Strict like the filters: ``page_size`` is one integer from 1 to 200, or absent.
        values = request.query_params.getlist(self.page_size_query_param)
        if not values:
            return self.page_size
        text = values[0]
        if len(values) > 1 or not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= self.max_page_size:
            raise ValidationError({self.page_size_query_param: [f"An integer from 1 to {self.max_page_size}."]})
        return int(text)

    def paginate_queryset(self, queryset, request, view=None):
        self._model = queryset.model
        return super().paginate_queryset(queryset, request, view)

    def decode_cursor(self, request):
        # A cursor is opaque but forgeable: its position must be a value of the ordering
        # column, checked before it reaches SQL (``+18:21`` or ``abc`` would fail there: a 500).
        cursor = super().decode_cursor(request)
        if cursor is not None and cursor.position is not None and not self._position_ok(cursor.position):
            raise NotFound(self.invalid_cursor_message)
        return cursor

    def _position_ok(self, position: str) -> bool:
        ordering = self.ordering if isinstance(self.ordering, list | tuple) else (self.ordering,)
        field = self._model._meta.get_field(ordering[0].lstrip("-"))
        if "\x00" in position:
            return False
        if isinstance(field, models.DateTimeField):
            # Any year: a stored out-of-range time (read at the representable end) may be a page boundary.
            try:
                parse_instant(position, check_range=False)
            except DjangoValidationError:
                return False
            return True
        if isinstance(field, models.IntegerField | models.AutoField | models.ForeignKey):
            return position.isascii() and position.isdigit() and int(position) <= MAX_BIGINT
        return True

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
