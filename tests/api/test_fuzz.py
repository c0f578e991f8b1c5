"""A fuzz pass over the committed OpenAPI schema for every role: zero 5xx, zero schema violations.

Schemathesis generates requests from ``openapi.yaml`` (valid and invalid ones)
and sends them in-process to the WSGI application, with each role's token; path
ids point at real objects half of the time so the handlers past the 404 are
exercised too. Every answer goes through schemathesis' checks (documented status
codes and content types, response bodies matching their schemas, invalid data
refused, authentication honoured...; see ``EXCLUDED_CHECKS`` for the one left
out). Bounded: a few examples per operation and role, no deadline. Raise
``FUZZ_EXAMPLES`` for a longer run.
"""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi import checks

from coordination.wsgi import application
from tests.conftest import make_case, make_user

from .conftest import token_client

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = schemathesis.openapi.from_path(ROOT / "openapi.yaml")
# In-process: checks that re-send a request (without auth, after a delete...) reach the same app.
SCHEMA.app = application
OPERATIONS = {op.label: op for op in (result.ok() for result in SCHEMA.get_all_operations())}
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "6"))
# Every check but one: "schema-valid request accepted" cannot hold for a body whose validity
# depends on the data (a code or username that exists, an id in scope, a result time
# within the case's window, a state that allows the transition); a JSON schema cannot say it.
EXCLUDED_CHECKS = [checks.positive_data_acceptance]
ROLES = {
    "analyst": ("AFC", "analyst"),
    "supervisor": ("AFC", "supervisor"),
    "auditor": ("AFC", "auditor"),
    "liaison": ("CCB", "liaison"),
    "manager": ("CCB", "manager"),
    "other": ("ICBC", "liaison"),
}


@pytest.fixture
def keep_connection():
    """Like Django's test client: the test's transaction outlives each in-process request."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def world(db, keep_connection):
    """A case and a CCB task the fuzzed ids can hit; the role's token."""
    from cases import actions

    analyst = make_user("f_analyst", "AFC", "analyst")
    case = make_case(analyst)
    [task] = actions.issue_stop_payments(case, acting_user=analyst)
    return {"case": case, "task": task, "analyst": analyst}


def _token(user) -> str:
    return token_client(user)._credentials["HTTP_AUTHORIZATION"]


def _delivery(world):
    """A dead-lettered push of a second CCB task, so a re-send gets past the lookup.

    Never really pushed: the job is queued on commit and the test's transaction
    never commits (the endpoint is the discard port anyway).
    """
    from agencies.actions import set_endpoint
    from alerts.choices import DeliveryState
    from alerts.models import Delivery
    from cases import actions
    from tests.conftest import agency

    ccb = agency("CCB")
    set_endpoint(ccb, url="http://127.0.0.1:9/CCB/", secret="s3cret-0123456789", acting_user=None)
    task = actions.create_task(
        world["case"],
        acting_user=world["analyst"],
        type="emergency_stop_payment",
        agency=ccb,
        target_kind="bank_account",
        target_value="6217000010066666666",
        amount=Decimal("100.00"),
    )
    actions.approve_task(task, acting_user=world["analyst"])
    Delivery.objects.filter(task=task).update(state=DeliveryState.DEAD)
    return Delivery.objects.get(task=task)


def _fixed_ids(label: str, world) -> dict:
    if "{code}" in label:
        return {"code": "CCB"}
    if "{id}" in label and "/deliveries/" in label:
        return {"id": str(_delivery(world).pk)}
    if "{id}" in label:
        if "/tasks/" in label:
            return {"id": world["task"].pk}
        if "/proposals/" in label:
            return {"id": 1}
        return {"id": world["case"].pk}
    return {}


@pytest.mark.django_db
@pytest.mark.parametrize("role", list(ROLES))
@pytest.mark.parametrize("label", list(OPERATIONS))
def test_no_server_errors(world, role, label):
    code, role_name = ROLES[role]
    user = world["analyst"] if role == "analyst" else make_user(f"f_{role}", code, role_name)
    headers = {"Authorization": _token(user)}
    operation = OPERATIONS[label]
    strategies = [
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    ]
    fixed = _fixed_ids(label, world)
    if fixed:
        strategies.append(operation.as_strategy(GenerationMode.POSITIVE, path_parameters=fixed))
    seen = []

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=st.one_of(strategies))
    def check(case):
        response = case.call(headers=headers)
        seen.append(response.status_code)
        assert response.status_code < 500, (label, role, case.as_curl_command(), response.text[:500])
        # Every check schemathesis has (status codes, content types, response schemas,
        # negative data rejected, positive data accepted, auth honoured...).
        case.validate_response(response, headers=headers, excluded_checks=EXCLUDED_CHECKS)

    check()
    assert seen, "no request was generated"
