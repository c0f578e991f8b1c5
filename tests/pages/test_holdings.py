"""A case's stopped and frozen totals on a hand-built history: each yuan counted once (docs/holdings.md).

The history: a loss of 80,000.00 paid into one CCB account. The bank's
stop-payment holds 70,900.00 (stopped 70,900.00, frozen 0). The case is filed
and the stop-payment converted into a freeze, which the bank reports holding
10,000.00: the freeze takes those over from the stop-payment it follows, so
stopped 60,900.00 and frozen 10,000.00 (not 70,900.00 + 10,000.00 = 80,900.00
held, more than was lost). When the stop-payment lapses, only the freeze
counts: stopped 0, frozen 10,000.00.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from cases import actions, holdings
from cases.models import Case, Task
from coordination.models import AuditRecord
from tests.conftest import make_case

pytestmark = pytest.mark.django_db

DOCUMENT = "成公冻字〔2026〕7号"
FILING = "成公立字〔2026〕1号"


def _page_held(client, case):
    response = client.get(reverse("case-detail", args=[case.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="held-stopped"' in body and 'id="held-frozen"' in body
    held = response.context["held"]
    return held.stopped, held.frozen


def _stored(case):
    case = Case.objects.get(pk=case.pk)
    return case.amount_stopped, case.amount_frozen


@pytest.fixture
def converted(analyst, supervisor, ccb_liaison):
    case = make_case(analyst, amount="80000.00")
    assert case.loss_amount == Decimal("80000.00")
    [stop] = actions.issue_stop_payments(case, acting_user=analyst)
    stop, _ = actions.submit_result(
        stop, acting_user=ccb_liaison, status="completed", result={"amount_held": "70900.00"}
    )
    assert _stored(case) == (Decimal("70900.00"), Decimal("0.00"))
    case = actions.file_case(case, acting_user=analyst, filing_number=FILING)
    [freeze] = actions.convert_stop_payments(case, acting_user=analyst, legal_document_number=DOCUMENT).freezes
    assert freeze.follows_id == stop.pk and freeze.amount == Decimal("70900.00")  # it asks for what the stop held
    # Issued but not yet held: the stop-payment still holds all of it.
    assert _stored(case) == (Decimal("70900.00"), Decimal("0.00"))
    freeze = actions.approve_task(freeze, acting_user=supervisor)
    freeze, _ = actions.submit_result(
        freeze, acting_user=ccb_liaison, status="completed", result={"amount_held": "10000.00"}
    )
    return case, stop, freeze


def test_converted_money_is_counted_once(client, analyst, converted):
    case, _stop, _freeze = converted
    client.force_login(analyst)
    expected = (Decimal("60900.00"), Decimal("10000.00"))
    assert _page_held(client, case) == expected
    assert _stored(case) == expected  # what lists, statistics and the API read
    api = APIClient()
    api.force_authenticate(analyst)
    data = api.get(f"/api/v1/cases/{case.pk}/").json()
    assert (data["amount_stopped"], data["amount_frozen"]) == ("60900.00", "10000.00")
    # The edit page shows the same figures.
    edit = client.get(reverse("case-edit", args=[case.pk]))
    assert (edit.context["held"].stopped, edit.context["held"].frozen) == expected
    # The money-flow graph marks the account as holding 70,900.00 in all, not 80,900.00.
    assert sum(holdings.counted(Task.objects.filter(case=case)).values()) == Decimal("70900.00")


def test_a_lapsed_stop_payment_no_longer_counts(client, analyst, converted):
    case, stop, _freeze = converted
    client.force_login(analyst)
    # Past its lapse time the page counts it no more, before the watcher has moved it to expired.
    Task.objects.filter(pk=stop.pk).update(lapses_at=timezone.now() - timedelta(minutes=1))
    assert _page_held(client, case) == (Decimal("0.00"), Decimal("10000.00"))
    actions.expire_task(Task.objects.get(pk=stop.pk))
    assert _stored(case) == (Decimal("0.00"), Decimal("10000.00"))


def test_a_freeze_renewal_is_not_a_second_freeze(analyst, supervisor, ccb_liaison, converted):
    case, _stop, freeze = converted
    renewal = actions.renew_task(freeze, acting_user=analyst, legal_document_number="成公冻字〔2026〕8号")
    renewal = actions.approve_task(renewal, acting_user=supervisor)
    actions.submit_result(renewal, acting_user=ccb_liaison, status="completed", result={"amount_held": "10000.00"})
    assert _stored(case) == (Decimal("60900.00"), Decimal("10000.00"))


def test_closing_records_the_figures_counted_once(analyst, converted):
    case, _stop, _freeze = converted
    Case.objects.filter(pk=case.pk).update(amount_stopped=Decimal("80900.00"))  # a stale total from before
    actions.close_case(case, acting_user=analyst, outcome="partly_returned", summary="部分冻结")
    row = AuditRecord.objects.get(case_id=case.pk, action="case.close")
    assert row.after["amount_stopped"] == "60900.00" and row.after["amount_frozen"] == "10000.00"


def test_the_linked_cases_panel_counts_the_account_once(client, analyst, converted):
    """Another case paid into the same account: its panel shows the stop-payment 60,900.00, the freeze 10,000.00."""
    case, _stop, _freeze = converted
    other = make_case(analyst, from_account="6222020200177777777")  # the same receiving account
    client.force_login(analyst)
    body = client.get(reverse("case-detail", args=[other.pk])).content.decode()
    panel = body.split('id="linked-cases"', 1)[1].split("</ul>\n", 1)[0]
    assert case.reference in panel
    assert "¥60,900.00" in panel and "¥10,000.00" in panel and "¥70,900.00" not in panel
