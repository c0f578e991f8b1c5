"""A pro-rata fund return waits for its 30-day public notice and the review of every objection.

CBRC/MPS 2016, Art. 8 (3): a return that the timestamps cannot separate is
announced first; victims and other interested parties may object, the police
review the objections, then the return goes ahead. An exact return (one
victim's money, or whose timestamps separate it) is approved at once. The
supervisor approving names the legal document. Time is moved forward for the
platform (``timezone.now``), never read from the calendar.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from cases import actions
from cases.models import ReturnObjection, Task
from coordination.exceptions import ActionNotAllowed
from coordination.models import AuditRecord
from tests.conftest import make_user

from .fund_world import RETURN_DOCUMENT, S, frozen_alone, prepare_return, serial_world

pytestmark = pytest.mark.django_db

ALONE = "6217000010055554444"  # one victim's money only: an exact return


@pytest.fixture(autouse=True)
def _notice_days(settings):
    settings.RETURN_NOTICE_DAYS = 30


def mixed_return(analyst, supervisor, ccb_liaison) -> Task:
    world = serial_world(analyst, supervisor, ccb_liaison)
    return prepare_return(world.case1, analyst, S)


def exact_return(analyst, supervisor, ccb_liaison) -> Task:
    case = frozen_alone(analyst, supervisor, ccb_liaison, ALONE, paid="20000.00", held="15000.00", n=9)
    return prepare_return(case, analyst, ALONE)


def test_a_pro_rata_return_waits_for_its_notice_and_every_objection(analyst, supervisor, ccb_liaison, later):
    task = mixed_return(analyst, supervisor, ccb_liaison)
    now = timezone.now()
    assert now + timedelta(days=30) - timedelta(minutes=1) <= task.notice_until <= now + timedelta(days=30)
    created = AuditRecord.objects.get(object_type="cases.task", object_id=task.pk, action="task.create")
    assert created.after["notice_until"] is not None
    # During the notice: refused, nothing changed, no approval written.
    with pytest.raises(ValidationError) as refused:
        actions.approve_task(task, acting_user=supervisor, legal_document_number=RETURN_DOCUMENT)
    assert "notice_until" in refused.value.message_dict
    task.refresh_from_db()
    assert task.state == "pending_approval" and task.legal_document_number == ""
    assert not AuditRecord.objects.filter(object_id=task.pk, action="task.approve").exists()
    # A victim objects during the notice; the centre records it.
    objection = actions.record_objection(task, acting_user=analyst, objector="李四", text="我的损失金额计算有误")
    assert AuditRecord.objects.filter(case_id=task.case_id, action="task.objection").count() == 1
    # The notice is over, but the objection is not reviewed: still refused.
    later(31)
    with pytest.raises(ValidationError) as refused:
        actions.approve_task(task, acting_user=supervisor, legal_document_number=RETURN_DOCUMENT)
    assert "objections" in refused.value.message_dict
    # The preparer may not review it (four eyes); a supervisor does, with a note.
    with pytest.raises(ActionNotAllowed):
        actions.review_objection(objection, acting_user=analyst, note="已核实")
    with pytest.raises(ValidationError):
        actions.review_objection(objection, acting_user=supervisor, note="  ")
    actions.review_objection(objection, acting_user=supervisor, note="已核实，金额无误")
    review = AuditRecord.objects.get(case_id=task.case_id, action="task.objection_review")
    assert review.before["reviewed"] is False and review.after["reviewed"] is True
    with pytest.raises(ValidationError):
        actions.review_objection(objection, acting_user=supervisor, note="again")
    # Without the legal document the approval is still refused; with it, approved.
    with pytest.raises(ValidationError) as refused:
        actions.approve_task(task, acting_user=supervisor)
    assert "legal_document_number" in refused.value.message_dict
    task = actions.approve_task(task, acting_user=supervisor, legal_document_number=RETURN_DOCUMENT)
    assert task.state in ("approved", "dispatched") and task.legal_document_number == RETURN_DOCUMENT
    approval = AuditRecord.objects.get(object_id=task.pk, action="task.approve")
    assert approval.after["legal_document_number"] == RETURN_DOCUMENT
    # No objection once it is no longer awaiting approval.
    with pytest.raises(ValidationError):
        actions.record_objection(task, acting_user=analyst, objector="王五", text="太晚了")


def test_an_exact_return_needs_no_notice(analyst, supervisor, ccb_liaison):
    task = exact_return(analyst, supervisor, ccb_liaison)
    assert task.notice_until is None and task.amount == Decimal("15000.00")
    assert not task.allocations.filter(mixed=True).exists()
    task = actions.approve_task(task, acting_user=supervisor, legal_document_number=RETURN_DOCUMENT)
    assert task.state in ("approved", "dispatched")


def test_objections_are_refused_on_other_tasks_and_by_other_roles(analyst, supervisor, ccb_liaison, stop_task):
    with pytest.raises(ValidationError) as refused:
        actions.record_objection(stop_task, acting_user=analyst, objector="李四", text="异议")
    assert "task" in refused.value.message_dict
    task = mixed_return(analyst, supervisor, ccb_liaison)
    with pytest.raises(ValidationError) as refused:
        actions.record_objection(task, acting_user=analyst, objector=" ", text=" ")
    assert {"objector", "text"} <= set(refused.value.message_dict)
    with pytest.raises(ActionNotAllowed):
        actions.record_objection(task, acting_user=ccb_liaison, objector="李四", text="异议")
    assert not ReturnObjection.objects.exists()


def test_bulk_approval_refuses_a_return_with_its_reason(analyst, supervisor, ccb_liaison):
    task = mixed_return(analyst, supervisor, ccb_liaison)
    approved, refused = actions.approve_tasks([task], acting_user=supervisor)
    assert approved == [] and refused[task.pk]
    assert Task.objects.get(pk=task.pk).state == "pending_approval"


def test_the_notice_and_objections_on_the_task_page(client, analyst, supervisor, ccb_liaison, later):
    task = mixed_return(analyst, supervisor, ccb_liaison)
    url = reverse("task-detail", args=[task.pk])
    client.force_login(supervisor)
    html = client.get(url).content.decode()
    assert 'id="notice-until"' in html and 'id="approve" disabled' in html
    assert 'name="legal_document_number"' in html
    # The analyst records an objection: an empty one is a form error and records nothing.
    client.force_login(analyst)
    empty = client.post(reverse("task-action", args=[task.pk, "object"]), {"objector": "", "text": ""})
    assert empty.status_code == 400 and 'id="objection-form"' in empty.content.decode()
    assert not ReturnObjection.objects.exists()
    done = client.post(reverse("task-action", args=[task.pk, "object"]), {"objector": "李四", "text": "金额有误"})
    assert done.status_code == 302
    objection = ReturnObjection.objects.get()
    # The bank reads nothing of the notice or of the objections.
    client.force_login(ccb_liaison)
    bank_page = client.get(url).content.decode()
    assert 'id="return-notice"' not in bank_page and "金额有误" not in bank_page
    # The supervisor reviews it on the page (an empty review is refused), then approves after the notice.
    client.force_login(supervisor)
    review = reverse("task-action", args=[task.pk, "review-objection"])
    assert client.post(review, {"objection": objection.pk, "note": ""}).status_code == 400
    assert client.post(review, {"objection": 999999, "note": "x"}).status_code == 404
    assert client.post(review, {"objection": objection.pk, "note": "已核实"}).status_code == 302
    approve = reverse("task-action", args=[task.pk, "approve"])
    refused = client.post(approve, {"legal_document_number": RETURN_DOCUMENT})
    assert refused.status_code == 400 and 'id="approve-errors"' in refused.content.decode()
    later(31)
    client.force_login(supervisor)  # a month later: a new session
    blank = client.post(approve, {"legal_document_number": ""})
    assert blank.status_code == 400 and 'id="approve-form"' in blank.content.decode()
    assert Task.objects.get(pk=task.pk).state == "pending_approval"
    assert client.post(approve, {"legal_document_number": RETURN_DOCUMENT}).status_code == 302
    assert Task.objects.get(pk=task.pk).legal_document_number == RETURN_DOCUMENT


def test_the_api_shows_the_notice_and_refuses_an_early_approval(analyst, supervisor, ccb_liaison):
    task = mixed_return(analyst, supervisor, ccb_liaison)
    api = APIClient()
    api.force_authenticate(supervisor)
    seen = api.get(f"/api/v1/tasks/{task.pk}/").json()
    assert seen["notice_until"] is not None
    refused = api.post(f"/api/v1/tasks/{task.pk}/approve/", {"legal_document_number": RETURN_DOCUMENT}, format="json")
    assert refused.status_code == 400 and "notice_until" in refused.json()
    odd = api.post(f"/api/v1/tasks/{task.pk}/approve/", ["x"], format="json")
    assert odd.status_code == 400
    api.force_authenticate(ccb_liaison)
    assert api.post(f"/api/v1/tasks/{task.pk}/approve/", {}, format="json").status_code == 403
    api.force_authenticate(make_user("icbc-other", "ICBC", "liaison"))
    assert api.post(f"/api/v1/tasks/{task.pk}/approve/", {}, format="json").status_code == 404
