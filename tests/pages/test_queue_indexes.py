"""The queues' list queries can walk their partial indexes (docs/queues.md, "Indexes").

A partial index serves a query only when the query's WHERE implies the index's
predicate; a filter rewritten so it no longer does would silently read the
whole task table at a million cases. Each test takes the page's own SQL and asks
PostgreSQL for its plan with sequential scans and sorts priced out.
"""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cases import actions
from tests.conftest import make_user
from tests.pages.test_query_counts import bank_case

pytestmark = pytest.mark.django_db


def plan_of_task_list(client, user, url: str, marker: str) -> str:
    client.force_login(user)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    [sql] = [q["sql"] for q in ctx.captured_queries if 'FROM "cases_task"' in q["sql"] and marker in q["sql"]]
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("SET LOCAL enable_seqscan = off")
        cur.execute("SET LOCAL enable_sort = off")
        cur.execute("EXPLAIN " + sql)
        return "\n".join(row[0] for row in cur.fetchall())


def test_needs_attention_walks_the_attention_index(client, analyst):
    for task in actions.issue_stop_payments(bank_case(analyst, 3), acting_user=analyst):
        actions.flag_task(task, reason="push refused with HTTP 422")
    plan = plan_of_task_list(
        client, make_user("ix_supervisor", "AFC", "supervisor"), reverse("attention"), '"needs_attention"'
    )
    assert "task_attention_idx" in plan, plan


def test_inbox_by_urgency_walks_the_inbox_index(client, analyst):
    actions.issue_stop_payments(bank_case(analyst, 3), acting_user=analyst)
    plan = plan_of_task_list(
        client,
        make_user("ix_liaison", "CCB", "liaison"),
        reverse("inbox") + "?sort=urgent",
        'AS "deadline"',
    )
    assert "task_inbox_urgent_idx" in plan, plan
