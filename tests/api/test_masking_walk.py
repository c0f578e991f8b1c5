"""One masking rule, everywhere in the API; every full read of personal data audited.

Known values are planted in a case (a victim's name, resident ID and phone, the victim's
own account, the receiving account and its holder, an onward transfer's account and
holder in a bank's result, a follow-up proposal, audit rows, notifications). Every
operation of the API (every row of the authorisation matrix, which
``test_every_api_route_is_in_the_matrix`` holds to the URLconf, re-checked here) is
called as every role, each inside a savepoint rolled back afterwards, and the answer
is searched for each planted value in full:

- a value the role should see masked must not be there (the masking walk);
- an answer that does show a planted value in full must have written exactly one
  read-audit row for its caller (the read-audit walk), and no answer writes more than one.
"""

from __future__ import annotations

import json

import pytest
from django.db import transaction
from django.urls import reverse

from alerts.models import Notification
from cases.models import Identifier
from coordination.choices import READ_ACTIONS
from coordination.models import AuditRecord
from tests.conftest import RECEIVING_ACCOUNT, VICTIM_ACCOUNT

from .matrix import ROLES, ROWS
from .test_matrix import BODIES, ONWARD_ACCOUNT, World, api_routes

pytestmark = pytest.mark.django_db

# The planted values, by what they are.
VICTIM = {"victim name": "张三", "victim id": "51010719900101123X", "victim phone": "13800000000"}
PAYER = {"victim's account": VICTIM_ACCOUNT}
TARGET = {"receiving account": RECEIVING_ACCOUNT, "its holder": "王五"}
ONWARD = {"onward account": ONWARD_ACCOUNT, "onward holder": "李四"}
PLANTED = {**VICTIM, **PAYER, **TARGET, **ONWARD}

# What each role reads in full (``coordination.masking``): the centre everything; CCB's
# people and its partner system their own task's target and their own result; nobody else anything.
FULL = {
    "analyst": set(PLANTED),
    "supervisor": set(PLANTED),
    "liaison": set(TARGET) | set(ONWARD),
    "manager": set(TARGET) | set(ONWARD),
    "partner": set(TARGET) | set(ONWARD),
    "other": set(),
    "auditor": set(),
    "anon": set(),
}
# The bank of a fund return pays the victims back: its own return task's allocations name each
# victim's account and its holder (protocol v1.1 ``allocations``), in its task reads only.
RETURN_BANK = {"liaison", "manager", "partner"}
RETURN_READS = {"task-list", "task-detail", "task-search"}
RETURN_PAYEE = {"victim name", "victim's account"}


def plant(world: World) -> None:
    """Build every object of the matrix, with the planted values where they can leak."""
    built = ("case", "task", "pending", "proposal", "delivery", "delivered", "notifications", "frozen", "fund_return")
    for name in built:
        getattr(world, name)
    Identifier.objects.filter(value=RECEIVING_ACCOUNT).update(holder_name=TARGET["its holder"])
    for user in world.users.values():
        # A bank's reason quoted in a notification (free text) carries an account and a phone.
        Notification.objects.create(
            user=user,
            kind="rejected",
            title=f"退回 {VICTIM_ACCOUNT}",
            body=f"联系 {VICTIM['victim phone']}",
            dedupe_key="planted",
        )


def call(world: World, row, role: str):
    url = reverse(f"api:{row.route}", kwargs=world.kwargs(row.object))
    body = BODIES[row.body](world)
    client = world.client(role)
    if row.method == "GET":
        return client.get(url, body)
    return client.generic(row.method, url, data=json.dumps(body or {}), content_type="application/json")


def answer_text(row, response) -> str:
    """The answer, less what only echoes the caller's own input (the lookup's normalised ``value``)."""
    if row.route == "identifier-lookup" and response.status_code == 200:
        data = response.json()
        data.pop("value")
        return json.dumps(data, ensure_ascii=False)
    return response.content.decode()


def full_values_in(text: str) -> set[str]:
    return {name for name, value in PLANTED.items() if value in text}


def test_the_walk_covers_every_api_operation():
    assert api_routes() <= {(row.route, row.method) for row in ROWS}


@pytest.mark.parametrize("role", ROLES)
def test_every_operation_masks_and_audits_as_the_rule_says(role):
    world = World()
    plant(world)
    user = world.users.get(role)
    leaks, unaudited, twice = [], [], []
    for row in ROWS:
        with transaction.atomic():
            last = AuditRecord.objects.order_by("-id").values_list("id", flat=True).first() or 0
            response = call(world, row, role)
            shown = full_values_in(answer_text(row, response))
            reads = list(
                AuditRecord.objects.filter(id__gt=last, action__in=READ_ACTIONS).values("user_id", "action", "after")
            )
            transaction.set_rollback(True)
        where = f"{row.method} {row.route} ({row.object})"
        allowed = FULL[role] | (RETURN_PAYEE if role in RETURN_BANK and row.route in RETURN_READS else set())
        if leaked := shown - allowed:
            leaks.append((where, sorted(leaked)))
        if len(reads) > 1:
            twice.append((where, len(reads)))
        if shown and response.status_code < 400 and not any(r["user_id"] == user.pk for r in reads):
            unaudited.append((where, sorted(shown)))
    assert not leaks, f"{role} reads in full what it should see masked: {leaks}"
    assert not twice, f"more than one read-audit row for one request: {twice}"
    assert not unaudited, f"{role} was shown personal data in full with no read-audit row: {unaudited}"


