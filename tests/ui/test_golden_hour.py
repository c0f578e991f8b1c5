"""The golden hour in a real browser: intake, one-click stop-payment, the bank's inbox, result, follow-up."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from agencies.models import Agency
from cases.models import Case, Task

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def local_minute(delta_minutes: int = 0) -> str:
    return (timezone.localtime() + timedelta(minutes=delta_minutes)).strftime("%Y-%m-%dT%H:%M")


def node_count(page) -> int:
    page.wait_for_function("window.cy !== undefined")
    return page.evaluate("window.cy.nodes().length")


def test_golden_hour_flow(live_server, login, screenshots, analyst, ccb_liaison, icbc_liaison):
    ccb, icbc, abc, boc = (Agency.objects.get(code=c).pk for c in ("CCB", "ICBC", "ABC", "BOC"))

    # The bank's liaison has the inbox open before anything happens.
    bank = login(ccb_liaison.username)
    bank.goto(live_server.url + "/inbox/")
    bank.evaluate("window.__notReloaded = true")
    assert bank.locator("#inbox-rows tr[data-task]").count() == 0

    # 1. The analyst records a case with two transfers (the second row added in the browser).
    centre = login(analyst.username)
    centre.goto(live_server.url + "/cases/new/")
    centre.fill("#id_victim_name", "陈小明")
    centre.fill("#id_victim_phone", "13912345678")
    centre.select_option("#id_fraud_type", index=1)
    centre.select_option("#id_channel", index=1)
    centre.select_option("#id_district", index=1)
    centre.fill("#id_summary", "冒充客服诱导转账")
    centre.fill("#id_transfers-0-from_account", "6222020200112233445")
    centre.select_option("#id_transfers-0-from_bank", str(icbc))
    centre.fill("#id_transfers-0-to_account", "6217000010012345678")
    centre.select_option("#id_transfers-0-to_bank", str(ccb))
    centre.fill("#id_transfers-0-amount", "30000.00")
    centre.fill("#id_transfers-0-at", local_minute(-40))
    centre.click("[data-add-row]")
    centre.fill("#id_transfers-1-from_account", "6222020200112233445")
    centre.select_option("#id_transfers-1-from_bank", str(icbc))
    centre.fill("#id_transfers-1-to_account", "6228480010099887766")
    centre.select_option("#id_transfers-1-to_bank", str(abc))
    centre.fill("#id_transfers-1-amount", "22000.00")
    centre.fill("#id_transfers-1-at", local_minute(-35))
    screenshots(centre, "02-case-intake")
    centre.click("form#intake button[type=submit]")
    # The victim's card number fails its Luhn check: shown as a likely typo until confirmed.
    centre.wait_for_selector("#id_confirm_accounts")
    assert centre.locator("#id_transfers-0-from_account_error").count() == 1
    assert Case.objects.count() == 0
    centre.check("#id_confirm_accounts")
    centre.click("form#intake button[type=submit]")
    centre.wait_for_url(re.compile(r"/cases/\d+/$"))
    case = Case.objects.get()
    assert case.transfers.count() == 2
    assert node_count(centre) == 3  # the victim's account and two receiving accounts

    # 2. One click: a stop-payment to each receiving account's bank.
    centre.click("#issue-stop-payments")
    centre.wait_for_selector("#tasks .state-dispatched")
    assert Task.objects.filter(case=case).count() == 2

    # 3. The bank sees its task appear without reloading the page.
    row = bank.locator("#inbox-rows tr[data-task]", has_text=case.reference)
    row.wait_for(timeout=15000)
    assert bank.evaluate("window.__notReloaded === true")
    assert bank.locator("#inbox-rows tr[data-task]").count() == 1  # not ABC's task
    screenshots(bank, "05-inbox")
    task = Task.objects.get(case=case, agency_id=ccb)

    # 4. It accepts, then completes with an onward transfer.
    row.get_by_role("button").first.click()
    bank.wait_for_load_state()
    task.refresh_from_db()
    assert task.state == "accepted"
    bank.goto(live_server.url + f"/tasks/{task.pk}/")
    assert "6217000010012345678" in bank.inner_text("#task-target")  # its own target, in full
    bank.fill("#id_amount_held", "18000.00")
    bank.click("[data-formset=onward] [data-add-row]")
    bank.fill("#id_onward-0-account_number", "6216610000123456789")
    bank.select_option("#id_onward-0-bank", str(boc))
    bank.fill("#id_onward-0-holder_name", "李某")
    bank.fill("#id_onward-0-amount", "12000.00")
    bank.fill("#id_onward-0-at", local_minute(-20))
    screenshots(bank, "06-task-result")
    bank.click("#submit-result")
    bank.wait_for_url(re.compile(r"/inbox/$"))
    task.refresh_from_db()
    assert task.state == "completed"

    # 5. The analyst's open case page says something happened; one click shows the
    #    follow-up proposed and the money-flow graph grown.
    centre.wait_for_selector("#reload-case", timeout=15000)
    centre.click("#reload-case")
    centre.wait_for_load_state()
    centre.wait_for_selector("#proposals")
    assert node_count(centre) == 4
    assert centre.evaluate("window.cy.nodes('.held').length") == 1  # the CCB account holds 18,000
    screenshots(centre, "04-case-page")
    centre.click("#issue-follow-ups")
    centre.wait_for_load_state()
    assert Task.objects.filter(case=case, agency_id=boc, state="dispatched").count() == 1

    # 6. Another bank's liaison sees none of it and gets 404 on its address.
    other = login(icbc_liaison.username)
    other.goto(live_server.url + "/inbox/")
    assert case.reference not in other.content()
    response = other.goto(live_server.url + f"/tasks/{task.pk}/")
    assert response.status == 404
    assert "未找到" in other.content()
    response = other.goto(live_server.url + f"/cases/{case.pk}/")
    assert response.status == 404
