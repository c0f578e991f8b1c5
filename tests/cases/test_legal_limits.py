"""The law's limits: two stop-payments per account ever, four eyes, legal document numbers (docs/legal-limits.md)."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation
from rest_framework.test import APIClient

from cases import actions
from cases.choices import TaskState
from cases.legal_documents import DEFAULT_PATTERN
from cases.models import LegalDocument, LegalDocumentFormat, Task
from coordination.exceptions import ActionNotAllowed, InvalidTransition
from coordination.models import AuditRecord

from ..conftest import RECEIVING_ACCOUNT, agency, make_case, make_user

STOP = {"type": "emergency_stop_payment", "target_kind": "bank_account", "target_value": RECEIVING_ACCOUNT}


@pytest.fixture(autouse=True)
def _english(client):
    """The messages asserted are the English ones (the catalogue's Chinese is the default)."""
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    with translation.override("en"):
        yield


def api(user) -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.force_authenticate(user)
    return client


def stop_body(case) -> dict:
    return {
        "case": case.pk,
        "type": "emergency_stop_payment",
        "agency": "CCB",
        "target": {"kind": "bank_account", "value": RECEIVING_ACCOUNT},
        "amount": "100.00",
        "legal_document_number": None,
        "note": "",
    }


def freeze(case, user, number="成公冻字〔2026〕7号", account=RECEIVING_ACCOUNT):
    return actions.create_task(
        case,
        acting_user=user,
        type="freeze",
        agency=agency("CCB"),
        target_kind="bank_account",
        target_value=account,
        amount=Decimal("10.00"),
        legal_document_number=number,
    )


@pytest.fixture
def filed_case(case, analyst):
    return actions.file_case(case, acting_user=analyst, filing_number="成公立字〔2026〕123号")


@pytest.fixture
def second_supervisor(db):
    return make_user("t_supervisor_2", "AFC", "supervisor")


# --- at most two stop-payments per account and case, ever ---------------------------


@pytest.mark.django_db
def test_a_third_stop_payment_is_refused_though_the_earlier_ones_lapsed(case, analyst, ccb_liaison):
    for _ in range(2):
        [task] = actions.issue_stop_payments(case, acting_user=analyst)
        actions.submit_result(task, acting_user=ccb_liaison, status="completed", result={"amount_held": "5.00"})
        actions.expire_task(task)
    assert Task.objects.filter(case=case, state=TaskState.EXPIRED).count() == 2
    # The partner protocol: a third answers 400 with the field named.
    response = api(analyst).post("/api/v1/tasks/", stop_body(case), format="json")
    assert response.status_code == 400
    assert "two stop-payments" in response.json()["target"][0]
    # The one click skips the account rather than failing.
    assert actions.issue_stop_payments(case, acting_user=analyst) == []
    assert Task.objects.filter(case=case).count() == 2


@pytest.mark.django_db
def test_refused_and_withdrawn_stop_payments_count_one_never_approved_does_not(case, analyst, ccb_liaison, supervisor):
    [first] = actions.issue_stop_payments(case, acting_user=analyst)
    actions.reject_task(first, acting_user=ccb_liaison, reason="户名不符")
    # The one-click does not re-send what the bank rejected (it is re-issued corrected): one at a time here.
    assert actions.issue_stop_payments(case, acting_user=analyst) == []
    # Returned from the queue before anyone approved it: it never reached the bank.
    returned = actions.create_task(case, acting_user=analyst, agency=agency("CCB"), **STOP)
    actions.cancel_task(returned, acting_user=supervisor, reason="重复")
    second = actions.approve_task(
        actions.create_task(case, acting_user=analyst, agency=agency("CCB"), **STOP), acting_user=analyst
    )
    actions.cancel_task(second, acting_user=supervisor, reason="撤回")  # withdrawn after approval: counts
    with pytest.raises(ValidationError) as raised:
        actions.create_task(case, acting_user=analyst, agency=agency("CCB"), **STOP)
    assert "target" in raised.value.message_dict


# --- four eyes ----------------------------------------------------------------------


@pytest.mark.django_db
def test_the_supervisor_who_created_a_freeze_cannot_approve_it(filed_case, supervisor, second_supervisor):
    task = freeze(filed_case, supervisor)
    with pytest.raises(ActionNotAllowed, match="another supervisor"):
        actions.approve_task(task, acting_user=supervisor)
    task.refresh_from_db()
    assert task.state == TaskState.PENDING_APPROVAL
    assert not AuditRecord.objects.filter(action="task.approve", object_id=task.pk).exists()
    assert actions.approve_task(task, acting_user=second_supervisor).state == TaskState.DISPATCHED


@pytest.mark.django_db
def test_four_eyes_in_the_api_single_and_bulk(filed_case, supervisor, second_supervisor):
    task = freeze(filed_case, supervisor)
    response = api(supervisor).post(f"/api/v1/tasks/{task.pk}/approve/")
    assert response.status_code == 403
    assert "another supervisor" in response.json()["detail"]
    bulk = api(supervisor).post("/api/v1/tasks/approve/", {"ids": [task.pk]}, format="json")
    assert bulk.status_code == 200
    assert bulk.json()["approved"] == [] and "another supervisor" in bulk.json()["refused"][str(task.pk)]
    assert api(second_supervisor).post(f"/api/v1/tasks/{task.pk}/approve/").status_code == 200


@pytest.mark.django_db
def test_four_eyes_in_the_pages(client, filed_case, supervisor, second_supervisor):
    task = freeze(filed_case, supervisor)
    client.force_login(supervisor)
    page = client.get(reverse("task-detail", args=[task.pk])).content.decode()
    assert 'id="approve"' not in page and 'id="awaits-another"' in page
    queue = client.get(reverse("approvals")).content.decode()
    assert "state state-pending_approval" in queue  # "needs another supervisor" on the creator's own request
    response = client.post(reverse("approvals"), {"task": [task.pk], "do": "approve"}, follow=True)
    assert any("another supervisor" in str(m) for m in response.context["messages"])
    response = client.post(reverse("task-action", args=[task.pk, "approve"]), follow=True)
    assert any("another supervisor" in str(m) for m in response.context["messages"])
    task.refresh_from_db()
    assert task.state == TaskState.PENDING_APPROVAL
    client.force_login(second_supervisor)
    page = client.get(reverse("task-detail", args=[task.pk])).content.decode()
    assert 'id="approve"' in page and 'id="awaits-another"' not in page
    assert "state state-pending_approval" not in client.get(reverse("approvals")).content.decode()


@pytest.mark.django_db
def test_stop_payments_need_only_an_analyst_and_are_approved_by_their_creator(case, supervisor):
    # A supervisor's one click still approves its own stop-payments: the type needs no supervisor.
    [task] = actions.issue_stop_payments(case, acting_user=supervisor)
    assert task.state == TaskState.DISPATCHED and task.approved_by == supervisor


@pytest.mark.django_db
def test_a_return_from_the_queue_does_not_withdraw_a_task_approved_meanwhile(case, analyst, supervisor):
    [task] = actions.issue_stop_payments(case, acting_user=analyst, approve=False)
    stale = Task.objects.get(pk=task.pk)
    actions.approve_task(task, acting_user=analyst)
    with pytest.raises(InvalidTransition):
        actions.cancel_task(stale, acting_user=supervisor, reason="退回", pending_only=True)
    assert Task.objects.get(pk=task.pk).state == TaskState.DISPATCHED


# --- legal document numbers ----------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "number", ["成公冻字〔2026〕7号", "成公冻字[2026]7号", "成公(反诈)冻字(2026)7号", "成公（反诈）冻字〔2026〕007号"]
)
def test_legal_document_numbers_of_the_usual_shape_are_accepted(filed_case, analyst, number):
    task = freeze(filed_case, analyst, number=number)
    assert task.legal_document_number == number


