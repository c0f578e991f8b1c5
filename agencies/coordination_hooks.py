"""What agencies add to the pages of the floor below (``coordination.hooks``)."""

from __future__ import annotations

from coordination import hooks

from .models import Agency


@hooks.register("audit_object_labels")
def agency_labels(user, records, known) -> dict[tuple[str, int], str]:
    """Agencies of audit rows (endpoint changes) by their code and name in the reader's language."""
    ids = {
        r.object_id
        for r in records
        if r.object_type == "agencies.agency" and r.object_id and ("agencies.agency", r.object_id) not in known
    }
    if not ids:
        return {}
    agencies = Agency.objects.visible_to(user).filter(pk__in=ids).only("pk", "code", "name", "name_en")
    return {("agencies.agency", a.pk): f"{a.code} {a.display_name}" for a in agencies}
