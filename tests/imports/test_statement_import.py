"""A bank statement in as an account query's result: onward transfers, edges, proposals; the bank layouts."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from cases import actions
from cases.choices import TargetKind
from cases.models import FollowUpProposal, Identifier, Transfer
from coordination.models import AuditRecord
from imports import statements
from tests.conftest import RECEIVING_ACCOUNT, agency, make_case

pytestmark = pytest.mark.django_db

ONWARD_1 = "6228480000000000017"  # at ABC
ONWARD_2 = "6216610000000000028"  # at BOC


@pytest.fixture
def query(analyst, supervisor):
    case = make_case(analyst)
    case = actions.file_case(case, acting_user=analyst, filing_number="成公立字〔2026〕1号")
    task = actions.create_task(
        case,
        acting_user=analyst,
        type="account_query",
        agency=agency("CCB"),
        target_kind=TargetKind.BANK_ACCOUNT,
        target_value=RECEIVING_ACCOUNT,
        legal_document_number="成公(反诈)查字〔2026〕001号",
    )
    return actions.approve_task(task, acting_user=supervisor)


HEADERS = ["交易时间", "借方发生额", "贷方发生额", "余额", "对方账号", "对方户名", "对方行名", "账户名称", "摘要"]


def wall(minutes_ago: int) -> str:
    return timezone.localtime(timezone.now() - timedelta(minutes=minutes_ago)).strftime("%Y-%m-%d %H:%M:%S")


def ccb_statement(encoding="gbk", bad=False) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(
        ["交易时间", "借方发生额", "贷方发生额", "余额", "对方账号", "对方户名", "对方行名", "账户名称", "摘要"]
    )
    writer.writerow(
        [wall(29), "", "52,000.00", "52,100.00", "6222020200112233445", "张三", "中国工商银行", "王五", "转入"]
    )
    writer.writerow([wall(20), "30,000.00", "", "22,100.00", ONWARD_1, "李四", "中国农业银行成都分行", "王五", "转出"])
    writer.writerow([wall(15), "20,000.00", "", "2,100.00", ONWARD_2, "赵六", "BOC", "王五", "转出"])
    writer.writerow([wall(10), "15.00", "", "2,085.00", "", "", "", "王五", "手续费"])
    if bad:
        writer.writerow(["昨天", "1,0.00", "", "", "123", "", "", "王五", ""])
    return out.getvalue().encode(encoding)


def test_dry_run_shows_the_result_and_changes_nothing(query, analyst):
    before = (Identifier.objects.count(), Transfer.objects.count(), AuditRecord.objects.count())
    state = query.state
    report = statements.import_statement(
        query, content=ccb_statement(), file_name="流水.csv", bank="CCB", acting_user=analyst, dry_run=True
    )
    assert report.errors == []
    assert report.rows == 4 and report.onward == 2
    assert report.result["holder_name"] == "王五" and report.result["balance"] == "2085.00"
    assert [t["bank"] for t in report.result["onward_transfers"]] == ["ABC", "BOC"]
    assert statements.amount_out(report) == Decimal("50000.00")
    query.refresh_from_db()
    assert query.state == state and not query.result_digest
    assert (Identifier.objects.count(), Transfer.objects.count(), AuditRecord.objects.count()) == before


def test_bad_rows_are_reported_in_both_languages_and_nothing_is_recorded(query, analyst):
    report = statements.import_statement(
        query, content=ccb_statement(bad=True), file_name="s.csv", bank="CCB", acting_user=analyst
    )
    rows = {(e["row"], e["field"]) for e in report.errors}
    assert (6, "at") in rows and (6, "debit") in rows
    assert all(e["message_zh"] and e["message_en"] for e in report.errors)
    query.refresh_from_db()
    assert not query.result_digest


def test_the_statement_becomes_the_result_as_a_posted_one(query, analyst):
    report = statements.import_statement(
        query, content=ccb_statement(encoding="utf-8-sig"), file_name="s.csv", bank="CCB", acting_user=analyst
    )
    assert report.changed and not report.errors
    query.refresh_from_db()
    assert query.state == "completed" and query.result["balance"] == "2085.00"
    edges = Transfer.objects.filter(source_task=query).order_by("at")
    assert [(e.to_identifier.value, e.amount) for e in edges] == [
        (ONWARD_1, Decimal("30000.00")),
        (ONWARD_2, Decimal("20000.00")),
    ]
    proposals = FollowUpProposal.objects.filter(source_task=query)
    assert {(p.identifier.value, p.agency.code) for p in proposals} == {(ONWARD_1, "ABC"), (ONWARD_2, "BOC")}
    row = AuditRecord.objects.get(action="task.statement_import", object_id=query.pk)
    assert row.after["file"] == "s.csv" and row.after["onward_transfers"] == 2
    assert AuditRecord.objects.filter(action="task.result", object_id=query.pk).count() == 1
    # The same statement again changes nothing.
    before = AuditRecord.objects.count()
    again = statements.import_statement(
        query, content=ccb_statement(encoding="utf-8-sig"), file_name="s.csv", bank="CCB", acting_user=analyst
    )
    assert not again.changed and AuditRecord.objects.count() == before


def test_abc_layout_with_a_direction_column(query, analyst):
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(["交易时间", "交易金额", "借贷标志", "账户余额", "对方账号", "对方户名", "对方开户行"])
    writer.writerow([wall(25), "1,000.00", "贷", "1,000.00", "6222020200112233445", "张三", "ICBC"])
    writer.writerow([wall(20), "900.00", "借", "100.00", ONWARD_1, "李四", "ABC"])
    report = statements.import_statement(
        query, content=out.getvalue().encode(), file_name="abc.csv", bank="ABC", acting_user=analyst, dry_run=True
    )
    assert report.errors == [] and report.onward == 1


def test_only_an_account_query_and_only_the_centre(case, analyst, ccb_liaison, stop_task):
    with pytest.raises(statements.StatementError):
        statements.import_statement(stop_task, content=ccb_statement(), file_name="s", bank="CCB", acting_user=analyst)


def test_a_liaison_cannot_import_a_statement(query, ccb_liaison):
    from cases.actions.common import ActionNotAllowed

    with pytest.raises(ActionNotAllowed):
        statements.import_statement(
            query, content=ccb_statement(), file_name="s.csv", bank="CCB", acting_user=ccb_liaison
        )


def test_the_statement_page_checks_then_records(client, query, analyst):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.urls import reverse

    client.force_login(analyst)
    url = reverse("statement-import", args=[query.pk])
    assert 'id="import-statement"' in client.get(f"/tasks/{query.pk}/").content.decode()
    page = client.get(url)
    assert page.status_code == 200
    response = client.post(
        url, {"file": SimpleUploadedFile("s.csv", ccb_statement()), "bank": "CCB", "action": "check"}
    )
    assert response.status_code == 200 and 'id="statement-report"' in response.content.decode()
    assert ONWARD_1 not in response.content.decode()
    query.refresh_from_db()
    assert not query.result_digest
    response = client.post(
        url, {"file": SimpleUploadedFile("s.csv", ccb_statement()), "bank": "CCB", "action": "import"}
    )
    assert response.status_code == 302
    query.refresh_from_db()
    assert query.state == "completed"
    bad = client.post(url, {"file": SimpleUploadedFile("s.csv", ccb_statement(bad=True)), "bank": "CCB"})
    assert bad.status_code in (400,)
