"""Writing the audit trail: called by every action, inside its transaction."""

from __future__ import annotations

from typing import Any

from django.db import models

from . import hooks, masking
from .models import AuditRecord


def snapshot(obj: models.Model, fields: list[str] | None = None) -> dict[str, Any]:
    """A JSON-able copy of a row's concrete fields (foreign keys as ids), less the model's ``audit_exclude``."""
    data: dict[str, Any] = {}
    excluded = getattr(obj, "audit_exclude", ())
    for field in obj._meta.concrete_fields:
        if (fields is None or field.name in fields) and field.name not in excluded:
            data[field.attname] = field.value_from_object(obj)
    for secret in ("endpoint_secret", "password"):
        if secret in data:
            data[secret] = "***" if data[secret] else ""
    return data


def record(
    *,
    user,
    action: str,
    obj: models.Model | None = None,
    object_type: str | None = None,
    object_id: int | None = None,
    case_id: int | None = None,
    before: dict | None = None,
    after: dict | None = None,
) -> AuditRecord:
    """Append one audit row. ``user`` may be None for the platform's own jobs."""
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id if object_id is not None else obj.pk
    return AuditRecord.objects.create(
        user=user if user is not None and user.pk else None,
        user_name=user.get_username() if user is not None and user.pk else "system",
        agency_code=getattr(getattr(user, "agency", None), "code", "") if user is not None else "",
        action=action,
        object_type=object_type or "",
        object_id=object_id,
        object_repr=str(obj)[:200] if obj is not None else "",
        case_id=case_id,
        before=before,
        after=after,
    )


def describe(user, records: list[AuditRecord], known: dict[tuple[str, int], str] | None = None) -> list[AuditRecord]:
    """Name each row's object and case in the reader's language, for ``user``'s eyes.

    Rows keep a copy of their object's label (``object_repr``), written in whatever
    language was active then and never masked; pages show instead what the apps
    registered under ``audit_object_labels`` say now: a case by its reference, a
    task by its type and agency, an identifier masked as the reader's role must
    see it. Each hook reads the rows' objects of its kinds in one query, through
    ``visible_to(user)``, skipping those in ``known`` (labels a page made from the
    objects it already holds); an object gone or out of sight keeps its copy.

    Sets ``object_label`` and ``case_label`` on every row; returns ``records``.
    """
    labels: dict[tuple[str, int], str] = dict(known or {})
    for hook in hooks.get_hooks("audit_object_labels"):
        labels.update(hook(user, records, labels) or {})
    for record in records:
        # An object gone or out of sight keeps its stored label, masked by the one rule for ``user``.
        record.object_label = labels.get((record.object_type, record.object_id)) or masking.mask_repr(
            user, record.object_type, record.object_repr
        )
        case = labels.get(("cases.case", record.case_id)) if record.case_id else None
        record.case_label = (case or str(record.case_id)) if record.case_id else ""
    return records
