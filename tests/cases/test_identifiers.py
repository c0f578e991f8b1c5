"""Identifier normalisation and serial-case linkage (串并案)."""

import pytest

from cases import actions
from cases.models import Case, CaseIdentifier, Identifier
from cases.validators import normalise_identifier
from coordination.models import AuditRecord

from ..conftest import make_case


@pytest.mark.parametrize(
    ("kind", "raw", "stored"),
    [
        ("bank_account", "6217 0000-1001 2345 678", "6217000010012345678"),
        ("phone", "+86 138 0000 0000", "13800000000"),
        ("url", "HTTPS://WWW.Fraud-Site.example.com:443/login/#top", "fraud-site.example.com/login"),
        ("url", "http://fraud.cn/", "fraud.cn"),
        ("app", "  Fake  Invest APP ", "fake invest app"),
        ("social_account", "WeChat_ID ", "wechat_id"),
    ],
)
def test_normalisation(kind, raw, stored):
    assert normalise_identifier(kind, raw) == stored


@pytest.mark.django_db
def test_same_identifier_in_two_cases_links_them(analyst):
    first = make_case(analyst)
    second = make_case(analyst, to_account="6217 0000 1001 2345 678")  # same account, other spelling
    shared = Identifier.objects.get(kind="bank_account", value="6217000010012345678")
    assert set(shared.cases.values_list("pk", flat=True)) == {first.pk, second.pk}
    assert shared.case_count == 2  # the victim's own account does not count as involvement
    assert list(Case.objects.linked_to(second)) == [first]
    assert list(Case.objects.linked_to(first)) == [second]
    link = AuditRecord.objects.filter(action="identifier.link", case_id=second.pk, object_id=shared.pk).get()
    assert link.after["linked_case_ids"] == [first.pk]


@pytest.mark.django_db
def test_identifier_stored_once_and_counts(analyst):
    case = make_case(analyst)
    for _ in range(2):
        actions.add_identifier(case, kind="phone", value="138-0000-0001", role="suspect", acting_user=analyst)
    assert Identifier.objects.filter(kind="phone", value="13800000001").count() == 1
    assert CaseIdentifier.objects.filter(case=case, identifier__value="13800000001").count() == 1
    assert Identifier.objects.get(value="13800000001").case_count == 1


@pytest.mark.django_db
def test_unrelated_cases_are_not_linked(analyst):
    first = make_case(analyst)
    second = make_case(analyst, to_account="6217000010099999999")
    # Both share the victim's own account, which is a link too (same victim reporting twice).
    assert list(Case.objects.linked_to(second)) == [first]
    third = actions.create_case(
        acting_user=analyst,
        fraud_type=first.fraud_type,
        channel=first.channel,
        district=first.district,
        reported_at=first.reported_at,
        loss_amount=first.loss_amount,
    )
    assert list(Case.objects.linked_to(third)) == []
