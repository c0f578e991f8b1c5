"""Bad input answers a JSON 400 naming the fields; forbidden transitions 409 with the state; never a 500."""

from __future__ import annotations

import pytest

from cases.models import Case, Task

from .conftest import case_body

pytestmark = pytest.mark.django_db


def _case_with(**changes) -> dict:
    body = case_body()
    for dotted, value in changes.items():
        target = body
        *path, last = dotted.split("__")
        for key in path:
            target = target[int(key)] if isinstance(target, list) else target[key]
        target[last] = value
    return body


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"fraud_type": "no_such_type"}, "fraud_type"),
        ({"district": 12}, "district"),
        ({"loss_amount": "1e400"}, "loss_amount"),
        ({"loss_amount": "99999999999999999999.00"}, "loss_amount"),
        ({"loss_amount": "-5.00"}, "loss_amount"),
        ({"loss_amount": "1.001"}, "loss_amount"),
        ({"loss_amount": "NaN"}, "loss_amount"),
        ({"reported_at": "yesterday"}, "reported_at"),
        ({"victim__id_number": "51010719900101123Y"}, "victim"),
        ({"victim__id_number": "510107199013011234"}, "victim"),
        ({"transfers__0__to_bank": "NOPE"}, "transfers"),
        ({"transfers__0__amount": 52000.5}, "transfers"),  # money is a string, never a float
        ({"transfers__0__to_account": "12"}, "transfers"),
        ({"victim": "张三"}, "victim"),
        ({"transfers": {"a": 1}}, "transfers"),
    ],
)
def test_case_create_validation(api, analyst, changes, field):
    response = api(analyst).post("/api/v1/cases/", _case_with(**changes), format="json")
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["detail"]
    assert field in body, body
    assert not Case.objects.exists()


def test_malformed_json_is_400(api, analyst):
    response = api(analyst).generic("POST", "/api/v1/cases/", "{not json", content_type="application/json")
    assert response.status_code == 400
    assert "detail" in response.json()


def test_wrong_media_type_is_415_json(api, analyst):
    response = api(analyst).generic("POST", "/api/v1/cases/", "a=b", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415
    assert "detail" in response.json()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"case": "abc"}, "case"),
        ({"case": 10**30}, "case"),
        ({"case": True}, "case"),
        ({"type": "teleport"}, "type"),
        ({"agency": "XYZ"}, "agency"),
        ({"agency": "afc; drop table"}, "agency"),
        ({"target": {"kind": "bank_account", "value": "12"}}, "target"),
        ({"target": {"kind": "spaceship", "value": "1"}}, "target"),
        ({"amount": "123456789012345.00"}, "amount"),
        ({"amount": [1]}, "amount"),
        ({"agency": "CMCC"}, "agency"),  # a stop-payment cannot go to an operator
    ],
)
def test_task_create_validation(api, analyst, case, body, field):
    base = {
        "case": case.pk,
        "type": "emergency_stop_payment",
        "agency": "CCB",
        "target": {"kind": "bank_account", "value": "6217000010012345678"},
        "amount": "52000.00",
        "legal_document_number": None,
        "note": "text",
    }
    response = api(analyst).post("/api/v1/tasks/", {**base, **body}, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json(), response.json()
    assert not Task.objects.exists()


def test_freeze_needs_legal_document_and_filed_case(api, analyst, case):
    body = {
        "case": case.pk,
        "type": "freeze",
        "agency": "CCB",
        "target": {"kind": "bank_account", "value": "6217000010012345678"},
        "amount": "1.00",
    }
    response = api(analyst).post("/api/v1/tasks/", body, format="json")
    assert response.status_code == 400
    assert {"legal_document_number", "case"} <= set(response.json())


def test_disallowed_transition_is_409_with_state(api, analyst, ccb_liaison, stop_task):
    assert (
        api(ccb_liaison).post(f"/api/v1/tasks/{stop_task.pk}/reject/", {"reason": "no"}, format="json").status_code
        == 200
    )
    response = api(ccb_liaison).post(f"/api/v1/tasks/{stop_task.pk}/accept/")
    assert response.status_code == 409
    assert response.json()["state"] == "rejected"
    response = api(analyst).post(f"/api/v1/tasks/{stop_task.pk}/approve/")
    assert response.status_code == 409
    assert response.json()["state"] == "rejected"


def test_reject_needs_a_reason(api, ccb_liaison, stop_task):
    response = api(ccb_liaison).post(f"/api/v1/tasks/{stop_task.pk}/reject/", {"reason": ""}, format="json")
    assert response.status_code == 400
    assert "reason" in response.json()


@pytest.mark.parametrize(
    "result",
    [
        {"status": "completed", "result": {"amount_held": 1.5}},
        {"status": "completed", "result": {}},
        {"status": "done"},
        {"status": "completed", "result": {"amount_held": "1.00", "colour": "red"}},
        {"status": "completed", "result": {"amount_held": "1.00", "onward_transfers": [{"account_number": "x"}]}},
        {"status": "completed", "result": "yes"},
        {"status": "completed", "executed_at": "soon", "result": {"amount_held": "1.00"}},
    ],
)
def test_bad_results_are_400(api, ccb_liaison, stop_task, result):
    response = api(ccb_liaison).post(f"/api/v1/tasks/{stop_task.pk}/result/", result, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["detail"]
    stop_task.refresh_from_db()
    assert stop_task.result_digest == ""


@pytest.mark.parametrize("pk", ["abc", "99999999999999999999999", "-1", "0"])
def test_bad_ids_are_404(api, analyst, pk):
    assert api(analyst).get(f"/api/v1/cases/{pk}/").status_code == 404
    assert api(analyst).get(f"/api/v1/tasks/{pk}/").status_code == 404


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"kind": "bank_account"},
        {"kind": "passport", "value": "1"},
        {"kind": "bank_account", "value": "x" * 300},
    ],
)
def test_lookup_bad_query_is_400(api, ccb_liaison, params):
    response = api(ccb_liaison).get("/api/v1/identifiers/lookup/", params)
    assert response.status_code == 400
    assert response.json()["detail"]


