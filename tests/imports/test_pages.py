"""The import pages: upload and dry run, start (Celery, eager in tests), progress, cancel, resume, statement."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from cases.models import Case
from imports.models import ImportedCase, ImportJob

from .files import case_row, csv_bytes, xlsx_bytes

pytestmark = pytest.mark.django_db


def upload(client, content, name="历史案件.csv"):
    return client.post(reverse("import-list"), {"file": SimpleUploadedFile(name, content)})


def test_upload_shows_the_dry_run_and_changes_nothing(client, analyst):
    client.force_login(analyst)
    response = upload(client, csv_bytes([case_row(1), case_row(2, loss_amount="12.345")], encoding="gbk"))
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("import-detail", args=[job.pk])
    assert Case.objects.count() == 0
    page = client.get(response["Location"]).content.decode()
    assert "损失金额" in page and 'id="row-errors"' in page and 'id="start"' in page
    client.cookies["django_language"] = "en"
    page = client.get(response["Location"], HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "The amount has at most two decimals." in page


def test_an_unreadable_file_is_a_form_error(client, analyst):
    client.force_login(analyst)
    response = upload(client, b"\xff\xfe\x00garbage\x81\x00", "x.csv")
    assert response.status_code == 400
    assert ImportJob.objects.count() == 0


def test_start_runs_the_job_and_progress_stops_polling(client, analyst, django_capture_on_commit_callbacks):
    client.force_login(analyst)
    upload(client, xlsx_bytes([case_row(1), case_row(2)]), "cases.xlsx")
    job = ImportJob.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("import-action", args=[job.pk, "start"]))
    assert response.status_code == 302
    job.refresh_from_db()
    assert (job.status, job.done, job.created) == ("done", 2, 2)
    assert ImportedCase.objects.count() == 2
    bar = client.get(reverse("import-progress", args=[job.pk])).content.decode()
    assert 'value="2"' in bar and "hx-trigger" not in bar


def test_cancel_then_resume(client, analyst, django_capture_on_commit_callbacks):
    client.force_login(analyst)
    upload(client, csv_bytes([case_row(n) for n in range(1, 4)]))
    job = ImportJob.objects.get()
    ImportJob.objects.filter(pk=job.pk).update(status="running", total=3)
    bar = client.get(reverse("import-progress", args=[job.pk])).content.decode()
    assert 'hx-trigger="every 1s"' in bar
    client.post(reverse("import-action", args=[job.pk, "cancel"]))
    job.refresh_from_db()
    assert job.cancel_requested
    # The worker sees the flag before its next batch.
    from imports import jobs

    job = jobs.run_case_import(job)
    assert job.status == "cancelled" and ImportedCase.objects.count() == 0
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("import-action", args=[job.pk, "resume"]))
    job.refresh_from_db()
    assert (job.status, job.created) == ("done", 3)


def test_template_downloads(client, supervisor):
    client.force_login(supervisor)
    response = client.get(reverse("import-template", args=["csv"]) + "?lang=zh")
    assert response.content.startswith("\ufeff外部编号".encode())
    response = client.get(reverse("import-template", args=["xlsx"]) + "?lang=en")
    assert response.content[:2] == b"PK"
    from imports import cases_import

    report = cases_import.dry_run(response.content, "t.xlsx")
    assert (report.total, report.valid) == (1, 1), report.errors
