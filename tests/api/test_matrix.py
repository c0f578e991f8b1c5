"""Every cell of the authorisation matrix (tests/api/matrix.py) as a test.

Objects are built lazily through the real action functions, so each cell pays
only for what its row names. Lists are checked for the absence of foreign rows.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from functools import cached_property

import pytest
from django.urls import get_resolver, reverse
from django.utils import timezone
from rest_framework.test import APIClient

from agencies.actions import ensure_api_user, set_endpoint
from alerts.choices import DeliveryState
from alerts.models import Delivery, Notification
from cases import actions
from coordination.models import AuditRecord
from dissuasion.models import Warning
from tests.conftest import RECEIVING_ACCOUNT, agency, make_case, make_user

from .conftest import case_body, token_client
from .matrix import ROLES, ROWS, Row, cell_id, render

SECOND_ACCOUNT = "6217000010099999999"
DONE_ACCOUNT = "6217000010055555555"
ONWARD_ACCOUNT = "6230000000000001"
PUSHED_ACCOUNT = "6217000010066666666"
DELIVERED_ACCOUNT = "6217000010077777777"
FROZEN_ACCOUNT = "6217000010088888888"


class World:
    """The callers and objects of the matrix, built on first use."""

    def __init__(self):
        self.users = {
            "analyst": make_user("m_analyst", "AFC", "analyst"),
            "supervisor": make_user("m_supervisor", "AFC", "supervisor"),
            "liaison": make_user("m_ccb_liaison", "CCB", "liaison"),
            "manager": make_user("m_ccb_manager", "CCB", "manager"),
            "other": make_user("m_icbc_liaison", "ICBC", "liaison"),
            "auditor": make_user("m_auditor", "AFC", "auditor"),
        }
        self.users["partner"], _key = ensure_api_user(username="m_ccb_partner", agency=agency("CCB"), role="liaison")

    def client(self, role: str) -> APIClient:
        if role == "anon":
            return APIClient()
        if role == "partner":
            return token_client(self.users[role])
        client = APIClient()
        client.force_login(self.users[role])
        return client

    @cached_property
    def case(self):
        return make_case(self.users["analyst"])

    @cached_property
    def task(self):
        """A stop-payment at CCB, approved; CCB has no endpoint, so it waits to be pulled."""
        [task] = actions.issue_stop_payments(self.case, acting_user=self.users["analyst"])
        return task

    @cached_property
    def pending(self):
        return actions.create_task(
            self.case,
            acting_user=self.users["analyst"],
            type="emergency_stop_payment",
            agency=agency("CCB"),
            target_kind="bank_account",
            target_value=SECOND_ACCOUNT,
            amount=Decimal("100.00"),
        )

    @cached_property
    def frozen(self):
        """A filed case whose receiving account (CCB) is frozen: 30,000 of the victim's 52,000."""
        analyst = self.users["analyst"]
        case = actions.file_case(
            make_case(analyst, to_account=FROZEN_ACCOUNT), acting_user=analyst, filing_number="成公立字〔2026〕5号"
        )
        freeze = actions.create_task(
            case,
            acting_user=analyst,
            type="freeze",
            agency=agency("CCB"),
            target_kind="bank_account",
            target_value=FROZEN_ACCOUNT,
            amount=Decimal("52000.00"),
            legal_document_number="成公冻字〔2026〕31号",
        )
        freeze = actions.approve_task(freeze, acting_user=self.users["supervisor"])
        actions.submit_result(
            freeze, acting_user=self.users["liaison"], status="completed", result={"amount_held": "30000.00"}
        )
        return case

    @cached_property
    def fund_return(self):
        """A fund return of the frozen account, prepared by the analyst: a supervisor approves it."""
        return actions.create_task(
            self.frozen,
            acting_user=self.users["analyst"],
            type="fund_return",
            agency=agency("CCB"),
            target_kind="bank_account",
            target_value=FROZEN_ACCOUNT,
        )

    @cached_property
    def proposal(self):
        bank = self.users["liaison"]
        done = actions.create_task(
            self.case,
            acting_user=self.users["analyst"],
            type="emergency_stop_payment",
            agency=agency("CCB"),
            target_kind="bank_account",
            target_value=DONE_ACCOUNT,
            amount=Decimal("500.00"),
        )
        done = actions.approve_task(done, acting_user=self.users["analyst"])
        actions.submit_result(done, acting_user=bank, status="completed", result=result_body()["result"])
        return self.case.proposals.get()

    @cached_property
    def agency(self):
        return agency("CCB")

    @cached_property
    def ccb_endpoint(self):
        """CCB with an endpoint, so approving its task writes a delivery.

        Nothing is really pushed: the push job is queued on commit and the test's
        transaction never commits (and the port is the discard port anyway).
        """
        set_endpoint(self.agency, url="http://127.0.0.1:9/CCB/", secret="s3cret-0123456789", acting_user=None)
        return self.agency

    def _pushed(self, account: str) -> Delivery:
        self.ccb_endpoint  # noqa: B018
        task = actions.create_task(
            self.case,
            acting_user=self.users["analyst"],
            type="emergency_stop_payment",
            agency=self.agency,
            target_kind="bank_account",
            target_value=account,
            amount=Decimal("100.00"),
        )
        actions.approve_task(task, acting_user=self.users["analyst"])
        return Delivery.objects.get(task=task)

    @cached_property
    def delivery(self):
        """A dead-lettered push of a CCB task: the one a supervisor re-sends."""
        delivery = self._pushed(PUSHED_ACCOUNT)
        # The worker's outcome, written directly: the retry machinery is not under test here.
        Delivery.objects.filter(pk=delivery.pk).update(state=DeliveryState.DEAD, give_up_at=timezone.now())
        return delivery

    @cached_property
    def delivered(self):
        """A push the bank acknowledged: re-sending it is a conflict."""
        delivery = self._pushed(DELIVERED_ACCOUNT)
        Delivery.objects.filter(pk=delivery.pk).update(
            state=DeliveryState.DELIVERED, delivered_at=timezone.now(), last_status=200
        )
        return delivery

    @cached_property
    def notifications(self):
        """One unread notification per caller, titled after its role."""
        return [
            Notification.objects.create(user=user, kind="new_task", title=f"for {role}", dedupe_key="matrix")
            for role, user in self.users.items()
        ]

    @cached_property
    def warning(self):
        """A clue CCB's liaison sent; no address, so it waits at the Wuhou sub-bureau."""
        from dissuasion.intake import take_clues

        [entry] = take_clues(agency("CCB"), self.users["liaison"], [clue_body("M-WARN-1")])
        return Warning.objects.get(pk=entry.warning)

    def kwargs(self, obj: str) -> dict:
        if obj == "-":
            return {}
        if obj == "agency":
            return {"code": self.agency.code}
        if obj == "return":
            return {"pk": self.fund_return.pk}
        return {"pk": getattr(self, obj).pk}


