"""Measures from the case page: per identifier kind, to the right agency, with the registry's rules.

Freeze / account query on accounts, shutdown / trace / warning on phones, block
on URLs, ban on app and social accounts, case-level tasks; the conversion of
live stop-payments into freezes; a freeze's renewal; a rejected task re-issued
corrected. Every refusal is a form error (400), never a 500.
"""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework.test import APIClient

from cases import actions, measures, task_types
from cases.choices import IdentifierRole, TargetKind, TaskState, TaskType
from cases.models import Task
from coordination.models import AuditRecord
from tests.conftest import RECEIVING_ACCOUNT, agency, make_case

DOCUMENT = "成公冻字〔2026〕7号"
FILING = "成公立字〔2026〕1号"
PHONE = "13912345678"  # China Mobile's block
UNICOM = "13012345678"
URL = "pay-fraud.example.com/checkout"
APP = "com.fraud.loans"
SOCIAL = "wx_fraud_0001"
DEFAULTS = {
    TargetKind.BANK_ACCOUNT: RECEIVING_ACCOUNT,
    TargetKind.PHONE: PHONE,
    TargetKind.URL: URL,
    TargetKind.APP: APP,
    TargetKind.SOCIAL_ACCOUNT: SOCIAL,
}

pytestmark = pytest.mark.django_db
# Approved and, for an agency that pulls, in its inbox at once.
SENT = (TaskState.APPROVED, TaskState.DISPATCHED)


def identifier_of(case, kind, value=None):
    value = value or DEFAULTS[kind]
    return (
        case.case_identifiers.select_related("identifier")
        .get(identifier__kind=kind, identifier__value=value)
        .identifier
    )


def suspect(case, analyst, kind, value):
    return actions.add_identifier(case, kind=kind, value=value, role=IdentifierRole.SUSPECT, acting_user=analyst)


@pytest.fixture
def rich_case(analyst):
    """An open case with an account (CCB), a phone, a URL, an app and a social account."""
    case = make_case(analyst)
    for kind, value in ((TargetKind.PHONE, PHONE), (TargetKind.URL, URL), (TargetKind.APP, APP)):
        suspect(case, analyst, kind, value)
    suspect(case, analyst, TargetKind.SOCIAL_ACCOUNT, SOCIAL)
    return case


@pytest.fixture
def filed_case(rich_case, analyst):
    return actions.file_case(rich_case, acting_user=analyst, filing_number=FILING)


def measure_url(case, code, identifier=None):
    url = reverse("measure-create", args=[case.pk, code])
    return url + (f"?identifier={identifier.pk}" if identifier else "")


def post_measure(client, case, code, identifier=None, **data):
    if identifier is not None:
        data["identifier"] = identifier.pk
    return client.post(reverse("measure-create", args=[case.pk, code]), data)


def errors_of(response) -> str:
    return " ".join(re.findall(r'<ul class="errorlist"[^>]*>(.*?)</ul>', response.content.decode(), re.S))


EXPECTED = {
    TargetKind.BANK_ACCOUNT: {
        TaskType.EMERGENCY_STOP_PAYMENT,
        TaskType.FREEZE,
        TaskType.ACCOUNT_QUERY,
        "fund_return",
    },
    TargetKind.PHONE: {TaskType.NUMBER_SHUTDOWN, TaskType.NUMBER_TRACE, TaskType.VICTIM_WARNING},
    TargetKind.URL: {TaskType.URL_BLOCK},
    TargetKind.APP: {TaskType.URL_BLOCK, TaskType.ACCOUNT_BAN},
    TargetKind.SOCIAL_ACCOUNT: {TaskType.ACCOUNT_BAN},
    TargetKind.NONE: {TaskType.VICTIM_WARNING, TaskType.OTHER},
}


@pytest.mark.parametrize("kind", list(EXPECTED))
def test_the_registry_decides_what_each_kind_allows(kind):
    assert {spec.code for spec in measures.types_for(kind)} == EXPECTED[kind]


