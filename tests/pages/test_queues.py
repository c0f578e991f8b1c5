"""The work queues: the approval queue, the "needs attention" page, the inbox, required reasons.

Tasks are built through the actions; only their clock is moved by hand (an
``update`` of ``created_at`` / ``deadline``), relative to ``timezone.now()``.
"""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from alerts.choices import DeliveryState, http_failure
from alerts.models import Delivery
from alerts.tasks import partner_reason
from cases import actions
from cases.models import Task
from coordination.models import AuditRecord
from tests.conftest import RECEIVING_ACCOUNT, VICTIM_ACCOUNT, agency, make_case

pytestmark = pytest.mark.django_db


def trace(case, analyst, phone: str, to: str = "CMCC") -> Task:
    """A number trace: a type whose registry approver is the supervisor."""
    return actions.create_task(
        case, acting_user=analyst, type="number_trace", agency=agency(to), target_kind="phone", target_value=phone
    )


def age(task: Task, *, created: timedelta, deadline: timedelta) -> Task:
    """Move a task's clock: created ``created`` ago, its deadline ``deadline`` from now (negative: passed)."""
    now = timezone.now()
    Task.objects.filter(pk=task.pk).update(created_at=now - created, deadline=now + deadline)
    task.refresh_from_db()
    return task


def rows(body: str, table: str) -> list[int]:
    """The task ids of a table's rows, in page order."""
    section = body.split(f'id="{table}"', 1)[1].split("</table>", 1)[0]
    return [int(i) for i in re.findall(r'<tr data-task="(\d+)"', section)]


def api(user) -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.force_authenticate(user)
    return client


# --- the approval queue -----------------------------------------------------------------


def test_approval_queue_holds_supervisor_types_most_urgent_first(client, analyst, supervisor):
    case = make_case(analyst)
    [stop] = actions.issue_stop_payments(case, acting_user=analyst, approve=False)
    later = age(trace(case, analyst, "13800000001"), created=timedelta(minutes=5), deadline=timedelta(hours=20))
    sooner = age(trace(case, analyst, "13800000002"), created=timedelta(minutes=1), deadline=timedelta(hours=2))
    tie_old = age(trace(case, analyst, "13800000003"), created=timedelta(hours=3), deadline=timedelta(hours=5))
    tie_new = age(trace(case, analyst, "13800000004"), created=timedelta(hours=1), deadline=timedelta(hours=5))
    Task.objects.filter(pk=tie_new.pk).update(deadline=tie_old.deadline)
    client.force_login(supervisor)
    body = client.get(reverse("approvals")).content.decode()
    # The emergency stop-payment is the analyst's to approve: it never waits here.
    assert stop.pk not in rows(body, "approvals")
    assert rows(body, "approvals") == [sooner.pk, tie_old.pk, tie_new.pk, later.pk]


def test_approval_queue_age_flags_and_filters(client, analyst, supervisor):
    case = make_case(analyst)
    overdue = age(trace(case, analyst, "13800000011"), created=timedelta(hours=30), deadline=-timedelta(hours=6))
    old = age(trace(case, analyst, "13800000012"), created=timedelta(hours=30), deadline=timedelta(hours=1))
    fresh = age(
        trace(case, analyst, "13800000013", to="CUCC"), created=timedelta(minutes=10), deadline=timedelta(hours=23)
    )
    client.force_login(supervisor)
    body = client.get(reverse("approvals")).content.decode()
    flags = dict(re.findall(r'<tr data-task="(\d+)" data-age-flag="(\w+)"', body))
    assert flags == {str(overdue.pk): "overdue", str(old.pk): "old", str(fresh.pk): "on_time"}
    assert "30:00:" in body  # the age, hours first

    def listed(**query) -> list[int]:
        response = client.get(reverse("approvals"), query)
        assert response.status_code == 200
        return rows(response.content.decode(), "approvals")

    assert listed(age="overdue") == [overdue.pk]
    assert listed(age="old") == [old.pk]
    assert listed(age="on_time") == [fresh.pk]
    assert listed(agency="CUCC") == [fresh.pk]
    assert set(listed(type="number_trace")) == {overdue.pk, old.pk, fresh.pk}
    assert listed(type="freeze") == []
    # A value the filter does not know filters nothing and says so; never a 500.
    response = client.get(reverse("approvals"), {"age": "ancient"})
    assert response.status_code == 200 and 'role="alert"' in response.content.decode()


