"""What the API matrix does not say about deliveries and notifications.

Who may call which route (and the absence of foreign rows in the lists) is in
``tests/api/matrix.py``; query counts are in ``tests/api/test_query_counts.py``.
Here: the answers' details the matrix's cells do not check.
"""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from alerts.models import Notification

from ..conftest import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def users():
    users = {
        "analyst": make_user("t_analyst", "AFC", "analyst"),
        "supervisor": make_user("t_supervisor", "AFC", "supervisor"),
    }
    for name, user in users.items():
        Notification.objects.create(user=user, kind="new_task", title=f"for {name}", dedupe_key="k")
    return users


def _client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_mark_read_by_ids_touches_only_own(users):
    mine = Notification.objects.get(user=users["analyst"])
    theirs = Notification.objects.get(user=users["supervisor"])
    client = _client(users["analyst"])
    response = client.post("/api/v1/notifications/mark-read/", {"ids": [mine.pk, theirs.pk]}, format="json")
    assert response.json() == {"marked": 1}
    theirs.refresh_from_db()
    assert theirs.read_at is None
    # The count is the badge's (undone, not unread): read, the notification is still to do.
    assert client.get("/api/v1/notifications/unread-count/").json() == {"unread": 1}
    assert client.get("/api/v1/notifications/?unread=true").json()["results"] == []
    bad = client.post("/api/v1/notifications/mark-read/", {"ids": ["x"]}, format="json")
    assert bad.status_code == 400 and "ids" in bad.json()


def test_mark_all_read_leaves_others_unread(users):
    client = _client(users["analyst"])
    assert client.post("/api/v1/notifications/mark-read/", {}, format="json").json() == {"marked": 1}
    assert Notification.objects.filter(read_at__isnull=True).get().user == users["supervisor"]


@pytest.mark.parametrize("value", ["x", "\u00b2", "9" * 40])  # "²" passes str.isdigit; 40 digits overflow a bigint
def test_history_filter_must_be_a_task_id(users, value):
    response = _client(users["supervisor"]).get("/api/v1/deliveries/", {"task": value})
    assert response.status_code == 400 and "task" in response.json()


def test_mark_read_ids_beyond_a_bigint_are_bad_input(users):
    response = _client(users["analyst"]).post("/api/v1/notifications/mark-read/", {"ids": [10**30]}, format="json")
    assert response.status_code == 400 and "ids" in response.json()


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/v1/deliveries/not-a-uuid/", "/api/v1/deliveries/123/resend/"])
def test_a_malformed_delivery_id_is_not_found(client, supervisor, path):
    client.force_login(supervisor)
    response = client.post(path) if path.endswith("resend/") else client.get(path)
    missing = client.get("/api/v1/deliveries/00000000-0000-0000-0000-000000000000/")
    assert response.status_code == missing.status_code == 404
    assert response.json() == missing.json()