def test_case_page_offers_each_identifiers_measures(client, analyst, rich_case):
    client.force_login(analyst)
    body = client.get(reverse("case-detail", args=[rich_case.pk])).content.decode()
    for kind, value in (
        (TargetKind.BANK_ACCOUNT, RECEIVING_ACCOUNT),
        (TargetKind.PHONE, PHONE),
        (TargetKind.URL, URL),
        (TargetKind.APP, APP),
        (TargetKind.SOCIAL_ACCOUNT, SOCIAL),
    ):
        identifier = identifier_of(rich_case, kind, value)
        cell = re.search(rf'data-identifier="{identifier.pk}">(.*?)</td>', body, re.S).group(1)
        assert set(re.findall(r'data-measure="(\w+)"', cell)) == EXPECTED[kind], kind
    case_level = re.search(r'id="case-measures">(.*?)</p>', body, re.S).group(1)
    assert set(re.findall(r'data-measure="(\w+)"', case_level)) == EXPECTED[TargetKind.NONE]
    # An open case: the freeze, the query and the fund return say they need a filed case.
    account = identifier_of(rich_case, TargetKind.BANK_ACCOUNT)
    cell = re.search(rf'data-identifier="{account.pk}">(.*?)</td>', body, re.S).group(1)
    assert cell.count("data-blocked") == 3  # and the fund return


def test_agency_users_and_auditors_get_no_measure_buttons(client, auditor, rich_case):
    client.force_login(auditor)
    body = client.get(reverse("case-detail", args=[rich_case.pk])).content.decode()
    assert "data-measure" not in body and 'id="convert-form"' not in body


# (type, kind, value, agency to send, agency proposed, state after an analyst issues it)
ISSUED = [
    (TaskType.FREEZE, TargetKind.BANK_ACCOUNT, RECEIVING_ACCOUNT, "CCB", "CCB", (TaskState.PENDING_APPROVAL,)),
    (TaskType.ACCOUNT_QUERY, TargetKind.BANK_ACCOUNT, RECEIVING_ACCOUNT, "CCB", "CCB", (TaskState.PENDING_APPROVAL,)),
    (TaskType.NUMBER_SHUTDOWN, TargetKind.PHONE, PHONE, "CMCC", "CMCC", SENT),
    (TaskType.NUMBER_TRACE, TargetKind.PHONE, PHONE, "CUCC", "CMCC", (TaskState.PENDING_APPROVAL,)),
    (TaskType.VICTIM_WARNING, TargetKind.PHONE, PHONE, "PSB-WUHOU", "PSB-WUHOU", SENT),
    (TaskType.URL_BLOCK, TargetKind.URL, URL, "CAC-CD", None, SENT),
    (TaskType.URL_BLOCK, TargetKind.APP, APP, "TENCENT", None, SENT),
    (TaskType.ACCOUNT_BAN, TargetKind.APP, APP, "BYTEDANCE", None, SENT),
    (TaskType.ACCOUNT_BAN, TargetKind.SOCIAL_ACCOUNT, SOCIAL, "TENCENT", None, SENT),
]


@pytest.mark.parametrize(("code", "kind", "value", "to", "proposed", "state"), ISSUED)
def test_every_measure_per_identifier_kind(client, analyst, filed_case, code, kind, value, to, proposed, state):
    client.force_login(analyst)
    identifier = identifier_of(filed_case, kind, value)
    page = client.get(measure_url(filed_case, code, identifier))
    assert page.status_code == 200
    body = page.content.decode()
    if proposed:
        selected = re.search(r'<option value="(\d+)"[^>]*selected', body)
        assert selected and int(selected.group(1)) == agency(proposed).pk, body
    spec = task_types.get(code)
    assert ('name="legal_document_number"' in body) == spec.needs_legal_document
    data = {"agency": agency(to).pk, "note": "页面措施"}
    if spec.needs_legal_document:
        data["legal_document_number"] = DOCUMENT
    response = post_measure(client, filed_case, code, identifier, **data)
    assert response.status_code == 302, errors_of(response)
    task = Task.objects.get(case=filed_case, type=code, target=identifier)
    assert task.agency.code == to and task.target_kind == kind
    # CCB and the other agencies here pull from their inbox: approved is as far as the centre takes it.
    assert task.state in state
    assert task.legal_document_number == (DOCUMENT if spec.needs_legal_document else "")
    assert AuditRecord.objects.filter(action="task.create", object_id=task.pk).exists()


