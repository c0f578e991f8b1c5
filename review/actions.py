"""Every change to the review's rows: checked against the access policy, audited in the same transaction."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from agencies import roles
from agencies.models import Agency
from coordination import audit
from coordination.choices import AuditAction
from coordination.exceptions import ActionNotAllowed, InvalidTransition
from coordination.validators import check_instant

from .models import ScoreWeights, SupervisionItem, SupervisionNote, SupervisionStatus

WEIGHT_FIELDS = ("on_time", "completion", "response", "response_target_minutes")
ITEM_FIELDS = (
    "resolution",
    "owner_id",
    "deadline",
    "status",
    "closure_evidence",
    "closure_document_number",
    "closed_at",
    "is_overdue",
)


def _snapshot(obj, names) -> dict:
    out = {}
    for name in names:
        value = getattr(obj, name)
        out[name] = value.isoformat() if isinstance(value, datetime) else value
    return out


def require(allowed: bool, message: str) -> None:
    if not allowed:
        raise ActionNotAllowed(message)


@transaction.atomic
def set_weights(*, acting_user, on_time: int, completion: int, response: int, response_target_minutes: int):
    """A new row of weights (the old ones stay, so the trail and the row agree); audited."""
    require(roles.can(acting_user, "runs_review"), _("Only the joint meeting's office sets the weights."))
    if on_time + completion + response <= 0:
        raise ValidationError({"on_time": _("At least one weight must be above 0.")})
    before = ScoreWeights.current()
    row = ScoreWeights.objects.create(
        on_time=on_time,
        completion=completion,
        response=response,
        response_target_minutes=response_target_minutes,
        updated_by=acting_user,
        updated_at=timezone.now(),
    )
    audit.record(
        user=acting_user,
        action=AuditAction.REVIEW_WEIGHTS_SET,
        obj=row,
        before=_snapshot(before, WEIGHT_FIELDS),
        after=_snapshot(row, WEIGHT_FIELDS),
    )
    return row


def owns(user, item: SupervisionItem) -> bool:
    """The owner unit's people: they add progress and close the item."""
    return roles.can(user, "acts_for_own_agency") and user.agency_id == item.owner_id


@transaction.atomic
def create_item(*, acting_user, resolution: str, owner: Agency, deadline: datetime) -> SupervisionItem:
    require(roles.can(acting_user, "runs_review"), _("Only the joint meeting's office assigns supervision items."))
    resolution = (resolution or "").strip()
    if not resolution:
        raise ValidationError({"resolution": _("Say what the meeting resolved.")})
    check_instant(deadline)
    item = SupervisionItem.objects.create(resolution=resolution, owner=owner, deadline=deadline, created_by=acting_user)
    audit.record(user=acting_user, action=AuditAction.SUPERVISION_CREATE, obj=item, after=_snapshot(item, ITEM_FIELDS))
    return item


def _locked(item: SupervisionItem) -> SupervisionItem:
    return SupervisionItem.objects.select_for_update().get(pk=item.pk)


@transaction.atomic
def add_note(item: SupervisionItem, *, acting_user, text: str) -> SupervisionNote:
    require(owns(acting_user, item), _("Only the owner unit reports progress."))
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": _("Write the progress.")})
    item = _locked(item)
    if item.status != SupervisionStatus.OPEN:
        raise InvalidTransition(item.status, "note")
    note = SupervisionNote.objects.create(item=item, text=text, created_by=acting_user)
    audit.record(
        user=acting_user,
        action=AuditAction.SUPERVISION_NOTE,
        obj=item,
        after={"note_id": note.pk, "text": text},
    )
    return note


@transaction.atomic
def close_item(item: SupervisionItem, *, acting_user, evidence: str, document_number: str = "") -> SupervisionItem:
    require(owns(acting_user, item), _("Only the owner unit closes its item."))
    evidence = (evidence or "").strip()
    if not evidence:
        raise ValidationError({"evidence": _("Say what shows the item is done.")})
    item = _locked(item)
    if item.status != SupervisionStatus.OPEN:
        raise InvalidTransition(item.status, SupervisionStatus.CLOSED)
    before = _snapshot(item, ITEM_FIELDS)
    item.status, item.closed_at, item.closed_by = SupervisionStatus.CLOSED, timezone.now(), acting_user
    item.closure_evidence, item.closure_document_number = evidence, (document_number or "").strip()[:64]
    item.save(update_fields=["status", "closed_at", "closed_by", "closure_evidence", "closure_document_number"])
    audit.record(
        user=acting_user,
        action=AuditAction.SUPERVISION_CLOSE,
        obj=item,
        before=before,
        after=_snapshot(item, ITEM_FIELDS),
    )
    return item


def mark_overdue(item: SupervisionItem, now: datetime) -> bool:
    """Claim the item's overdue mark (a conditional UPDATE: twice marks once); audited. In a transaction."""
    if not SupervisionItem.objects.filter(
        pk=item.pk, status=SupervisionStatus.OPEN, is_overdue=False, deadline__lt=now
    ).update(is_overdue=True):
        return False
    audit.record(
        user=None,
        action=AuditAction.SUPERVISION_OVERDUE,
        obj=item,
        before={"is_overdue": False},
        after={"is_overdue": True, "deadline": item.deadline.isoformat()},
    )
    return True
