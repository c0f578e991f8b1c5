"""Hostile and careless input at every door: a 4xx JSON answer, nothing stored, every page still 200.

Tried as a hostile partner and a careless user would (issue 9): extreme and
malformed instants and offsets, implausible case and result times, amounts in
other scripts or padded, JSON nested thousands deep, bodies past the limit, a bad
``Host``, wrong types, missing optional fields. Every writable endpoint of the
committed schema gets the malformed bodies, every filter the malformed values;
the case, task and result bodies get the field-by-field cases. After each, every
list, detail and page of the affected case and agency must still answer 200, and
rows written around the validators (``.update()``) must not break any of them.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from datetime import timezone as dt_timezone
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from cases import actions
from cases.models import Case, CaseIdentifier, FollowUpProposal, Identifier, Task, Transfer
from coordination.models import AuditRecord
from tests.conftest import RECEIVING_ACCOUNT, agency

from .conftest import ago, case_body, token_client

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = yaml.safe_load((ROOT / "openapi.yaml").read_text())

FAR_FUTURE = "9999-12-31T23:59:59-14:00"
YEAR_ONE = "0001-01-01T00:00:00+08:00"
BAD_INSTANTS = [
    FAR_FUTURE,
    YEAR_ONE,
    "2026-11-24T09:12:00+18:21",  # an offset no zone has
    "2026-11-24T09:12:00-14:01",
    "2026-11-24T09:12:00",  # no zone
    "3026-11-24T09:12:00+08:00",
    "1989-12-31T23:59:59Z",
    "２０２６-11-24T09:12:00+08:00",  # full-width digits
    "٢٠٢٦-11-24T09:12:00+08:00",  # Arabic-Indic digits
    "2026-02-30T09:12:00Z",
    "yesterday",
    "2026-11-24T09:12:00+08:00\x00",
    20261124,
    ["2026-11-24T09:12:00Z"],
    {"at": "2026-11-24T09:12:00Z"},
]
BAD_AMOUNTS = [
    "٥٢٠٠٠",  # Arabic-Indic digits
    "５２０００",  # full-width
    " 52000.00",
    "52000.00 ",
    "52,000.00",
    "5.2e4",
    "+52000",
    "-1.00",
    "0",
    "1.001",
    "NaN",
    "Infinity",
    "99999999999999999999.00",
    52000,
    52000.5,
    True,
    None,
    [],
    {},
]


# --- the world and its readers ---------------------------------------------------------


@pytest.fixture
def world(analyst, supervisor, auditor, ccb_liaison, stop_task):
    return {
        "case": stop_task.case,
        "task": stop_task,
        "analyst": analyst,
        "supervisor": supervisor,
        "auditor": auditor,
        "liaison": ccb_liaison,
        "warning": _warning(ccb_liaison),
    }


def _warning(sender):
    """A clue CCB sent, waiting at the Wuhou sub-bureau."""
    from dissuasion.intake import take_clues
    from dissuasion.models import Warning

    [entry] = take_clues(
        sender.agency,
        sender,
        [{"source_reference": "H-WARN-1", "phone": "13800000000", "district": "wuhou", "level": "high"}],
    )
    return Warning.objects.get(pk=entry.warning)


def _json_4xx(response, field: str | None = None):
    assert 400 <= response.status_code < 500, (response.status_code, response.content[:500])
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = response.json()
    assert "detail" in body, body
    if field is not None:
        assert field in body, body
    return body


def assert_everything_readable(world, *, full: bool = True) -> None:
    """Every list, detail and page of the case and of CCB answers 200 for every reader.

    ``full=False`` (after a refused write, where nothing was stored) reads as the
    analyst and CCB's liaison only, to keep the many field cases fast.
    """
    from django.test import Client

    case, task = world["case"], world["task"]
    centre_api = [
        "/api/v1/cases/",
        f"/api/v1/cases/{case.pk}/",
        f"/api/v1/cases/{case.pk}/identifiers/",
        f"/api/v1/cases/{case.pk}/transfers/",
        f"/api/v1/cases/{case.pk}/money-flow/",
        f"/api/v1/cases/{case.pk}/linked/",
        f"/api/v1/cases/{case.pk}/audit/",
        f"/api/v1/cases/{case.pk}/proposals/",
        "/api/v1/tasks/",
        f"/api/v1/tasks/{task.pk}/",
        f"/api/v1/tasks/{task.pk}/events/",
        "/api/v1/proposals/",
        "/api/v1/deliveries/",
        "/api/v1/notifications/",
        f"/api/v1/identifiers/lookup/?kind=bank_account&value={RECEIVING_ACCOUNT}",
    ]
    agency_api = [
        "/api/v1/tasks/",
        f"/api/v1/tasks/{task.pk}/",
        "/api/v1/tasks/?status=completed",
        "/api/v1/notifications/",
        f"/api/v1/identifiers/lookup/?kind=bank_account&value={RECEIVING_ACCOUNT}",
    ]
    centre_pages = [
        reverse("case-list"),
        reverse("case-detail", args=[case.pk]),
        reverse("case-changes", args=[case.pk]),
        reverse("task-detail", args=[task.pk]),
        reverse("dashboard"),
        reverse("dashboard-csv"),
        reverse("notifications"),
    ]
    centre_readers = (world["analyst"], world["supervisor"], world["auditor"]) if full else (world["analyst"],)
    for user in centre_readers:
        client = token_client(user)
        for url in centre_api:
            response = client.get(url)
            assert response.status_code == 200, (user.username, url, response.status_code, response.content[:300])
    client = token_client(world["liaison"])
    for url in agency_api:
        response = client.get(url)
        assert response.status_code == 200, ("liaison", url, response.status_code, response.content[:300])
    readers = [
        (world["analyst"], centre_pages),
        (world["liaison"], [reverse("inbox"), reverse("task-detail", args=[task.pk])]),
    ]
    if full:
        readers += [
            (world["supervisor"], [reverse("approvals"), reverse("task-detail", args=[task.pk])]),
            (
                world["auditor"],
                [reverse("case-detail", args=[case.pk]), reverse("audit"), reverse("audit") + "?format=csv"],
            ),
        ]
    for user, urls in readers:
        pages = Client()
        pages.force_login(user)
        for url in urls:
            response = pages.get(url)
            assert response.status_code == 200, (user.username, url, response.status_code)


def _stored_counts():
    return (
        Case.objects.count(),
        Task.objects.count(),
        Transfer.objects.count(),
        Identifier.objects.count(),
        FollowUpProposal.objects.count(),
    )


# --- every writable endpoint: malformed bodies ------------------------------------------


def _nested(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


MALFORMED_BODIES = {
    "deep-array": "[" * 5000 + "]" * 5000,
    "deep-object": _nested(3000),
    "just-too-deep": _nested(17),
    "not-json": "{not json",
    "nan": '{"amount": NaN}',
    "trailing-garbage": '{"reason": "x"} trailing',
    "array": "[]",
    "string": '"text"',
    "number": "1e999",
    "bad-utf8": b"\xff\xfe{\x00",
}

# Who reaches each write's body (other roles are refused before it, which is a 4xx too).
WRITERS = {
    "/api/v1/cases/": "analyst",
    "/api/v1/cases/{id}/close/": "analyst",
    "/api/v1/cases/{id}/file/": "analyst",
    "/api/v1/cases/{id}/follow-ups/": "analyst",
    "/api/v1/cases/{id}/stop-payments/": "analyst",
    "/api/v1/cases/{id}/share/": "supervisor",
    "/api/v1/cases/{id}/unshare/": "supervisor",
    "/api/v1/cases/search/": "analyst",
    "/api/v1/identifiers/lookup/": "analyst",
    "/api/v1/notifications/mark-read/": "analyst",
    "/api/v1/tasks/": "analyst",
    "/api/v1/tasks/approve/": "analyst",
    "/api/v1/tasks/{id}/approve/": "supervisor",
    "/api/v1/tasks/{id}/cancel/": "analyst",
    "/api/v1/tasks/{id}/reject/": "liaison",
    "/api/v1/tasks/{id}/result/": "liaison",
    "/api/v1/tasks/search/": "liaison",
    "/api/v1/warnings/": "liaison",
    # The analyst reaches the body (the sub-bureau's right to hand over is checked after it).
    "/api/v1/warnings/{id}/hand-over/": "analyst",
}
WRITES_WITH_BODY = sorted(
    path for path, ops in SCHEMA["paths"].items() if "post" in ops and "requestBody" in ops["post"]
)


def test_every_writable_endpoint_is_listed():
    assert set(WRITES_WITH_BODY) == set(WRITERS), set(WRITES_WITH_BODY) ^ set(WRITERS)


def _url(template: str, world) -> str:
    if template.startswith("/api/v1/warnings/{id}"):
        return template.replace("{id}", str(world["warning"].pk))
    target = world["task"] if template.startswith("/api/v1/tasks/{id}") else world["case"]
    return template.replace("{id}", str(target.pk))


@pytest.mark.parametrize("kind", list(MALFORMED_BODIES))
@pytest.mark.parametrize("path", WRITES_WITH_BODY)
def test_malformed_bodies_are_a_json_400(world, path, kind):
    before = _stored_counts()
    body = MALFORMED_BODIES[kind]
    response = token_client(world[WRITERS[path]]).generic(
        "POST", _url(path, world), body, content_type="application/json"
    )
    assert response.status_code == 400, (response.status_code, response.content[:300])
    _json_4xx(response)
    assert _stored_counts() == before


@pytest.mark.parametrize("path", WRITES_WITH_BODY)
def test_oversized_bodies_are_a_json_413(world, path):
    body = json.dumps({"reason": "x" * 5000, "summary": "x" * 5000})
    with override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=4096):
        response = token_client(world[WRITERS[path]]).generic(
            "POST", _url(path, world), body, content_type="application/json"
        )
    assert response.status_code == 413, (response.status_code, response.content[:300])
    assert response.json()["detail"]


def test_a_body_past_the_real_limit_is_413_before_it_is_read(world):
    body = '{"summary": "' + "x" * (3 * 1024 * 1024) + '"}'
    response = token_client(world["analyst"]).generic("POST", "/api/v1/cases/", body, content_type="application/json")
    assert response.status_code == 413
    assert response["Content-Type"].startswith("application/json")


@pytest.mark.parametrize("path", ["/api/v1/cases/", "/api/v1/nowhere/", "/api/v1/tasks/1/result/"])
def test_a_bad_host_is_a_json_400(client, path):
    response = client.get(path, HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["detail"]
    # Pages keep Django's HTML answer.
    assert client.get("/cases/", HTTP_HOST="evil.example")["Content-Type"].startswith("text/html")


def test_an_oversized_form_post_under_api_is_json(client, analyst):
    client.force_login(analyst)
    with override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1024):
        response = client.post("/api/v1/cases/", {"summary": "x" * 4096})
    assert 400 <= response.status_code < 500
    assert response["Content-Type"].startswith("application/json")


def test_a_server_error_under_api_is_json(world, monkeypatch):
    from rest_framework.test import APIClient

    from cases.api import views

    def broken(self, request):
        raise RuntimeError("a bug")

    monkeypatch.setattr(views.ReferenceView, "get", broken)
    client = APIClient()
    client.raise_request_exception = False
    client.force_authenticate(world["analyst"])
    response = client.get("/api/v1/reference/")
    assert response.status_code == 500
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["detail"]


# --- the case intake body, field by field -----------------------------------------------


_DROP = object()

CASE_CASES = [
    *[({"reported_at": v}, "reported_at") for v in BAD_INSTANTS],
    *[({"occurred_at": v}, "occurred_at") for v in BAD_INSTANTS],
    *[({"transfers__0__at": v}, "transfers") for v in BAD_INSTANTS],
    *[({"loss_amount": v}, "loss_amount") for v in BAD_AMOUNTS],
    *[({"transfers__0__amount": v}, "transfers") for v in BAD_AMOUNTS],
    ({"occurred_at": "__after_report__"}, "occurred_at"),
    ({"transfers__0__at": "__after_report__"}, "transfers"),
    ({"reported_at": "__in_an_hour__"}, "reported_at"),
    ({"victim__phone": "12345"}, "victim"),
    ({"victim__phone": "１３８００００００００"}, "victim"),
    ({"victim__id_number": "51010719900101123Y"}, "victim"),
    ({"victim__id_number": "٥١٠١٠٧١٩٩٠٠١٠١١٢٣X"}, "victim"),
    ({"victim__name": "a\x00b"}, "victim"),
    ({"transfers__0__to_account": "٦٢١٧٠٠٠٠١٠٠١٢٣٤٥٦٧٨"}, "transfers"),
    ({"transfers__0__to_bank": 12}, "transfers"),
    ({"transfers__0__to_bank": ["CCB"]}, "transfers"),
    ({"transfers": "all of them"}, "transfers"),
    ({"transfers": [None]}, "transfers"),
    ({"victim": []}, "victim"),
    ({"summary": ["text"]}, "summary"),
    ({"fraud_type": None}, "fraud_type"),
    ({"district": {"code": "wuhou"}}, "district"),
    ({"reported_at": _DROP}, "reported_at"),
    ({"identifiers": [{"kind": "phone", "value": "１２３４５６"}]}, "identifiers"),
    ({"identifiers": [{"kind": "url", "value": "a\x00.com"}]}, "identifiers"),
]


def _resolve(changes: dict) -> dict:
    later = timezone.localtime(timezone.now() - timedelta(minutes=10)).isoformat()
    soon = timezone.localtime(timezone.now() + timedelta(hours=1)).isoformat()
    return {k: (later if v == "__after_report__" else soon if v == "__in_an_hour__" else v) for k, v in changes.items()}


@pytest.mark.parametrize(("changes", "field"), CASE_CASES, ids=[f"{i}-{f}" for i, (_c, f) in enumerate(CASE_CASES)])
def test_hostile_cases_are_refused_and_nothing_is_stored(world, changes, field):
    before = _stored_counts()
    body = case_body()
    for dotted, value in _resolve(changes).items():
        body = _apply(body, dotted, value)
    response = token_client(world["analyst"]).post("/api/v1/cases/", body, format="json")
    _json_4xx(response, field)
    assert _stored_counts() == before
    assert_everything_readable(world, full=False)


def _apply(body: dict, dotted: str, value) -> dict:
    target = body
    *path, last = dotted.split("__")
    for key in path:
        target = target[int(key)] if isinstance(target, list) else target[key]
    if value is _DROP:
        target.pop(last, None)
    else:
        target[last] = value
    return body


@pytest.mark.parametrize(
    "changes",
    [
        {"transfers__0__to_bank": _DROP},  # a transfer that omits its bank
        {"transfers__0__from_bank": _DROP, "transfers__0__to_bank": None},
        {"victim": _DROP},
        {"victim": None},
        {"victim__phone": _DROP, "victim__id_number": _DROP},
        {"occurred_at": _DROP, "summary": _DROP},
        {"transfers": []},
        {"victim__phone": "028-87654321"},  # a landline is a phone too
    ],
    ids=lambda changes: "+".join(changes),
)
def test_missing_optional_fields_are_accepted_and_readable(world, changes):
    body = case_body()
    for dotted, value in changes.items():
        body = _apply(body, dotted, value)
    response = token_client(world["analyst"]).post("/api/v1/cases/", body, format="json")
    assert response.status_code == 201, response.content
    created = {**world, "case": Case.objects.get(pk=response.json()["id"])}
    assert_everything_readable(created)


# --- task creation ------------------------------------------------------------------------


@pytest.mark.parametrize("amount", [v for v in BAD_AMOUNTS if v is not None], ids=repr)
def test_hostile_task_amounts_are_refused(world, amount):
    before = _stored_counts()
    body = {
        "case": world["case"].pk,
        "type": "emergency_stop_payment",
        "agency": "CCB",
        "target": {"kind": "bank_account", "value": "6217000010099999999"},
        "amount": amount,
    }
    _json_4xx(token_client(world["analyst"]).post("/api/v1/tasks/", body, format="json"), "amount")
    assert _stored_counts() == before


# --- results (protocol v1.1 rules on results) ---------------------------------------------


def _result(**result) -> dict:
    body = {"status": "completed", "executed_at": ago(minutes=2), "reason": None, "result": {"amount_held": "100.00"}}
    for key in ("status", "executed_at", "reason"):
        if key in result:
            body[key] = result.pop(key)
    body["result"].update(result)
    return body


def _onward(**row) -> list[dict]:
    base = {
        "account_number": "6230000000000001",
        "bank": "ABC",
        "holder_name": "李四",
        "amount": "21000.00",
        "at": ago(minutes=10),
    }
    return [{**base, **row}]


def _now_plus(**delta) -> str:
    return timezone.localtime(timezone.now() + timedelta(**delta)).isoformat()


RESULT_CASES = [
    *[(_result(lapses_at=v), "result.lapses_at") for v in BAD_INSTANTS],
    *[(_result(executed_at=v), "executed_at") for v in BAD_INSTANTS],
    *[(_result(amount_held="1.00", onward_transfers=_onward(at=v)), None) for v in BAD_INSTANTS],
    *[(_result(amount_held=v), "result.amount_held") for v in BAD_AMOUNTS if v not in (None, "0")],
    *[(_result(onward_transfers=_onward(amount=v)), None) for v in BAD_AMOUNTS],
    (_result(lapses_at="__49h__"), "result.lapses_at"),
    (_result(lapses_at="__before_executed__"), "result.lapses_at"),
    (_result(executed_at="__future__"), "executed_at"),
    (_result(executed_at="__before_first_transfer__"), "executed_at"),
    (_result(onward_transfers=_onward(at="__future__")), "result.onward_transfers.0.at"),
    (_result(onward_transfers=_onward(at="__before_first_transfer__")), "result.onward_transfers.0.at"),
    (_result(amount_held="__more_than_asked__"), "result.amount_held"),
    (_result(onward_transfers=_onward(account_number="٦٢٣٠٠٠٠٠٠٠٠٠٠٠٠١")), None),
    (_result(onward_transfers=_onward(holder_name="a\x00b")), None),
    (_result(onward_transfers=_onward(bank=["ABC"])), None),
    (_result(onward_transfers=[None]), None),
    (_result(onward_transfers={"0": _onward()[0]}), None),
    (_result(onward_transfers="none"), None),
    (_result(colour="red"), "result"),
    ({"status": "completed", "result": []}, "result"),
    ({"status": "completed", "result": "yes"}, "result"),
    ({"status": 1, "result": {"amount_held": "1.00"}}, "status"),
    ({"status": None}, "status"),
    ({}, "status"),
    ({"status": "completed", "result": {"amount_held": "1.00"}, "reason": "a\x00b"}, "reason"),
    ({"status": "completed", "result": {"amount_held": "1.00"}, "reason": ["x"]}, "reason"),
]


def _resolve_result(body: dict, task: Task) -> dict:
    """Replace the placeholders that need the task or the clock at run time."""
    first = Transfer.objects.filter(case=task.case).order_by("at").first().at
    values = {
        "__future__": lambda: _now_plus(minutes=10),
        "__before_first_transfer__": lambda: (first - timedelta(days=31)).isoformat(),
        "__more_than_asked__": lambda: f"{task.amount + Decimal('0.01')}",
    }

    def walk(value):
        if isinstance(value, dict):
            return {k: walk(v) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v) for v in value]
        if isinstance(value, str) and value in values:
            return values[value]()
        return value

    body = walk(json.loads(json.dumps(body)))
    try:
        executed = datetime.fromisoformat(body["executed_at"])
    except (KeyError, TypeError, ValueError):
        executed = timezone.now()
    values = {
        "__49h__": lambda: (executed + timedelta(hours=49)).isoformat(),
        "__before_executed__": lambda: (executed - timedelta(minutes=1)).isoformat(),
    }
    return walk(body)


# Ids by position: the bodies hold times computed at collection, which differ between workers.
@pytest.mark.parametrize(("body", "field"), RESULT_CASES, ids=[f"{i}-{f}" for i, (_b, f) in enumerate(RESULT_CASES)])
def test_hostile_results_are_refused_and_nothing_is_stored(world, body, field):
    task = world["task"]
    before = _stored_counts()
    response = token_client(world["liaison"]).post(
        f"/api/v1/tasks/{task.pk}/result/", _resolve_result(body, task), format="json"
    )
    answer = _json_4xx(response, field)
    assert response.status_code == 400, answer
    task.refresh_from_db()
    assert task.result_digest == "" and task.lapses_at is None and task.amount_held is None
    assert _stored_counts() == before
    assert_everything_readable(world, full=False)


def test_a_freeze_lapses_within_six_months(world):
    analyst, case = world["analyst"], world["case"]
    case = actions.file_case(case, acting_user=analyst, filing_number="成公立字〔2026〕1号")
    freeze = actions.create_task(
        case,
        acting_user=analyst,
        type="freeze",
        agency=agency("CCB"),
        target_kind="bank_account",
        target_value=RECEIVING_ACCOUNT,
        amount=Decimal("1000.00"),
        legal_document_number="成公冻字〔2026〕1号",
    )
    actions.approve_task(freeze, acting_user=world["supervisor"])
    executed = timezone.now() - timedelta(minutes=1)
    bank = token_client(world["liaison"])
    too_late = {
        "status": "completed",
        "executed_at": executed.isoformat(),
        "result": {"amount_held": "1000.00", "lapses_at": (executed + timedelta(days=181)).isoformat()},
    }
    _json_4xx(bank.post(f"/api/v1/tasks/{freeze.pk}/result/", too_late, format="json"), "result.lapses_at")
    in_time = {**too_late, "result": {**too_late["result"], "lapses_at": (executed + timedelta(days=179)).isoformat()}}
    response = bank.post(f"/api/v1/tasks/{freeze.pk}/result/", in_time, format="json")
    assert response.status_code == 200, response.content
    assert response.json() == {"id": freeze.pk, "status": "completed", "changed": True}
    assert_everything_readable({**world, "task": freeze})


def test_a_result_within_the_rules_is_taken_and_answers_its_status(world):
    task = world["task"]
    executed = timezone.now() - timedelta(minutes=1)
    body = {
        "status": "completed",
        "executed_at": executed.isoformat(),
        "result": {
            "amount_held": f"{task.amount}",
            "lapses_at": (executed + timedelta(hours=48)).isoformat(),
            "onward_transfers": _onward(),
        },
    }
    bank = token_client(world["liaison"])
    response = bank.post(f"/api/v1/tasks/{task.pk}/result/", body, format="json")
    assert response.status_code == 200, response.content
    assert response.json() == {"id": task.pk, "status": "completed", "changed": True}
    assert bank.post(f"/api/v1/tasks/{task.pk}/result/", body, format="json").json()["changed"] is False
    shown = bank.get(f"/api/v1/tasks/{task.pk}/").json()
    assert shown["status"] == "completed" and "state" not in shown
    assert_everything_readable(world)


# --- every filter -------------------------------------------------------------------------


def _query_params():
    for path, ops in SCHEMA["paths"].items():
        get = ops.get("get")
        if not get:
            continue
        for param in get.get("parameters", []):
            if param["in"] == "query":
                yield path, param["name"], param["schema"]


QUERY_PARAMS = list(_query_params())
DATE_FILTERS = [(p, n) for p, n, schema in QUERY_PARAMS if schema.get("format") == "date-time"]
BAD_FILTER_INSTANTS = [v for v in BAD_INSTANTS if isinstance(v, str)] + ["2026-11-24T09:12:00 08:00", "x" * 5000]


def test_the_date_filters_are_the_four_of_the_issue():
    assert sorted(n for _p, n in DATE_FILTERS) == [
        "created_after",
        "created_before",
        "reported_after",
        "reported_before",
    ]


@pytest.mark.parametrize("value", BAD_FILTER_INSTANTS, ids=repr)
@pytest.mark.parametrize(("path", "name"), DATE_FILTERS)
def test_date_filters_parse_strictly(world, path, name, value):
    response = token_client(world["analyst"]).get(path, {name: value})
    _json_4xx(response, name)


@pytest.mark.parametrize(("path", "name"), DATE_FILTERS)
def test_date_filters_take_any_real_zone(world, path, name):
    for value in ("2026-11-24T09:12:00+14:00", "2026-11-24T09:12:00-12:00", "2026-11-24T01:12:00Z"):
        assert token_client(world["analyst"]).get(path, {name: value}).status_code == 200


HOSTILE_VALUES = ["\x00", "abc", "-1", "0", "1e3", str(10**30), "٣", "x" * 3000, "true; drop table", "%00", "☃"]


@pytest.mark.parametrize("value", HOSTILE_VALUES, ids=repr)
@pytest.mark.parametrize(("path", "name", "schema"), QUERY_PARAMS, ids=[f"{p} {n}" for p, n, _s in QUERY_PARAMS])
def test_no_query_value_is_a_server_error(world, path, name, schema, value):
    url = _url(path, world) if "{code}" not in path else path.replace("{code}", "CCB")
    for user in (world["analyst"], world["liaison"]):
        response = token_client(user).get(url, {name: value})
        assert response.status_code < 500, (url, name, value, response.content[:300])
        assert response["Content-Type"].startswith("application/json"), (url, name, value)


@pytest.mark.parametrize(
    "query",
    [
        {"date_from": "9999-12-31"},
        {"date_to": "9999-12-31"},
        {"date_from": "0001-01-01"},
        {"date_to": "٢٠٢٦-01-01"},
        {"q": "\x00"},
        {"q": "٦٢١٧٠٠٠٠١٠٠١٢٣٤٥٦٧٨"},
        {"status": "nope", "sort": "nope"},
        {"after": "2026-01-01T00:00:00+18:21|1"},
        {"after": f"2026-01-01T00:00:00+08:00|{10**30}"},
        {"after": "0001-01-01T00:00:00+08:00|1"},
        {"sort": "-loss_amount", "after": "1e999|1"},
        {"sort": "-loss_amount", "after": "NaN|1"},
    ],
    ids=repr,
)
def test_page_filters_never_fail(world, client, query):
    client.force_login(world["analyst"])
    assert client.get(reverse("case-list"), query).status_code in (200, 400)


# --- rows written around the validators are still readable (the repair path is not SQL) ----


def _zone(hours: int):
    return dt_timezone(timedelta(hours=hours))


BAD_ROWS = {
    "task lapses in year 9999 at -14:00": lambda w: Task.objects.filter(pk=w["task"].pk).update(
        lapses_at=datetime(9999, 12, 31, 23, 59, 59, tzinfo=_zone(-14)),
        amount_held=Decimal("1.00"),
        state="completed",
        result_status="completed",
        result={"amount_held": "1.00", "lapses_at": "9999-12-31T23:59:59-14:00"},
    ),
    "task times at both ends": lambda w: Task.objects.filter(pk=w["task"].pk).update(
        deadline=datetime(1, 1, 1, tzinfo=_zone(8)),
        created_at=datetime(1, 1, 1, tzinfo=_zone(14)),
        approved_at=datetime(9999, 12, 31, 23, 0, tzinfo=UTC),
        executed_at=datetime(9999, 12, 31, 23, 59, 59, tzinfo=_zone(-14)),
    ),
    "onward transfer dated year 1": lambda w: Transfer.objects.filter(case=w["case"]).update(
        at=datetime(1, 1, 1, tzinfo=_zone(8))
    ),
    "case reported in 9999, occurred in year 1": lambda w: Case.objects.filter(pk=w["case"].pk).update(
        reported_at=datetime(9999, 12, 31, 23, 59, 59, tzinfo=_zone(-14)),
        occurred_at=datetime(1, 1, 1, tzinfo=_zone(14)),
        created_at=datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC),
    ),
    "identifier seen at both ends": lambda w: Identifier.objects.update(
        first_seen_at=datetime(1, 1, 1, tzinfo=_zone(8)),
        last_seen_at=datetime(9999, 12, 31, 23, 59, 59, tzinfo=_zone(-14)),
    ),
    "identifier link added in year 1": lambda w: CaseIdentifier.objects.filter(case=w["case"]).update(
        added_at=datetime(1, 1, 1, tzinfo=_zone(8))
    ),
    "result that is not an object": lambda w: Task.objects.filter(pk=w["task"].pk).update(
        state="completed", result_status="", result=["not", "an", "object"], amount_held=None
    ),
    "result with odd rows": lambda w: Task.objects.filter(pk=w["task"].pk).update(
        state="completed",
        result_status="completed",
        result={"onward_transfers": [None, 5, {"amount": "x"}], "holder_name": 7, "amount_held": "abc"},
    ),
    # Audit rows are append-only (a trigger refuses UPDATE): an odd one can only be added.
    "audit row at the far end with odd changes": lambda w: AuditRecord.objects.create(
        at=datetime(9999, 12, 31, 23, 59, 59, tzinfo=_zone(-14)),
        action="task.result",
        object_type="cases.task",
        object_id=w["task"].pk,
        case_id=w["case"].pk,
        before=["x"],
        after="y",
    ),
    "infinite times": lambda w: _infinite(w),
}


def _infinite(world):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Task._meta.db_table} SET lapses_at = 'infinity', deadline = '-infinity' WHERE id = %s",
            [world["task"].pk],
        )


@pytest.mark.parametrize("bad", list(BAD_ROWS))
def test_bad_rows_never_break_reading(world, bad):
    BAD_ROWS[bad](world)
    assert_everything_readable(world)
    # Pages and the admin can then correct the row: reading it gives a representable time.
    task = Task.objects.get(pk=world["task"].pk)
    for value in (task.lapses_at, task.deadline, task.created_at, task.executed_at):
        if value is not None:
            timezone.localtime(value)


def _cursor(position: str, reverse: bool = False) -> str:
    import base64
    from urllib.parse import urlencode

    query = urlencode({"o": 0, "r": int(reverse), "p": position})
    return base64.b64encode(query.encode()).decode()


@pytest.mark.parametrize("position", ["2026-01-01T00:00:00+18:21", "abc", str(10**30), "\x00", "1e3"])
@pytest.mark.parametrize("path", ["/api/v1/cases/", "/api/v1/tasks/", "/api/v1/proposals/", "/api/v1/notifications/"])
def test_forged_cursors_are_refused_not_a_server_error(world, path, position):
    response = token_client(world["analyst"]).get(path, {"cursor": _cursor(position)})
    _json_4xx(response)


@pytest.mark.parametrize("position", ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+08:00"])
def test_a_cursor_at_either_end_of_the_calendar_is_a_page(world, position):
    # A stored out-of-range time is read at the representable end, so a page may start there.
    response = token_client(world["analyst"]).get("/api/v1/cases/", {"cursor": _cursor(position)})
    assert response.status_code == 200, response.content
    # Previous-page cursors are never handed out (the keyset helper): a JSON 404, not a 500.
    _json_4xx(token_client(world["analyst"]).get("/api/v1/cases/", {"cursor": _cursor(position, True)}))


def test_the_admin_opens_a_bad_row_for_repair(world, admin_user, client):
    BAD_ROWS["task lapses in year 9999 at -14:00"](world)
    BAD_ROWS["case reported in 9999, occurred in year 1"](world)
    client.force_login(admin_user)
    for url in (
        reverse("admin:cases_task_change", args=[world["task"].pk]),
        reverse("admin:cases_case_change", args=[world["case"].pk]),
        reverse("admin:cases_task_changelist"),
        reverse("admin:cases_case_changelist"),
    ):
        assert client.get(url).status_code == 200, url


@pytest.mark.parametrize(
    "query",
    [
        {"date_from": "2026-01-01T00:00:00+18:21"},
        {"date_to": "9999-12-31T23:59:59-14:00"},
        {"date_from": "2026-02-30"},
        {"date_to": "0001-01-01"},
        {"case": "9" * 30},
        {"after": "2026-01-01T00:00:00+18:21|1"},
        {"after": f"2026-01-01T00:00:00+08:00|{'9' * 30}"},
        {"format": "csv", "date_from": "2026-01-01T00:00:00+18:21"},
    ],
    ids=lambda query: "&".join(query),
)
def test_audit_page_filters_never_fail(world, client, query):
    client.force_login(world["auditor"])
    assert client.get(reverse("audit"), query).status_code in (200, 400)
