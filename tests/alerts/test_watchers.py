"""Every watcher, with time moved forward, run twice: it acts and notifies once."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone

from alerts import watchers
from alerts.models import Notification
from cases import actions
from cases.choices import TargetKind, TaskState, TaskType
from coordination.models import AuditRecord

from ..conftest import agency, make_case, make_user

pytestmark = pytest.mark.django_db


def _run_twice(watcher, now, callbacks):
    with callbacks(execute=True):
        first = watcher(now=now)
    with callbacks(execute=True):
        second = watcher(now=now)
    return first, second


def _completed_stop(task, liaison):
    task, _changed = actions.submit_result(
        task, acting_user=liaison, status="completed", result={"amount_held": "31000.00"}
    )
    return task


def test_overdue_marks_and_escalates_once(
    stop_task, analyst, supervisor, ccb_manager, ccb_liaison, django_capture_on_commit_callbacks
):
    analyst.email, analyst.notify_by_email = "analyst@afc.invalid", True
    analyst.save(update_fields=["email", "notify_by_email"])
    assert watchers.overdue(now=timezone.now()) == 0  # not yet past the deadline
    later = stop_task.deadline + timedelta(minutes=1)
    assert _run_twice(watchers.overdue, later, django_capture_on_commit_callbacks) == (1, 0)
    stop_task.refresh_from_db()
    assert stop_task.is_overdue
    notified = set(Notification.objects.filter(kind="overdue", task=stop_task).values_list("user_id", flat=True))
    assert notified == {analyst.pk, supervisor.pk, ccb_manager.pk}
    assert ccb_liaison.pk not in notified
    assert AuditRecord.objects.filter(action="task.overdue", object_id=stop_task.pk).count() == 1
    assert [m.to for m in mail.outbox] == [["analyst@afc.invalid"]]  # by the user's channel choice, once


def test_finished_tasks_are_never_overdue(stop_task, ccb_liaison, django_capture_on_commit_callbacks):
    _completed_stop(stop_task, ccb_liaison)
    later = stop_task.deadline + timedelta(hours=1)
    assert _run_twice(watchers.overdue, later, django_capture_on_commit_callbacks) == (0, 0)


def test_stop_payment_lapse_warning_then_expiry(stop_task, analyst, ccb_liaison, django_capture_on_commit_callbacks):
    task = _completed_stop(stop_task, ccb_liaison)
    assert task.lapses_at is not None
    assert watchers.lapse_warnings(now=task.lapses_at - timedelta(hours=3)) == 0  # too early
    warn_at = task.lapses_at - timedelta(hours=1, minutes=30)
    assert _run_twice(watchers.lapse_warnings, warn_at, django_capture_on_commit_callbacks) == (1, 0)
    [note] = Notification.objects.filter(kind="lapse_warning", task=task)
    assert note.user == analyst
    task.refresh_from_db()
    assert task.lapse_warned_at == warn_at

    assert watchers.expire_lapsed(now=task.lapses_at - timedelta(seconds=1)) == 0
    after = task.lapses_at + timedelta(minutes=1)
    assert _run_twice(watchers.expire_lapsed, after, django_capture_on_commit_callbacks) == (1, 0)
    task.refresh_from_db()
    assert task.state == TaskState.EXPIRED
    # Warned, then expired: each under its own kind (an expiry is not a warning).
    kinds = sorted(Notification.objects.filter(task=task, user=analyst).values_list("kind", flat=True))
    assert kinds == ["expired", "lapse_warning"]
    assert AuditRecord.objects.filter(action="task.expire", object_id=task.pk).count() == 1


def test_freeze_renewal_reminder(analyst, supervisor, django_capture_on_commit_callbacks):
    abc_liaison = make_user("t_abc_liaison", "ABC", "liaison")
    case = actions.file_case(make_case(analyst), acting_user=analyst, filing_number="成公立字[2026]7号")
    task = actions.create_task(
        case,
        acting_user=analyst,
        type=TaskType.FREEZE,
        agency=agency("ABC"),
        target_kind=TargetKind.BANK_ACCOUNT,
        target_value="6230000000000123",
        amount=Decimal("1000.00"),
        legal_document_number="成公冻字[2026]9号",
    )
    with django_capture_on_commit_callbacks(execute=True):
        task = actions.approve_task(task, acting_user=supervisor)
        task, _ = actions.submit_result(
            task, acting_user=abc_liaison, status="completed", result={"amount_held": "900"}
        )
    assert watchers.renewal_reminders(now=task.lapses_at - timedelta(days=16)) == 0
    remind_at = task.lapses_at - timedelta(days=14)
    assert _run_twice(watchers.renewal_reminders, remind_at, django_capture_on_commit_callbacks) == (1, 0)
    assert Notification.objects.filter(kind="renewal", task=task, user=analyst).count() == 1
    # A freeze is not a stop-payment: no two-hour lapse warning.
    assert watchers.lapse_warnings(now=task.lapses_at - timedelta(hours=1)) == 0


def test_watchers_page_through_more_than_one_batch(analyst, ccb_liaison, monkeypatch):
    monkeypatch.setattr(watchers, "BATCH", 2)
    tasks = []
    for index in range(5):
        case = make_case(analyst, to_account=f"62170000100199{index:05d}")
        tasks += actions.issue_stop_payments(case, acting_user=analyst)
    later = max(t.deadline for t in tasks) + timedelta(minutes=1)
    assert watchers.overdue(now=later) == 5
    assert watchers.overdue(now=later) == 0


def test_run_watchers_command_runs_each_once(stop_task, monkeypatch):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("run_watchers", stdout=out)
    assert out.getvalue().strip() == "overdue=0 warnings_escalated=0 lapse_warnings=0 expired=0 renewal_reminders=0"
    monkeypatch.setattr(timezone, "now", lambda: stop_task.deadline + timedelta(minutes=5))
    out = StringIO()
    call_command("run_watchers", stdout=out)
    assert out.getvalue().startswith("overdue=1 ")
