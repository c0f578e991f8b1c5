"""``import_cases`` and ``import_statement`` on the command line: dry run, progress bar, resume."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from cases.models import Case
from imports.models import ImportedCase, ImportJob

from .files import case_row, csv_bytes, xlsx_bytes
from .test_statement_import import ccb_statement, query  # noqa: F401

pytestmark = pytest.mark.django_db


def test_dry_run_prints_errors_and_changes_nothing(tmp_path, analyst):
    path = tmp_path / "历史案件.csv"
    path.write_bytes(csv_bytes([case_row(1), case_row(2, loss_amount="x")], encoding="gbk"))
    out = io.StringIO()
    call_command("import_cases", str(path), "--dry-run", stdout=out)
    assert "row      3  损失金额 / Amount lost" in out.getvalue()
    assert "2 rows, 1 valid" in out.getvalue()
    assert Case.objects.count() == 0


def test_import_shows_a_progress_bar_and_resume_continues(tmp_path, analyst):
    path = tmp_path / "cases.xlsx"
    path.write_bytes(xlsx_bytes([case_row(n) for n in range(1, 6)]))
    out, err = io.StringIO(), io.StringIO()
    call_command("import_cases", str(path), "--batch-size", "2", stdout=out, stderr=err)
    assert "100%  5/5" in err.getvalue()
    assert "5 cases created" in out.getvalue()
    job = ImportJob.objects.get()
    ImportJob.objects.filter(pk=job.pk).update(status="cancelled", done=5)
    call_command("import_cases", "--resume", str(job.pk), stdout=out, stderr=err)
    assert ImportedCase.objects.count() == 5
    with pytest.raises(CommandError):
        call_command("import_cases", "--resume", str(job.pk), stdout=out, stderr=err)


def test_import_statement_dry_run_then_record(tmp_path, query, analyst):  # noqa: F811
    path = tmp_path / "流水.csv"
    path.write_bytes(ccb_statement())
    out, err = io.StringIO(), io.StringIO()
    call_command("import_statement", str(query.pk), str(path), "--bank", "CCB", "--dry-run", stdout=out, stderr=err)
    assert "would record: 4 rows, 2 onward transfers (50000.00)" in out.getvalue()
    query.refresh_from_db()
    assert not query.result_digest
    call_command("import_statement", str(query.pk), str(path), "--bank", "CCB", stdout=out, stderr=err)
    query.refresh_from_db()
    assert query.state == "completed"
    path.write_bytes(ccb_statement(bad=True))
    with pytest.raises(CommandError):
        call_command("import_statement", str(query.pk), str(path), "--bank", "CCB", "--dry-run", stdout=out)