def test_approval_queue_keyset_pages(client, analyst, supervisor, monkeypatch):
    from cases.views import queues

    monkeypatch.setattr(queues, "QUEUE_PAGE", 2)
    case = make_case(analyst)
    made = [trace(case, analyst, f"1380000002{i}") for i in range(5)]
    client.force_login(supervisor)
    seen, url = [], reverse("approvals")
    while url:
        body = client.get(url).content.decode()
        seen += rows(body, "approvals")
        found = re.search(r'<a href="(\?[^"]+)" rel="next"', body)
        url = reverse("approvals") + found.group(1).replace("&amp;", "&") if found else ""
    assert seen == [t.pk for t in made]


# --- needs attention --------------------------------------------------------------------


@pytest.fixture
def troubles(analyst, ccb_liaison):
    """A failed push, a dead-lettered one, a rejection, an overdue task, and a task that is fine."""
    case = make_case(analyst, extra_transfers=4)
    tasks = actions.issue_stop_payments(case, acting_user=analyst)
    failed, dead, rejected, overdue, fine = tasks[:5]
    now = timezone.now()
    for task, state, status, error, flag in (
        (failed, DeliveryState.FAILED, 422, "account details do not match", "push refused with HTTP 422"),
        (dead, DeliveryState.DEAD, 503, "", "push dead-lettered after the retry window"),
    ):
        Delivery.objects.create(
            task=task,
            agency=task.agency,
            state=state,
            attempts=3,
            give_up_at=now,
            last_status=status,
            last_error=http_failure(status),
            partner_reason=error,
        )
        actions.flag_task(task, reason=flag)
    rejected = Task.objects.get(pk=rejected.pk)
    liaison = ccb_liaison if rejected.agency.code == "CCB" else None
    if liaison is None:
        from tests.conftest import make_user

        liaison = make_user("q_rejecter", rejected.agency.code, "liaison")
    actions.reject_task(rejected, acting_user=liaison, reason="账户已销户")
    age(overdue, created=timedelta(hours=1), deadline=-timedelta(minutes=10))
    age(failed, created=timedelta(minutes=20), deadline=timedelta(minutes=5))
    age(dead, created=timedelta(minutes=20), deadline=timedelta(minutes=8))
    Task.objects.filter(pk=rejected.pk).update(deadline=now + timedelta(minutes=12))
    return {"failed": failed, "dead": dead, "rejected": rejected, "overdue": overdue, "fine": fine}


def test_attention_page_lists_what_went_wrong_with_reasons(client, supervisor, troubles):
    client.force_login(supervisor)
    response = client.get(reverse("attention"))
    assert response.status_code == 200
    body = response.content.decode()
    t = troubles
    # Urgency: the deadline already passed, then the soonest deadline.
    assert rows(body, "attention") == [t["overdue"].pk, t["failed"].pk, t["dead"].pk, t["rejected"].pk]
    assert "account details do not match" in body  # the partner's reason, through the alerts hook
    assert "HTTP 422" in body and "HTTP 503" in body
    assert "账户已销户" in body  # the agency's reason
    assert reverse("task-detail", args=[t["failed"].pk]) in body
    kinds = dict(re.findall(r'<tr data-task="(\d+)" data-kind="(\w+)"', body))
    assert kinds == {
        str(t["overdue"].pk): "overdue",
        str(t["failed"].pk): "delivery",
        str(t["dead"].pk): "delivery",
        str(t["rejected"].pk): "rejected",
    }
    assert 'href="/attention/"' in body  # the supervisor's nav link

    def listed(**query) -> list[int]:
        return rows(client.get(reverse("attention"), query).content.decode(), "attention")

    assert listed(kind="rejected") == [t["rejected"].pk]
    assert listed(kind="delivery") == [t["failed"].pk, t["dead"].pk]
    assert listed(kind="overdue") == [t["overdue"].pk]
    assert listed(age="overdue") == [t["overdue"].pk]
    assert listed(agency="BOGUS") == rows(body, "attention")  # an unknown code filters nothing


def test_attention_mark_handled_and_pages(client, supervisor, troubles, monkeypatch):
    from cases.views import attention

    client.force_login(supervisor)
    response = client.post(reverse("attention"), {"task": troubles["failed"].pk})
    assert response.status_code == 302
    assert not Task.objects.get(pk=troubles["failed"].pk).needs_attention
    assert AuditRecord.objects.filter(action="task.unflag", object_id=troubles["failed"].pk).exists()
    # Not flagged (overdue only), or not a number: the same 404 as a missing task.
    assert client.post(reverse("attention"), {"task": troubles["overdue"].pk}).status_code == 404
    assert client.post(reverse("attention"), {"task": "x"}).status_code == 404
    monkeypatch.setattr(attention, "ATTENTION_PAGE", 2)
    first = client.get(reverse("attention")).content.decode()
    following = re.search(r'<a href="(\?[^"]+)" rel="next"', first).group(1).replace("&amp;", "&")
    second = client.get(reverse("attention") + following).content.decode()
    assert rows(first, "attention") + rows(second, "attention") == [
        troubles["overdue"].pk,
        troubles["dead"].pk,
        troubles["rejected"].pk,
    ]


