"""Inserting many model rows with PostgreSQL COPY (psycopg 3 ``cursor.copy``), ids taken first.

``bulk_create`` spends most of a large batch building its statement (every value
prepared, then dumped into arrays); COPY streams the rows. The ids come from the
table's own identity sequence (one ``nextval`` query per batch), so the objects get
their primary keys as with ``bulk_create`` and the rows reference each other in the
same batch. Fields are written as the model would save them: ``auto_now``/``auto_now_add``
get the batch's time, JSON goes through the field's encoder, foreign keys by id.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from django.db import connection, models
from psycopg.types.json import Jsonb


def _columns(model) -> list[tuple[str, str, object]]:
    columns = []
    for field in model._meta.concrete_fields:
        if isinstance(field, models.JSONField):
            kind = "json"
        elif getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            kind = "now"
        else:
            kind = "value"
        columns.append((field.attname, field.column, kind, field))
    return columns


_CACHE: dict[type, list] = {}


def copy_insert(model: type[models.Model], objs: Sequence[models.Model], *, now: datetime) -> None:
    """Insert ``objs`` (unsaved instances of ``model``) with COPY; sets their ``pk``."""
    if not objs:
        return
    table = model._meta.db_table
    columns = _CACHE.get(model) or _CACHE.setdefault(model, _columns(model))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, len(objs)]
        )
        for obj, (pk,) in zip(objs, cursor.fetchall(), strict=True):
            obj.pk = pk
            obj._state.adding = False
            obj._state.db = "default"
        names = ", ".join(f'"{column}"' for _a, column, _k, _f in columns)
        raw = cursor.cursor
        with raw.copy(f'COPY "{table}" ({names}) FROM STDIN') as copy:
            for obj in objs:
                row = []
                for attname, _column, kind, field in columns:
                    if kind == "now":
                        setattr(obj, attname, now)
                        row.append(now)
                        continue
                    value = getattr(obj, attname)
                    if kind == "json":
                        encoder = field.encoder
                        row.append(None if value is None else Jsonb(value, dumps=_dumps(encoder)))
                    else:
                        row.append(value)
                copy.write_row(row)


_DUMPS: dict = {}


def _dumps(encoder):
    found = _DUMPS.get(encoder)
    if found is None:
        found = _DUMPS[encoder] = lambda value: json.dumps(value, cls=encoder, ensure_ascii=False)
    return found
