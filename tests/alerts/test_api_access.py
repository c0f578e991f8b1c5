"""Who may do what with the deliveries and notifications API, as one table.

Rows: (route, caller) -> expected status, and for reads whether the CCB task's
delivery is in the answer. At merge these rows join the API's matrix file.
"""

from __future__ import annotations

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from agencies.actions import set_endpoint
from alerts.choices import DeliveryState
from alerts.models import Delivery, Notification
from cases import actions

from ..conftest import agency, make_user

pytestmark = pytest.mark.django_db

ROLES = {
    "analyst": ("t_analyst", "AFC", "analyst"),
    "supervisor": ("t_supervisor", "AFC", "supervisor"),
    "auditor": ("t_auditor", "AFC", "auditor"),
    "ccb_liaison": ("t_ccb_liaison", "CCB", "liaison"),
    "ccb_manager": ("t_ccb_manager", "CCB", "manager"),
    "icbc_liaison": ("t_icbc_liaison", "ICBC", "liaison"),
}

# caller: (history list sees it, detail status, re-send status)
MATRIX = {
    "analyst": (True, 200, 403),
    "supervisor": (True, 200, 200),
    "auditor": (True, 200, 403),
    "ccb_liaison": (True, 200, 403),  # the assigned agency sees its pushes, cannot re-send
    "ccb_manager": (True, 200, 403),
    "icbc_liaison": (False, 404, 404),  # another agency: not found, same body as missing
    "anonymous": (None, 401, 401),
}


@pytest.fixture
def world(django_capture_on_commit_callbacks):
    users = {name: make_user(*spec) for name, spec in ROLES.items()}
    from ..conftest import make_case

    set_endpoint(agency("CCB"), url="http://127.0.0.1:9/CCB/", secret="s3cret-0123456789", acting_user=None)
    case = make_case(users["analyst"])
    with django_capture_on_commit_callbacks(execute=False):  # no broker here
        [task] = actions.issue_stop_payments(case, acting_user=users["analyst"])
    delivery = Delivery.objects.get(task=task)
    Delivery.objects.filter(pk=delivery.pk).update(state=DeliveryState.DEAD, give_up_at=timezone.now())
    for name, user in users.items():
        Notification.objects.create(user=user, kind="new_task", title=f"for {name}", dedupe_key="k")
    return users, task, delivery


def _client(users, caller):
    client = APIClient()
    if caller != "anonymous":
        client.force_authenticate(users[caller])
    return client


@pytest.mark.parametrize("caller", MATRIX)
def test_delivery_history(world, caller):
    users, task, delivery = world
    sees, detail, _resend = MATRIX[caller]
    client = _client(users, caller)
    response = client.get(f"/api/v1/deliveries/?task={task.pk}")
    if sees is None:
        assert response.status_code == 401
    else:
        assert response.status_code == 200
        ids = [row["id"] for row in response.json()["results"]]
        assert ids == ([str(delivery.pk)] if sees else [])
    response = client.get(f"/api/v1/deliveries/{delivery.pk}/")
    assert response.status_code == detail
    assert "detail" in response.json() or response.json()["id"] == str(delivery.pk)
    if detail == 404:
        missing = client.get("/api/v1/deliveries/00000000-0000-0000-0000-000000000000/")
        assert missing.status_code == 404 and missing.json() == response.json()


@pytest.mark.parametrize("caller", MATRIX)
def test_delivery_resend(world, caller, django_capture_on_commit_callbacks):
    users, _task, delivery = world
    _sees, _detail, expected = MATRIX[caller]
    with django_capture_on_commit_callbacks(execute=False):
        response = _client(users, caller).post(f"/api/v1/deliveries/{delivery.pk}/resend/")
    assert response.status_code == expected, response.json()
    delivery.refresh_from_db()
    if expected == 200:
        assert response.json()["state"] == DeliveryState.PENDING == delivery.state
        assert response.json()["id"] == str(delivery.pk)  # same Idempotency-Key
    else:
        assert delivery.state == DeliveryState.DEAD
        assert "detail" in response.json()


@pytest.mark.parametrize("caller", MATRIX)
def test_notification_inbox(world, caller):
    users, _task, _delivery = world
    client = _client(users, caller)
    listing = client.get("/api/v1/notifications/")
    count = client.get("/api/v1/notifications/unread-count/")
    marked = client.post("/api/v1/notifications/mark-read/", {}, format="json")
    if caller == "anonymous":
        assert {listing.status_code, count.status_code, marked.status_code} == {401}
        return
    assert [row["title"] for row in listing.json()["results"]] == [f"for {caller}"]  # never another's
    assert count.json() == {"unread": 1}
    assert marked.json() == {"marked": 1}
    assert client.get("/api/v1/notifications/unread-count/").json() == {"unread": 0}
    assert Notification.objects.filter(read_at__isnull=True).count() == len(ROLES) - 1


def test_mark_read_by_ids_touches_only_own(world):
    users, _task, _delivery = world
    mine = Notification.objects.get(user=users["analyst"])
    theirs = Notification.objects.get(user=users["supervisor"])
    client = _client(users, "analyst")
    response = client.post("/api/v1/notifications/mark-read/", {"ids": [mine.pk, theirs.pk]}, format="json")
    assert response.json() == {"marked": 1}
    theirs.refresh_from_db()
    assert theirs.read_at is None
    bad = client.post("/api/v1/notifications/mark-read/", {"ids": ["x"]}, format="json")
    assert bad.status_code == 400 and "ids" in bad.json()


def test_history_query_count_does_not_grow_with_rows(world, django_assert_max_num_queries):
    users, task, delivery = world
    from alerts.models import DeliveryAttempt

    client = _client(users, "supervisor")
    with django_assert_max_num_queries(6) as small:
        client.get(f"/api/v1/deliveries/?task={task.pk}")
    DeliveryAttempt.objects.bulk_create([DeliveryAttempt(delivery=delivery, status_code=503) for _ in range(30)])
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get(f"/api/v1/deliveries/?task={task.pk}")
    assert len(response.json()["results"][0]["attempt_log"]) == 30
