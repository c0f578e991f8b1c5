"""The whole life of a case in real browsers, one context per person (issue 10's "done when").

Intake, one-click stop-payments, the bank's result, the next layer, filing, the
conversion into freezes, an account query under its legal document, a number
shutdown and a URL block, a victim warning the police station completes, a
correction, a rejected stop-payment re-issued with corrected details, closure.
Every step through the pages a person uses; the database is read only to check.
Screenshots of each step: test-artifacts/screenshots/life-*.png.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from agencies.models import Agency
from cases.choices import TaskState, TaskType
from cases.models import Case, Task
from coordination.models import AuditRecord
from tests.conftest import make_user

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

CCB_ACCOUNT = "6217000010012345678"
ABC_ACCOUNT = "6228480010099887766"  # as the victim first gave it: the bank finds no such account
ABC_CORRECTED = "6228480010099887767"
SUSPECT_PHONE = "13800138000"
SUSPECT_URL = "pay-fraud.example.com/checkout"


def local_minute(delta_minutes: int = 0) -> str:
    return (timezone.localtime() + timedelta(minutes=delta_minutes)).strftime("%Y-%m-%dT%H:%M")


def pk(code: str) -> str:
    return str(Agency.objects.get(code=code).pk)


def measure(page, base: str, case: Case, identifier_value: str, code: str) -> None:
    """Open the measure ``code`` offered on the case page's row of ``identifier_value``."""
    page.goto(f"{base}/cases/{case.pk}/")
    identifier = case.case_identifiers.get(identifier__value=identifier_value).identifier
    page.locator(f'td.measures[data-identifier="{identifier.pk}"] a[data-measure="{code}"]').click()
    page.wait_for_selector("#measure-form")


def approve(page, base: str, task: Task) -> None:
    page.goto(f"{base}/tasks/{task.pk}/")
    page.click("#approve")
    page.wait_for_load_state()
    task.refresh_from_db()
    assert task.state in (TaskState.APPROVED, TaskState.DISPATCHED), task.state


