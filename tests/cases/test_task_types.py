"""The task-type registry: one declaration drives creation, approval, the push, the answer and the page.

Every registered type, and a throw-away type registered by a test alone, is
driven end to end through the real layers: created through the API, approved
by the role its declaration names, pushed by the real push job to the demo
partner listening on 127.0.0.1, answered by the partner over HTTP to the
platform (``live_server``), and shown on the task page; then answered through
the task page's own result form.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import translation
from rest_framework.test import APIClient

from agencies.actions import ensure_api_user, set_endpoint
from agencies.choices import CENTRE_AGENCY_CODE, Role, Sector
from agencies.models import Agency
from alerts.choices import DeliveryState
from alerts.models import Delivery
from cases import actions, task_types
from cases.choices import TargetKind, TaskState
from cases.models import Case, Task, TaskTypeConfig
from cases.results import ResultField, moment, text
from cases.task_types import DemoAnswer, ResultPage, TaskTypeSpec
from coordination.models import AuditRecord
from simulator import serve_in_thread

from ..conftest import agency, make_case, make_user

BUILT_IN = [spec.code for spec in task_types.registry]  # read at collection: no throw-away type here

SAMPLE_TARGETS = {
    TargetKind.BANK_ACCOUNT: "6217000010012345678",
    TargetKind.PHONE: "13912345678",
    TargetKind.URL: "pay-fraud.example.com/checkout",
    TargetKind.APP: "com.fraud.loans",
    TargetKind.SOCIAL_ACCOUNT: "wx_fraud_0001",
    TargetKind.PERSON: "51010719900101123X",
    TargetKind.NONE: "",
}


@pytest.fixture
def site_takedown() -> Iterator[TaskTypeSpec]:
    """A type no code knows: registered for this test only, and taken out after it."""
    spec = task_types.register(
        TaskTypeSpec(
            code="test_site_takedown",
            label="Site takedown (test type)",
            name_zh="测试下架",
            deadline=timedelta(minutes=90),
            sectors=frozenset({Sector.INTERNET_PLATFORM}),
            target_kinds=(TargetKind.URL,),
            approver=Role.SUPERVISOR,
            result_fields=(ResultField("done_at", moment, required=True), ResultField("pages_removed", text)),
            page=ResultPage(stamp="done_at"),
            demo_answer=DemoAnswer.DONE,
        )
    )
    yield spec
    task_types.registry.unregister(spec.code)
    assert spec.code not in task_types.registry


def assigned_agency(spec: TaskTypeSpec) -> Agency:
    """An active agency of a sector the type may go to (not the centre itself)."""
    rows = Agency.objects.filter(is_active=True).exclude(code=CENTRE_AGENCY_CODE).order_by("code")
    if spec.sectors:
        return rows.filter(sector__in=spec.sectors).first()
    return rows.get(code="CCB")


def task_body(spec: TaskTypeSpec, case: Case, to: Agency) -> dict:
    """The protocol's task body for ``spec``, aimed at the first target kind it declares."""
    kind = spec.target_kinds[0]
    body = {"case": case.pk, "type": spec.code, "agency": to.code, "note": "registry test"}
    if kind != TargetKind.NONE:
        body["target"] = {"kind": kind, "value": SAMPLE_TARGETS[kind]}
    if kind == TargetKind.BANK_ACCOUNT:
        body["amount"] = "52000.00"
    if spec.needs_legal_document and not spec.legal_document_at_approval:
        body["legal_document_number"] = "成公(反诈)冻字〔2026〕001号"
    return body


def prepared_case(spec: TaskTypeSpec, analyst) -> Case:
    case = make_case(analyst)
    if spec.needs_filed_case:
        case = actions.file_case(case, acting_user=analyst, filing_number="成公立字〔2026〕1号")
    if spec.allocates_return:
        freeze_the_sample_account(case, analyst)
    return case