def result_body() -> dict:
    at = (timezone.now() - timedelta(minutes=5)).isoformat()
    return {
        "status": "completed",
        "executed_at": at,
        "result": {
            "amount_held": "300.00",
            "onward_transfers": [
                {"account_number": ONWARD_ACCOUNT, "bank": "ABC", "holder_name": "李四", "amount": "200.00", "at": at}
            ],
        },
    }


# What each row's ``body`` column sends; a callable gets the world.
BODIES = {
    "-": lambda w: None,
    "lookup": lambda w: {"kind": "bank_account", "value": RECEIVING_ACCOUNT},
    "case_search": lambda w: {"identifier": RECEIVING_ACCOUNT},
    "task_search": lambda w: {"target": RECEIVING_ACCOUNT},
    "case": lambda w: case_body(),
    "file": lambda w: {"filing_number": "成公(武)立字[2026]123号"},
    "close": lambda w: {"outcome": "partly_returned", "summary": "部分返还"},
    # The platform computes a return's amount and allocation: the body names no amount.
    "fund_return": lambda w: {
        "case": w.frozen.pk,
        "type": "fund_return",
        "agency": "CCB",
        "target": {"kind": "bank_account", "value": FROZEN_ACCOUNT},
    },
    # The supervisor approving a return names its legal document.
    "approve_return": lambda w: {"legal_document_number": "成公冻字〔2026〕32号"},
    "share": lambda w: {"username": w.users["other"].username, "permission": "view"},
    "stop": lambda w: {"approve": False},
    "follow_ups": lambda w: {"proposal_ids": [w.proposal.pk], "approve": False},
    "task": lambda w: {
        "case": w.case.pk,
        "type": "emergency_stop_payment",
        "agency": "CCB",
        "target": {"kind": "bank_account", "value": SECOND_ACCOUNT},
        "amount": "52000.00",
        "legal_document_number": None,
        "note": "text",
    },
    "approve_many": lambda w: {"ids": [w.pending.pk]},
    "reason": lambda w: {"reason": "账户已销户"},
    "result": lambda w: result_body(),
    "task_filter": lambda w: {"task": w.delivery.task_id},
    "clues": lambda w: {"clues": [clue_body("M-CLUE-1")]},
    "hand_over": lambda w: {"station": "PS-WUHOU-YULIN"},
}


