"""The case import: realistic files, the dry run, idempotent re-import, linkage, batches, cancel and resume."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from cases.models import Case, CaseIdentifier, Identifier, Task, Transfer, Victim
from coordination.models import AuditRecord
from imports import cases_import, jobs, parsing
from imports.models import ImportedCase, ImportJob, ImportStatus
from tests.conftest import RECEIVING_ACCOUNT, make_case

from .files import case_row, csv_bytes, past, xlsx_bytes

pytestmark = pytest.mark.django_db


def counts():
    return (
        Case.objects.count(),
        Victim.objects.count(),
        Identifier.objects.count(),
        CaseIdentifier.objects.count(),
        Transfer.objects.count(),
        Task.objects.count(),
        ImportedCase.objects.count(),
        AuditRecord.objects.count(),
    )


def run(content: bytes, user, name="cases.csv", **kwargs) -> ImportJob:
    job = jobs.create_job(content=content, file_name=name, acting_user=user)
    return jobs.run_case_import(job, **kwargs)


# --- cells -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "amount"),
    [
        ("1,234.50", "1234.50"),
        ("１２３", "123.00"),
        ("￥12,345,678.9", "12345678.90"),
        ("52000元", "52000.00"),
        (1234.5, "1234.50"),
        (52000, "52000.00"),
    ],
)
def test_amounts_with_separators_full_width_and_numbers(cell, amount):
    assert parsing.parse_money(cell) == Decimal(amount)


@pytest.mark.parametrize("cell", ["1,23.50", "-5", "12.345", "abc", "1 234"])
def test_bad_amounts_are_refused_by_the_api_rule(cell):
    with pytest.raises(ValidationError):
        parsing.parse_money(cell)


def test_excel_serials_datetime_cells_and_written_dates_are_beijing_time():
    beijing = timezone.get_default_timezone()
    assert parsing.parse_moment(45356.5) == datetime(2024, 3, 5, 12, 0, tzinfo=beijing)
    assert parsing.parse_moment("45356") == datetime(2024, 3, 5, tzinfo=beijing)
    assert parsing.parse_moment(datetime(2024, 3, 5, 9, 30)) == datetime(2024, 3, 5, 9, 30, tzinfo=beijing)
    assert parsing.parse_moment("2024年3月5日") == datetime(2024, 3, 5, tzinfo=beijing)
    assert parsing.parse_moment("２０２４/3/5 14:30") == datetime(2024, 3, 5, 14, 30, tzinfo=beijing)
    assert parsing.parse_moment("2024-03-05T06:30:00Z") == datetime(2024, 3, 5, 14, 30, tzinfo=beijing)
    for bad in ("2024-02-30", "yesterday", 12):
        with pytest.raises(ValidationError):
            parsing.parse_moment(bad)


def test_encodings_are_detected():
    text = "外部编号,报案时间\n"
    assert parsing.decode_csv(text.encode("utf-8-sig"))[1] == "utf-8-sig"
    assert parsing.decode_csv(text.encode("utf-8"))[1] == "utf-8"
    assert parsing.decode_csv(text.encode("gbk")) == (text, "gb18030")


# --- dry run -----------------------------------------------------------------------------------------


def test_dry_run_reports_every_bad_row_in_both_languages_and_changes_nothing(analyst):
    rows = [
        case_row(1),
        case_row(2, loss_amount="12.345"),
        case_row(3, victim_id_number="510107199001011230", to_bank="NOPE"),
        case_row(4),
        case_row(5, reported_at=(past(-10)).strftime("%Y-%m-%d %H:%M")),
        case_row(1),
    ]
    before = counts()
    report = cases_import.dry_run(csv_bytes(rows, encoding="gbk"), "历史案件.csv")
    assert counts() == before
    assert (report.total, report.valid, report.error_rows) == (6, 2, 4)
    by_row = {}
    for error in report.errors:
        by_row.setdefault(error["row"], []).append(error)
    assert sorted(by_row) == [3, 4, 6, 7]
    [amount] = by_row[3]
    assert amount["column_zh"] == "损失金额" and amount["column_en"] == "Amount lost"
    assert amount["message_en"] == "The amount has at most two decimals."
    assert amount["message_zh"] != amount["message_en"]
    assert {e["field"] for e in by_row[4]} == {"victim_id_number", "to_bank", "stopped_amount"}
    assert {e["field"] for e in by_row[6]} >= {"reported_at"}
    assert by_row[7][0]["message_en"] == "This external reference already appears in row 2."


def test_missing_required_columns_name_them_in_both_languages():
    with pytest.raises(parsing.FileError, match=r"损失金额.*Amount lost"):
        cases_import.dry_run("外部编号,报案时间\nA,2024-01-01\n".encode(), "x.csv")


# --- import ------------------------------------------------------------------------------------------


def test_import_of_a_gbk_file_with_bad_rows_mixed_in(analyst):
    rows = [case_row(1), case_row(2, loss_amount="abc"), case_row(3, frozen_amount="500", frozen_at="")]
    rows.append(case_row(4, outcome="", closed_at="", closure_summary="", returned_amount="", returned_at=""))
    job = run(csv_bytes(rows, encoding="gbk"), analyst, "历史.csv")
    assert (job.status, job.total, job.done, job.created, job.error_count) == (ImportStatus.DONE, 4, 4, 2, 2)
    imported = ImportedCase.objects.select_related("case").get(reference="HIST-000001")
    case = imported.case
    assert (imported.row_number, imported.file_name) == (2, "历史.csv")
    assert case.loss_amount == Decimal("1234.50") and case.status == "closed" and case.outcome == "partly_returned"
    assert case.amount_returned == Decimal("800.00")
    # Original dates kept: reported 400 days ago, Beijing time.
    assert abs(case.reported_at - (timezone.now() - timedelta(days=400))) < timedelta(minutes=2)
    assert case.reference.startswith("CD-")
    assert case.victims.get().id_number == "51010719900101123X"
    transfer = case.transfers.get()
    assert transfer.amount == Decimal("1234.50") and transfer.from_identifier.value == "6222020200112233445"
    stop = case.tasks.get()
    assert (stop.type, stop.state, stop.amount_held) == ("emergency_stop_payment", "completed", Decimal("1000.00"))
    assert stop.executed_at == case.reported_at + timedelta(hours=1)
    # Long lapsed: it holds nothing now (docs/holdings.md), so the stored total is 0.
    assert case.amount_stopped == Decimal("0.00")
    open_case = ImportedCase.objects.get(reference="HIST-000004").case
    assert open_case.status == "open"
    [row] = AuditRecord.objects.filter(action="case.import", case_id=case.pk)
    assert row.after["file"] == "历史.csv" and row.after["row"] == 2 and row.after["imported"] is True
    assert row.after["tasks"] == [stop.pk] and row.after["transfers"] == [transfer.pk]
    assert [e["row"] for e in job.errors] == [3, 4]


def test_a_recent_freeze_counts_as_frozen_now(analyst):
    row = case_row(1, days=2, stopped_amount="", stopped_at="", frozen_amount="600", outcome="", closed_at="")
    row.update(closure_summary="", returned_amount="", returned_at="", frozen_at=past(1).strftime("%Y-%m-%d %H:%M"))
    run(csv_bytes([row]), analyst)
    case = ImportedCase.objects.get().case
    assert case.amount_frozen == Decimal("600.00")
    assert case.tasks.get().lapses_at > timezone.now()


def test_english_headers_in_xlsx_with_datetime_cells(analyst):
    rows = [case_row(1, loss_amount=52000), case_row(2, transfer_amount=1234.5, loss_amount=1234.5)]
    job = run(xlsx_bytes(rows, headers="en"), analyst, "cases.xlsx")
    assert (job.created, job.error_count) == (2, 0), job.errors
    case = ImportedCase.objects.get(reference="HIST-000002").case
    assert case.loss_amount == Decimal("1234.50")
    assert case.transfers.get().at == case.reported_at - timedelta(minutes=50)


def test_re_importing_the_same_file_changes_nothing(analyst):
    content = csv_bytes([case_row(1), case_row(2)])
    run(content, analyst)
    before = counts()
    again = run(content, analyst, "again.csv")
    assert (again.created, again.skipped) == (0, 2)
    assert counts() == before


def test_linkage_to_an_existing_case_through_a_shared_account(analyst):
    existing = make_case(analyst)
    run(csv_bytes([case_row(1, to_account=RECEIVING_ACCOUNT)]), analyst)
    imported = ImportedCase.objects.get().case
    assert set(Case.objects.linked_to(imported).values_list("pk", flat=True)) == {existing.pk}
    account = Identifier.objects.get(value=RECEIVING_ACCOUNT)
    assert account.case_count == 2
    [row] = AuditRecord.objects.filter(action="case.import", case_id=imported.pk)
    links = {i["id"]: i["linked_case_ids"] for i in row.after["identifiers"]}
    assert links[account.pk] == [existing.pk]


def test_batches_progress_cancel_and_resume(analyst):
    content = csv_bytes([case_row(n) for n in range(1, 8)], encoding="utf-8")
    job = jobs.create_job(content=content, file_name="big.csv", acting_user=analyst)
    seen = []

    def progress(current):
        seen.append(current.done)
        if current.done == 4:
            jobs.request_cancel(current)

    job = jobs.run_case_import(job, batch_size=2, progress=progress)
    assert job.status == ImportStatus.CANCELLED and job.done == 4 and seen == [2, 4]
    assert ImportedCase.objects.count() == 4
    assert jobs.can_resume(job)
    job = jobs.run_case_import(job, batch_size=2, progress=lambda j: seen.append(j.done))
    assert (job.status, job.done, job.created, job.skipped) == (ImportStatus.DONE, 7, 7, 0)
    assert seen[2:] == [6, 7]
    assert ImportedCase.objects.count() == 7


def test_imported_rows_are_sealed_into_the_audit_chain(analyst):
    from django.core.management import call_command

    make_case(analyst)
    run(csv_bytes([case_row(1), case_row(2)]), analyst)
    assert AuditRecord.objects.filter(action="case.import").count() == 2
    call_command("verify_audit", "--no-heads")  # raises CommandError when a record does not fit
    assert not AuditRecord.objects.filter(chain_seq__isnull=True).exists()


def test_the_imported_case_page_shows_its_import(client, analyst):
    run(csv_bytes([case_row(1)]), analyst, "历史.csv")
    case = ImportedCase.objects.get().case
    client.force_login(analyst)
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert case.reference in page and "案件已导入" in page


def test_a_stalled_running_job_may_be_resumed(analyst):
    job = jobs.create_job(content=csv_bytes([case_row(1)]), file_name="a.csv", acting_user=analyst)
    ImportJob.objects.filter(pk=job.pk).update(status="running")
    job.refresh_from_db()
    assert not jobs.can_resume(job)
    assert jobs.can_resume(job, now=timezone.now() + timedelta(minutes=16))


def test_a_reference_twice_in_a_file_is_an_error_across_batches_too(analyst):
    job = run(csv_bytes([case_row(1), case_row(2), case_row(1)]), analyst, batch_size=2)
    assert (job.created, job.error_count) == (2, 1)
    assert job.errors[0]["row"] == 4 and job.errors[0]["field"] == "reference"
