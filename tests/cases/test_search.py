"""Partial case search (cases/search.py): Chinese names, last digits, summary words, masking, index use."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from importlib import import_module

import pytest
from django.apps import apps as django_apps
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from cases import actions
from cases.models import Case, Channel, District, FraudType
from coordination.models import AuditRecord
from tests.api.conftest import token_client
from tests.conftest import agency, make_user

pytestmark = pytest.mark.django_db


def new_case(user, *, victim: str, phone: str, account: str, summary: str, minutes: int, suspect_url: str = ""):
    now = timezone.now()
    return actions.create_case(
        acting_user=user,
        fraud_type=FraudType.objects.get(code="fake_investment"),
        channel=Channel.objects.get(code="hotline_96110"),
        district=District.objects.get(code="wuhou"),
        reported_at=now - timedelta(minutes=minutes),
        loss_amount=Decimal("1000.00"),
        summary=summary,
        victims=[actions.VictimData(name=victim, phone=phone)],
        transfers=[
            actions.TransferData(
                from_account="6222020200112233445",
                from_bank=agency("ICBC"),
                to_account=account,
                to_bank=agency("CCB"),
                amount=Decimal("1000.00"),
                at=now - timedelta(minutes=minutes + 5),
            )
        ],
        identifiers=[actions.IdentifierData(kind="url", value=suspect_url)] if suspect_url else [],
    )


@pytest.fixture
def cases(analyst):
    """Three cases; the letters name them in the expectations below."""
    return {
        "a": new_case(
            analyst,
            victim="欧阳明华",
            phone="13912345678",
            account="6217000010012348888",
            summary="冒充电商客服，诱导受害人刷单返利",
            minutes=30,
            suspect_url="shuadan-fanli.example.cn",
        ),
        "b": new_case(
            analyst,
            victim="张伟",
            phone="13600001111",
            account="6217000010019997777",
            summary="虚假投资理财平台",
            minutes=20,
        ),
        "c": new_case(
            analyst,
            victim="李小张",
            phone="13700002222",
            account="6217000010015556666",
            summary="冒充公检法",
            minutes=10,
        ),
    }


def page_search(user, query):
    from django.test import Client

    client = Client()
    client.force_login(user)
    response = client.get(reverse("case-list"), {"q": query})
    assert response.status_code == 200
    assert not response.context["form"].errors, response.context["form"].errors
    return [c.pk for c in response.context["cases"]]


def api_search(user, query):
    response = token_client(user).get("/api/v1/cases/", {"q": query})
    assert response.status_code == 200, response.content[:300]
    return [row["id"] for row in response.json()["results"]]


VIA = {"page": page_search, "api": api_search}

# query -> the cases found by a role that sees personal data in full (newest first).
FULL = {
    "欧阳": "a",  # a two-character surname
    "欧": "a",  # its first character
    "明华": "a",  # part of the given name
    "欧阳明华": "a",  # the whole name (more than three characters: 3-grams and the recheck)
    "张": "cb",  # a surname, and a character inside another name
    "8888": "a",  # last four of the receiving account
    "5678": "a",  # last four of the victim's phone
    "1234": "a",  # digits in the middle of the phone
    "001234": "a",  # and of the account (6217000010012348888)
    "刷单": "a",  # two summary characters
    "冒充": "ca",
    "客服 刷单": "a",  # every word must match
    "欧 8888": "a",
    "客服 理财": "",
    "FANLI.example": "a",  # part of a URL, any case
    "理财平台": "b",
    "王": "",
}

# The same for a role that sees masked values: only what the mask leaves in sight.
MASKED = {
    "欧阳": "",  # 欧**: the second character is hidden
    "欧": "a",
    "明华": "",
    "欧阳明华": "",
    "张": "b",  # 张* is in sight; 李** hides the 张 of 李小张
    "8888": "a",  # 6217***********8888
    "5678": "a",  # 139****5678
    "1234": "",  # hidden middle of the phone
    "001234": "",  # hidden middle of the account
    "6217": "cba",  # the visible start of every receiving account
    "62170000": "",  # runs into the hidden part
    "刷单": "a",  # the summary is shown to every reader
    "冒充": "ca",
    "欧 8888": "a",
    "FANLI.example": "a",  # a URL is not masked
    "6217000010012348888": "",  # a whole account: no exact lookup either
    "13912345678": "",
}


def _expect(cases, letters):
    return [cases[letter].pk for letter in letters]


@pytest.mark.parametrize("via", list(VIA))
@pytest.mark.parametrize("query", list(FULL))
def test_full_view_finds_by_any_part(cases, analyst, via, query):
    assert VIA[via](analyst, query) == _expect(cases, FULL[query])


@pytest.mark.parametrize("via", list(VIA))
@pytest.mark.parametrize("query", list(MASKED))
def test_masked_view_finds_only_by_what_it_sees(cases, auditor, via, query):
    assert VIA[via](auditor, query) == _expect(cases, MASKED[query])


@pytest.mark.parametrize("role", ["analyst", "supervisor", "admin_user"])
def test_every_role_that_sees_full_data_searches_it(cases, request, role):
    user = request.getfixturevalue(role)
    assert api_search(user, "明华") == _expect(cases, "a") == page_search(user, "1234")


def test_a_person_a_case_is_shared_with_searches_what_they_see(cases, supervisor, station_user):
    """A named investigator sees a shared case masked; the API searches it so, and no other case."""
    actions.share_case(cases["a"], user=station_user, acting_user=supervisor)
    assert api_search(station_user, "欧") == _expect(cases, "a")
    assert api_search(station_user, "8888") == _expect(cases, "a")
    assert api_search(station_user, "明华") == []
    assert api_search(station_user, "1234") == []
    assert api_search(station_user, "张") == []  # case b matches, but is not shared


def test_masked_reader_cannot_confirm_a_whole_account_through_the_identifier_filter(cases, analyst, auditor):
    query = {"identifier": "6217000010012348888"}
    assert [r["id"] for r in token_client(analyst).get("/api/v1/cases/", query).json()["results"]] == _expect(
        cases, "a"
    )
    assert token_client(auditor).get("/api/v1/cases/", query).json()["results"] == []
    # A URL is shown in full, so it may be looked up whole.
    url = {"identifier": "shuadan-fanli.example.cn"}
    assert [r["id"] for r in token_client(auditor).get("/api/v1/cases/", url).json()["results"]] == _expect(cases, "a")


def test_search_texts_follow_identifiers_added_later(cases, analyst, auditor):
    actions.add_identifier(cases["b"], kind="phone", value="13588889999", role="suspect", acting_user=analyst)
    assert api_search(analyst, "88889") == _expect(cases, "b")
    assert api_search(auditor, "9999") == _expect(cases, "b")
    assert api_search(auditor, "88889") == []


def test_search_texts_are_not_copied_into_the_audit_trail(cases):
    created = AuditRecord.objects.get(action="case.create", case_id=cases["a"].pk)
    assert "search_text" not in created.after and "search_masked" not in created.after
    assert "summary" in created.after


def test_backfill_rebuilds_the_texts_of_earlier_cases(cases):
    expected = {c.pk: (c.search_text, c.search_masked) for c in Case.objects.all()}
    assert all(full and masked for full, masked in expected.values())
    Case.objects.update(search_text="", search_masked="")
    import_module("cases.migrations.0007_case_search").backfill(django_apps, None)
    assert {c.pk: (c.search_text, c.search_masked) for c in Case.objects.all()} == expected


def test_search_and_keyset_pages_work_together(analyst, monkeypatch):
    from cases.views import cases as case_views

    made = [
        new_case(analyst, victim=f"王{i}", phone="", account=f"621700001001000{i:04d}", summary="", minutes=i)
        for i in range(5)
    ]
    monkeypatch.setattr(case_views, "PAGE_SIZE", 2)
    from django.test import Client

    client = Client()
    client.force_login(analyst)
    seen, url = [], reverse("case-list") + "?q=王"
    while url:
        response = client.get(url)
        seen += [c.pk for c in response.context["cases"]]
        url = response.context["next_url"] and reverse("case-list") + response.context["next_url"]
    assert seen == [c.pk for c in made]
    api = token_client(analyst).get("/api/v1/cases/", {"q": "王", "page_size": 2}).json()
    assert [r["id"] for r in api["results"]] == [made[0].pk, made[1].pk] and api["next"]


# --- the index is used -------------------------------------------------------------


def _plan(queryset) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        try:
            return queryset.order_by().explain()
        finally:
            cursor.execute("SET LOCAL enable_seqscan = on")


@pytest.mark.parametrize("query", ["张", "明华", "8888", "欧阳明华", "客服 刷单"])
def test_search_uses_its_index(cases, analyst, auditor, query):
    from cases.search import filter_cases

    full = _plan(filter_cases(Case.objects.all(), query, analyst))
    masked = _plan(filter_cases(Case.objects.all(), query, auditor))
    assert "case_search_idx" in full and "case_search_masked_idx" not in full, full
    assert "case_search_masked_idx" in masked, masked


# --- bad input ----------------------------------------------------------------------

ODD = [
    "%",
    "_",
    "\\",
    "%_%",
    "*",
    "**",
    "'; DROP TABLE cases_case; --",
    "😀",
    "\u200b",
    "张\t三",
    "ＡＢＣ",
    "٦٢١٧",
    "a" * 255,
    "张" * 255,
]


@pytest.mark.parametrize("query", ODD, ids=repr)
def test_odd_queries_are_answered(cases, analyst, auditor, query):
    for user in (analyst, auditor):
        assert isinstance(page_search(user, query), list)
        assert isinstance(api_search(user, query), list)


def test_odd_queries_match_nothing_they_should_not(cases, analyst):
    assert page_search(analyst, "%") == []  # not a LIKE wildcard
    assert api_search(analyst, "_") == []
    assert api_search(analyst, "*") == []  # not the mask's star either


@pytest.mark.parametrize(
    "query",
    ["a" * 256, "一 二 三 四 五 六 七", "\x00"],
    ids=["too long", "too many words", "NUL"],
)
def test_refused_queries_are_form_errors_and_400s(cases, analyst, client, query):
    client.force_login(analyst)
    page = client.get(reverse("case-list"), {"q": query})
    assert page.status_code == 200 and "q" in page.context["form"].errors
    response = token_client(analyst).get("/api/v1/cases/", {"q": query})
    assert response.status_code == 400 and "q" in response.json().get("errors", response.json()), response.json()


def test_a_case_with_no_victims_or_identifiers_is_found_by_its_summary(analyst, auditor):
    case = actions.create_case(
        acting_user=analyst,
        fraud_type=FraudType.objects.get(code="fake_investment"),
        channel=Channel.objects.get(code="hotline_96110"),
        district=District.objects.get(code="wuhou"),
        reported_at=timezone.now(),
        loss_amount=Decimal("1.00"),
        summary="网络贷款需先交保证金",
    )
    assert api_search(analyst, "保证金") == api_search(auditor, "贷款") == [case.pk]


def test_the_masking_table_and_the_masked_search_text_agree(cases):
    """``search_masked`` holds exactly the in-sight runs of what the pages show masked."""
    from coordination.masking import mask_value

    cases["a"].refresh_from_db()
    masked = cases["a"].search_masked.split()
    assert "欧" in masked and "欧阳明华" not in masked
    assert mask_value("phone", "13912345678") == "139****5678" and {"139", "5678"} <= set(masked)
    assert mask_value("bank_account", "6217000010012348888").endswith("8888") and "8888" in masked
    assert not any("*" in part for part in masked)


def test_make_user_for_every_masked_role_searches_masked(cases):
    """Each role of the policy without ``sees_full_pii`` that can list cases searches the masked text."""
    from agencies.roles import POLICIES

    for name, policy in POLICIES.items():
        if policy.sees_all_cases and not policy.sees_full_pii:
            user = make_user(f"s_{name}", "AFC", name)
            assert api_search(user, "明华") == [] and api_search(user, "欧") == _expect(cases, "a")
