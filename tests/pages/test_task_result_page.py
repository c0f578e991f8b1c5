"""The task page's result form for types without onward transfers (warnings, traces, blocks).

Those pages draw no onward-transfer rows, so they post no formset management
form; the page must not refuse the result for it (it did: a silent 400).
"""

from __future__ import annotations

import pytest

from agencies.models import Agency
from cases import actions
from cases.choices import TaskState
from tests.conftest import make_case, make_user


@pytest.mark.django_db
def test_station_completes_a_victim_warning_from_its_page(client, analyst):
    case = make_case(analyst)
    station = Agency.objects.get(code="PSB-JINJIANG")
    task = actions.create_task(
        case,
        acting_user=analyst,
        type="victim_warning",
        agency=station,
        target_kind="none",
        target_value="",
        note="劝阻",
    )
    actions.approve_if_allowed(task, acting_user=analyst)
    client.force_login(make_user("t_station", "PSB-JINJIANG", "liaison"))
    assert client.post(f"/tasks/{task.pk}/accept/").status_code == 302

    response = client.post(f"/tasks/{task.pk}/", {"status": "completed", "outcome": "reached", "reason": ""})

    assert response.status_code == 302
    task.refresh_from_db()
    assert task.state == TaskState.COMPLETED
    assert task.result["outcome"] == "reached" and task.result["contacted_at"]
