"""Retention: closed cases' personal data pseudonymised after RETENTION_DAYS; money, figures and audit chain kept."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from cases import actions, retention
from cases.models import Case, CaseIdentifier, Identifier, Task, Transfer, Victim
from cases.search import filter_cases
from cases.tasks import apply_retention
from coordination.models import AuditRecord
from tests.conftest import RECEIVING_ACCOUNT, make_case

NAME, ID_NUMBER, PHONE = "张三", "51010719900101123X", "13800000000"


def closed_case(analyst, **kwargs) -> Case:
    case = make_case(analyst, **kwargs)
    Case.objects.filter(pk=case.pk).update(summary=f"{NAME}（电话 {PHONE}）被冒充客服骗取。")
    case.refresh_from_db()
    [task] = actions.issue_stop_payments(case, acting_user=analyst)
    Task.objects.filter(pk=task.pk).update(
        contact_name="李四", contact_phone="13900000000", contact_address="武侯区某路1号"
    )
    actions.close_case(case, acting_user=analyst, summary=f"已返还 {NAME} 部分款项。", outcome="partly_returned")
    case.refresh_from_db()
    return case


def figures(case: Case) -> dict:
    case.refresh_from_db()
    return {
        "loss": case.loss_amount,
        "stopped": case.amount_stopped,
        "frozen": case.amount_frozen,
        "returned": case.amount_returned,
        "status": case.status,
        "closed_at": case.closed_at,
        "transfers": list(Transfer.objects.filter(case=case).order_by("id").values_list("amount", "at")),
        "accounts": sorted(
            CaseIdentifier.objects.filter(case=case, identifier__kind="bank_account").values_list(
                "identifier__value", flat=True
            )
        ),
        "tasks": list(Task.objects.filter(case=case).order_by("id").values_list("type", "amount", "state")),
    }


def test_the_job_is_scheduled():
    assert settings.CELERY_BEAT_SCHEDULE["retention"]["task"] == apply_retention.name


@pytest.mark.django_db
def test_a_case_closed_longer_than_the_period_is_pseudonymised(analyst, later):
    case = closed_case(analyst)
    before = figures(case)
    later(settings.RETENTION_DAYS + 1)
    apply_retention.delay()

    case.refresh_from_db()
    assert case.pseudonymised_at == timezone.now()
    [victim] = Victim.objects.filter(case=case)
    assert victim.name == retention.pseudonym("name", NAME)
    assert victim.id_number == retention.pseudonym("id_number", ID_NUMBER)
    assert victim.phone == retention.pseudonym("phone", PHONE)
    for value in (victim.name, victim.id_number, victim.phone):
        assert retention.PSEUDONYM.match(value)
    [task] = Task.objects.filter(case=case)
    assert task.contact_name == retention.pseudonym("name", "李四")
    assert task.contact_phone == retention.pseudonym("phone", "13900000000")
    assert task.contact_address == retention.pseudonym("address", "武侯区某路1号")
    # Quoted in the texts: replaced by the same pseudonyms.
    assert NAME not in case.summary and PHONE not in case.summary and victim.name in case.summary
    assert NAME not in case.closure_summary and victim.name in case.closure_summary
    # The search texts are rebuilt from the new values.
    for text in (case.search_text, case.search_masked):
        assert NAME not in text and PHONE not in text
    assert victim.name in case.search_text
    assert not filter_cases(Case.objects.filter(pk=case.pk), NAME, analyst).exists()
    assert filter_cases(Case.objects.filter(pk=case.pk), victim.name, analyst).exists()
    # The victim's phone as an identifier too; the money trail and the figures stay.
    assert not Identifier.objects.filter(value=PHONE).exists()
    assert figures(case) == before
    assert RECEIVING_ACCOUNT in before["accounts"]


@pytest.mark.django_db
def test_retention_is_audited_without_the_values_and_the_chain_still_verifies(analyst, later, tmp_path, settings):
    settings.AUDIT_HEAD_FILE = tmp_path / "heads.log"
    case = closed_case(analyst)
    earlier = list(AuditRecord.objects.filter(case_id=case.pk).order_by("id").values("id", "before", "after"))
    later(settings.RETENTION_DAYS + 1)
    assert retention.apply_retention() == 1

    [record] = AuditRecord.objects.filter(case_id=case.pk, action="case.pseudonymise")
    assert record.user_name == "system"
    assert record.after["replaced"] == {"name": 2, "id_number": 1, "phone": 2, "address": 1}
    assert record.after["retention_days"] == settings.RETENTION_DAYS
    text = json.dumps([record.before, record.after, record.object_repr], ensure_ascii=False)
    for value in (NAME, ID_NUMBER, PHONE, "李四", "13900000000"):
        assert value not in text
    # The case's earlier records are kept as they were: append-only, chained.
    assert (
        list(
            AuditRecord.objects.filter(case_id=case.pk, id__lte=earlier[-1]["id"])
            .order_by("id")
            .values("id", "before", "after")
        )
        == earlier
    )
    call_command("verify_audit", "--no-heads")


@pytest.mark.django_db
def test_cases_not_due_are_left_alone(analyst, later):
    closed = closed_case(analyst)
    open_case = make_case(analyst, to_account="6217000010099990000")
    Case.objects.filter(pk=open_case.pk).update(closed_at=timezone.now() - timedelta(days=10 * 365))  # not closed
    later(settings.RETENTION_DAYS - 1)
    assert retention.apply_retention() == 0
    assert Victim.objects.filter(case=closed, name=NAME).exists()
    later(settings.RETENTION_DAYS + 1)
    assert retention.apply_retention() == 1
    assert Victim.objects.filter(case=open_case, name=NAME).exists()
    assert not Victim.objects.filter(case=closed, name=NAME).exists()
    # A second run finds nothing left to do.
    assert retention.apply_retention() == 0
    assert AuditRecord.objects.filter(action="case.pseudonymise").count() == 1


@pytest.mark.django_db
def test_the_period_is_a_setting(analyst, later, settings):
    case = closed_case(analyst)
    settings.RETENTION_DAYS = 30
    later(29)
    assert retention.apply_retention() == 0
    later(31)
    assert retention.apply_retention() == 1
    case.refresh_from_db()
    assert case.pseudonymised_at is not None


@pytest.mark.django_db
def test_pseudonyms_are_stable_and_shared_identifiers_wait_for_every_case(analyst, later):
    first = closed_case(analyst)
    # The same victim (same phone) in a case still open: the phone identifier is shared.
    second = make_case(analyst, to_account="6217000010099990000")
    phone = Identifier.objects.create(kind="phone", value=PHONE)
    for case in (first, second):
        CaseIdentifier.objects.create(case=case, identifier=phone, role="victim_phone")
    later(settings.RETENTION_DAYS + 1)
    assert retention.apply_retention() == 1
    assert Identifier.objects.filter(kind="phone", value=PHONE).exists()  # still needed by the open case
    third = closed_case(analyst, to_account="6217000010088880000")
    actions_closed = Case.objects.get(pk=second.pk)
    actions.close_case(actions_closed, acting_user=analyst, outcome="not_recovered", summary="结案")
    later(2 * settings.RETENTION_DAYS + 2)
    assert retention.apply_retention() == 2
    names = set(Victim.objects.filter(case__in=[first, second, third]).values_list("name", flat=True))
    assert names == {retention.pseudonym("name", NAME)}
    assert not Identifier.objects.filter(kind="phone", value=PHONE).exists()
    assert Identifier.objects.filter(kind="phone", value=retention.pseudonym("phone", PHONE)).count() == 1


def test_pseudonyms():
    assert retention.pseudonym("name", "张三") == retention.pseudonym("name", " 张三 ")
    assert retention.pseudonym("name", "张三") != retention.pseudonym("phone", "张三")
    assert retention.pseudonym("name", "") == ""
    once = retention.pseudonym("phone", PHONE)
    assert retention.pseudonym("phone", once) == once
    assert len(retention.pseudonym("id_number", ID_NUMBER)) <= 18