def test_partner_reason_is_read_from_the_answer():
    answer = httpx.Response(422, json={"error": "mismatch", "detail": "account details do not match"})
    assert partner_reason(answer) == "account details do not match"
    assert partner_reason(httpx.Response(400, text="bad\x00 request", headers={"Content-Type": "text/plain"})) == (
        "bad  request"
    )
    assert partner_reason(httpx.Response(503, text="<html>busy</html>", headers={"Content-Type": "text/html"})) == ""


# --- required reasons -------------------------------------------------------------------


@pytest.mark.parametrize("reason", ["", "   "])
def test_return_needs_a_reason_on_the_task_page(client, analyst, supervisor, reason):
    case = make_case(analyst)
    task = trace(case, analyst, "13800000031")
    client.force_login(supervisor)
    response = client.post(reverse("task-action", args=[task.pk, "return"]), {"reason": reason})
    assert response.status_code == 400
    body = response.content.decode()
    assert 'id="withdraw-reason_error"' in body and "请说明退回的原因" in body
    task.refresh_from_db()
    assert task.state == "pending_approval" and not task.reason
    assert not AuditRecord.objects.filter(action="task.cancel", object_id=task.pk).exists()


def test_bulk_return_needs_a_reason(client, analyst, supervisor):
    case = make_case(analyst)
    tasks = [trace(case, analyst, f"1380000004{i}") for i in range(2)]
    client.force_login(supervisor)
    response = client.post(reverse("approvals"), {"do": "return", "reason": "  ", "task": [t.pk for t in tasks]})
    assert response.status_code == 400
    body = response.content.decode()
    assert 'id="return-reason_error"' in body and "请说明退回的原因" in body
    assert set(Task.objects.filter(pk__in=[t.pk for t in tasks]).values_list("state", flat=True)) == {
        "pending_approval"
    }
    response = client.post(reverse("approvals"), {"do": "return", "reason": "资料不全", "task": [t.pk for t in tasks]})
    assert response.status_code == 302
    assert set(Task.objects.filter(pk__in=[t.pk for t in tasks]).values_list("reason", flat=True)) == {"资料不全"}


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_api_refuses_a_return_or_rejection_without_reason(analyst, supervisor, ccb_liaison, stop_task, reason):
    task = trace(stop_task.case, analyst, "13800000051")
    body = {} if reason is None else {"reason": reason}
    response = api(supervisor).post(f"/api/v1/tasks/{task.pk}/cancel/", body, format="json")
    assert response.status_code == 400 and response["Content-Type"].startswith("application/json")
    assert "reason" in response.json()
    response = api(ccb_liaison).post(f"/api/v1/tasks/{stop_task.pk}/reject/", body, format="json")
    assert response.status_code == 400 and "reason" in response.json()
    assert Task.objects.get(pk=task.pk).state == "pending_approval"
    assert Task.objects.get(pk=stop_task.pk).state == "dispatched"


def test_actions_refuse_a_blank_reason(analyst, supervisor, ccb_liaison, stop_task):
    from django.core.exceptions import ValidationError

    task = trace(stop_task.case, analyst, "13800000061")
    with pytest.raises(ValidationError) as refused:
        actions.cancel_task(task, acting_user=supervisor, reason=" \n ")
    assert "reason" in refused.value.message_dict
    with pytest.raises(ValidationError):
        actions.reject_task(stop_task, acting_user=ccb_liaison, reason="\t")
    assert actions.cancel_task(task, acting_user=supervisor, reason=" 重复 ").reason == "重复"
    rejected = actions.reject_task(stop_task, acting_user=ccb_liaison, reason="账户已销户")
    assert rejected.needs_attention  # on the supervisor's "needs attention" page


def test_reject_on_the_page_needs_a_reason(client, stop_task, ccb_liaison):
    client.force_login(ccb_liaison)
    response = client.post(reverse("task-action", args=[stop_task.pk, "reject"]), {"reason": "   "})
    assert response.status_code == 400
    assert Task.objects.get(pk=stop_task.pk).state == "dispatched"


# --- the inbox --------------------------------------------------------------------------