def clue_body(ref: str) -> dict:
    return {
        "source_reference": ref,
        "phone": "13800000000",
        "name": "王五",
        "district": "wuhou",
        "level": "high",
        "reason": "transfer to a reported account",
    }


AGENCY_CODES = {"liaison": "CCB", "manager": "CCB", "partner": "CCB", "other": "ICBC"}


# Reads sent as POST (the filters in the body, out of URLs): no audit row is asked of them,
# and their rows are checked as their list's.
POSTED_READS = {"identifier-lookup": "identifier-lookup", "case-search": "case-list", "task-search": "task-list"}


def check_no_foreign_rows(row: Row, role: str, world: World, results: list) -> None:
    """A list holds only what the caller may see: the point of the matrix for lists."""
    route = POSTED_READS.get(row.route, row.route)
    if route == "notification-list":
        assert [r["title"] for r in results] == [f"for {role}"]  # one's own, never another's
        return
    if route == "warning-list":
        # A sender reads its own clues only: ICBC never CCB's.
        refs = [r["source_reference"] for r in results]
        assert refs == ([] if role == "other" else (["M-WARN-1"] if role in AGENCY_CODES else refs))
        return
    if route == "delivery-list":
        assert [r["id"] for r in results] == ([] if role == "other" else [str(world.delivery.pk)])
        return
    if role not in AGENCY_CODES:
        return
    if route == "task-list":
        # Make sure there is something foreign to leak: a CCB task exists.
        assert {r["agency"] for r in results} <= {AGENCY_CODES[role]}
        if role == "other":
            assert results == []
    elif route in ("case-list", "proposal-list"):
        assert results == []


CELLS = [pytest.param(row, role, id=f"{cell_id(row, ROWS)} as {role}") for row in ROWS for role in ROLES]

# Writes that leave no audit record: marking one's own notifications read changes
# nothing but the reader's inbox.
UNAUDITED_WRITES = frozenset({"notification-mark-read"})

# Answers checked beyond the status: the caller's one unread notification.
NOTIFICATION_ANSWERS = {
    "notification-unread-count": {"unread": 1},
    "notification-mark-read": {"marked": 1},
}


@pytest.mark.django_db
@pytest.mark.parametrize(("row", "role"), CELLS)
def test_cell(row: Row, role: str):
    world = World()
    if POSTED_READS.get(row.route, row.route) in ("task-list", "case-list", "proposal-list"):
        world.task  # noqa: B018 - build rows that could leak
        if row.route == "proposal-list":
            world.proposal  # noqa: B018
    if row.route == "warning-list":
        world.warning  # noqa: B018 - CCB's clue, foreign to ICBC
    if row.route.startswith("notification-"):
        world.notifications  # noqa: B018 - the caller's and everyone else's
    url = reverse(f"api:{row.route}", kwargs=world.kwargs(row.object))
    body = BODIES[row.body](world)
    client = world.client(role)
    audit_before = AuditRecord.objects.count()
    if row.method == "GET":
        response = client.get(url, body)
    else:
        response = client.generic(row.method, url, data=_json(body), content_type="application/json")
    expected = row.expected[role]
    assert response.status_code == expected, (row.id, role, response.content[:500])
    if response.status_code != 204:
        assert response["Content-Type"].startswith("application/json")
        data = response.json()
        if response.status_code >= 400:
            assert "detail" in data
        elif (row.method == "GET" or row.route in POSTED_READS) and "results" in data:
            assert set(data) == {"next", "results"}
            check_no_foreign_rows(row, role, world, data["results"])
        if response.status_code == 200 and row.route in NOTIFICATION_ANSWERS:
            assert data == NOTIFICATION_ANSWERS[row.route]
        if response.status_code == 200 and row.route == "delivery-resend":
            assert data["id"] == str(world.delivery.pk)  # the same Idempotency-Key
            assert data["state"] == DeliveryState.PENDING
    writes = row.method != "GET" and row.route not in POSTED_READS
    if writes and response.status_code < 300 and row.route not in UNAUDITED_WRITES:
        assert AuditRecord.objects.count() > audit_before, "a write must leave an audit record"
    if row.method != "GET" and response.status_code >= 400:
        assert AuditRecord.objects.count() == audit_before, "a refused write must change nothing"


