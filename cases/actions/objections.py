"""Objections to a pro-rata fund return during its public notice (CBRC/MPS 2016, Art. 8 (3)).

A return made through mixing is announced for ``settings.RETURN_NOTICE_DAYS``
(``Task.notice_until``); victims and other interested parties may object. The
centre records each objection, a supervisor reviews it with a note; the return
is approved only after the notice and once every objection is reviewed
(``tasks.approval_hold``). Both steps are audited on the return's case.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from agencies.models import User
from coordination import audit
from coordination.choices import AuditAction

from .. import permissions
from ..choices import TaskState
from ..models import ReturnObjection, Task
from .common import require
from .tasks import required_reason, task_type


def _objection_state(objection: ReturnObjection) -> dict:
    return {
        "task": objection.task_id,
        "objector": objection.objector,
        "text": objection.text,
        "reviewed": objection.reviewed_at is not None,
        "review_note": objection.review_note,
    }


@transaction.atomic
def record_objection(task: Task, *, acting_user: User, objector: str, text: str) -> ReturnObjection:
    """The centre records an objection to a return still awaiting approval."""
    require(permissions.can_create_task(acting_user), _("Only the centre records objections."))
    task = Task.objects.select_for_update().get(pk=task.pk)
    errors = {}
    if not task_type(task.type).notice_when_mixed:
        errors["task"] = _("Only a fund return takes objections.")
    elif task.state != TaskState.PENDING_APPROVAL:
        errors["task"] = _("This return is no longer awaiting approval.")
    objector = (objector or "").strip()
    if not objector:
        errors["objector"] = _("Say who objects.")
    try:
        text = required_reason(text, _("Say what the objection is."))
    except ValidationError:
        errors["text"] = _("Say what the objection is.")
    if errors:
        raise ValidationError(errors)
    objection = ReturnObjection.objects.create(task=task, objector=objector[:100], text=text, recorded_by=acting_user)
    audit.record(
        user=acting_user,
        action=AuditAction.TASK_OBJECTION,
        obj=task,
        case_id=task.case_id,
        after=_objection_state(objection),
    )
    return objection


@transaction.atomic
def review_objection(objection: ReturnObjection, *, acting_user: User, note: str) -> ReturnObjection:
    """A supervisor reviews an objection (the police review objections before the return goes ahead)."""
    require(
        permissions.can_approve(acting_user, objection.task, needs_supervisor=True),
        _("A supervisor who did not prepare the return reviews its objections."),
    )
    objection = ReturnObjection.objects.select_for_update().select_related("task").get(pk=objection.pk)
    if objection.reviewed_at is not None:
        raise ValidationError({"note": _("This objection has already been reviewed.")})
    before = _objection_state(objection)
    objection.review_note = required_reason(note, _("Say what the review found."))
    objection.reviewed_by, objection.reviewed_at = acting_user, timezone.now()
    objection.save(update_fields=["review_note", "reviewed_by", "reviewed_at"])
    audit.record(
        user=acting_user,
        action=AuditAction.TASK_OBJECTION_REVIEW,
        obj=objection.task,
        case_id=objection.task.case_id,
        before=before,
        after=_objection_state(objection),
    )
    return objection