def test_the_operator_of_the_number_is_proposed(client, analyst, rich_case):
    suspect(rich_case, analyst, TargetKind.PHONE, UNICOM)
    client.force_login(analyst)
    body = client.get(
        measure_url(rich_case, TaskType.NUMBER_SHUTDOWN, identifier_of(rich_case, TargetKind.PHONE, UNICOM))
    ).content.decode()
    selected = re.search(r'<option value="(\d+)"[^>]*selected', body)
    assert int(selected.group(1)) == agency("CUCC").pk
    # Numbers are ported: every operator may be picked, and only operators.
    options = {int(v) for v in re.findall(r'<option value="(\d+)"', body)}
    assert options == {agency(c).pk for c in ("CMCC", "CUCC", "CTCC")}


def test_sector_routing_refuses_the_wrong_agency(client, analyst, filed_case):
    client.force_login(analyst)
    phone = identifier_of(filed_case, TargetKind.PHONE)
    response = post_measure(client, filed_case, TaskType.NUMBER_SHUTDOWN, phone, agency=agency("CCB").pk)
    assert response.status_code == 400 and 'id="id_agency_error"' in response.content.decode()
    # The account is CCB's: a freeze goes to CCB only.
    account = identifier_of(filed_case, TargetKind.BANK_ACCOUNT)
    body = client.get(measure_url(filed_case, TaskType.FREEZE, account)).content.decode()
    assert {int(v) for v in re.findall(r'<option value="(\d+)"', body)} == {agency("CCB").pk}
    response = post_measure(
        client, filed_case, TaskType.FREEZE, account, agency=agency("ICBC").pk, legal_document_number=DOCUMENT
    )
    assert response.status_code == 400 and 'id="id_agency_error"' in response.content.decode()
    assert not Task.objects.filter(case=filed_case).exists()


@pytest.mark.parametrize(
    ("number", "message"),
    [("", "needs a legal document number"), ("冻结通知", "not a legal document number of an accepted shape")],
)
def test_legal_document_errors_are_form_errors(client, analyst, filed_case, number, message):
    client.force_login(analyst)
    account = identifier_of(filed_case, TargetKind.BANK_ACCOUNT)
    response = client.post(
        reverse("measure-create", args=[filed_case.pk, TaskType.FREEZE]),
        {"identifier": account.pk, "agency": agency("CCB").pk, "legal_document_number": number},
    )
    assert response.status_code == 400
    assert 'id="id_legal_document_number_error"' in response.content.decode()
    assert not Task.objects.filter(case=filed_case).exists()


def test_a_legal_document_of_another_case_is_a_form_error(client, analyst, filed_case):
    other = actions.file_case(
        make_case(analyst, to_account="6217000010099999999"), acting_user=analyst, filing_number="成公立字〔2026〕2号"
    )
    actions.create_task(
        other,
        acting_user=analyst,
        type=TaskType.ACCOUNT_QUERY,
        agency=agency("CCB"),
        target_kind=TargetKind.BANK_ACCOUNT,
        target_value="6217000010099999999",
        legal_document_number=DOCUMENT,
    )
    client.force_login(analyst)
    account = identifier_of(filed_case, TargetKind.BANK_ACCOUNT)
    response = post_measure(
        client, filed_case, TaskType.FREEZE, account, agency=agency("CCB").pk, legal_document_number=DOCUMENT
    )
    assert response.status_code == 400 and 'id="id_legal_document_number_error"' in response.content.decode()


def test_an_open_case_is_refused_a_freeze_with_a_message(client, analyst, rich_case):
    client.force_login(analyst)
    account = identifier_of(rich_case, TargetKind.BANK_ACCOUNT)
    page = client.get(measure_url(rich_case, TaskType.FREEZE, account))
    assert page.status_code == 200 and 'id="measure-blocked"' in page.content.decode()
    response = post_measure(
        client, rich_case, TaskType.FREEZE, account, agency=agency("CCB").pk, legal_document_number=DOCUMENT
    )
    assert response.status_code == 400 and 'id="measure-errors"' in response.content.decode()
    assert not Task.objects.filter(case=rich_case).exists()