@pytest.mark.django_db
@pytest.mark.parametrize(
    "number", ["冻结决定书 1号", "F-1", "成公冻字2026年7号", "成公冻字〔26〕7号", "成公冻字〔2026〕号"]
)
def test_free_text_is_not_a_legal_document_number(filed_case, analyst, number):
    with pytest.raises(ValidationError) as raised:
        freeze(filed_case, analyst, number=number)
    assert "legal_document_number" in raised.value.message_dict
    assert not Task.objects.filter(type="freeze").exists()


@pytest.mark.django_db
def test_the_api_answers_400_for_a_malformed_number(filed_case, analyst):
    body = stop_body(filed_case) | {"type": "freeze", "legal_document_number": "冻结决定书 1号"}
    response = api(analyst).post("/api/v1/tasks/", body, format="json")
    assert response.status_code == 400 and "legal_document_number" in response.json()


@pytest.mark.django_db
def test_one_document_serves_one_case_only(filed_case, analyst):
    freeze(filed_case, analyst, number="成公冻字〔2026〕7号")
    # The same decision covers a second account of the same case.
    freeze(filed_case, analyst, number="成公冻字[2026]007号", account="6217000010099999999")
    other = actions.file_case(make_case(analyst), acting_user=analyst, filing_number="成公立字〔2026〕124号")
    with pytest.raises(ValidationError, match="another case"):
        freeze(other, analyst, number="成公冻字（2026）7号")  # another spelling of the same document
    # Another year, or another serial, is another document.
    freeze(other, analyst, number="成公冻字〔2025〕7号")
    freeze(other, analyst, number="成公冻字〔2026〕8号")
    assert LegalDocument.objects.filter(issuer="成公冻字", year=2026, serial=7).get().case == filed_case
    assert LegalDocument.objects.filter(case=other).count() == 3


