"""Measures from the case page in a real browser: a freeze with its legal document, and a URL block."""

from __future__ import annotations

import re

import pytest

from agencies.models import Agency
from cases import actions
from cases.choices import IdentifierRole, TargetKind, TaskState, TaskType
from cases.models import Task
from tests.conftest import RECEIVING_ACCOUNT, make_case

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

URL = "pay-fraud.example.com/checkout"


def test_freeze_and_url_block_from_the_case_page(live_server, login, screenshots, analyst):
    case = make_case(analyst)
    actions.add_identifier(case, kind=TargetKind.URL, value=URL, role=IdentifierRole.SUSPECT, acting_user=analyst)
    case = actions.file_case(case, acting_user=analyst, filing_number="成公立字〔2026〕1号")
    links = {link.identifier.kind: link.identifier for link in case.case_identifiers.select_related("identifier")}
    account = case.case_identifiers.get(identifier__value=RECEIVING_ACCOUNT).identifier

    centre = login(analyst.username)
    centre.goto(f"{live_server.url}/cases/{case.pk}/")
    cell = centre.locator(f'td.measures[data-identifier="{account.pk}"]')
    assert cell.locator("[data-measure]").count() == 4  # stop-payment, freeze, account query, fund return
    screenshots(centre, "measures-01-case-page")

    # A freeze: to the account's bank, under a legal document; a wrong number is a form error first.
    cell.locator('a[data-measure="freeze"]').click()
    centre.wait_for_selector("#measure-form")
    assert centre.locator("#id_agency option:checked").inner_text().startswith("CCB")
    centre.fill("#id_legal_document_number", "冻结通知")
    centre.click("#submit-measure")
    centre.wait_for_selector("#id_legal_document_number_error")
    screenshots(centre, "measures-02-freeze-legal-document-error")
    centre.fill("#id_legal_document_number", "成公冻字〔2026〕7号")
    centre.click("#submit-measure")
    centre.wait_for_url(re.compile(rf"/cases/{case.pk}/$"))
    freeze = Task.objects.get(case=case, type=TaskType.FREEZE)
    assert freeze.agency.code == "CCB" and freeze.legal_document_number == "成公冻字〔2026〕7号"
    assert freeze.state == TaskState.PENDING_APPROVAL  # a supervisor approves a freeze
    centre.wait_for_selector(f'#tasks a[href="/tasks/{freeze.pk}/"]')
    screenshots(centre, "measures-03-freeze-issued")

    # A URL block: the user picks the regulator among the agencies the type allows.
    url_cell = centre.locator(f'td.measures[data-identifier="{links[TargetKind.URL].pk}"]')
    url_cell.locator('a[data-measure="url_block"]').click()
    centre.wait_for_selector("#measure-form")
    centre.select_option("#id_agency", str(Agency.objects.get(code="CAC-CD").pk))
    screenshots(centre, "measures-04-url-block-form")
    centre.click("#submit-measure")
    centre.wait_for_url(re.compile(rf"/cases/{case.pk}/$"))
    block = Task.objects.get(case=case, type=TaskType.URL_BLOCK)
    assert block.agency.code == "CAC-CD" and block.target_id == links[TargetKind.URL].pk
    assert block.state in (TaskState.APPROVED, TaskState.DISPATCHED)  # an analyst's type: sent at once
    centre.wait_for_selector(f'#tasks a[href="/tasks/{block.pk}/"]')
    screenshots(centre, "measures-05-url-block-issued")
