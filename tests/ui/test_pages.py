"""Each main page in the browser: renders in Chinese by default, switches to English, no script errors.

A screenshot of each is saved to test-artifacts/screenshots/ for review.
"""

from __future__ import annotations

import pytest

from cases import actions
from tests.conftest import agency as agency_named
from tests.conftest import make_case, make_user

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def watch_errors(page) -> list[str]:
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return errors


def test_interface_in_chinese_and_english(live_server, login, screenshots, analyst):
    make_case(analyst)
    page = login(analyst.username)
    page.goto(live_server.url + "/cases/")
    assert page.get_attribute("html", "lang") == "zh-Hans"
    nav = page.inner_text("header nav")
    assert "案件" in nav and "录入案件" in nav
    assert page.inner_text("h1") == "案件"
    page.select_option("#lang-select", "en")
    page.click("form.lang button")
    page.wait_for_function("document.documentElement.lang === 'en'")
    assert page.inner_text("h1") == "Cases"
    assert "New case" in page.inner_text("header nav")
    screenshots(page, "13-case-list-english")
    response = page.goto(live_server.url + "/cases/999999/")
    assert response.status == 404 and "Not found" in page.content()
    page.select_option("#lang-select", "zh-hans")
    page.click("form.lang button")
    page.wait_for_function("document.documentElement.lang === 'zh-Hans'")
    assert page.inner_text("h1").startswith("404")
    assert "未找到" in page.content()


def test_screenshots_of_main_pages(live_server, browser, login, screenshots, analyst, supervisor, auditor):
    case = make_case(analyst, extra_transfers=2)
    tasks = actions.issue_stop_payments(case, acting_user=analyst)
    other = make_case(analyst, to_account="6217000010055555555")
    # A number trace waits for a supervisor (a stop-payment is the analyst's, never queued).
    actions.create_task(
        other,
        acting_user=analyst,
        type="number_trace",
        agency=agency_named("CMCC"),
        target_kind="phone",
        target_value="13800000099",
    )
    liaison = make_user("ui_ccb", "CCB", "liaison")
    manager = make_user("ui_ccb_mgr", "CCB", "manager")
    ccb_task = next(t for t in tasks if t.agency.code == "CCB")
    actions.accept_task(ccb_task, acting_user=liaison)
    actions.submit_result(ccb_task, acting_user=liaison, status="completed", result={"amount_held": "30000.00"})

    anonymous = browser.new_page(locale="zh-CN")
    anonymous.goto(live_server.url + "/")
    assert "/accounts/login/" in anonymous.url
    screenshots(anonymous, "01-login")
    anonymous.close()

    centre = login(analyst.username)
    errors = watch_errors(centre)
    centre.goto(live_server.url + "/cases/")
    assert centre.locator("tbody tr").count() == 2
    screenshots(centre, "03-case-list")
    centre.goto(live_server.url + f"/cases/{case.pk}/")
    centre.wait_for_function("window.cy !== undefined")
    assert centre.evaluate("window.cy.edges().length") == 3
    screenshots(centre, "04b-case-page-three-transfers")
    centre.goto(live_server.url + "/dashboard/")
    centre.wait_for_function("window.Chart && Chart.getChart('chart-response') !== undefined")
    assert centre.inner_text("#cases-today") == "2"
    screenshots(centre, "08-dashboard")
    centre.goto(live_server.url + "/notifications/")
    assert centre.locator("tbody tr").count() >= 1
    screenshots(centre, "09-notifications")
    assert errors == []

    boss = login(supervisor.username)
    boss.goto(live_server.url + "/approvals/")
    assert boss.locator("tbody input[name=task]").count() == 1
    screenshots(boss, "07-approvals")
    boss.check("tbody input[name=task]")
    boss.click("button[value=approve]")
    boss.wait_for_selector(".messages .msg-success")
    assert boss.locator("tbody input[name=task]").count() == 0

    agency = login(manager.username)
    agency.goto(live_server.url + "/agency/")
    agency.fill("#id_endpoint_url", "https://ccb.example.invalid/afc")
    agency.click("form:has(input[value=endpoint]) button[type=submit]")
    secret = agency.inner_text("#new-secret")
    assert len(secret) >= 32
    screenshots(agency, "10-my-agency")
    agency.goto(live_server.url + "/agency/")
    assert secret not in agency.content()

    audit = login(auditor.username)
    audit.goto(live_server.url + "/audit/")
    assert audit.locator("tbody tr").count() >= 10
    screenshots(audit, "11-audit")
    audit.goto(live_server.url + "/cases/999999/")
    screenshots(audit, "12-not-found")


def test_intake_checks_fields_while_typing(live_server, login, analyst):
    from tests.conftest import RECEIVING_ACCOUNT

    make_case(analyst)
    page = login(analyst.username)
    page.goto(live_server.url + "/cases/new/")
    page.fill("#id_victim_id_number", "510107199001011234")
    page.press("#id_victim_id_number", "Tab")
    error = page.locator("#id_victim_id_number ~ .check .field-error")
    error.wait_for()
    assert error.inner_text() == "身份证号码的校验码不正确。"
    page.fill("#id_transfers-0-to_account", RECEIVING_ACCOUNT)
    page.press("#id_transfers-0-to_account", "Tab")
    known = page.locator("#id_transfers-0-to_account ~ .check .known")
    known.wait_for()
    assert known.inner_text() == "已在 1 起案件中出现"
    # Keyboard only: the skip link is the first stop and leads to the content.
    page.goto(live_server.url + "/cases/new/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