def test_approval_routing(client, analyst, supervisor, filed_case):
    client.force_login(supervisor)
    account = identifier_of(filed_case, TargetKind.BANK_ACCOUNT)
    post_measure(client, filed_case, TaskType.FREEZE, account, agency=agency("CCB").pk, legal_document_number=DOCUMENT)
    # Four eyes: the supervisor's own freeze waits for another supervisor.
    freeze = Task.objects.get(case=filed_case, type=TaskType.FREEZE)
    assert freeze.state == TaskState.PENDING_APPROVAL
    client.force_login(analyst)
    url = identifier_of(filed_case, TargetKind.URL)
    post_measure(client, filed_case, TaskType.URL_BLOCK, url, agency=agency("CAC-CD").pk)
    assert Task.objects.get(case=filed_case, type=TaskType.URL_BLOCK).state in SENT


def test_a_case_level_task_needs_what_is_asked(client, analyst, rich_case):
    client.force_login(analyst)
    response = post_measure(client, rich_case, TaskType.OTHER, agency=agency("CD-SAMR").pk)
    assert response.status_code == 400 and 'id="id_note_error"' in response.content.decode()
    response = post_measure(client, rich_case, TaskType.OTHER, agency=agency("CD-SAMR").pk, note="协查营业执照")
    assert response.status_code == 302
    task = Task.objects.get(case=rich_case, type=TaskType.OTHER)
    assert task.target is None and task.target_kind == TargetKind.NONE and task.note == "协查营业执照"


def test_unknown_type_and_foreign_identifier_are_404(client, analyst, rich_case):
    client.force_login(analyst)
    assert client.get(reverse("measure-create", args=[rich_case.pk, "nope"])).status_code == 404
    other = make_case(analyst, to_account="6217000010099999999")
    foreign = identifier_of(other, TargetKind.BANK_ACCOUNT, "6217000010099999999")
    assert client.get(measure_url(rich_case, TaskType.FREEZE, foreign)).status_code == 404
    assert client.get(measure_url(rich_case, TaskType.FREEZE) + "?identifier=x").status_code == 404


def test_create_task_enforces_the_target_kinds(analyst, rich_case):
    with pytest.raises(ValidationError) as raised:
        actions.create_task(
            rich_case,
            acting_user=analyst,
            type=TaskType.URL_BLOCK,
            agency=agency("CAC-CD"),
            target_kind=TargetKind.PHONE,
            target_value=PHONE,
        )
    assert "target" in raised.value.message_dict
    client = APIClient()
    client.force_authenticate(analyst)
    body = {
        "case": rich_case.pk,
        "type": "number_shutdown",
        "agency": "CMCC",
        "target": {"kind": "url", "value": URL},
    }
    response = client.post("/api/v1/tasks/", body, format="json")
    assert response.status_code == 400, response.json()
    assert not Task.objects.filter(case=rich_case).exists()


def test_a_wrong_kind_posted_to_the_page_is_a_form_error(client, analyst, rich_case):
    client.force_login(analyst)
    url = identifier_of(rich_case, TargetKind.URL)
    response = post_measure(client, rich_case, TaskType.NUMBER_SHUTDOWN, url, agency=agency("CMCC").pk)
    assert response.status_code == 400 and 'id="measure-errors"' in response.content.decode()


# --- stop-payments into freezes --------------------------------------------------------


@pytest.fixture
def stopped_case(analyst):
    """A filed case with two receiving accounts (CCB, ABC), each with a live stop-payment."""
    case = make_case(analyst, extra_transfers=1)
    actions.issue_stop_payments(case, acting_user=analyst)
    return actions.file_case(case, acting_user=analyst, filing_number=FILING)


