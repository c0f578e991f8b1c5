"""The partner flow end to end through the API, as the protocol describes it."""

from __future__ import annotations

import copy

import pytest
from django.utils import timezone

from cases.models import Case, CaseIdentifier, FollowUpProposal, Task, Transfer
from coordination.models import AuditRecord

from .conftest import ago, case_body

pytestmark = pytest.mark.django_db


def result_body() -> dict:
    """The bank's result: executed a minute ago, the onward transfer before the report."""
    return {
        "status": "completed",
        "executed_at": ago(minutes=1),
        "reason": None,
        "result": {
            "amount_held": "31000.00",
            "balance": "31000.00",
            "onward_transfers": [
                {
                    "account_number": "6230000000000001",
                    "bank": "ABC",
                    "holder_name": "李四",
                    "amount": "21000.00",
                    "at": ago(hours=1, minutes=22),
                }
            ],
        },
    }


def test_partner_flow(api, analyst, supervisor, ccb_partner):
    centre = api(analyst)
    response = centre.post("/api/v1/cases/", case_body(), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    case_id, reference = body["id"], body["reference"]
    assert reference.startswith(f"CD-{timezone.localtime(Case.objects.get(pk=case_id).reported_at).year}-")
    assert Transfer.objects.filter(case_id=case_id).count() == 1
    assert AuditRecord.objects.filter(case_id=case_id, action="case.create").exists()

    # A task exactly as the protocol's example body.
    task_body = {
        "case": case_id,
        "type": "emergency_stop_payment",
        "agency": "CCB",
        "target": {"kind": "bank_account", "value": "6217000010012345678"},
        "amount": "52000.00",
        "legal_document_number": None,
        "note": "text",
    }
    response = centre.post("/api/v1/tasks/", task_body, format="json")
    assert response.status_code == 201, response.json()
    task = response.json()
    assert task["status"] == "pending_approval"
    assert "state" not in task  # v1.1: the representation says `status`, as the filter does
    assert task["target"] == {"kind": "bank_account", "value": "6217000010012345678", "holder_name": "", "bank": "CCB"}

    response = api(supervisor).post(f"/api/v1/tasks/{task['id']}/approve/")
    assert response.status_code == 200, response.json()
    assert response.json()["status"] in ("approved", "dispatched")

    bank = api(ccb_partner)
    inbox = bank.get("/api/v1/tasks/", {"status": ["approved", "dispatched"]}).json()
    assert [row["id"] for row in inbox["results"]] == [task["id"]]
    mine = inbox["results"][0]
    # The bank reads its own target in full, and only the case data the task needs.
    assert mine["target"]["value"] == "6217000010012345678"
    assert mine["case"] == {
        "reference": reference,
        "fraud_type": "fake_investment",
        "reported_at": mine["case"]["reported_at"],
    }

    response = bank.post(f"/api/v1/tasks/{task['id']}/accept/")
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "accepted"

    result = result_body()
    response = bank.post(f"/api/v1/tasks/{task['id']}/result/", result, format="json")
    assert response.status_code == 200, response.json()
    assert response.json() == {"id": task["id"], "status": "completed", "changed": True}

    # New identifier, money-flow edge and proposal.
    identifiers = centre.get(f"/api/v1/cases/{case_id}/identifiers/").json()["results"]
    assert "6230000000000001" in {row["value"] for row in identifiers}
    flow = centre.get(f"/api/v1/cases/{case_id}/money-flow/").json()
    assert len(flow["edges"]) == 2
    proposals = centre.get(f"/api/v1/cases/{case_id}/proposals/").json()["results"]
    assert [(p["account"], p["agency"], p["amount"]) for p in proposals] == [("6230000000000001", "ABC", "21000.00")]
    case = Case.objects.get(pk=case_id)
    assert str(case.amount_stopped) == "31000.00"

    # The lookup now reports an active stop-payment on the receiving account.
    lookup = bank.get("/api/v1/identifiers/lookup/", {"kind": "bank_account", "value": "6217 0000 1001 2345 678"})
    assert lookup.status_code == 200
    answer = lookup.json()
    assert answer["involved"] is True and answer["stop_payment_active"] is True
    assert "cases" not in answer  # an agency never learns the references

    # Same result again: 200, nothing changes.
    audit_rows = AuditRecord.objects.count()
    transfers = Transfer.objects.count()
    response = bank.post(f"/api/v1/tasks/{task['id']}/result/", result, format="json")
    assert response.status_code == 200
    assert response.json()["changed"] is False
    assert (AuditRecord.objects.count(), Transfer.objects.count()) == (audit_rows, transfers)

    # A different second result: 409 with the current state.
    different = copy.deepcopy(result)
    different["result"]["amount_held"] = "1.00"
    response = bank.post(f"/api/v1/tasks/{task['id']}/result/", different, format="json")
    assert response.status_code == 409
    assert "detail" in response.json()
    assert Task.objects.get(pk=task["id"]).amount_held == 31000

    # The follow-ups in one call: a stop-payment to ABC for the onward account.
    response = api(supervisor).post(f"/api/v1/cases/{case_id}/follow-ups/", {}, format="json")
    assert response.status_code == 201, response.json()
    [follow_up] = response.json()
    assert follow_up["agency"] == "ABC" and follow_up["follows"] == task["id"]
    assert FollowUpProposal.objects.get().state == "issued"
    assert CaseIdentifier.objects.filter(case_id=case_id).count() == 3
