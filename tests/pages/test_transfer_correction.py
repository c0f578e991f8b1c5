"""Correcting a recorded transfer from the case edit page: amount, time, accounts, with a reason.

The case (conftest ``make_case``): the victim paid 52,000.00 from ICBC account
6222020200112233445 to CCB account 6217000010012345678 thirty minutes before
the report. The analyst corrects the receiving account to 6217000010099990000
at ABC and the amount to 50,000.00: the edge now joins the new account, the old
one leaves the case (nothing else of the case uses it), the search finds the
case by the new digits and not by the old, and the audit row keeps both.
"""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from cases import actions
from cases.models import Case, CaseIdentifier, Identifier, Transfer
from coordination.models import AuditRecord
from tests.conftest import RECEIVING_ACCOUNT, VICTIM_ACCOUNT, agency, make_case

pytestmark = pytest.mark.django_db

NEW_ACCOUNT = "6228480010099990003"  # a card number with a right check digit


def edit_url(case):
    return reverse("case-edit", args=[case.pk])


def transfer_form(transfer, **overrides):
    """The transfer's correction form as the page sends it, with the recorded values."""
    prefix = f"transfer-{transfer.pk}"
    data = {
        "from_account": transfer.from_identifier.value,
        "from_bank": transfer.from_identifier.bank_id or "",
        "to_account": transfer.to_identifier.value,
        "to_bank": transfer.to_identifier.bank_id or "",
        "amount": f"{transfer.amount:.2f}",
        "at": timezone.localtime(transfer.at).strftime("%Y-%m-%dT%H:%M"),
        "confirm_accounts": "",
        "reason": "",
    }
    data.update(overrides)
    return {"do": "transfer", "transfer": transfer.pk, **{f"{prefix}-{k}": v for k, v in data.items()}}


def only_transfer(case):
    return Transfer.objects.select_related("from_identifier__bank", "to_identifier__bank").get(case=case)


def audit_count():
    return AuditRecord.objects.exclude(action="case.view").count()


def test_the_page_shows_each_transfer_as_recorded(client, analyst, case):
    client.force_login(analyst)
    transfer = only_transfer(case)
    body = client.get(edit_url(case)).content.decode()
    assert f'id="transfer-form-{transfer.pk}"' in body and RECEIVING_ACCOUNT in body


def test_correct_account_and_amount(client, analyst, case):
    client.force_login(analyst)
    transfer = only_transfer(case)
    old_target = transfer.to_identifier
    response = client.post(
        edit_url(case),
        transfer_form(
            transfer, to_account=NEW_ACCOUNT, to_bank=agency("ABC").pk, amount="50000.00", reason="受害人核对回单"
        ),
    )
    assert response.status_code == 302, re.findall(r"errorlist.*?</ul>", response.content.decode(), re.S)
    transfer = only_transfer(case)
    # The money-flow edge follows: same edge, new account, new amount; the time kept to the second.
    assert transfer.to_identifier.value == NEW_ACCOUNT and transfer.to_identifier.bank.code == "ABC"
    assert transfer.amount == Decimal("50000.00") and transfer.from_identifier.value == VICTIM_ACCOUNT
    links = set(CaseIdentifier.objects.filter(case=case).values_list("identifier__value", "role"))
    assert (NEW_ACCOUNT, "receiving_account") in links
    assert RECEIVING_ACCOUNT not in {value for value, _role in links}  # the wrong number no longer links cases
    old_target.refresh_from_db()
    assert old_target.case_count == 0 and Identifier.objects.get(value=NEW_ACCOUNT).case_count == 1
    row = AuditRecord.objects.get(case_id=case.pk, action="transfer.update")
    assert row.before == {"amount": "52000.00", "to_account": RECEIVING_ACCOUNT}
    assert row.after == {
        "amount": "50000.00",
        "to_account": NEW_ACCOUNT,
        "released_identifier_ids": [old_target.pk],
        "reason": "受害人核对回单",
    }
    # The search index follows: the new digits find the case, the old ones no longer do.
    listing = client.get(reverse("case-list"), {"q": NEW_ACCOUNT[-6:]})
    assert case.reference in listing.content.decode()
    assert case.reference not in client.get(reverse("case-list"), {"q": RECEIVING_ACCOUNT[-6:]}).content.decode()
    graph = client.get(f"/api/v1/cases/{case.pk}/money-flow/").json()
    assert [e["amount"] for e in graph["edges"]] == ["50000.00"]


