"""A case corrected and closed in a real browser: the reason is asked for, the timeline shows it, edits stop."""

from __future__ import annotations

from decimal import Decimal

import pytest

from cases.models import Case
from coordination.models import AuditRecord
from tests.conftest import make_case

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_correct_then_close_a_case(live_server, login, screenshots, analyst):
    case = make_case(analyst)
    errors: list[str] = []
    page = login(analyst.username)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(live_server.url + f"/cases/{case.pk}/")
    page.click("#edit-case")
    page.wait_for_selector("#correct-case")
    screenshots(page, "20-case-edit")

    # Without a reason the correction is refused beside the field, and nothing is saved.
    page.fill("#id_case-loss_amount", "50000.00")
    page.click("#correct-case button[type=submit]")
    page.wait_for_selector("#id_case-reason_error")
    assert Case.objects.get(pk=case.pk).loss_amount == Decimal("52000.00")
    screenshots(page, "21-case-correction-needs-reason")

    page.fill("#id_case-loss_amount", "50000.00")
    page.fill("#id_case-reason", "受害人核对银行流水后更正金额")
    page.click("#correct-case button[type=submit]")
    page.wait_for_url(f"**/cases/{case.pk}/")
    assert "¥50,000.00" in page.inner_text(".grid")
    assert "更正" in page.inner_text(".messages")
    row = AuditRecord.objects.get(case_id=case.pk, action="case.update")
    assert row.before == {"loss_amount": "52000.00"}
    assert row.after == {"loss_amount": "50000.00", "reason": "受害人核对银行流水后更正金额"}
    screenshots(page, "22-case-corrected")

    # Closure with its outcome and summary.
    page.click("#edit-case")
    page.select_option("#id_close-outcome", "not_recovered")
    page.fill("#id_close-summary", "资金已被转移，未能追回")
    page.click("#close-case button[type=submit]")
    page.wait_for_url(f"**/cases/{case.pk}/")
    assert page.inner_text("h1 .state") == "已结案"
    assert "资金已被转移，未能追回" in page.inner_text("#closure")
    assert page.locator("#edit-case").count() == 0
    screenshots(page, "23-case-closed")

    # The edit page of a closed case says so and offers no form.
    page.goto(live_server.url + f"/cases/{case.pk}/edit/")
    assert "案件已结案，不能再修改" in page.inner_text("#case-closed")
    assert page.locator("#correct-case").count() == 0
    assert Case.objects.get(pk=case.pk).status == "closed"
    assert errors == []
