"""Identifier lookups and searches by identifier: by POST body, out of URLs, and throttled per token."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from tests.conftest import RECEIVING_ACCOUNT, make_user

pytestmark = pytest.mark.django_db

LOOKUP = "/api/v1/identifiers/lookup/"


def test_post_lookup_answers_as_get(api, analyst, ccb_partner, case):
    for user in (analyst, ccb_partner):
        client = api(user)
        got = client.get(LOOKUP, {"kind": "bank_account", "value": RECEIVING_ACCOUNT})
        posted = client.post(LOOKUP, {"kind": "bank_account", "value": RECEIVING_ACCOUNT}, format="json")
        assert got.status_code == posted.status_code == 200
        assert posted.json() == got.json()
        assert posted.json()["involved"] is True and posted.json()["case_count"] == 1
    # Only the centre learns which cases.
    body = {"kind": "bank_account", "value": RECEIVING_ACCOUNT}
    assert api(analyst).post(LOOKUP, body, format="json").json()["cases"] == [case.reference]
    assert "cases" not in api(ccb_partner).post(LOOKUP, body, format="json").json()


@pytest.mark.parametrize(
    "body",
    [{}, {"kind": "bank_account"}, {"kind": "nope", "value": "1"}, {"kind": "bank_account", "value": "x" * 300}],
)
def test_post_lookup_refuses_a_bad_body_with_json(api, ccb_partner, body):
    response = api(ccb_partner).post(LOOKUP, body, format="json")
    assert response.status_code == 400
    assert "detail" in response.json()


def test_lookups_are_throttled_per_token(api, ccb_partner, settings):
    rates = {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "identifier_lookup": "3/min"}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    client = api(ccb_partner)
    params = {"kind": "phone", "value": "13900001111"}
    # GET and POST share the scope.
    codes = [client.get(LOOKUP, params).status_code, client.post(LOOKUP, params, format="json").status_code]
    codes.append(client.get(LOOKUP, params).status_code)
    assert codes == [200, 200, 200]
    refused = client.post(LOOKUP, params, format="json")
    assert refused.status_code == 429
    assert refused["Content-Type"].startswith("application/json")
    assert "detail" in refused.json()
    assert 0 < int(refused["Retry-After"]) <= 60
    assert client.get(LOOKUP, params).status_code == 429
    # Another token has its own count; other endpoints are not held back.
    other = api(make_user("t_ccb2", "CCB", "liaison"))
    assert other.get(LOOKUP, params).status_code == 200
    assert client.get("/api/v1/reference/").status_code == 200
    # The count lives in the shared cache under a digest of the token, never the token itself.
    from rest_framework.authtoken.models import Token

    key = Token.objects.get(user=ccb_partner).key
    stored = list(cache._cache.get_client().scan_iter(match="*throttle_identifier_lookup_*"))
    assert stored and not any(key.encode() in k for k in stored)


def test_case_search_by_body_equals_the_filtered_list(api, analyst, case):
    from tests.conftest import make_case

    make_case(analyst, to_account="6217000010099999999")
    client = api(analyst)
    listed = client.get("/api/v1/cases/", {"identifier": RECEIVING_ACCOUNT}).json()
    searched = client.post("/api/v1/cases/search/", {"identifier": RECEIVING_ACCOUNT}, format="json").json()
    assert [r["id"] for r in searched["results"]] == [r["id"] for r in listed["results"]] == [case.pk]
    by_q = client.post("/api/v1/cases/search/", {"q": RECEIVING_ACCOUNT}, format="json").json()
    assert [r["id"] for r in by_q["results"]] == [case.pk]


def test_search_pages_carry_only_the_cursor(api, analyst):
    from tests.conftest import make_case

    for _ in range(3):
        make_case(analyst)
    client = api(analyst)
    body = {"identifier": RECEIVING_ACCOUNT, "page_size": 2}
    first = client.post("/api/v1/cases/search/", body, format="json").json()
    assert len(first["results"]) == 2 and first["next"]
    assert RECEIVING_ACCOUNT not in first["next"] and "cursor=" in first["next"]
    second = client.post(first["next"], body, format="json").json()
    ids = [r["id"] for r in first["results"] + second["results"]]
    assert len(ids) == len(set(ids)) == 3 and second["next"] is None


def test_task_search_by_target(api, ccb_partner, stop_task):
    client = api(ccb_partner)
    found = client.post("/api/v1/tasks/search/", {"target": RECEIVING_ACCOUNT}, format="json").json()
    assert [r["id"] for r in found["results"]] == [stop_task.pk]
    none = client.post("/api/v1/tasks/search/", {"target": "6217000010099999999"}, format="json").json()
    assert none["results"] == []
    listed = client.get("/api/v1/tasks/", {"target": RECEIVING_ACCOUNT}).json()
    assert [r["id"] for r in listed["results"]] == [stop_task.pk]


@pytest.mark.parametrize(
    "body",
    [["identifier"], {"identifier": {"x": 1}}, {"reported_after": "yesterday"}, {"status": "no-such-status"}],
)
def test_search_refuses_bad_bodies(api, analyst, body):
    response = api(analyst).post("/api/v1/cases/search/", body, format="json")
    assert response.status_code == 400
    assert "detail" in response.json()


def test_search_is_not_a_write(api, analyst, case, settings):
    """A POSTed search neither needs write scope nor spends the write budget, nor leaves an audit row."""
    from coordination.models import AuditRecord

    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"writes": "1/min"}}
    auditor = make_user("t_aud2", "AFC", "auditor")
    before = AuditRecord.objects.count()
    for _ in range(3):
        assert api(auditor).post("/api/v1/cases/search/", {"q": "x"}, format="json").status_code == 200
    assert AuditRecord.objects.count() == before