def test_the_walk_would_catch_a_leak():
    """The analyst does read every planted value somewhere: the search above can find them."""
    world = World()
    plant(world)
    seen: set[str] = set()
    for row in ROWS:
        if row.method != "GET":
            continue
        with transaction.atomic():
            seen |= full_values_in(answer_text(row, call(world, row, "analyst")))
            transaction.set_rollback(True)
    assert seen == set(PLANTED), sorted(set(PLANTED) - seen)


def test_a_read_row_names_whose_data_and_the_auditor_finds_it(api, analyst, auditor, case):
    """Who read whose data: the row lists the objects and the case; ``?case=`` on the trail finds it."""
    response = api(analyst).get(f"/api/v1/cases/{case.pk}/")
    assert response.status_code == 200
    row = AuditRecord.objects.filter(action="data.read").get()
    victim = case.victims.get()
    assert (row.user_id, row.case_id) == (analyst.pk, case.pk)
    assert row.after["objects"] == {"cases.victim": [victim.pk]}
    assert row.after["cases"] == [case.pk]
    assert set(row.after["kinds"]) == {"name", "id_number", "phone"}
    assert "?" not in row.after["path"]
    # A masked reader writes no read row: nothing was shown in full.
    api(auditor).get(f"/api/v1/cases/{case.pk}/")
    assert AuditRecord.objects.filter(action="data.read").count() == 1


def test_a_list_read_is_one_row_listing_every_case(api, analyst):
    from tests.conftest import make_case

    cases = [make_case(analyst, to_account=f"62170000100{i:08d}") for i in range(3)]
    for case in cases:
        from cases import actions

        actions.issue_stop_payments(case, acting_user=analyst)
    before = AuditRecord.objects.count()
    assert api(analyst).get("/api/v1/tasks/").status_code == 200
    [row] = AuditRecord.objects.filter(id__gt=0).order_by("-id")[: AuditRecord.objects.count() - before]
    assert row.action == "data.read" and row.case_id is None
    assert row.after["cases"] == sorted(c.pk for c in cases)
    assert len(row.after["objects"]["cases.task"]) == 3


def test_lookups_and_exports_are_audited(api, client, ccb_liaison, auditor, case):
    answer = api(ccb_liaison).get("/api/v1/identifiers/lookup/", {"kind": "bank_account", "value": RECEIVING_ACCOUNT})
    assert answer.status_code == 200
    row = AuditRecord.objects.get(action="identifier.lookup")
    assert row.user_id == ccb_liaison.pk
    assert row.object_id == Identifier.objects.get(value=RECEIVING_ACCOUNT).pk
    assert RECEIVING_ACCOUNT not in json.dumps(row.after)  # the trail itself keeps it masked
    client.force_login(auditor)
    export = client.get(reverse("audit") + "?format=csv&action=identifier.lookup")
    assert export.status_code == 200
    b"".join(export.streaming_content)
    row = AuditRecord.objects.get(action="audit.export")
    assert row.user_id == auditor.pk and row.after["filters"] == {"action": "identifier.lookup"}


def test_who_read_a_case_walks_the_read_index(api, client, analyst, auditor):
    """``?case=`` on the trail finds list reads through ``after.cases``; a partial GIN index serves it.

    At a million cases the trail holds hundreds of millions of rows: the filter must not
    read them all. The filter's SQL is planned with sequential scans priced out.
    """
    from django.db import connection

    from cases import actions
    from coordination.filtersets import _of_case
    from tests.conftest import make_case

    cases = [make_case(analyst, to_account=f"62170000101{i:08d}") for i in range(3)]
    for case in cases:
        actions.issue_stop_payments(case, acting_user=analyst)
    assert api(analyst).get("/api/v1/tasks/").status_code == 200  # one list read naming the three cases
    client.force_login(auditor)
    page = client.get(reverse("audit") + f"?case={cases[1].pk}")
    assert page.status_code == 200 and "data.read" in page.content.decode()
    # The filter itself (the page adds its order and page size, which a small table's planner
    # may prefer to walk by time): with sequential scans priced out, the read index serves it.
    queryset = _of_case(AuditRecord.objects.order_by(), cases[1].pk).values("id")
    sql, params = queryset.query.sql_with_params()
    with transaction.atomic(), connection.cursor() as cur:
        # Plain index walks priced out too: on a small table one could filter every row of
        # another index; the only way left to the rows is through the two filters' indexes.
        for method in ("seqscan", "indexscan", "indexonlyscan"):
            cur.execute(f"SET LOCAL enable_{method} = off")
        cur.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cur.fetchall())
    assert "audit_read_cases_idx" in plan and "audit_case_idx" in plan, plan