@pytest.mark.parametrize(
    "query",
    [
        "status=nope",
        "district=nowhere",
        "reported_after=tuesday",
        "cursor=garbage",
        "page_size=-1",
        "page_size=abc",
        "page_size=100000000000000000000",
        "agency=XYZ",
        "identifier=" + "1" * 300,
    ],
)
def test_bad_filters_never_500(api, analyst, case, query):
    for path in ("/api/v1/cases/", "/api/v1/tasks/", "/api/v1/proposals/"):
        response = api(analyst).get(f"{path}?{query}")
        assert response.status_code in (200, 400, 404), (path, query, response.status_code)
        assert "application/json" in response["Content-Type"]


def test_filters_find_by_identifier_and_reference(api, analyst, case, stop_task):
    client = api(analyst)
    found = client.get("/api/v1/cases/", {"identifier": "6217 0000 1001 2345 678"}).json()["results"]
    assert [row["id"] for row in found] == [case.pk]
    assert client.get("/api/v1/cases/", {"identifier": "6217000010000000000"}).json()["results"] == []
    assert [r["id"] for r in client.get("/api/v1/cases/", {"reference": case.reference}).json()["results"]] == [case.pk]
    assert client.get("/api/v1/cases/", {"district": "jinjiang"}).json()["results"] == []
    tasks = client.get(
        "/api/v1/tasks/", {"agency": "CCB", "status": ["approved", "dispatched"], "type": "emergency_stop_payment"}
    )
    assert [r["id"] for r in tasks.json()["results"]] == [stop_task.pk]
    assert client.get("/api/v1/tasks/", {"status": "completed"}).json()["results"] == []


def test_task_filter_on_a_foreign_case_is_refused_not_revealed(api, icbc_liaison, case, stop_task):
    """A filter choice outside the caller's scope behaves like an unknown value."""
    response = api(icbc_liaison).get("/api/v1/tasks/", {"case": case.pk})
    assert response.status_code == 400
    assert "case" in response.json()


def test_cursor_pages_walk_every_row_once(api, analyst):
    from tests.conftest import make_case

    ids = {make_case(analyst).pk for _ in range(7)}
    client = api(analyst)
    seen, url = [], "/api/v1/cases/?page_size=3"
    while url:
        body = client.get(url).json()
        seen += [row["id"] for row in body["results"]]
        url = body["next"]
    assert sorted(seen) == sorted(ids) and len(seen) == len(ids)


def test_write_throttle_answers_429_with_retry_after(api, analyst, case, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"writes": "3/min"}}
    client = api(analyst)
    codes = [client.post(f"/api/v1/cases/{case.pk}/file/", {"filing_number": ""}, format="json") for _ in range(4)]
    assert [r.status_code for r in codes[:3]] == [400, 400, 400]
    throttled = codes[3]
    assert throttled.status_code == 429
    assert int(throttled["Retry-After"]) > 0
    assert "detail" in throttled.json()
    # Reads are never throttled (the payment-time lookup must always answer).
    assert client.get(f"/api/v1/cases/{case.pk}/").status_code == 200
    # Per token: another user still writes.
    from tests.conftest import make_user

    other = api(make_user("t_analyst2", "AFC", "analyst"))
    assert (
        other.post(
            f"/api/v1/cases/{case.pk}/file/", {"filing_number": "成公立字〔2026〕1号"}, format="json"
        ).status_code
        == 200
    )


def test_unknown_api_urls_answer_json_like_a_missing_object(api, analyst):
    client = api(analyst)
    unknown = client.get("/api/v1/no-such-thing/")
    bad_code = client.get("/api/v1/agencies/ccb/")  # codes are upper-case: no route matches
    missing = client.get("/api/v1/tasks/999999/")
    for response in (unknown, bad_code):
        assert response.status_code == 404
        assert response["Content-Type"].startswith("application/json")
        assert response.json() == missing.json()


def test_wrong_method_is_405_json(api, analyst, case):
    response = api(analyst).delete(f"/api/v1/cases/{case.pk}/")
    assert response.status_code == 405
    assert "detail" in response.json()


def test_session_writes_need_the_csrf_token(analyst):
    """Browsers use the session: a write without the CSRF token is refused, a token client is not."""
    from rest_framework.test import APIClient

    browser = APIClient(enforce_csrf_checks=True)
    browser.force_login(analyst)
    response = browser.post("/api/v1/cases/", case_body(), format="json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
    assert browser.get("/api/v1/cases/").status_code == 200
