"""The audit CSV export masks personal values for a reader who sees masks, as every page does.

The history: the conftest case (victim 张三, phone 13800000000; accounts
6222020200112233445 -> 6217000010012345678), the victim's phone and address
corrected, the transfer's receiving account corrected to 6228480010099990003.
The auditor (masked) exports the trail: none of those values appears whole,
each appears as the mask shows it. The administrator (personal data in full)
exports them as recorded.
"""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse

from cases import actions
from cases.models import Transfer, Victim
from coordination.masking import mask_data_value, mask_value

pytestmark = pytest.mark.django_db

RAW = {
    "张三": "name",
    "13800000000": "phone",
    "13911112222": "phone",
    "成都市武侯区人民南路四段1号": "address",
    "6222020200112233445": "bank_account",
    "6217000010012345678": "bank_account",
    "6228480010099990003": "bank_account",
}


@pytest.fixture
def history(case, analyst):
    victim = Victim.objects.get(case=case)
    actions.correct_victim(
        victim,
        acting_user=analyst,
        reason="核对",
        changes={"phone": "13911112222", "address": "成都市武侯区人民南路四段1号"},
    )
    transfer = Transfer.objects.get(case=case)
    actions.correct_transfer(
        transfer, acting_user=analyst, reason="回单", changes={"to_account": "6228480010099990003"}
    )
    return case


def export(client, user) -> str:
    client.force_login(user)
    response = client.get(reverse("audit"), {"format": "csv"})
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    assert next(csv.reader(io.StringIO(text)))[8:10] == ["before", "after"]
    return text


def test_the_auditor_gets_masked_values(client, auditor, history):
    text = export(client, auditor)
    for raw, kind in RAW.items():
        assert raw not in text, raw
        assert mask_value(kind, raw) in text, (raw, mask_value(kind, raw))


def test_the_administrator_gets_the_values_as_recorded(client, admin_user, history):
    text = export(client, admin_user)
    for raw in RAW:
        assert raw in text, raw


def test_nested_values_and_identifier_values_are_masked():
    data = {
        "kind": "phone",
        "value": "13800000000",
        "result": {"onward_transfers": [{"account": "6217000010012345678", "bank": "CCB", "amount": "10.00"}]},
        "contact_name": "李四",
        "state": "completed",
    }
    assert mask_data_value(data) == {
        "kind": "phone",
        "value": "138****0000",
        "result": {"onward_transfers": [{"account": "6217***********5678", "bank": "CCB", "amount": "10.00"}]},
        "contact_name": "李*",
        "state": "completed",
    }