def test_convert_every_live_stop_payment_into_a_freeze(client, analyst, stopped_case):
    client.force_login(analyst)
    body = client.get(reverse("case-detail", args=[stopped_case.pk])).content.decode()
    assert 'id="convert-freezes"' in body
    stops = {t.target_id: t for t in Task.objects.filter(case=stopped_case, type=TaskType.EMERGENCY_STOP_PAYMENT)}
    response = client.post(reverse("convert-freezes", args=[stopped_case.pk]), {"legal_document_number": DOCUMENT})
    assert response.status_code == 302
    freezes = list(Task.objects.filter(case=stopped_case, type=TaskType.FREEZE))
    assert len(freezes) == 2
    for freeze in freezes:
        stop = stops[freeze.target_id]
        assert freeze.follows_id == stop.pk and freeze.agency_id == stop.agency_id
        assert freeze.legal_document_number == DOCUMENT and freeze.amount == stop.amount
        assert freeze.state == TaskState.PENDING_APPROVAL  # a supervisor approves a freeze
        row = AuditRecord.objects.get(action="task.convert", object_id=freeze.pk)
        assert row.before == {"stop_payment": stop.pk} and row.case_id == stopped_case.pk
    # Idempotent: the second click issues nothing and says why.
    response = client.post(
        reverse("convert-freezes", args=[stopped_case.pk]), {"legal_document_number": DOCUMENT}, follow=True
    )
    assert Task.objects.filter(case=stopped_case, type=TaskType.FREEZE).count() == 2
    assert AuditRecord.objects.filter(action="task.convert").count() == 2
    assert response.content.decode().count("skipped") + response.content.decode().count("跳过") >= 2
    # Nothing left to convert: the button is gone.
    body = client.get(reverse("case-detail", args=[stopped_case.pk])).content.decode()
    assert 'id="convert-freezes"' not in body


def test_an_account_already_frozen_is_skipped(analyst, supervisor, ccb_liaison, stopped_case):
    ccb_stop = Task.objects.get(case=stopped_case, type=TaskType.EMERGENCY_STOP_PAYMENT, agency__code="CCB")
    freeze = actions.create_task(
        stopped_case,
        acting_user=analyst,
        type=TaskType.FREEZE,
        agency=agency("CCB"),
        target_kind=TargetKind.BANK_ACCOUNT,
        target_value=ccb_stop.target.value,
        legal_document_number=DOCUMENT,
    )
    freeze = actions.approve_task(freeze, acting_user=supervisor)
    actions.submit_result(freeze, acting_user=ccb_liaison, status="completed", result={"amount_held": "52000.00"})
    result = actions.convert_stop_payments(stopped_case, acting_user=analyst, legal_document_number=DOCUMENT)
    assert [t.agency.code for t in result.freezes] == ["ABC"]
    assert [i.pk for i, _reason in result.skipped] == [ccb_stop.target_id]
    assert result.skipped[0][1] == _("already frozen or has a live freeze")


def test_conversion_refused_on_an_open_case_and_without_a_document(client, analyst, stop_task):
    client.force_login(analyst)
    url = reverse("convert-freezes", args=[stop_task.case_id])
    response = client.post(url, {"legal_document_number": DOCUMENT})
    assert response.status_code == 400 and "errorlist" in response.content.decode()
    actions.file_case(stop_task.case, acting_user=analyst, filing_number=FILING)
    response = client.post(url, {"legal_document_number": ""})
    assert response.status_code == 400 and 'id="id_legal_document_number_error"' in response.content.decode()
    response = client.post(url, {"legal_document_number": "冻结"})
    assert response.status_code == 400 and 'id="id_legal_document_number_error"' in response.content.decode()
    assert not Task.objects.filter(type=TaskType.FREEZE).exists()


# --- renewal --------------------------------------------------------------------------


@pytest.fixture
def held_freeze(analyst, supervisor, ccb_liaison, stopped_case):
    result = actions.convert_stop_payments(stopped_case, acting_user=analyst, legal_document_number=DOCUMENT)
    freeze = next(t for t in result.freezes if t.agency.code == "CCB")
    freeze = actions.approve_task(freeze, acting_user=supervisor)
    freeze, _changed = actions.submit_result(
        freeze, acting_user=ccb_liaison, status="completed", result={"amount_held": "50000.00"}
    )
    return freeze