def test_correct_the_time(client, analyst, case):
    client.force_login(analyst)
    transfer = only_transfer(case)
    earlier = timezone.localtime(transfer.at - timedelta(hours=2)).replace(second=0, microsecond=0)
    response = client.post(
        edit_url(case), transfer_form(transfer, at=earlier.strftime("%Y-%m-%dT%H:%M"), reason="时间记错")
    )
    assert response.status_code == 302
    assert only_transfer(case).at == earlier
    row = AuditRecord.objects.get(case_id=case.pk, action="transfer.update")
    assert set(row.before) == {"at"} and row.after["at"] == earlier.isoformat()


def test_the_same_values_change_nothing(client, analyst, case):
    client.force_login(analyst)
    before = audit_count()
    response = client.post(edit_url(case), transfer_form(only_transfer(case), reason="核对"), follow=True)
    assert response.status_code == 200
    assert audit_count() == before


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"to_account": NEW_ACCOUNT}, "reason"),  # no reason
        ({"amount": "0", "reason": "x"}, "amount"),
        ({"amount": "-5.00", "reason": "x"}, "amount"),
        ({"amount": "1.234", "reason": "x"}, "amount"),
        ({"to_account": "12ab", "reason": "x"}, "to_account"),
        ({"to_account": VICTIM_ACCOUNT, "reason": "x"}, "to_account"),  # from and to the same account
        ({"to_account": "6217000010012345670", "reason": "x"}, "to_account"),  # a card's check digit is wrong
        ({"at": "", "reason": "x"}, "at"),
        ({"at": "1980-01-01T10:00", "reason": "x"}, "at"),
    ],
)
def test_bad_corrections_are_form_errors_and_change_nothing(client, analyst, case, overrides, field):
    client.force_login(analyst)
    transfer = only_transfer(case)
    before = audit_count()
    response = client.post(edit_url(case), transfer_form(transfer, **overrides))
    assert response.status_code == 400
    assert f"transfer-{transfer.pk}-{field}_error" in response.content.decode()
    assert audit_count() == before
    after = only_transfer(case)
    assert (after.amount, after.at, after.to_identifier_id) == (transfer.amount, transfer.at, transfer.to_identifier_id)


def test_a_time_after_the_report_is_refused_by_the_action(client, analyst, case):
    client.force_login(analyst)
    transfer = only_transfer(case)
    later = timezone.localtime(case.reported_at + timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(edit_url(case), transfer_form(transfer, at=later, reason="x"))
    assert response.status_code == 400 and f"transfer-{transfer.pk}-at_error" in response.content.decode()
    assert only_transfer(case).at == transfer.at


def test_an_account_still_used_stays_on_the_case(client, analyst, case):
    """A stop-payment was sent to the old account: it stays linked (the task names it)."""
    [_stop] = actions.issue_stop_payments(case, acting_user=analyst)
    client.force_login(analyst)
    transfer = only_transfer(case)
    response = client.post(
        edit_url(case), transfer_form(transfer, to_account=NEW_ACCOUNT, to_bank=agency("ABC").pk, reason="改账号")
    )
    assert response.status_code == 302
    values = set(CaseIdentifier.objects.filter(case=case).values_list("identifier__value", flat=True))
    assert {RECEIVING_ACCOUNT, NEW_ACCOUNT} <= values
    assert "released_identifier_ids" not in AuditRecord.objects.get(case_id=case.pk, action="transfer.update").after


def test_a_corrected_account_seen_before_links_the_cases(client, analyst, case):
    other = make_case(analyst, to_account=NEW_ACCOUNT, to_bank="ABC")
    client.force_login(analyst)
    response = client.post(
        edit_url(case), transfer_form(only_transfer(case), to_account=NEW_ACCOUNT, to_bank=agency("ABC").pk, reason="x")
    )
    assert response.status_code == 302
    linked = client.get(reverse("case-detail", args=[case.pk])).context["linked_cases"]
    assert other.pk in {entry.case.pk for entry in linked}


def test_only_the_centre_corrects_and_a_closed_case_refuses(client, analyst, auditor, case):
    transfer = only_transfer(case)
    client.force_login(auditor)
    assert client.post(edit_url(case), transfer_form(transfer, amount="1.00", reason="x")).status_code == 403
    client.force_login(analyst)
    other = make_case(analyst, to_account=NEW_ACCOUNT)
    foreign = only_transfer(other)
    data = transfer_form(foreign, amount="1.00", reason="x")
    assert client.post(edit_url(case), data).status_code == 404  # another case's transfer
    actions.close_case(case, acting_user=analyst, outcome="no_crime", summary="重复报案")
    before = audit_count()
    response = client.post(edit_url(case), transfer_form(transfer, amount="1.00", reason="x"), follow=True)
    assert response.status_code == 200 and audit_count() == before
    assert Case.objects.get(pk=case.pk).transfers.get().amount == Decimal("52000.00")
