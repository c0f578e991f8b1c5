"""The API closes a case as the page's close form does: outcome and summary required, the same errors."""

from __future__ import annotations

from decimal import Decimal

import pytest

from cases.models import Case
from coordination.models import AuditRecord

pytestmark = pytest.mark.django_db


def _close(api, analyst, case, body):
    return api(analyst).post(f"/api/v1/cases/{case.pk}/close/", body, format="json")


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, {"outcome", "summary"}),
        ({"amount_returned": "100.00"}, {"outcome", "summary"}),
        ({"outcome": "returned", "summary": "   "}, {"summary"}),
        ({"outcome": "won", "summary": "x"}, {"outcome"}),
        ({"outcome": "", "summary": "x"}, {"outcome"}),
        ({"outcome": "returned", "summary": "x" * 20001}, {"summary"}),
        ({"outcome": "returned", "summary": "x", "amount_returned": "-1.00"}, {"amount_returned"}),
        ({"outcome": "returned", "summary": "x", "amount_returned": 1.5}, {"amount_returned"}),
    ],
)
def test_bad_closures_are_400_and_change_nothing(api, analyst, case, body, fields):
    response = _close(api, analyst, case, body)
    assert response.status_code == 400, response.content
    assert set(response.json()) >= fields
    case.refresh_from_db()
    assert case.status == "open" and case.outcome == "" and case.closure_summary == ""
    assert not AuditRecord.objects.filter(case_id=case.pk, action="case.close").exists()


def test_close_with_outcome_and_summary(api, analyst, case):
    Case.objects.filter(pk=case.pk).update(amount_returned=Decimal("3000.00"))  # what the banks reported
    response = _close(api, analyst, case, {"outcome": "partly_returned", "summary": "  冻结资金已部分返还 "})
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["status"] == "closed" and data["outcome"] == "partly_returned"
    assert data["closure_summary"] == "冻结资金已部分返还" and data["closed_at"]
    # No amount (or null): the banks' reported 3,000.00 is kept, as the page's empty field keeps it.
    assert data["amount_returned"] == "3000.00"
    row = AuditRecord.objects.get(case_id=case.pk, action="case.close")
    assert row.after["outcome"] == "partly_returned" and row.after["closure_summary"] == "冻结资金已部分返还"
    again = _close(api, analyst, case, {"outcome": "returned", "summary": "again"})
    assert again.status_code == 409


def test_the_amount_returned_is_never_typed(api, analyst, case):
    # It follows from the banks' fund-return reports (cases.fund_return), so a typed one is refused.
    body = {"outcome": "returned", "summary": "全额返还", "amount_returned": "52000.00"}
    response = _close(api, analyst, case, body)
    assert response.status_code == 400 and set(response.json()) >= {"amount_returned"}
    case.refresh_from_db()
    assert case.status != "closed" and case.amount_returned == Decimal("0.00")