def test_a_freeze_is_renewed_from_its_page(client, analyst, held_freeze):
    client.force_login(analyst)
    body = client.get(reverse("task-detail", args=[held_freeze.pk])).content.decode()
    assert 'id="renew-link"' in body
    url = reverse("task-renew", args=[held_freeze.pk])
    response = client.post(url, {"legal_document_number": ""})
    assert response.status_code == 400 and 'id="id_legal_document_number_error"' in response.content.decode()
    response = client.post(url, {"legal_document_number": "成公冻字〔2026〕8号"})
    assert response.status_code == 302
    renewal = Task.objects.get(follows=held_freeze)
    assert renewal.type == TaskType.FREEZE and renewal.agency_id == held_freeze.agency_id
    assert renewal.target_id == held_freeze.target_id and renewal.amount == held_freeze.amount_held
    assert renewal.state == TaskState.PENDING_APPROVAL
    row = AuditRecord.objects.get(action="task.renew", object_id=renewal.pk)
    assert row.before["renews"] == held_freeze.pk
    # Once: a second renewal names the first.
    response = client.post(url, {"legal_document_number": "成公冻字〔2026〕9号"})
    assert response.status_code == 400 and f"#{renewal.pk}" in response.content.decode()
    assert Task.objects.filter(follows=held_freeze).count() == 1


def test_only_a_holding_freeze_is_renewed(client, analyst, stop_task):
    client.force_login(analyst)
    assert 'id="renew-link"' not in client.get(reverse("task-detail", args=[stop_task.pk])).content.decode()
    response = client.post(reverse("task-renew", args=[stop_task.pk]), {})
    assert response.status_code == 400
    assert not Task.objects.filter(follows=stop_task).exists()


# --- re-issue of a rejected task ----------------------------------------------------------

MISMATCH = "账户信息不符 (account details do not match)"
CORRECTED = "6217000010012345679"


@pytest.fixture
def rejected(stop_task, ccb_liaison):
    return actions.reject_task(stop_task, acting_user=ccb_liaison, reason=MISMATCH)


def test_one_click_does_not_resend_a_rejected_stop_payment(client, analyst, rejected):
    client.force_login(analyst)
    response = client.post(reverse("case-action", args=[rejected.case_id, "stop-payments"]), follow=True)
    assert Task.objects.filter(case_id=rejected.case_id).count() == 1
    assert "1 stop-payment(s) the bank rejected were not re-sent" in response.content.decode() or (
        "未重发" in response.content.decode()
    )
    body = client.get(reverse("case-detail", args=[rejected.case_id])).content.decode()
    assert MISMATCH in body and reverse("task-reissue", args=[rejected.pk]) in body


def test_reissue_with_corrected_details_and_the_reason_in_view(client, analyst, rejected):
    client.force_login(analyst)
    assert 'id="reissue-link"' in client.get(reverse("task-detail", args=[rejected.pk])).content.decode()
    url = reverse("task-reissue", args=[rejected.pk])
    page = client.get(url).content.decode()
    assert 'id="rejection-reason"' in page and MISMATCH in page
    # Unchanged: refused, on the form.
    response = client.post(url, {"target_value": "", "agency": agency("CCB").pk, "amount": "52000.00"})
    assert response.status_code == 400 and 'id="id_target_value_error"' in response.content.decode()
    # Not an account number: the target's error, on the form.
    response = client.post(url, {"target_value": "12ab", "agency": agency("CCB").pk, "amount": "52000.00"})
    assert response.status_code == 400 and 'id="id_target_value_error"' in response.content.decode()
    response = client.post(url, {"target_value": CORRECTED, "agency": agency("CCB").pk, "amount": "52000.00"})
    assert response.status_code == 302
    new = Task.objects.get(follows=rejected)
    assert new.type == rejected.type and new.target.value == CORRECTED and new.agency.code == "CCB"
    assert MISMATCH in new.note
    assert new.state in (TaskState.APPROVED, TaskState.DISPATCHED)  # an analyst approves a stop-payment
    row = AuditRecord.objects.get(action="task.reissue", object_id=new.pk)
    assert row.before["reissues"] == rejected.pk and row.before["reason"] == MISMATCH
    assert row.after["follows"] == rejected.pk and row.after["target_id"] == new.target_id
    # Once.
    response = client.post(url, {"target_value": "6217000010012345670", "agency": agency("CCB").pk})
    assert response.status_code == 400
    assert Task.objects.filter(follows=rejected).count() == 1


