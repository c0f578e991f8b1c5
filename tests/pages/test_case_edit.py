"""The case edit page: corrections with a reason, additions, links, closure, and who may do them."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from cases import actions
from cases.models import Case, CaseIdentifier, District, Transfer, Victim
from coordination.exceptions import Conflict
from coordination.models import AuditRecord
from tests.conftest import agency, make_case

pytestmark = pytest.mark.django_db


def edit_url(case):
    return reverse("case-edit", args=[case.pk])


def correction(case, **overrides):
    """The correction form as the page sends it, with the case's current values."""
    data = {
        "do": "correct",
        "case-fraud_type": case.fraud_type_id,
        "case-channel": case.channel_id,
        "case-district": case.district_id,
        "case-reported_at": timezone.localtime(case.reported_at).strftime("%Y-%m-%dT%H:%M"),
        "case-occurred_at": "",
        "case-loss_amount": f"{case.loss_amount:.2f}",
        "case-summary": case.summary,
        "case-reason": "",
    }
    data.update({f"case-{k}": v for k, v in overrides.items()})
    return data


def messages_of(response) -> list[str]:
    return [str(m) for m in response.wsgi_request._messages]


def test_page_shows_every_form(client, analyst, case):
    client.force_login(analyst)
    body = client.get(edit_url(case)).content.decode()
    for form_id in ("correct-case", "add-victim", "add-transfer", "add-identifier", "link-case", "close-case"):
        assert f'id="{form_id}"' in body
    assert reverse("case-edit", args=[case.pk]) in client.get(reverse("case-detail", args=[case.pk])).content.decode()


def test_correction_without_reason_is_refused_and_saves_nothing(client, analyst, case):
    client.force_login(analyst)
    before = AuditRecord.objects.filter(case_id=case.pk, action="case.update").count()
    response = client.post(edit_url(case), correction(case, loss_amount="50000.00"))
    assert response.status_code == 400
    assert "case-reason_error" in response.content.decode()
    case.refresh_from_db()
    assert case.loss_amount == Decimal("52000.00")
    assert AuditRecord.objects.filter(case_id=case.pk, action="case.update").count() == before


