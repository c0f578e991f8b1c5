"""Personal data per role, and a case shared with a named person through the API."""

from __future__ import annotations

import pytest

from tests.conftest import RECEIVING_ACCOUNT

pytestmark = pytest.mark.django_db


def test_victim_masked_for_auditor_full_for_analyst(api, analyst, auditor, case):
    full = api(analyst).get(f"/api/v1/cases/{case.pk}/").json()["victims"][0]
    assert full == {"name": "张三", "id_number": "51010719900101123X", "phone": "13800000000"}
    masked = api(auditor).get(f"/api/v1/cases/{case.pk}/").json()["victims"][0]
    assert masked["name"] == "张*"
    assert masked["id_number"] == "510*************3X"
    assert masked["phone"] == "138****0000"


def test_task_target_full_for_own_agency_masked_for_auditor(api, auditor, ccb_liaison, stop_task):
    own = api(ccb_liaison).get(f"/api/v1/tasks/{stop_task.pk}/").json()
    assert own["target"]["value"] == RECEIVING_ACCOUNT
    assert "id" not in own["case"] and set(own["case"]) == {"reference", "fraud_type", "reported_at"}
    seen = api(auditor).get(f"/api/v1/tasks/{stop_task.pk}/").json()
    assert seen["target"]["value"] == "6217***********5678"
    assert seen["case"]["id"] == stop_task.case_id


def test_identifiers_masked_for_auditor(api, auditor, case):
    values = {row["value"] for row in api(auditor).get(f"/api/v1/cases/{case.pk}/identifiers/").json()["results"]}
    assert RECEIVING_ACCOUNT not in values
    assert "6217***********5678" in values


def test_share_then_unshare_a_case_with_a_station_investigator(api, supervisor, station_user, case):
    investigator = api(station_user)
    assert investigator.get(f"/api/v1/cases/{case.pk}/").status_code == 404
    body = {"username": station_user.username, "permission": "view"}
    assert api(supervisor).post(f"/api/v1/cases/{case.pk}/share/", body, format="json").status_code == 204
    detail = investigator.get(f"/api/v1/cases/{case.pk}/")
    assert detail.status_code == 200
    assert detail.json()["victims"][0]["id_number"] == "510*************3X"  # shared, still masked
    assert [row["id"] for row in investigator.get("/api/v1/cases/").json()["results"]] == [case.pk]
    # Viewing is not changing.
    assert investigator.post(f"/api/v1/cases/{case.pk}/file/", {"filing_number": "X"}, format="json").status_code == 403
    assert api(supervisor).post(f"/api/v1/cases/{case.pk}/unshare/", body, format="json").status_code == 204
    assert investigator.get(f"/api/v1/cases/{case.pk}/").status_code == 404


def test_share_with_unknown_user_is_400(api, supervisor, case):
    response = api(supervisor).post(f"/api/v1/cases/{case.pk}/share/", {"username": "nobody"}, format="json")
    assert response.status_code == 400
    assert "username" in response.json()


def test_bulk_approval_reports_each_task(api, analyst, supervisor, case):
    from cases import actions
    from tests.conftest import agency

    freeze_case = actions.file_case(case, acting_user=analyst, filing_number="成公立字〔2026〕1号")
    stop = actions.create_task(
        freeze_case, acting_user=analyst, type="emergency_stop_payment", agency=agency("CCB"),
        target_kind="bank_account", target_value="6217000010011111111",
    )  # fmt: skip
    freeze = actions.create_task(
        freeze_case, acting_user=analyst, type="freeze", agency=agency("CCB"), target_kind="bank_account",
        target_value="6217000010022222222", legal_document_number="成公冻字〔2026〕1号",
    )  # fmt: skip
    answer = api(analyst).post("/api/v1/tasks/approve/", {"ids": [stop.pk, freeze.pk, 10**9]}, format="json").json()
    assert answer["approved"] == [stop.pk]
    assert set(answer["refused"]) == {str(freeze.pk), str(10**9)}  # a freeze needs a supervisor
    answer = api(supervisor).post("/api/v1/tasks/approve/", {"ids": [freeze.pk]}, format="json").json()
    assert answer == {"approved": [freeze.pk], "refused": {}}


def test_lookup_reveals_references_to_centre_only(api, analyst, ccb_liaison, auditor, case):
    params = {"kind": "bank_account", "value": RECEIVING_ACCOUNT}
    centre = api(analyst).get("/api/v1/identifiers/lookup/", params).json()
    assert centre["cases"] == [case.reference] and centre["involved"] and centre["case_count"] == 1
    for user in (ccb_liaison, auditor):
        answer = api(user).get("/api/v1/identifiers/lookup/", params).json()
        assert "cases" not in answer and answer["involved"] is True
    # A victim's own account is not a fraud signal.
    victim = api(ccb_liaison).get(
        "/api/v1/identifiers/lookup/", {"kind": "bank_account", "value": "6222020200112233445"}
    )
    assert victim.json()["involved"] is False and victim.json()["first_seen_at"] is None
    unknown = api(ccb_liaison).get("/api/v1/identifiers/lookup/", {"kind": "url", "value": "https://www.Nope.example/"})
    assert unknown.json() == {
        "kind": "url", "value": "nope.example", "involved": False, "case_count": 0, "first_seen_at": None,
        "last_seen_at": None, "stop_payment_active": False, "freeze_active": False,
    }  # fmt: skip