def test_only_rejected_or_failed_tasks_are_reissued(client, analyst, stop_task):
    client.force_login(analyst)
    response = client.post(
        reverse("task-reissue", args=[stop_task.pk]), {"target_value": CORRECTED, "agency": agency("CCB").pk}
    )
    assert response.status_code == 400
    assert not Task.objects.filter(follows=stop_task).exists()


# --- the amount proposed for a holding ------------------------------------------------


def _amount_input(response) -> str:
    match = re.search(r'<input[^>]*name="amount"[^>]*>', response.content.decode())
    assert match, "no amount input"
    value = re.search(r'value="([^"]*)"', match.group(0))
    return value.group(1) if value else ""


def test_a_stop_payment_asks_for_what_the_victims_paid_in(client, analyst, rich_case):
    """The victim paid 52,000.00 into the CCB account (and a second transfer of 1,000.00 there): 53,000.00."""
    account = identifier_of(rich_case, TargetKind.BANK_ACCOUNT)
    actions.add_case_transfer(
        rich_case,
        acting_user=analyst,
        data=actions.TransferData(
            from_account="6222020200199999999",
            from_bank=agency("ICBC"),
            to_account=RECEIVING_ACCOUNT,
            to_bank=agency("CCB"),
            amount=Decimal("1000.00"),
            at=rich_case.reported_at - timedelta(minutes=10),
        ),
    )
    client.force_login(analyst)
    response = client.get(measure_url(rich_case, TaskType.EMERGENCY_STOP_PAYMENT, account))
    assert response.status_code == 200
    assert _amount_input(response) == "53000.00"
    assert response.context["form"].initial["amount"] == Decimal("53000.00")


def test_a_freeze_asks_for_what_the_stop_payment_holds_and_may_be_changed(
    client, analyst, supervisor, ccb_liaison, filed_case
):
    account = identifier_of(filed_case, TargetKind.BANK_ACCOUNT)
    [stop] = actions.issue_stop_payments(filed_case, acting_user=analyst)
    actions.submit_result(stop, acting_user=ccb_liaison, status="completed", result={"amount_held": "31000.00"})
    client.force_login(analyst)
    response = client.get(measure_url(filed_case, TaskType.FREEZE, account))
    assert _amount_input(response) == "31000.00"
    assert f"#{stop.pk}" in response.context["form"].fields["amount"].help_text
    # Editable: the analyst asks for less.
    response = post_measure(
        client,
        filed_case,
        TaskType.FREEZE,
        account,
        agency=agency("CCB").pk,
        legal_document_number=DOCUMENT,
        amount="20000.00",
    )
    assert response.status_code == 302
    assert Task.objects.get(case=filed_case, type=TaskType.FREEZE).amount == Decimal("20000.00")
    # Once the stop-payment has lapsed, the freeze asks for what was paid in again.
    Task.objects.filter(pk=stop.pk).update(lapses_at=timezone.now() - timedelta(minutes=1))
    assert _amount_input(client.get(measure_url(filed_case, TaskType.FREEZE, account))) == "52000.00"


def test_no_amount_proposed_where_none_is_known(client, analyst, rich_case):
    other = suspect(rich_case, analyst, TargetKind.BANK_ACCOUNT, "6217000010055556666")
    client.force_login(analyst)
    response = client.get(measure_url(rich_case, TaskType.EMERGENCY_STOP_PAYMENT, other))
    assert _amount_input(response) == ""
    # An account query holds no money: nothing proposed either.
    account = identifier_of(rich_case, TargetKind.BANK_ACCOUNT)
    query = client.get(measure_url(rich_case, TaskType.ACCOUNT_QUERY, account))
    assert "amount" not in query.context["form"].initial
