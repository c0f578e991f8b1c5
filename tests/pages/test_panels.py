"""Parts of a page that another app draws, through ``coordination.hooks``.

The case and task pages belong to ``cases`` and the manager's page to
``agencies``; deliveries (alerts) and task performance (cases) come in through
hooks, since no app imports the floor above it. These check that they still
arrive, for the roles that should see them, and that the re-send button works.
"""

from __future__ import annotations

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from alerts.choices import DeliveryState
from alerts.models import Delivery
from coordination import hooks
from tests.api.test_matrix import World


@pytest.fixture
def world(db):
    return World()


def words(msgid: str) -> str:
    """``msgid`` in the pages' language (the default one: the test clients send no preference)."""
    with translation.override(settings.LANGUAGE_CODE):
        return translation.gettext(msgid)


def page(world, role, url):
    response = world.client(role).get(url)
    assert response.status_code == 200
    return response.content.decode()


RESEND = 'name="delivery" value="{pk}"'


@pytest.mark.django_db
def test_task_page_shows_deliveries_and_only_supervisors_get_the_resend_button(world):
    delivery = Delivery.objects.get(pk=world.delivery.pk)  # dead-lettered
    url = reverse("task-detail", args=[delivery.task_id])
    supervisor = page(world, "supervisor", url)
    assert f"<h2>{words('Deliveries')}</h2>" in supervisor
    assert RESEND.format(pk=delivery.pk) in supervisor
    for role in ("analyst", "liaison", "auditor"):
        html = page(world, role, url)
        assert f"<h2>{words('Deliveries')}</h2>" in html
        with translation.override(settings.LANGUAGE_CODE):
            assert f'<span class="state">{delivery.get_state_display()}</span>' in html
        assert RESEND.format(pk=delivery.pk) not in html, role


@pytest.mark.django_db
def test_resend_from_the_task_page(world):
    delivery = world.delivery
    url = reverse("task-action", args=[delivery.task_id, "resend"])
    for role in ("analyst", "liaison", "auditor"):
        assert world.client(role).post(url, {"delivery": str(delivery.pk)}).status_code == 403, role
    assert Delivery.objects.get(pk=delivery.pk).state == DeliveryState.DEAD
    response = world.client("supervisor").post(url, {"delivery": str(delivery.pk)})
    assert response.status_code == 302
    assert Delivery.objects.get(pk=delivery.pk).state == DeliveryState.PENDING
    # A task action nobody registered is refused like any unknown one.
    assert world.client("supervisor").post(reverse("task-action", args=[delivery.task_id, "nope"])).status_code == 403


@pytest.mark.django_db
def test_case_page_lists_each_tasks_deliveries(world):
    delivery, delivered = (Delivery.objects.get(pk=d.pk) for d in (world.delivery, world.delivered))
    html = page(world, "analyst", reverse("case-detail", args=[world.case.pk]))
    assert f"<th>{words('Deliveries')}</th>" in html
    with translation.override(settings.LANGUAGE_CODE):
        for d in (delivery, delivered):
            assert f'<div><span class="state">{d.get_state_display()}</span>' in html
    columns = hooks.get_hooks("case_page_task_columns")
    assert len(columns) == 1 and columns[0].__module__ == "alerts.coordination_hooks"


@pytest.mark.django_db
def test_manager_page_has_the_performance_card(world):
    world.task  # noqa: B018 - one CCB task in the window
    html = page(world, "manager", reverse("my-agency"))
    card = html.split(f"<h2>{words('Performance')}</h2>", 1)[1].split("</section>", 1)[0]
    assert words("No tasks in this period.") not in card
    assert f'<dt>{words("Tasks received")}</dt><dd data-figure="received">1</dd>' in card