def _json(body) -> str:
    import json

    return json.dumps(body if body is not None else {})


# --- the table covers the API ----------------------------------------------------------


# Mounted only by configuration: the benchmark's constant endpoint (API_PING=1).
OPTIONAL_ROUTES = frozenset({"ping"})


def api_routes() -> set[tuple[str, str]]:
    """Every (URL name, method) of the ``api`` namespace."""
    _prefix, resolver = get_resolver().namespace_dict["api"]
    found: set[tuple[str, str]] = set()

    def walk(patterns):
        for pattern in patterns:
            if hasattr(pattern, "url_patterns"):
                walk(pattern.url_patterns)
                continue
            callback = pattern.callback
            if getattr(callback, "actions", None):
                methods = {m.upper() for m in callback.actions if m not in ("options", "head")}
            else:
                view_class = callback.view_class
                methods = {
                    m.upper()
                    for m in view_class.http_method_names
                    if m not in ("options", "head") and hasattr(view_class, m)
                }
            if pattern.name in OPTIONAL_ROUTES:
                continue
            found.update((pattern.name, m) for m in methods)

    walk(resolver.url_patterns)
    return found


def test_every_api_route_is_in_the_matrix():
    in_table = {(row.route, row.method) for row in ROWS}
    missing = api_routes() - in_table
    assert not missing, f"Add rows to tests/api/matrix.py for: {sorted(missing)}"
    stale = in_table - api_routes()
    assert not stale, f"Rows without a route in tests/api/matrix.py: {sorted(stale)}"


def test_every_cell_is_filled():
    for row in ROWS:
        assert set(row.expected) == set(ROLES)
        assert all(100 <= code < 600 for code in row.expected.values())


def test_permissions_doc_is_in_sync():
    from pathlib import Path

    doc = Path(__file__).resolve().parents[2] / "docs" / "permissions.md"
    assert doc.read_text(encoding="utf-8") == render(), (
        "docs/permissions.md is out of date: run `python -m tests.api.matrix > docs/permissions.md`"
    )


@pytest.mark.django_db
def test_foreign_object_answers_like_a_missing_one():
    """Another agency's task and a case of the centre: the same 404 body as an id that does not exist."""
    world = World()
    other = world.client("other")
    foreign = other.get(reverse("api:task-detail", kwargs={"pk": world.task.pk}))
    missing = other.get(reverse("api:task-detail", kwargs={"pk": 10**9}))
    assert foreign.status_code == missing.status_code == 404
    assert foreign.content == missing.content
    foreign = other.get(reverse("api:delivery-detail", kwargs={"pk": world.delivery.pk}))
    missing = other.get(reverse("api:delivery-detail", kwargs={"pk": "00000000-0000-0000-0000-000000000000"}))
    assert foreign.status_code == missing.status_code == 404
    assert foreign.content == missing.content
    liaison = world.client("partner")
    foreign = liaison.post(
        reverse("api:case-file", kwargs={"pk": world.case.pk}), {"filing_number": "x"}, format="json"
    )
    missing = liaison.post(reverse("api:case-file", kwargs={"pk": 10**9}), {"filing_number": "x"}, format="json")
    assert foreign.status_code == missing.status_code == 404
    assert foreign.content == missing.content