@pytest.fixture
def inbox(analyst, ccb_liaison):
    """Three CCB tasks, oldest first: a stop-payment now overdue, another stop-payment, a coordination task."""
    first = make_case(analyst)
    [older] = actions.issue_stop_payments(first, acting_user=analyst)
    second = make_case(analyst, to_account="6217000010088881234")
    [newer] = actions.issue_stop_payments(second, acting_user=analyst)
    other = actions.create_task(first, acting_user=analyst, type="other", agency=agency("CCB"), note="协查")
    other = actions.approve_task(other, acting_user=analyst)
    age(older, created=timedelta(hours=2), deadline=-timedelta(minutes=30))
    return {"older": older, "newer": newer, "other": other}


def test_inbox_newest_first_with_filters_search_and_payer(client, ccb_liaison, inbox):
    client.force_login(ccb_liaison)
    body = client.get(reverse("inbox")).content.decode()
    assert rows(body, "inbox") == [inbox["other"].pk, inbox["newer"].pk, inbox["older"].pk]
    # Urgency on request: the deadline already passed comes first.
    assert rows(client.get(reverse("inbox"), {"sort": "urgent"}).content.decode(), "inbox")[0] == inbox["older"].pk
    # What the bank verifies: the victim's payer account (masked: not the bank's target) and the time.
    masked = VICTIM_ACCOUNT[:4] + "*" * (len(VICTIM_ACCOUNT) - 8) + VICTIM_ACCOUNT[-4:]
    assert masked in body and VICTIM_ACCOUNT not in body
    transfer = inbox["older"].case.transfers.get()
    assert timezone.localtime(transfer.at).strftime("%Y-%m-%d %H:%M:%S") in body
    assert RECEIVING_ACCOUNT in body  # its own target, in full

    def listed(**query) -> list[int]:
        response = client.get(reverse("inbox"), query)
        assert response.status_code == 200
        return rows(response.content.decode(), "inbox")

    assert listed(type="other") == [inbox["other"].pk]
    assert listed(type="emergency_stop_payment") == [inbox["newer"].pk, inbox["older"].pk]
    assert listed(age="overdue") == [inbox["older"].pk]
    assert listed(status="accepted") == []
    assert listed(q=inbox["newer"].case.reference) == [inbox["newer"].pk]
    assert listed(q=inbox["newer"].case.reference.lower()) == [inbox["newer"].pk]
    assert listed(q="6217000010088881234") == [inbox["newer"].pk]
    assert listed(q="1234") == [inbox["newer"].pk]  # the last digits
    assert listed(q="nothing-like-this") == []
    # The HTMX poll answers the rows only, filtered the same way.
    rows_only = client.get(reverse("inbox"), {"type": "other"}, HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in rows_only and f'data-task="{inbox["other"].pk}"' in rows_only
    assert f'data-task="{inbox["newer"].pk}"' not in rows_only


def test_bulk_accept_each_through_the_action(client, ccb_liaison, inbox):
    client.force_login(ccb_liaison)
    ids = [inbox["older"].pk, inbox["newer"].pk]
    response = client.post(reverse("inbox"), {"task": ids})
    assert response.status_code == 302
    assert set(Task.objects.filter(pk__in=ids).values_list("state", flat=True)) == {"accepted"}
    assert AuditRecord.objects.filter(action="task.accept", object_id__in=ids).count() == 2
    assert Task.objects.get(pk=inbox["other"].pk).state != "accepted"  # not ticked


def test_bulk_accept_refuses_another_agencys_task_as_missing(client, analyst, ccb_liaison, icbc_liaison, inbox):
    case = make_case(analyst, to_bank="ICBC", to_account="6222000011112222")
    [foreign] = actions.issue_stop_payments(case, acting_user=analyst)
    client.force_login(ccb_liaison)
    for bad in ([inbox["older"].pk, foreign.pk], [inbox["older"].pk, 999999999], ["x"]):
        response = client.post(reverse("inbox"), {"task": bad})
        assert response.status_code == 404
    # Nothing was accepted, neither the agency's own task nor the foreign one.
    assert Task.objects.get(pk=inbox["older"].pk).state != "accepted"
    assert Task.objects.get(pk=foreign.pk).state != "accepted"
    assert not AuditRecord.objects.filter(action="task.accept").exists()


def test_a_bank_sees_only_the_transfers_into_its_own_targets(analyst, ccb_liaison, icbc_liaison):
    from cases.models import Transfer

    case = make_case(analyst, extra_transfers=2)  # one transfer to CCB, two to ABC
    actions.issue_stop_payments(case, acting_user=analyst)
    seen = list(Transfer.objects.visible_to(ccb_liaison).filter(case=case))
    assert [t.to_identifier.value for t in seen] == [RECEIVING_ACCOUNT]
    assert not Transfer.objects.visible_to(icbc_liaison).filter(case=case).exists()  # the payer's bank, no task
    assert not Transfer.objects.visible_to(ccb_liaison, "change").exists()