def test_correction_with_reason_audits_each_changed_field(client, analyst, case):
    client.force_login(analyst)
    jinjiang = District.objects.get(code="jinjiang")
    response = client.post(
        edit_url(case), correction(case, loss_amount="50000.00", district=jinjiang.pk, reason="受害人更正了金额和地址")
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.loss_amount == Decimal("50000.00") and case.district == jinjiang
    row = AuditRecord.objects.get(case_id=case.pk, action="case.update")
    # Only what changed, old → new, with the reason.
    assert row.before == {"loss_amount": "52000.00", "district_id": District.objects.get(code="wuhou").pk}
    assert row.after == {"loss_amount": "50000.00", "district_id": jinjiang.pk, "reason": "受害人更正了金额和地址"}
    assert row.user_name == analyst.username


def test_correction_that_changes_nothing_writes_nothing(client, analyst, case):
    client.force_login(analyst)
    response = client.post(edit_url(case), correction(case, reason="核对"), follow=True)
    assert not AuditRecord.objects.filter(case_id=case.pk, action="case.update").exists()
    assert any("Nothing was changed" in m or "没有" in m for m in messages_of(response))


def test_victim_correction_needs_a_reason_and_is_audited(client, analyst, case):
    client.force_login(analyst)
    victim = Victim.objects.get(case=case)
    data = {
        "do": "victim",
        "victim": victim.pk,
        f"victim-{victim.pk}-name": "张三丰",
        f"victim-{victim.pk}-id_number": victim.id_number,
        f"victim-{victim.pk}-phone": victim.phone,
        f"victim-{victim.pk}-address": "武侯区一环路1号",
        f"victim-{victim.pk}-reason": "",
    }
    assert client.post(edit_url(case), data).status_code == 400
    victim.refresh_from_db()
    assert victim.name == "张三"
    data[f"victim-{victim.pk}-reason"] = "身份证核对"
    assert client.post(edit_url(case), data).status_code == 302
    victim.refresh_from_db()
    assert (victim.name, victim.address) == ("张三丰", "武侯区一环路1号")
    row = AuditRecord.objects.get(case_id=case.pk, action="victim.update")
    assert row.before == {"name": "张三", "address": ""}
    assert row.after == {"name": "张三丰", "address": "武侯区一环路1号", "reason": "身份证核对"}


@pytest.mark.parametrize(
    ("do", "data", "field"),
    [
        (
            "add-transfer",
            {
                "transfer-from_account": "6222020200112233445",
                "transfer-to_account": "12345",
                "transfer-to_bank": "",
                "transfer-amount": "abc",
                "transfer-at": "",
            },
            "transfer-to_account",
        ),
        ("add-identifier", {"identifier-kind": "phone", "identifier-value": "12"}, "identifier-value"),
        ("add-identifier", {"identifier-kind": "url", "identifier-value": "not a url at all"}, "identifier-value"),
        (
            "add-victim",
            {"new-victim-name": "王五", "new-victim-id_number": "510107199001011230", "new-victim-phone": ""},
            "new-victim-id_number",
        ),
    ],
)
def test_invalid_additions_are_form_errors_and_save_nothing(client, analyst, case, do, data, field):
    client.force_login(analyst)
    counts = (
        Transfer.objects.filter(case=case).count(),
        CaseIdentifier.objects.filter(case=case).count(),
        Victim.objects.filter(case=case).count(),
        AuditRecord.objects.filter(case_id=case.pk).exclude(action="case.view").count(),
    )
    response = client.post(edit_url(case), {"do": do, **data})
    assert response.status_code == 400
    assert f"{field}_error" in response.content.decode()
    assert counts == (
        Transfer.objects.filter(case=case).count(),
        CaseIdentifier.objects.filter(case=case).count(),
        Victim.objects.filter(case=case).count(),
        AuditRecord.objects.filter(case_id=case.pk).exclude(action="case.view").count(),
    )


def test_transfer_later_than_the_report_is_a_form_error(client, analyst, case):
    client.force_login(analyst)
    later = timezone.localtime(case.reported_at + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        edit_url(case),
        {
            "do": "add-transfer",
            "transfer-from_account": "6222020200112233445",
            "transfer-from_bank": agency("ICBC").pk,
            "transfer-to_account": "6217000010077777777",
            "transfer-to_bank": agency("CCB").pk,
            "transfer-amount": "100.00",
            "transfer-at": later,
            "transfer-confirm_accounts": "on",
        },
    )
    assert response.status_code == 400
    assert not Transfer.objects.filter(case=case, amount=Decimal("100.00")).exists()


def test_added_transfer_and_identifier_link_earlier_cases(client, analyst, case):
    earlier = make_case(analyst, to_account="6217000010066666666", from_account="6222020200199999999")
    actions.add_case_identifier(
        earlier, acting_user=analyst, data=actions.IdentifierData(kind="phone", value="13912345678")
    )
    client.force_login(analyst)
    response = client.post(
        edit_url(case), {"do": "add-identifier", "identifier-kind": "phone", "identifier-value": "139 1234 5678"}
    )
    assert response.status_code == 302
    assert CaseIdentifier.objects.filter(case=case, identifier__value="13912345678").exists()
    page = client.get(reverse("case-detail", args=[case.pk]))
    assert any(earlier.reference in m for m in messages_of(page))
    body = page.content.decode()
    assert earlier.reference in body and "13912345678" in body
    # A transfer to an account an earlier case reported links it too.
    third = make_case(analyst, to_account="6217000010055555555", from_account="6222020200188888888")
    response = client.post(
        edit_url(case),
        {
            "do": "add-transfer",
            "transfer-from_account": "6222020200112233445",
            "transfer-from_bank": agency("ICBC").pk,
            "transfer-to_account": "6217000010055555555",
            "transfer-to_bank": agency("CCB").pk,
            "transfer-amount": "3000.00",
            "transfer-at": timezone.localtime(case.reported_at - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M"),
            "transfer-confirm_accounts": "on",
        },
        follow=True,
    )
    assert response.status_code == 200
    assert Transfer.objects.filter(case=case, amount=Decimal("3000.00")).exists()
    assert any(third.reference in m for m in messages_of(response))


def test_linked_panel_names_the_identifier_and_what_is_held(client, analyst, ccb_liaison, case, stop_task):
    other = make_case(analyst, from_account="6222020200177777777")  # the same receiving account
    actions.submit_result(stop_task, acting_user=ccb_liaison, status="completed", result={"amount_held": "30000.00"})
    client.force_login(analyst)
    body = client.get(reverse("case-detail", args=[other.pk])).content.decode()
    panel = body.split('id="linked-cases"', 1)[1].split("</ul>\n", 1)[0]
    assert case.reference in panel
    assert "6217000010012345678" in panel
    assert "¥30,000.00" in panel


def test_link_and_unlink_by_hand_with_reasons(client, analyst, case):
    other = make_case(analyst, to_account="6217000010044444444", from_account="6222020200166666666")
    client.force_login(analyst)
    # A reason is required.
    response = client.post(edit_url(case), {"do": "link", "link-reference": other.reference, "link-reason": ""})
    assert response.status_code == 400
    response = client.post(edit_url(case), {"do": "link", "link-reference": "CD-1999-999999", "link-reason": "x"})
    assert response.status_code == 400
    response = client.post(
        edit_url(case), {"do": "link", "link-reference": other.reference, "link-reason": "同一嫌疑人微信"}
    )
    assert response.status_code == 302
    # Both timelines record it, each naming the other case.
    for one, two in ((case, other), (other, case)):
        row = AuditRecord.objects.get(case_id=one.pk, action="case.link")
        assert row.after["reason"] == "同一嫌疑人微信" and row.after["other_reference"] == two.reference
    assert f'data-case="{other.pk}"' in client.get(reverse("case-detail", args=[case.pk])).content.decode()
    response = client.post(edit_url(case), {"do": "unlink", "unlink": other.pk, f"unlink-{other.pk}-other": other.pk})
    assert response.status_code == 400  # no reason
    response = client.post(
        edit_url(case),
        {"do": "unlink", "unlink": other.pk, f"unlink-{other.pk}-other": other.pk, f"unlink-{other.pk}-reason": "误判"},
    )
    assert response.status_code == 302
    row = AuditRecord.objects.get(case_id=case.pk, action="case.unlink")
    assert row.before == {"state": "linked", "reason": "同一嫌疑人微信"}
    assert row.after["state"] == "unlinked" and row.after["reason"] == "误判"
    assert f'data-case="{other.pk}"' not in client.get(reverse("case-detail", args=[case.pk])).content.decode()


def test_unlinking_an_identifier_link_hides_it(client, analyst, case):
    other = make_case(analyst)  # shares both accounts
    client.force_login(analyst)
    response = client.post(
        edit_url(case),
        {
            "do": "unlink",
            "unlink": other.pk,
            f"unlink-{other.pk}-other": other.pk,
            f"unlink-{other.pk}-reason": "同名账户",
        },
    )
    assert response.status_code == 302
    body = client.get(reverse("case-detail", args=[case.pk])).content.decode()
    assert f'data-case="{other.pk}"' not in body
    with pytest.raises(Conflict):
        actions.unlink_cases(case, other, acting_user=analyst, reason="again")


def test_close_then_every_edit_is_refused(client, analyst, case):
    client.force_login(analyst)
    response = client.post(edit_url(case), {"do": "close", "close-outcome": "", "close-summary": ""})
    assert response.status_code == 400
    response = client.post(
        edit_url(case),
        {
            "do": "close",
            "close-outcome": "partly_returned",
            "close-summary": "冻结资金已部分返还",
            # The amount returned is no longer typed: a posted one is ignored.
            "close-amount_returned": "20000.00",
        },
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == "closed" and case.outcome == "partly_returned" and case.closed_at is not None
    assert case.amount_returned == Decimal("0.00") and case.closure_summary == "冻结资金已部分返还"
    row = AuditRecord.objects.get(case_id=case.pk, action="case.close")
    assert row.before["status"] == "open" and row.after["status"] == "closed"
    assert row.after["loss_amount"] == "52000.00" and row.after["amount_returned"] == "0.00"

    page = client.get(edit_url(case)).content.decode()
    assert 'id="case-closed"' in page and 'id="correct-case"' not in page
    assert (
        reverse("case-edit", args=[case.pk]) not in client.get(reverse("case-detail", args=[case.pk])).content.decode()
    )
    audit_rows = AuditRecord.objects.exclude(action="case.view").count()
    for data in (
        correction(case, loss_amount="1.00", reason="x"),
        {"do": "add-identifier", "identifier-kind": "phone", "identifier-value": "13912345678"},
        {"do": "add-victim", "new-victim-name": "王五"},
        {"do": "close", "close-outcome": "returned", "close-summary": "again"},
    ):
        response = client.post(edit_url(case), data, follow=True)
        assert response.status_code == 200
        assert any("closed" in m or "已结案" in m for m in messages_of(response)), data["do"]
    assert AuditRecord.objects.exclude(action="case.view").count() == audit_rows
    case.refresh_from_db()
    assert case.loss_amount == Decimal("52000.00")
    # The actions refuse too, whatever calls them.
    with pytest.raises(Conflict):
        actions.correct_case(case, acting_user=analyst, reason="x", changes={"summary": "y"})
    with pytest.raises(Conflict):
        actions.add_victim(case, acting_user=analyst, data=actions.VictimData(name="王五"))
    with pytest.raises(Conflict):
        actions.file_case(case, acting_user=analyst, filing_number="成公立字〔2026〕9号")


def test_case_state_table_is_the_one_place(analyst, case):
    from cases.choices import CASE_TRANSITIONS

    assert CASE_TRANSITIONS["closed"] == frozenset()
    case = Case.objects.get(pk=case.pk)
    with pytest.raises(Conflict):
        case.transition_to("open")


@pytest.mark.parametrize("role", ["auditor"])
def test_readers_get_403(client, request, case, role):
    client.force_login(request.getfixturevalue(role))
    assert client.get(edit_url(case)).status_code == 403
    assert client.post(edit_url(case), correction(case, reason="x", loss_amount="1.00")).status_code == 403


@pytest.mark.parametrize("role", ["ccb_liaison", "ccb_manager", "icbc_liaison"])
def test_agencies_get_404(client, request, case, stop_task, role):
    client.force_login(request.getfixturevalue(role))
    assert client.get(edit_url(case)).status_code == 404
    assert client.post(edit_url(case), correction(case, reason="x", loss_amount="1.00")).status_code == 404
    case.refresh_from_db()
    assert case.loss_amount == Decimal("52000.00")


def test_supervisor_may_correct_and_close(client, supervisor, case):
    client.force_login(supervisor)
    assert client.post(edit_url(case), correction(case, summary="补充案情", reason="补充")).status_code == 302
    response = client.post(edit_url(case), {"do": "close", "close-outcome": "not_recovered", "close-summary": "无"})
    assert response.status_code == 302
    assert Case.objects.get(pk=case.pk).status == "closed"