def freeze_the_sample_account(case: Case, analyst) -> None:
    """A return needs money frozen on its target that traces to a victim: the victim's 52,000, 30,000 frozen."""
    supervisor = make_user("t_freeze_supervisor", CENTRE_AGENCY_CODE, "supervisor")
    ccb = make_user("t_freeze_ccb", "CCB", "liaison")
    freeze = actions.create_task(
        case,
        acting_user=analyst,
        type="freeze",
        agency=agency("CCB"),
        target_kind=TargetKind.BANK_ACCOUNT,
        target_value=SAMPLE_TARGETS[TargetKind.BANK_ACCOUNT],
        amount=Decimal("52000.00"),
        legal_document_number="成公冻字〔2026〕9号",
    )
    freeze = actions.approve_task(freeze, acting_user=supervisor)
    actions.submit_result(freeze, acting_user=ccb, status="completed", result={"amount_held": "30000.00"})


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def create_and_approve(spec: TaskTypeSpec, case: Case, to: Agency, analyst, supervisor) -> int:
    """Create through the API as an analyst; approve as the least role the declaration allows."""
    response = api(analyst).post("/api/v1/tasks/", task_body(spec, case, to), format="json")
    assert response.status_code == 201, response.json()
    task_id = response.json()["id"]
    assert response.json()["type"] == spec.code and response.json()["status"] == TaskState.PENDING_APPROVAL
    if spec.needs_supervisor:
        refused = api(analyst).post(f"/api/v1/tasks/{task_id}/approve/")
        assert refused.status_code == 403, refused.json()
    approver = supervisor if spec.needs_supervisor else analyst
    approval = {}
    if spec.legal_document_at_approval:
        # The approver names the legal document (a fund return): without it, refused and nothing changed.
        refused = api(approver).post(f"/api/v1/tasks/{task_id}/approve/", {}, format="json")
        assert refused.status_code == 400 and "legal_document_number" in refused.json(), refused.json()
        approval = {"legal_document_number": "成公(反诈)冻字〔2026〕001号"}
    response = api(approver).post(f"/api/v1/tasks/{task_id}/approve/", approval, format="json")
    assert response.status_code == 200, response.json()
    return task_id


