"""Writing the audit trail: called by every action, inside its transaction."""

from __future__ import annotations

from typing import Any

from django.db import models

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
