"""A warning worked: hand-over, contact, outcomes, escalation with time moved forward."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from alerts import watchers
from alerts.models import Notification
from cases.models import Case
from coordination.models import AuditRecord
from dissuasion.models import Warning
from tests.api.conftest import token_client
from tests.conftest import make_user

from .conftest import clue

pytestmark = pytest.mark.django_db


def send(user, *clues):
    answer = token_client(user).post("/api/v1/warnings/", {"clues": list(clues)}, format="json")
    assert answer.status_code == 201, answer.content
    return [Warning.objects.get(pk=e["warning"]) for e in answer.json()]


def test_the_sub_bureau_hands_a_warning_to_its_station_in_one_action(icbc_liaison, wuhou_bureau, yulin):
    [warning] = send(icbc_liaison, clue("H-1"))
    assert warning.unit.code == "PSB-WUHOU"
    bureau = token_client(wuhou_bureau)
    # Another district's station is refused; the station itself cannot take it.
    assert (
        bureau.post(
            f"/api/v1/warnings/{warning.pk}/hand-over/", {"station": "PS-JINJIANG-CHUNXI"}, format="json"
        ).status_code
        == 400
    )
    assert (
        token_client(yulin)
        .post(f"/api/v1/warnings/{warning.pk}/hand-over/", {"station": "PS-WUHOU-YULIN"}, format="json")
        .status_code
        == 404
    )
    answer = bureau.post(f"/api/v1/warnings/{warning.pk}/hand-over/", {"station": "PS-WUHOU-YULIN"}, format="json")
    assert answer.status_code == 200, answer.content
    warning.refresh_from_db()
    assert warning.unit.code == "PS-WUHOU-YULIN" and warning.task.agency.code == "PS-WUHOU-YULIN"
    row = AuditRecord.objects.get(action="task.hand_over", object_id=warning.task_id)
    assert row.user_id == wuhou_bureau.pk
    assert row.after["agency_id"] == warning.unit_id and row.before["agency_id"] == warning.bureau_id
    # Once handed over, the sub-bureau no longer holds it: a second hand-over is refused.
    again = bureau.post(f"/api/v1/warnings/{warning.pk}/hand-over/", {"station": "PS-WUHOU-CUQIAO"}, format="json")
    assert again.status_code in (403, 404)
    # The station now reads the person in full; the sub-bureau sees the warning, masked.
    task = token_client(yulin).get(f"/api/v1/tasks/{warning.task_id}/").json()
    assert task["person"]["phone"] == "13800000000" and task["person"]["level"] == "high"
    assert token_client(wuhou_bureau).get(f"/api/v1/tasks/{warning.task_id}/").status_code == 404
    assert token_client(wuhou_bureau).get(f"/api/v1/warnings/{warning.pk}/").status_code == 200


def test_a_station_sees_only_its_own_warnings(icbc_liaison, yulin, cuqiao):
    [mine, other] = send(icbc_liaison, clue("S-1", address="玉林北路1号"), clue("S-2", address="簇桥街道3号"))
    assert mine.unit.code == "PS-WUHOU-YULIN" and other.unit.code == "PS-WUHOU-CUQIAO"
    tasks = token_client(yulin).get("/api/v1/tasks/").json()["results"]
    assert [t["id"] for t in tasks] == [mine.task_id]
    assert token_client(yulin).get(f"/api/v1/tasks/{other.task_id}/").status_code == 404
    assert token_client(yulin).get(f"/api/v1/warnings/{other.pk}/").status_code == 404


def test_the_station_reports_the_contact_through_the_result_api(icbc_liaison, yulin):
    [warning] = send(icbc_liaison, clue("O-1", address="玉林北路1号", amount="30000.00"))
    contacted = timezone.now() - timedelta(minutes=2)
    answer = token_client(yulin).post(
        f"/api/v1/tasks/{warning.task_id}/result/",
        {
            "status": "completed",
            "result": {"contacted_at": contacted.isoformat(), "outcome": "reached", "method": "call"},
        },
        format="json",
    )
    assert answer.status_code == 200, answer.content
    warning.refresh_from_db()
    assert warning.outcome == "reached" and warning.contact_method == "call"
    assert abs((warning.contacted_at - contacted).total_seconds()) < 1 and warning.closed_at is not None
    # The sender sees the outcome, nothing else.
    seen = token_client(icbc_liaison).get(f"/api/v1/warnings/{warning.pk}/").json()
    assert seen["outcome"] == "reached" and set(seen) == {
        "id",
        "source_reference",
        "level",
        "outcome",
        "created_at",
        "closed_at",
    }
    bad = token_client(yulin).post(
        f"/api/v1/tasks/{send(icbc_liaison, clue('O-2', address='玉林'))[0].task_id}/result/",
        {"status": "completed", "result": {"contacted_at": "yesterday", "outcome": "maybe", "method": "fax"}},
        format="json",
    )
    assert bad.status_code == 400


def test_already_lost_opens_a_case_draft_for_the_centre(icbc_liaison, yulin, analyst):
    [warning] = send(icbc_liaison, clue("L-1", address="玉林北路1号", id_number="51010719900101123X"))
    answer = token_client(yulin).post(
        f"/api/v1/tasks/{warning.task_id}/result/",
        {
            "status": "completed",
            "result": {
                "contacted_at": timezone.now().isoformat(),
                "outcome": "already_lost",
                "method": "visit",
                "amount_lost": "8000.00",
            },
        },
        format="json",
    )
    assert answer.status_code == 200, answer.content
    warning.refresh_from_db()
    case = Case.objects.get(pk=warning.lost_case_id)
    assert case.loss_amount == Decimal("8000.00") and case.district.code == "wuhou"
    assert case.victims.get().id_number == "51010719900101123X"
    assert AuditRecord.objects.filter(action="case.create", case_id=case.pk).exists()
    assert token_client(analyst).get(f"/api/v1/cases/{case.pk}/").status_code == 200
    assert token_client(icbc_liaison).get(f"/api/v1/cases/{case.pk}/").status_code == 404


def test_an_overdue_warning_goes_to_the_sub_bureau_then_the_centre(icbc_liaison, yulin, wuhou_bureau, supervisor):
    [warning] = send(icbc_liaison, clue("E-1", address="玉林北路1号", level="high"))
    assert (warning.deadline - warning.created_at) == timedelta(minutes=10)
    now = warning.created_at
    assert watchers.warning_escalations(now + timedelta(minutes=9)) == 0
    assert watchers.warning_escalations(now + timedelta(minutes=11)) == 1
    assert watchers.warning_escalations(now + timedelta(minutes=12)) == 0  # once
    told = Notification.objects.filter(kind="warning_escalated")
    assert set(told.values_list("user_id", flat=True)) == {wuhou_bureau.pk}
    assert watchers.warning_escalations(now + timedelta(minutes=21)) == 1
    assert supervisor.pk in set(told.values_list("user_id", flat=True))
    assert yulin.pk not in set(told.values_list("user_id", flat=True))
    warning.refresh_from_db()
    assert warning.escalated_bureau_at and warning.escalated_centre_at
    assert AuditRecord.objects.filter(action="warning.escalate", object_id=warning.task_id).count() == 2
    assert watchers.warning_escalations(now + timedelta(hours=5)) == 0


def test_a_reached_warning_is_not_escalated(icbc_liaison, yulin):
    [warning] = send(icbc_liaison, clue("E-2", address="玉林北路1号", level="medium"))
    token_client(yulin).post(
        f"/api/v1/tasks/{warning.task_id}/result/",
        {"status": "completed", "result": {"contacted_at": timezone.now().isoformat(), "outcome": "reached"}},
        format="json",
    )
    assert watchers.warning_escalations(warning.created_at + timedelta(hours=3)) == 0


def test_a_warning_still_at_the_sub_bureau_goes_straight_to_the_centre(icbc_liaison, supervisor):
    make_user("t_wuhou_b2", "PSB-WUHOU", "liaison")
    [warning] = send(icbc_liaison, clue("E-3", level="low"))
    assert watchers.warning_escalations(warning.created_at + timedelta(minutes=121)) == 1
    warning.refresh_from_db()
    assert warning.escalated_centre_at is not None
    assert Notification.objects.filter(kind="warning_escalated", user=supervisor).exists()
