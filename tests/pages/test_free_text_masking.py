"""Free text names no one a masked reader may not see: summaries, notes and reasons masked with the case's names.

A summary is typed by the analyst ("受害人张三..."), a reason by the bank ("户名王小明与..."): a
reader who sees names and numbers masked (the auditor) reads them masked there too, on the
pages and in the API; the centre reads them in full, and the bank its own task's in full.
"""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from cases import actions
from cases.models import Case, Identifier
from tests.conftest import RECEIVING_ACCOUNT, make_case

pytestmark = pytest.mark.django_db

VICTIM, HOLDER = "张三", "王小明"
SUMMARY = f"受害人{VICTIM}称被骗，转入{RECEIVING_ACCOUNT}（户名{HOLDER}）"
REASON = f"户名{HOLDER}与指令不符，账户{RECEIVING_ACCOUNT}"


@pytest.fixture
def world(analyst, ccb_liaison):
    case = make_case(analyst)
    Case.objects.filter(pk=case.pk).update(summary=SUMMARY)
    Identifier.objects.filter(value=RECEIVING_ACCOUNT).update(holder_name=HOLDER)
    [task] = actions.issue_stop_payments(case, acting_user=analyst)
    task = actions.reject_task(task, acting_user=ccb_liaison, reason=REASON)
    return case, task


def shows_in_full(text: str) -> bool:
    return VICTIM in text or HOLDER in text or RECEIVING_ACCOUNT in text


def test_the_auditor_reads_summaries_and_reasons_masked(client, world, auditor, analyst):
    case, task = world
    client.force_login(auditor)
    case_page = client.get(reverse("case-detail", args=[case.pk])).content.decode()
    task_page = client.get(reverse("task-detail", args=[task.pk])).content.decode()
    assert "受害人张*称被骗" in case_page and "户名王**与指令不符" in case_page
    assert "户名王**与指令不符" in task_page
    for page in (case_page, task_page):
        assert not shows_in_full(page)
    api = APIClient()
    api.force_authenticate(auditor)
    detail = api.get(f"/api/v1/cases/{case.pk}/").json()
    assert detail["summary"].startswith("受害人张*称被骗") and not shows_in_full(detail["summary"])
    [reason] = [t["reason"] for t in api.get("/api/v1/tasks/").json()["results"] if t["id"] == task.pk]
    assert reason.startswith("户名王**与指令不符") and not shows_in_full(reason)
    one = api.get(f"/api/v1/tasks/{task.pk}/").json()
    assert one["reason"] == reason


def test_the_centre_and_the_bank_read_them_in_full(client, world, analyst, ccb_liaison):
    case, task = world
    client.force_login(analyst)
    assert SUMMARY in client.get(reverse("case-detail", args=[case.pk])).content.decode()
    api = APIClient()
    api.force_authenticate(analyst)
    assert api.get(f"/api/v1/cases/{case.pk}/").json()["summary"] == SUMMARY
    api.force_authenticate(ccb_liaison)
    assert api.get(f"/api/v1/tasks/{task.pk}/").json()["reason"] == REASON
    client.force_login(ccb_liaison)
    assert REASON in client.get(reverse("task-detail", args=[task.pk])).content.decode()
