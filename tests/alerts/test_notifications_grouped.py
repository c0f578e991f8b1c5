"""Notifications on a hand-built history: groups by case, collapsed repeats, done, digest, languages.

The history (the analyst's view):

- case A, CCB stop-payment: rejected by the bank (1 row, kind ``rejected``);
- case A, ABC stop-payment: push refused three times (1 row, count 3; a duplicate
  of the third delivery report does not count) and overdue twice (two deadlines:
  1 row, count 2);
- case B, CCB stop-payment: result received (1 row).

So 4 undone notifications in 2 case groups: the badge says 2. The digest adds one
notification about no case: the badge says 3.
"""

from __future__ import annotations

import importlib
from datetime import timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone, translation

from alerts import digests, events
from alerts.actions import mark_notifications_done
from alerts.choices import NotificationKind
from alerts.models import Notification
from alerts.tasks import digest_users, send_digests
from cases import actions
from cases.choices import TaskEvent
from cases.models import Task
from coordination.models import AuditRecord

from ..conftest import make_case

pytestmark = pytest.mark.django_db


def _refused(task: Task, occurrence: str) -> None:
    """What the push worker does on an HTTP 400: flag the task, then tell the centre."""
    actions.flag_task(task, reason="push refused with HTTP 400")
    events.task_event(TaskEvent.DELIVERY_FAILED, task.pk, occurrence=occurrence)