@pytest.mark.django_db
def test_a_filing_number_is_a_legal_document_too(case, analyst):
    for number in ("F-1", "立案 123"):
        with pytest.raises(ValidationError) as raised:
            actions.file_case(case, acting_user=analyst, filing_number=number)
        assert "filing_number" in raised.value.message_dict
    actions.file_case(case, acting_user=analyst, filing_number="成公(反)立字[2026]1号")
    with pytest.raises(ValidationError, match="another case"):
        actions.file_case(make_case(analyst), acting_user=analyst, filing_number="成公(反)立字〔2026〕1号")


@pytest.mark.django_db
def test_the_administrator_sets_the_accepted_shapes(filed_case, analyst):
    LegalDocumentFormat.objects.update(is_active=False)
    LegalDocumentFormat.objects.create(
        name="test",
        pattern=r"^(?P<issuer>[A-Z]+)-(?P<year>\d{4})-(?P<serial>\d+)$",
        description="ABC-2026-1",
    )
    with pytest.raises(ValidationError, match="ABC-2026-1"):
        freeze(filed_case, analyst, number="成公冻字〔2026〕7号")
    assert freeze(filed_case, analyst, number="DJ-2026-7").legal_document_number == "DJ-2026-7"
    # With none active, the built-in shape applies: never free text.
    LegalDocumentFormat.objects.update(is_active=False)
    freeze(filed_case, analyst, number="成公冻字〔2026〕7号")
    with pytest.raises(ValidationError):
        freeze(filed_case, analyst, number="DJ-2026-8")


@pytest.mark.django_db
def test_a_pattern_must_name_issuer_year_and_serial():
    with pytest.raises(ValidationError) as raised:
        LegalDocumentFormat(name="x", pattern=r"^\d+$", description="x").full_clean()
    assert "pattern" in raised.value.message_dict
    with pytest.raises(ValidationError):
        LegalDocumentFormat(name="x", pattern=r"(?P<issuer>", description="x").full_clean()
    LegalDocumentFormat(name="x", pattern=DEFAULT_PATTERN, description="x").full_clean()


@pytest.mark.django_db
def test_the_usual_shape_is_seeded():
    assert LegalDocumentFormat.objects.filter(is_active=True, pattern=DEFAULT_PATTERN).exists()


@pytest.mark.django_db
def test_the_filing_form_says_what_shape_it_wants(client, case, analyst):
    client.force_login(analyst)
    url = reverse("case-action", args=[case.pk, "file"])
    response = client.post(url, {"filing_number": "立案 123"}, follow=True)
    assert any("accepted shape" in str(m) for m in response.context["messages"])
    case.refresh_from_db()
    assert case.status == "open" and case.filing_number == ""
    client.post(url, {"filing_number": "成公立字〔2026〕5号"})
    case.refresh_from_db()
    assert case.status == "filed" and case.filing_number == "成公立字〔2026〕5号"
