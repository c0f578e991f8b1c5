"""An import in a real browser: upload, the dry-run table, start, the live progress bar (htmx), the result."""

from __future__ import annotations

import pytest

from imports.models import ImportedCase, ImportJob
from tests.imports.files import case_row, csv_bytes

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_import_historical_cases_in_the_browser(live_server, login, screenshots, analyst):
    errors: list[str] = []
    page = login(analyst.username)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(live_server.url + "/")
    page.click("nav >> text=数据导入")
    page.wait_for_selector("#upload-form")
    content = csv_bytes([case_row(1), case_row(2, loss_amount="12.345"), case_row(3)], encoding="gbk")
    page.set_input_files("#id_file", files=[{"name": "历史案件.csv", "mimeType": "text/csv", "buffer": content}])
    page.click("#check")
    page.wait_for_selector("#dry-run-summary")
    screenshots(page, "60-import-dry-run")
    assert "损失金额" in page.inner_text("#row-errors")
    assert page.locator("#row-errors tbody tr").count() == 1
    assert ImportedCase.objects.count() == 0

    page.click("#start")
    page.wait_for_selector("#job-status[data-status=done]")
    screenshots(page, "61-import-done")
    assert ImportedCase.objects.count() == 2
    job = ImportJob.objects.get()
    assert (job.created, job.error_count) == (2, 1)
    assert page.get_attribute("#job-progress", "value") == "3"

    # A running job's bar follows the job (htmx polls every second) and stops at the end.
    ImportJob.objects.filter(pk=job.pk).update(status="running", done=1, total=4)
    page.goto(live_server.url + f"/imports/{job.pk}/")
    assert page.get_attribute("#job-progress", "value") == "1"
    assert page.locator("#cancel").count() == 1
    ImportJob.objects.filter(pk=job.pk).update(done=3)
    page.wait_for_selector("#job-progress[value='3']")
    ImportJob.objects.filter(pk=job.pk).update(done=4, status="done")
    page.wait_for_selector("#job-status[data-status=done]")
    screenshots(page, "62-import-progress")
    assert errors == []