@pytest.fixture
def history(analyst, supervisor, ccb_liaison, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        case_a = make_case(analyst, extra_transfers=1)
        by_bank = {t.agency.code: t for t in actions.issue_stop_payments(case_a, acting_user=analyst)}
        ccb_a, abc_a = by_bank["CCB"], by_bank["ABC"]
        case_b = make_case(analyst, to_account="6217000010099999999")
        [ccb_b] = actions.issue_stop_payments(case_b, acting_user=analyst)
    with django_capture_on_commit_callbacks(execute=True):
        actions.reject_task(ccb_a, acting_user=ccb_liaison, reason="账户信息不符")
        actions.submit_result(ccb_b, acting_user=ccb_liaison, status="completed", result={"amount_held": "1000.00"})
    for occurrence in ("d1:1", "d1:2", "d2:1", "d2:1"):  # the last one a duplicate report
        _refused(abc_a, occurrence)
    abc_a.refresh_from_db()
    events.overdue(abc_a)
    events.overdue(abc_a)  # the same overdue twice (two beat batches): counted once
    Task.objects.filter(pk=abc_a.pk).update(deadline=abc_a.deadline + timedelta(hours=4))
    abc_a.refresh_from_db()
    events.overdue(abc_a)  # overdue again past its new deadline
    return {"case_a": case_a, "case_b": case_b, "rejected": ccb_a, "failing": abc_a, "result": ccb_b}


def _note(user, kind, task):
    return Notification.objects.get(user=user, kind=kind, task=task)


def test_history_numbers(history, analyst, supervisor):
    mine = Notification.objects.visible_to(analyst)
    assert mine.count() == 4
    assert _note(analyst, NotificationKind.DELIVERY_FAILED, history["failing"]).count == 3
    assert _note(analyst, NotificationKind.OVERDUE, history["failing"]).count == 2
    assert _note(analyst, NotificationKind.REJECTED, history["rejected"]).count == 1
    assert _note(analyst, NotificationKind.RESULT, history["result"]).count == 1
    # A rejection is a rejection: nothing about the rejected task is filed under "result received".
    assert not mine.filter(kind=NotificationKind.RESULT, task=history["rejected"]).exists()
    assert mine.badge() == 2
    groups, following = mine.undone().groups(None, 20)
    assert following is None
    assert {g["gid"]: (g["items"], g["events"]) for g in groups} == {
        history["case_a"].pk: (3, 6),
        history["case_b"].pk: (1, 1),
    }
    # The supervisor hears of the rejection and the failed push, not of the result.
    assert Notification.objects.visible_to(supervisor).badge() == 1


def test_page_groups_by_case_and_pages_by_keyset(client, history, analyst, monkeypatch):
    from alerts import views

    client.force_login(analyst)
    response = client.get(reverse("notifications"))
    assert response.status_code == 200
    groups = response.context["groups"]
    assert [g["gid"] for g in groups] == [history["case_a"].pk, history["case_b"].pk]  # latest activity first
    assert [len(g["notifications"]) for g in groups] == [3, 1]
    assert response.context["to_do"] == 2
    assert client.get(reverse("notification-badge")).content == b"2"

    monkeypatch.setattr(views, "GROUP_PAGE", 1)
    first = client.get(reverse("notifications"))
    assert [g["gid"] for g in first.context["groups"]] == [history["case_a"].pk]
    second = client.get(reverse("notifications") + first.context["next_url"])
    assert [g["gid"] for g in second.context["groups"]] == [history["case_b"].pk]
    assert second.context["next_url"] == ""
    # An unreadable position is the first page, never a 500.
    assert client.get(reverse("notifications") + "?after=nonsense|x").context["groups"][0]["gid"] == (
        history["case_a"].pk
    )


def test_api_unread_count_is_the_page_badge(client, history, analyst, supervisor):
    """The history's numbers through the API: 4 undone notifications in 2 case groups -> 2, as the page's badge."""
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(analyst)
    client.force_login(analyst)
    assert api.get("/api/v1/notifications/unread-count/").json() == {"unread": 2}
    assert client.get(reverse("notification-badge")).content == b"2"
    # Read is not done: marking everything read leaves both numbers at 2.
    assert api.post("/api/v1/notifications/mark-read/", {}, format="json").json() == {"marked": 4}
    assert api.get("/api/v1/notifications/unread-count/").json() == {"unread": 2}
    assert client.get(reverse("notification-badge")).content == b"2"
    # Done one of case A's three: A still has undone ones, the count stays 2; done the whole group: 1.
    failing = _note(analyst, NotificationKind.DELIVERY_FAILED, history["failing"])
    mark_notifications_done(analyst, ids=[failing.pk])
    assert api.get("/api/v1/notifications/unread-count/").json() == {"unread": 2}
    mark_notifications_done(analyst, group=history["case_a"].pk)
    assert api.get("/api/v1/notifications/unread-count/").json() == {"unread": 1}
    assert client.get(reverse("notification-badge")).content == b"1"
    # The supervisor's: one case group (the rejection and the failed push of case A).
    api.force_authenticate(supervisor)
    assert api.get("/api/v1/notifications/unread-count/").json() == {"unread": 1}


def test_texts_in_the_readers_language(client, history, analyst):
    failing = history["failing"]
    note = _note(analyst, NotificationKind.DELIVERY_FAILED, failing)
    ref = history["case_a"].reference
    with translation.override("en"):
        title, body = note.text
        assert title == f"Push failed: {ref} Emergency stop-payment · {failing.agency.name_en}"
        assert body == "The partner refused the push with HTTP 400."
    with translation.override("zh-hans"):
        title, body = note.text
        assert title == f"推送失败：{ref} 紧急止付 · {failing.agency.name}"
        assert body == "合作方以 HTTP 400 拒绝了推送。"
        rejected = _note(analyst, NotificationKind.REJECTED, history["rejected"]).text
        assert rejected[0].startswith("任务被拒绝：") and rejected[1] == "原因：账户信息不符"

    client.force_login(analyst)
    english = client.get(reverse("notifications"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "The partner refused the push with HTTP 400." in english
    assert "Task rejected: " in english
    assert "push refused with HTTP 400" not in english  # the stored reason is not shown raw
    chinese = client.get(reverse("notifications"), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "合作方以 HTTP 400 拒绝了推送。" in chinese
    assert "HTTP 400 拒绝" in chinese and "refused" not in chinese
    # The API draws the same texts in the request's language.
    from rest_framework.test import APIClient

    api = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    api.force_authenticate(analyst)
    bodies = {row["kind"]: row["body"] for row in api.get("/api/v1/notifications/").json()["results"]}
    assert bodies["delivery_failed"] == "The partner refused the push with HTTP 400."


def test_done_per_item_and_per_group(client, history, analyst, django_capture_on_commit_callbacks):
    client.force_login(analyst)
    failed = _note(analyst, NotificationKind.DELIVERY_FAILED, history["failing"])
    response = client.post(reverse("notification-done", args=[failed.pk]))
    assert response.status_code == 302
    failed.refresh_from_db()
    assert failed.done and failed.done_at is not None and failed.read_at is not None
    mine = Notification.objects.visible_to(analyst)
    assert mine.badge() == 2  # case A still has two undone notifications
    audit = AuditRecord.objects.get(action="notification.done", object_id=failed.pk)
    assert audit.case_id == history["case_a"].pk and audit.user_id == analyst.pk

    response = client.post(reverse("notification-group-done", args=[history["case_a"].pk]))
    assert response.status_code == 302
    assert mine.badge() == 1
    assert mine.filter(case=history["case_a"], done=False).count() == 0
    group_audit = AuditRecord.objects.filter(action="notification.done", case_id=history["case_a"].pk).latest("id")
    assert len(group_audit.after["notifications"]) == 2
    # Done again is no change and no audit row.
    before = AuditRecord.objects.filter(action="notification.done").count()
    assert mark_notifications_done(analyst, group=history["case_a"].pk) == 0
    assert AuditRecord.objects.filter(action="notification.done").count() == before

    # The same failure once more brings the row back, counted, rather than adding one.
    _refused(history["failing"], "d3:1")
    failed.refresh_from_db()
    assert (failed.done, failed.done_at, failed.count) == (False, None, 4)
    assert mine.badge() == 2
    assert mine.filter(kind=NotificationKind.DELIVERY_FAILED).count() == 1

    # The done view shows done ones only when asked.
    page = client.get(reverse("notifications"))
    assert history["case_a"].pk in [g["gid"] for g in page.context["groups"]]
    assert [n.kind for n in page.context["groups"][0]["notifications"]] == ["delivery_failed"]
    everything = client.get(reverse("notifications") + "?show=all")
    assert len(everything.context["notifications"]) == 4

    # Mark all done: nothing left, badge empty.
    assert client.post(reverse("notifications"), {"all": "1"}).status_code == 302
    assert mine.badge() == 0
    assert client.get(reverse("notification-badge")).content == b""


def test_another_persons_notification_is_not_found(client, history, analyst, supervisor, icbc_liaison):
    note = _note(analyst, NotificationKind.RESULT, history["result"])
    client.force_login(supervisor)
    assert client.post(reverse("notification-done", args=[note.pk])).status_code == 404
    assert client.post(reverse("notification-done", args=[10**12])).status_code == 404
    # The supervisor has none about case B (results go to the analyst): not found, like a missing group.
    assert client.post(reverse("notification-group-done", args=[history["case_b"].pk])).status_code == 404
    client.force_login(icbc_liaison)
    assert client.post(reverse("notification-group-done", args=[history["case_a"].pk])).status_code == 404
    note.refresh_from_db()
    assert not note.done
    # Nor does marking everything done touch another's rows.
    assert mark_notifications_done(icbc_liaison) == 0
    assert Notification.objects.visible_to(analyst).badge() == 2


def test_digest_is_one_row_per_day_and_idempotent(history, analyst, supervisor, django_capture_on_commit_callbacks):
    now = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        assert send_digests(now.isoformat()) >= 1
        # The same run again, and the per-user job retried: still one digest each.
        send_digests(now.isoformat())
        assert digest_users([analyst.pk, supervisor.pk], now.isoformat()) == 2
    [digest] = Notification.objects.filter(user=analyst, kind=NotificationKind.DIGEST)
    assert digest.case_id is None and digest.count == 1
    assert digest.params["items"] == 4 and digest.params["cases"] == 2
    assert digest.params["by_kind"] == {"delivery_failed": 1, "overdue": 1, "rejected": 1, "result": 1}
    mine = Notification.objects.visible_to(analyst)
    assert mine.badge() == 3  # two case groups and the digest
    with translation.override("en"):
        assert digest.text[0] == "Digest: 4 notifications to do in 2 cases"
    with translation.override("zh-hans"):
        assert digest.text[0] == "摘要：4 条通知待处理，涉及 2 个案件"
    assert Notification.objects.filter(user=supervisor, kind=NotificationKind.DIGEST).count() == 1

    # The next day's digest replaces the previous one (done), it does not pile up.
    tomorrow = now + timedelta(days=1)
    note = digests.digest_for(analyst.pk, tomorrow)
    assert note is not None and note.pk != digest.pk
    digest.refresh_from_db()
    assert digest.done
    assert mine.filter(kind=NotificationKind.DIGEST, done=False).count() == 1
    assert mine.badge() == 3

    # Nothing undone: no digest, and the last one goes.
    mark_notifications_done(analyst)
    assert digests.digest_for(analyst.pk, tomorrow + timedelta(days=1)) is None
    assert mine.badge() == 0


def test_legacy_rows_stay_readable(analyst, stop_task):
    """Rows from before migration 0005: a stored title without a task, a failure's English reason."""
    legacy = Notification.objects.create(user=analyst, kind="result", title="旧通知", body="正文", dedupe_key="old")
    failed = Notification.objects.create(
        user=analyst,
        kind="delivery_failed",
        title="Push failed: old",
        body="push refused with HTTP 410",
        task=stop_task,
        case_id=stop_task.case_id,
        dedupe_key=f"failed:{stop_task.pk}:push refused with HTTP 410",
    )
    rejected = Notification.objects.create(
        user=analyst,
        kind="result",
        title="Task rejected: old",
        body="账户已销户",
        task=stop_task,
        case_id=stop_task.case_id,
        dedupe_key=f"rejected:{stop_task.pk}",
    )
    migration = importlib.import_module("alerts.migrations.0005_notification_groups")
    with connection.cursor() as cursor:
        for statement in migration.FORWARD:
            cursor.execute(statement)
    for note in (legacy, failed, rejected):
        note.refresh_from_db()
    assert legacy.text == ("旧通知", "正文")
    assert rejected.kind == NotificationKind.REJECTED
    with translation.override("zh-hans"):
        assert failed.text[1] == "合作方以 HTTP 410 拒绝了推送。"
        assert rejected.text[1] == "原因：账户已销户"
    with translation.override("en"):
        assert failed.text[1] == "The partner refused the push with HTTP 410."
