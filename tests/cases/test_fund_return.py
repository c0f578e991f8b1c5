"""Fund return end to end: trace across serial cases, the allocation, approval, the bank's report, every case."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from alerts.payloads import allocations_body
from cases import actions, fund_return
from cases.models import Case, ReturnAllocation
from coordination.exceptions import ActionNotAllowed
from coordination.models import AuditRecord
from tests.conftest import agency

from .fund_world import RETURN_DOCUMENT, V1, V2, S, frozen_alone, prepare_return, serial_world

pytestmark = pytest.mark.django_db
D = Decimal


def prepare(world, analyst):
    return actions.create_task(
        world.case1,
        acting_user=analyst,
        type="fund_return",
        agency=agency("CCB"),
        target_kind="bank_account",
        target_value=S,
    )


def approve(task, supervisor):
    """The supervisor approves the return with its legal document."""
    return actions.approve_task(task, acting_user=supervisor, legal_document_number=RETURN_DOCUMENT)


def test_trace_of_the_shared_frozen_account(analyst, supervisor, ccb_liaison):
    world = serial_world(analyst, supervisor, ccb_liaison)
    prepared = fund_return.prepare_return(world.account)
    assert prepared.frozen == D("9000.00")
    by_case = {row.case.pk: row for row in prepared.rows}
    assert by_case[world.case1.pk].traced == D("6000") and by_case[world.case1.pk].amount == D("6000.00")
    assert by_case[world.case2.pk].traced == D("3000") and by_case[world.case2.pk].amount == D("3000.00")
    assert by_case[world.case1.pk].account.value == V1 and by_case[world.case2.pk].account.value == V2
    assert by_case[world.case1.pk].mixed and prepared.untraced == 0
    assert fund_return.case_untraced(world.case1) == 0


def test_return_prepared_approved_reported_updates_every_victim_case(analyst, supervisor, ccb_liaison):
    world = serial_world(analyst, supervisor, ccb_liaison)
    task = prepare(world, analyst)
    # The platform computed the amount and the allocation itself.
    assert task.amount == D("9000.00")
    rows = {a.case_id: a for a in ReturnAllocation.objects.filter(task=task)}
    assert rows[world.case1.pk].amount == D("6000.00") and rows[world.case2.pk].amount == D("3000.00")
    body = allocations_body(task)
    assert {(r["case"], r["account_number"], r["amount"]) for r in body} == {
        (world.case1.reference, V1, "6000.00"),
        (world.case2.reference, V2, "3000.00"),
    }
    # Four eyes: the preparer cannot approve; a supervisor does.
    with pytest.raises(ActionNotAllowed):
        actions.approve_task(task, acting_user=analyst)
    task = approve(task, supervisor)
    at = timezone.now().isoformat()
    actions.submit_result(
        task,
        acting_user=ccb_liaison,
        status="completed",
        result={
            "returned": [
                {"account_number": V1, "amount": "6000.00", "at": at},
                {"account_number": V2, "amount": "2500.00", "at": at},
            ]
        },
    )
    case1, case2 = Case.objects.get(pk=world.case1.pk), Case.objects.get(pk=world.case2.pk)
    assert case1.amount_returned == D("6000.00") and case2.amount_returned == D("2500.00")
    record = AuditRecord.objects.get(case_id=case2.pk, action="case.funds_returned")
    assert record.before == {"amount_returned": "0.00"} and record.after["amount_returned"] == "2500.00"
    # What is frozen now excludes what went back; the 500 not returned can be returned later.
    assert fund_return.frozen_amount(world.account.pk) == D("500.00")
    again = fund_return.prepare_return(world.account)
    assert {row.case.pk: row.amount for row in again.rows} == {world.case1.pk: D("0.00"), world.case2.pk: D("500.00")}


def test_nothing_traced_is_refused(analyst, supervisor, ccb_liaison, case):
    case = actions.file_case(case, acting_user=analyst, filing_number="成公立字〔2026〕2号")
    with pytest.raises(ValidationError) as error:
        actions.create_task(
            case,
            acting_user=analyst,
            type="fund_return",
            agency=agency("CCB"),
            target_kind="bank_account",
            target_value="6217000010012345678",
            legal_document_number=RETURN_DOCUMENT,
        )
    assert "target" in error.value.message_dict
    assert not ReturnAllocation.objects.exists()


def test_the_bank_cannot_return_more_or_elsewhere(analyst, supervisor, ccb_liaison):
    world = serial_world(analyst, supervisor, ccb_liaison)
    task = approve(prepare(world, analyst), supervisor)
    at = timezone.now().isoformat()
    for rows, key in (
        ([{"account_number": V1, "amount": "6000.01", "at": at}], "result.returned.0.amount"),
        ([{"account_number": "6222000000000000000", "amount": "1.00", "at": at}], "result.returned.0.account_number"),
        ([{"account_number": V1, "amount": "1.00", "at": "yesterday"}], "result.returned.0.at"),
        ([], "result.returned"),
    ):
        with pytest.raises(ValidationError) as error:
            actions.submit_result(task, acting_user=ccb_liaison, status="completed", result={"returned": rows})
        assert key in error.value.message_dict, error.value.message_dict
    assert Case.objects.get(pk=world.case1.pk).amount_returned == 0


def test_a_second_return_does_not_give_the_same_money_twice(analyst, supervisor, ccb_liaison):
    world = serial_world(analyst, supervisor, ccb_liaison)
    prepare(world, analyst)
    assert fund_return.frozen_amount(world.account.pk) == 0
    with pytest.raises(ValidationError):
        prepare(world, analyst)


def test_closing_shows_no_typed_return(analyst, supervisor, ccb_liaison):
    world = serial_world(analyst, supervisor, ccb_liaison)
    case = actions.close_case(world.case2, acting_user=analyst, summary="返还完毕", outcome="partly_returned")
    assert case.amount_returned == 0
    with pytest.raises(TypeError):
        actions.close_case(world.case1, acting_user=analyst, amount_returned=D("1.00"))


def test_api_and_pages_flow(client, analyst, supervisor, ccb_liaison, icbc_liaison):
    from django.urls import reverse
    from rest_framework.test import APIClient

    from cases.models import Task

    world = serial_world(analyst, supervisor, ccb_liaison)
    # The analyst reads the trace on the account's page, beside the money flow of both cases.
    client.force_login(analyst)
    url = reverse("fund-return", args=[world.case1.pk, world.account.pk])
    html = client.get(url).content.decode()
    assert f'data-case="{world.case2.reference}"' in html and 'id="flow"' in html and 'id="return-mixed"' in html
    # The preparer names no legal document: the approving supervisor does.
    assert 'name="legal_document_number"' not in html
    # The API prepares it; an amount sent is not the platform's: it computes its own.
    api = APIClient()
    api.force_authenticate(analyst)
    body = {
        "case": world.case1.pk,
        "type": "fund_return",
        "agency": "CCB",
        "target": {"kind": "bank_account", "value": S},
        "amount": "99999.00",
    }
    response = api.post("/api/v1/tasks/", body, format="json")
    assert response.status_code == 201, response.json()
    task = response.json()
    assert task["amount"] == "9000.00"
    assert {(a["case"], a["amount"]) for a in task["allocations"]} == {
        (world.case1.reference, "6000.00"),
        (world.case2.reference, "3000.00"),
    }
    # The bank of the return reads the allocation in full; another bank does not see the task at all.
    bank, other = APIClient(), APIClient()
    bank.force_authenticate(ccb_liaison)
    other.force_authenticate(icbc_liaison)
    assert other.get(f"/api/v1/tasks/{task['id']}/").status_code == 404
    assert all(task["id"] != t["id"] for t in other.get("/api/v1/tasks/").json()["results"])
    approve = APIClient()
    approve.force_authenticate(supervisor)
    # Without the legal document: 400 on the field, nothing changed.
    refused = approve.post(f"/api/v1/tasks/{task['id']}/approve/", {}, format="json")
    assert refused.status_code == 400 and "legal_document_number" in refused.json()
    assert Task.objects.get(pk=task["id"]).state == "pending_approval"
    approved = approve.post(
        f"/api/v1/tasks/{task['id']}/approve/", {"legal_document_number": RETURN_DOCUMENT}, format="json"
    )
    assert approved.status_code == 200, approved.json()
    assert approved.json()["legal_document_number"] == RETURN_DOCUMENT and approved.json()["notice_until"] is None
    seen = bank.get(f"/api/v1/tasks/{task['id']}/").json()
    assert {a["account_number"] for a in seen["allocations"]} == {V1, V2}
    # The bank reports it on the task page: every allocation in full; both cases show it.
    client.force_login(ccb_liaison)
    response = client.post(reverse("task-detail", args=[task["id"]]), {"status": "completed", "reason": ""})
    assert response.status_code == 302, response.content.decode()[:500]
    assert Case.objects.get(pk=world.case2.pk).amount_returned == D("3000.00")
    client.force_login(analyst)
    page = client.get(reverse("case-detail", args=[world.case2.pk])).content.decode()
    assert 'id="returns"' in page and "3,000.00" in page
    closing = client.get(reverse("case-edit", args=[world.case2.pk])).content.decode()
    assert 'id="close-untraced"' in closing and "amount_returned" not in closing
    # Closing through the API takes no typed amount.
    refused = api.post(f"/api/v1/cases/{world.case2.pk}/close/", {"amount_returned": "1.00"}, format="json")
    assert refused.status_code == 400 and "amount_returned" in refused.json()


def test_demo_data_has_a_return_ready_to_prepare():
    from cases.demo import SERIAL_SHARED, seed_demo
    from cases.models import Identifier

    seed_demo(cases=3)
    account = Identifier.objects.get(value=SERIAL_SHARED[0])
    prepared = fund_return.prepare_return(account)
    assert prepared.frozen == D("9000.00")
    assert sorted(row.amount for row in prepared.rows) == [D("3000.00"), D("6000.00")]
    assert len({row.case.pk for row in prepared.rows}) == 2 and prepared.untraced == 0


def test_closing_keeps_the_untraced_remainder_in_its_audit(analyst, supervisor, ccb_liaison):
    """20,000 from the victim into the account, 25,000 frozen there: 5,000 no trace claims stays frozen."""
    case = frozen_alone(analyst, supervisor, ccb_liaison, "6217000010055550000", paid="20000.00", held="25000.00", n=41)
    assert fund_return.case_untraced(case) == D("5000.00")
    actions.close_case(case, acting_user=analyst, summary="未能溯源部分移送法院", outcome="partly_returned")
    record = AuditRecord.objects.get(case_id=case.pk, action="case.close")
    assert record.after["untraced"] == "5000.00" and record.after["amount_frozen"] == "25000.00"


def test_the_task_list_reads_every_return_allocation_in_one_query(analyst, supervisor, ccb_liaison):
    """One query for all the allocations of a page, however many return tasks it shows (no N+1)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from rest_framework.test import APIClient

    def one_return(n: int):
        account = f"62170000100666{n:05d}"
        case = frozen_alone(analyst, supervisor, ccb_liaison, account, paid="1000.00", held="800.00", n=100 + n)
        prepare_return(case, analyst, account)

    api = APIClient()
    api.force_authenticate(analyst)

    def count() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as ctx:
            body = api.get("/api/v1/tasks/?type=fund_return&page_size=100").json()
        assert all(len(t["allocations"]) == 1 for t in body["results"])
        return len(ctx.captured_queries), len(body["results"])

    one_return(1)
    small = count()
    for n in range(2, 6):
        one_return(n)
    large = count()
    assert (small[1], large[1]) == (1, 5)
    assert small[0] == large[0]