def wait_for(predicate, timeout: float = 15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("timed out")


@pytest.fixture
def partner(live_server, settings):
    """The demo partner on 127.0.0.1, answering pushes to the platform at ``live_server``."""
    settings.PLATFORM_BASE_URL = live_server.url
    sim = serve_in_thread({"agencies": {}}, live_server.url, result_delay=0.0)
    settings.PUSH_ALLOWED_HOSTS = [f"127.0.0.1:{sim.port}"]  # the operator vouches for the simulator
    config: dict = {"agencies": {}}

    def connect(to: Agency) -> None:
        secret = f"secret-{to.code.lower()}-0123456789"
        set_endpoint(to, url=sim.endpoint(to.code), secret=secret, acting_user=None)
        _user, token = ensure_api_user(username=f"{to.code.lower()}_system", agency=to, role="liaison")
        config["agencies"][to.code] = {"secret": secret, "token": token, "sector": to.sector}
        sim.set_config(config)

    sim.connect = connect
    yield sim
    sim.stop()


def drive_through_the_partner(spec: TaskTypeSpec, partner, analyst, supervisor) -> Task:
    """Created, approved, pushed, answered by the partner, shown on the task page."""
    to = assigned_agency(spec)
    partner.connect(to)
    case = prepared_case(spec, analyst)
    task_id = create_and_approve(spec, case, to, analyst, supervisor)

    task = wait_for(lambda: Task.objects.filter(pk=task_id, state=TaskState.COMPLETED).first())
    delivery = Delivery.objects.get(task=task)
    assert delivery.state == DeliveryState.DELIVERED
    [push] = [r for r in partner.received(to.code) if r["idempotency_key"] == str(delivery.pk)]
    assert push["verified"] and push["status"] == 202 and push["body"]["type"] == spec.code
    assert task.deadline == task.approved_at + timedelta(minutes=actions.deadline_minutes(spec))
    # The partner answered exactly the fields the type declares, required ones included.
    assert set(task.result) <= spec.result_field_names
    assert spec.required_fields <= set(task.result)
    if spec.holding is not None:
        assert task.amount_held == Decimal(task.result["amount_held"]) and task.lapses_at is not None
        assert getattr(Case.objects.get(pk=case.pk), spec.holding.case_total) == task.amount_held
    assert AuditRecord.objects.filter(object_type="cases.task", object_id=task.pk, action="task.result").exists()

    page = Client()
    page.force_login(analyst)
    with translation.override("en"):
        response = page.get(reverse("task-detail", args=[task.pk]), HTTP_ACCEPT_LANGUAGE="en")
        label = str(spec.label)
    assert response.status_code == 200
    html = response.content.decode()
    assert f"#{task.pk}" in html and "state-completed" in html
    assert f"#{task.pk} · {label}" in html  # the page, in English, names the type by its declared label
    return task


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("code", BUILT_IN)
def test_every_registered_type_is_created_approved_pushed_answered_and_shown(code, partner, analyst, supervisor):
    drive_through_the_partner(task_types.get(code), partner, analyst, supervisor)


@pytest.mark.django_db(transaction=True)
def test_a_type_registered_by_a_test_alone_goes_end_to_end(site_takedown, partner, analyst, supervisor):
    assert site_takedown.code in dict(task_types.choices())
    task = drive_through_the_partner(site_takedown, partner, analyst, supervisor)
    assert set(task.result) == {"done_at"}
    # No administrator row: the declaration's default deadline applies.
    assert not TaskTypeConfig.objects.filter(code=site_takedown.code).exists()
    assert task.deadline - task.approved_at == timedelta(minutes=90)
    assert task.get_type_display() == "Site takedown (test type)"


# --- the task page's result form follows the declaration's page ------------------------

FORM_INPUTS = {"amount_held": 'name="amount_held"', "balance": 'name="balance"', "outcome": 'name="outcome"'}


def drive_through_the_page(spec: TaskTypeSpec, client, analyst, supervisor) -> Task:
    """The agency has no endpoint: it finds the task in its inbox and answers on the task page."""
    to = assigned_agency(spec)
    liaison = make_user(f"t_{to.code.lower()}_liaison", to.code, "liaison")
    case = prepared_case(spec, analyst)
    task_id = create_and_approve(spec, case, to, analyst, supervisor)
    assert Task.objects.get(pk=task_id).state == TaskState.DISPATCHED

    client.force_login(liaison)
    url = reverse("task-detail", args=[task_id])
    html = client.get(url).content.decode()
    assert 'id="result-form"' in html
    for name, marker in FORM_INPUTS.items():
        assert (marker in html) == (name in spec.page.fields), name
    assert ('data-formset="onward"' in html) == spec.page.onward_transfers

    data = {"status": "completed", "reason": "", "onward-TOTAL_FORMS": "0", "onward-INITIAL_FORMS": "0"}
    if "amount_held" in spec.page.fields:
        missing = client.post(url, data)
        assert missing.status_code == 400  # required by the type's result fields
        data["amount_held"] = "1000.00"
    if "outcome" in spec.page.fields:
        data["outcome"] = "reached"
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    task = Task.objects.get(pk=task_id)
    assert task.state == TaskState.COMPLETED
    assert spec.required_fields <= set(task.result) <= spec.result_field_names
    if spec.page.stamp:
        assert spec.page.stamp in task.result
    if spec.page.returns_allocations:
        assert [row["amount"] for row in task.result["returned"]] == ["30000.00"]
        assert Case.objects.get(pk=case.pk).amount_returned == Decimal("30000.00")
    return task


@pytest.mark.django_db
@pytest.mark.parametrize("code", BUILT_IN)
def test_every_registered_type_is_answered_on_the_task_page(code, client, analyst, supervisor):
    drive_through_the_page(task_types.get(code), client, analyst, supervisor)


@pytest.mark.django_db
def test_a_throw_away_type_is_answered_on_the_task_page(site_takedown, client, analyst, supervisor):
    task = drive_through_the_page(site_takedown, client, analyst, supervisor)
    assert set(task.result) == {"done_at"}


# --- the registry itself -----------------------------------------------------------------


def test_built_in_types_are_the_protocol_codes_in_order():
    assert BUILT_IN == [
        "emergency_stop_payment",
        "freeze",
        "account_query",
        "number_shutdown",
        "number_trace",
        "url_block",
        "account_ban",
        "victim_warning",
        "other",
        "fund_return",
    ]
    assert task_types.registry.where(lambda spec: spec.allocates_return) == ["fund_return"]
    flow = task_types.registry.where(lambda spec: spec.feeds_flow)
    assert flow == ["emergency_stop_payment", "freeze", "account_query"]
    assert task_types.registry.where(lambda spec: spec.holding) == ["emergency_stop_payment", "freeze"]


def test_a_code_is_registered_once_and_a_contradictory_declaration_is_refused(site_takedown):
    with pytest.raises(ValueError, match="already registered"):
        task_types.register(site_takedown)
    base = {"label": "x", "name_zh": "x", "deadline": timedelta(hours=1)}
    bad = [
        TaskTypeSpec(code="Bad-Code", **base),
        TaskTypeSpec(code="test_bad_page", page=ResultPage(on_completion=("amount_held",)), **base),
        TaskTypeSpec(code="test_bad_stamp", page=ResultPage(stamp="done_at"), **base),
        TaskTypeSpec(code="test_bad_sector", sectors=frozenset({"bakery"}), **base),
        TaskTypeSpec(code="test_bad_approver", approver=Role.LIAISON, **base),
        TaskTypeSpec(code="test_bad_watchers", watchers=frozenset({"lapse_warning"}), **base),
    ]
    for spec in bad:
        with pytest.raises(ValueError, match=spec.code):
            task_types.register(spec)
        assert spec.code not in task_types.registry


@pytest.mark.django_db
def test_an_unregistered_type_is_refused_and_the_administrators_deadline_wins(case, analyst):
    with pytest.raises(ValidationError) as refused:
        actions.create_task(case, acting_user=analyst, type="teleport", agency=agency("CCB"))
    assert "type" in refused.value.message_dict
    TaskTypeConfig.objects.filter(code="other").update(deadline_minutes=7)
    task = actions.create_task(case, acting_user=analyst, type="other", agency=agency("CCB"), note="协查")
    task = actions.approve_task(task, acting_user=analyst)
    assert task.deadline - task.approved_at == timedelta(minutes=7)


@pytest.mark.django_db
def test_the_seed_writes_each_registered_type_once(site_takedown):
    from cases.seed import seed_reference

    seed_reference()
    rows = list(
        TaskTypeConfig.objects.order_by("sort_order").values_list("code", "name", "name_en", "deadline_minutes")
    )
    assert [code for code, *_ in rows] == [*BUILT_IN, site_takedown.code]
    assert rows[-1] == (site_takedown.code, "测试下架", "Site takedown (test type)", 90)
    assert rows[0] == ("emergency_stop_payment", "紧急止付", "Emergency stop-payment", 30)
    assert seed_reference() == 0


@pytest.mark.django_db
def test_approval_dispatches_through_a_signal_sent_inside_the_transaction(case, analyst):
    """The actions send ``task_approved``; alerts' receiver writes the outbox row in the same transaction."""
    from cases import signals

    set_endpoint(agency("CCB"), url="http://127.0.0.1:9/push", secret="s" * 32, acting_user=None)
    task = actions.create_task(case, acting_user=analyst, type="other", agency=agency("CCB"), note="协查")

    def refuse(sender, task, **kwargs):
        assert Delivery.objects.filter(task=task).exists()  # alerts' receiver ran first, in this transaction
        raise RuntimeError("receiver failed")

    signals.task_approved.connect(refuse, dispatch_uid="test.refuse")
    try:
        with pytest.raises(RuntimeError):
            actions.approve_task(task, acting_user=analyst)
    finally:
        signals.task_approved.disconnect(dispatch_uid="test.refuse")
    task.refresh_from_db()
    assert task.state == TaskState.PENDING_APPROVAL  # the approval and its outbox row went together
    assert not Delivery.objects.filter(task=task).exists()
    assert not AuditRecord.objects.filter(object_id=task.pk, action="task.approve").exists()


def test_the_actions_import_nothing_from_alerts():
    package = Path(actions.__file__).parent
    for module in package.glob("*.py"):
        for line in module.read_text(encoding="utf-8").splitlines():
            assert not line.lstrip().startswith(("from alerts", "import alerts")), f"{module.name}: {line}"