def test_the_whole_life_of_a_case(live_server, login, screenshots, analyst, supervisor, ccb_liaison):
    base = live_server.url
    abc_liaison = make_user("life_abc", "ABC", "liaison")
    errors: list[str] = []

    # 1. Intake: a victim, two transfers, the suspect's phone and URL.
    centre = login(analyst.username)
    centre.on("pageerror", lambda exc: errors.append(str(exc)))
    centre.goto(base + "/cases/new/")
    centre.fill("#id_victim_name", "陈小明")
    centre.fill("#id_victim_phone", "13912345678")
    centre.select_option("#id_fraud_type", index=1)
    centre.select_option("#id_channel", index=1)
    centre.select_option("#id_district", index=1)
    centre.fill("#id_summary", "冒充客服诱导转账")
    centre.fill("#id_suspect_phone", SUSPECT_PHONE)
    centre.fill("#id_suspect_url", SUSPECT_URL)
    centre.fill("#id_transfers-0-from_account", "6222020200112233445")
    centre.select_option("#id_transfers-0-from_bank", pk("ICBC"))
    centre.fill("#id_transfers-0-to_account", CCB_ACCOUNT)
    centre.select_option("#id_transfers-0-to_bank", pk("CCB"))
    centre.fill("#id_transfers-0-amount", "30000.00")
    centre.fill("#id_transfers-0-at", local_minute(-40))
    centre.click("[data-add-row]")
    centre.fill("#id_transfers-1-from_account", "6222020200112233445")
    centre.select_option("#id_transfers-1-from_bank", pk("ICBC"))
    centre.fill("#id_transfers-1-to_account", ABC_ACCOUNT)
    centre.select_option("#id_transfers-1-to_bank", pk("ABC"))
    centre.fill("#id_transfers-1-amount", "22000.00")
    centre.fill("#id_transfers-1-at", local_minute(-35))
    centre.click("form#intake button[type=submit]")
    centre.wait_for_selector("#id_confirm_accounts")  # the victim's card fails its check digit
    centre.check("#id_confirm_accounts")
    centre.click("form#intake button[type=submit]")
    centre.wait_for_url(re.compile(r"/cases/\d+/$"))
    case = Case.objects.get()
    screenshots(centre, "life-01-intake")

    # 2. Stop-payments to both receiving accounts in one click.
    centre.click("#issue-stop-payments")
    centre.wait_for_selector("#tasks .state-dispatched")
    ccb_stop = Task.objects.get(case=case, agency__code="CCB", type=TaskType.EMERGENCY_STOP_PAYMENT)
    abc_stop = Task.objects.get(case=case, agency__code="ABC", type=TaskType.EMERGENCY_STOP_PAYMENT)
    screenshots(centre, "life-02-stop-payments")

    # 3. The bank holds 18,000 and reports where 12,000 went on.
    bank = login(ccb_liaison.username)
    bank.goto(f"{base}/tasks/{ccb_stop.pk}/")
    bank.click("#accept")
    bank.wait_for_load_state()
    bank.goto(f"{base}/tasks/{ccb_stop.pk}/")
    bank.fill("#id_amount_held", "18000.00")
    bank.click("[data-formset=onward] [data-add-row]")
    bank.fill("#id_onward-0-account_number", "6216610000123456789")
    bank.select_option("#id_onward-0-bank", pk("BOC"))
    bank.fill("#id_onward-0-holder_name", "李某")
    bank.fill("#id_onward-0-amount", "12000.00")
    bank.fill("#id_onward-0-at", local_minute(-20))
    bank.click("#submit-result")
    bank.wait_for_url(re.compile(r"/inbox/$"))
    ccb_stop.refresh_from_db()
    assert ccb_stop.state == TaskState.COMPLETED
    screenshots(bank, "life-03-bank-result")

    # 4. The other bank refuses: the account details do not match.
    other_bank = login(abc_liaison.username)
    other_bank.goto(f"{base}/tasks/{abc_stop.pk}/")
    other_bank.fill('form[action$="/reject/"] textarea[name=reason]', "账户信息不符")
    other_bank.click('form[action$="/reject/"] button[type=submit]')
    other_bank.wait_for_load_state()
    abc_stop.refresh_from_db()
    assert abc_stop.state == TaskState.REJECTED

    # 5. The next layer in one click.
    centre.goto(f"{base}/cases/{case.pk}/")
    centre.wait_for_selector("#proposals")
    centre.click("#issue-follow-ups")
    centre.wait_for_load_state()
    assert Task.objects.filter(case=case, agency__code="BOC", state=TaskState.DISPATCHED).count() == 1
    screenshots(centre, "life-04-next-layer")

    # 6. The rejected stop-payment: the reason in view, re-issued with the corrected account.
    centre.goto(f"{base}/tasks/{abc_stop.pk}/reissue/")
    assert "账户信息不符" in centre.inner_text("#rejection-reason")
    centre.fill("#id_target_value", ABC_CORRECTED)
    screenshots(centre, "life-05-reissue")
    centre.click("#reissue")
    centre.wait_for_url(re.compile(rf"/cases/{case.pk}/$"))
    reissued = Task.objects.get(case=case, agency__code="ABC", target__value=ABC_CORRECTED)
    assert reissued.follows_id == abc_stop.pk
    assert reissued.state in (TaskState.APPROVED, TaskState.DISPATCHED)

    # 7. Filing, then every live stop-payment becomes a freeze under one legal document.
    centre.fill("#id_filing_number", "成公立字〔2026〕101号")
    centre.click('form[action$="/file/"] button[type=submit]')
    centre.wait_for_load_state()
    case.refresh_from_db()
    assert case.status == "filed"
    centre.fill("#convert-legal-document", "成公冻字〔2026〕102号")
    centre.click("#convert-freezes")
    centre.wait_for_load_state()
    freezes = list(Task.objects.filter(case=case, type=TaskType.FREEZE))
    assert freezes and all(f.follows_id for f in freezes)
    screenshots(centre, "life-06-freezes")

    # 8. An account query under its legal document, a number shutdown, a URL block.
    measure(centre, base, case, CCB_ACCOUNT, "account_query")
    centre.fill("#id_legal_document_number", "成公查字〔2026〕103号")
    centre.click("#submit-measure")
    centre.wait_for_url(re.compile(rf"/cases/{case.pk}/$"))
    query = Task.objects.get(case=case, type=TaskType.ACCOUNT_QUERY)
    assert query.agency.code == "CCB" and query.legal_document_number == "成公查字〔2026〕103号"

    measure(centre, base, case, SUSPECT_PHONE, "number_shutdown")
    centre.click("#submit-measure")
    centre.wait_for_url(re.compile(rf"/cases/{case.pk}/$"))
    shutdown = Task.objects.get(case=case, type=TaskType.NUMBER_SHUTDOWN)
    assert shutdown.agency.sector == "telecom_operator"

    measure(centre, base, case, SUSPECT_URL, "url_block")
    centre.select_option("#id_agency", pk("CAC-CD"))
    centre.click("#submit-measure")
    centre.wait_for_url(re.compile(rf"/cases/{case.pk}/$"))
    block = Task.objects.get(case=case, type=TaskType.URL_BLOCK)
    screenshots(centre, "life-07-measures")

    # The supervisor approves what waits for a supervisor.
    boss = login(supervisor.username)
    for task in Task.objects.filter(case=case, state=TaskState.PENDING_APPROVAL):
        approve(boss, base, task)
    screenshots(boss, "life-08-approved")
    for task in (*freezes, query, shutdown, block):
        task.refresh_from_db()
        assert task.state in (TaskState.APPROVED, TaskState.DISPATCHED), (task.type, task.state)

    # 9. A victim warning to the district's police station, who reach the victim.
    centre.goto(f"{base}/cases/{case.pk}/")
    centre.click('#case-measures a[data-measure="victim_warning"]')
    centre.wait_for_selector("#measure-form")
    station_agency = Agency.objects.filter(code=f"PSB-{case.district.code.upper()}").first()
    centre.select_option("#id_agency", str((station_agency or Agency.objects.get(code="PSB")).pk))
    centre.fill("#id_note", "受害人可能再次转账，请立即上门劝阻")
    centre.click("#submit-measure")
    centre.wait_for_url(re.compile(rf"/cases/{case.pk}/$"))
    warning = Task.objects.get(case=case, type=TaskType.VICTIM_WARNING)
    if warning.state == TaskState.PENDING_APPROVAL:
        approve(boss, base, warning)
    station_user = make_user("life_station", warning.agency.code, "liaison")
    station = login(station_user.username)
    station.goto(f"{base}/tasks/{warning.pk}/")
    assert "陈小明" in station.content() and "13912345678" in station.content()  # in full, to this station
    station.click("#accept")
    station.wait_for_load_state()
    station.goto(f"{base}/tasks/{warning.pk}/")
    station.select_option("#id_outcome", "reached")
    screenshots(station, "life-09-warning")
    station.click("#submit-result")
    station.wait_for_load_state()
    warning.refresh_from_db()
    assert warning.state == TaskState.COMPLETED
    # The other bank is not that station: the person stays masked for it.
    other_bank.goto(f"{base}/tasks/{warning.pk}/")
    assert "13912345678" not in other_bank.content()

    # 10. A correction, with its reason.
    centre.goto(f"{base}/cases/{case.pk}/edit/")
    centre.fill("#id_case-loss_amount", "52500.00")
    centre.fill("#id_case-reason", "受害人核对银行流水后更正金额")
    centre.click("#correct-case button[type=submit]")
    centre.wait_for_url(f"**/cases/{case.pk}/")
    correction = AuditRecord.objects.get(case_id=case.pk, action="case.update")
    assert correction.after["reason"] == "受害人核对银行流水后更正金额"
    screenshots(centre, "life-10-corrected")

    # 11. Closure with its outcome and summary; nothing can be changed after it.
    centre.click("#edit-case")
    centre.select_option("#id_close-outcome", "not_recovered")
    centre.fill("#id_close-summary", "冻结 18,000 元待返还，其余资金已被转移")
    centre.click("#close-case button[type=submit]")
    centre.wait_for_url(f"**/cases/{case.pk}/")
    case.refresh_from_db()
    assert case.status == "closed"
    assert "冻结 18,000 元待返还" in centre.inner_text("#closure")
    assert centre.locator("#edit-case").count() == 0
    screenshots(centre, "life-11-closed")

    # Every step left its audit record, and no page raised a script error.
    actions = set(AuditRecord.objects.filter(case_id=case.pk).values_list("action", flat=True))
    assert {"case.create", "case.update", "case.close", "task.reissue", "task.convert"} <= actions
    assert errors == []
