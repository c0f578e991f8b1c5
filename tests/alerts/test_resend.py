"""A supervisor re-sends a dead-lettered delivery with the same Idempotency-Key."""

from datetime import timedelta

import pytest
from django.utils import timezone

from agencies.actions import set_endpoint
from alerts.actions import mark_notifications_read, resend_delivery
from alerts.choices import DeliveryState
from alerts.models import Delivery, Notification
from cases import actions
from coordination.exceptions import ActionNotAllowed, Conflict
from coordination.models import AuditRecord

from ..conftest import agency


@pytest.mark.django_db
def test_resend_keeps_the_key(case, analyst, supervisor, django_capture_on_commit_callbacks):
    set_endpoint(agency("CCB"), url="http://127.0.0.1:9/ccb/", secret="s3cret", acting_user=None)
    [task] = actions.issue_stop_payments(case, acting_user=analyst, approve=False)
    with django_capture_on_commit_callbacks(execute=False):  # no broker round-trip here
        actions.approve_task(task, acting_user=analyst)
    delivery = Delivery.objects.get(task=task)
    Delivery.objects.filter(pk=delivery.pk).update(state=DeliveryState.DEAD, give_up_at=timezone.now())
    actions.flag_task(task, reason="dead-lettered")
    with pytest.raises(ActionNotAllowed):
        resend_delivery(delivery, acting_user=analyst)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        resent = resend_delivery(delivery, acting_user=supervisor)
    assert len(callbacks) == 1
    assert resent.pk == delivery.pk and resent.state == DeliveryState.PENDING
    assert resent.give_up_at > timezone.now() + timedelta(hours=23)
    task.refresh_from_db()
    assert not task.needs_attention
    assert AuditRecord.objects.filter(action="delivery.resend", object_id=task.pk).exists()
    with pytest.raises(Conflict):
        resend_delivery(delivery, acting_user=supervisor)


@pytest.mark.django_db
def test_mark_read_only_touches_own(stop_task, ccb_liaison, icbc_liaison):
    Notification.objects.create(user=ccb_liaison, kind="new_task", title="a", dedupe_key="a")
    other = Notification.objects.create(user=icbc_liaison, kind="new_task", title="b", dedupe_key="b")
    assert mark_notifications_read(ccb_liaison, ids=[other.pk]) == 0
    assert mark_notifications_read(ccb_liaison) == 1
    other.refresh_from_db()
    assert other.read_at is None
