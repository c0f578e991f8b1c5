"""A victim warning carries the person to reach: in full for the centre and the assigned station only."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from cases import actions
from cases.models import Victim
from tests.api.conftest import token_client
from tests.conftest import agency, make_user

pytestmark = pytest.mark.django_db

NAME, PHONE, ADDRESS = "王小明", "13911112222", "成都市武侯区人民南路四段12号3栋"


@pytest.fixture
def station(db):
    """The Wuhou sub-bureau's liaison: the warning is assigned to their agency."""
    return make_user("t_ps_wuhou", "PSB-WUHOU", "liaison")


@pytest.fixture
def other_station(db):
    return make_user("t_ps_jinjiang", "PSB-JINJIANG", "liaison")


@pytest.fixture
def warning(case, analyst):
    task = actions.create_task(
        case,
        acting_user=analyst,
        type="victim_warning",
        agency=agency("PSB-WUHOU"),
        contact=actions.WarningContact(name=NAME, phone=PHONE, address=ADDRESS),
    )
    return actions.approve_task(task, acting_user=analyst)


def test_the_case_victim_by_default(case, analyst):
    victim = Victim.objects.get(case=case)
    actions.correct_victim(victim, acting_user=analyst, reason="补地址", changes={"address": "武侯区一环路1号"})
    task = actions.create_task(case, acting_user=analyst, type="victim_warning", agency=agency("PSB-WUHOU"))
    assert (task.contact_name, task.contact_phone, task.contact_address) == ("张三", "13800000000", "武侯区一环路1号")
    assert task.contact_victim_id == victim.pk


def test_a_named_person_or_a_victim_of_this_case_only(case, analyst):
    from tests.conftest import make_case

    with pytest.raises(ValidationError) as exc:
        actions.create_task(
            case,
            acting_user=analyst,
            type="victim_warning",
            agency=agency("PSB-WUHOU"),
            contact=actions.WarningContact(name="无名"),
        )
    assert "contact" in exc.value.message_dict
    foreign = Victim.objects.get(case=make_case(analyst, from_account="6222020200155555555"))
    with pytest.raises(ValidationError):
        actions.create_task(
            case,
            acting_user=analyst,
            type="victim_warning",
            agency=agency("PSB-WUHOU"),
            contact=actions.WarningContact(victim=foreign),
        )
    with pytest.raises(ValidationError):
        actions.create_task(
            case,
            acting_user=analyst,
            type="other",
            agency=agency("CCB"),
            contact=actions.WarningContact(name=NAME, phone=PHONE),
        )


def test_station_sees_the_person_in_full_on_the_task_page_and_inbox(client, warning, station):
    client.force_login(station)
    page = client.get(reverse("task-detail", args=[warning.pk])).content.decode()
    assert NAME in page and PHONE in page and ADDRESS in page
    inbox = client.get(reverse("inbox")).content.decode()
    assert NAME in inbox and PHONE in inbox and ADDRESS in inbox


def test_centre_sees_it_in_full(client, warning, analyst, supervisor):
    for user in (analyst, supervisor):
        client.force_login(user)
        page = client.get(reverse("task-detail", args=[warning.pk])).content.decode()
        assert NAME in page and PHONE in page and ADDRESS in page


def test_auditor_sees_it_masked(client, warning, auditor):
    client.force_login(auditor)
    page = client.get(reverse("task-detail", args=[warning.pk])).content.decode()
    assert NAME not in page and PHONE not in page and ADDRESS not in page
    assert "王**" in page and "139****2222" in page and "成都市武侯区" in page


def test_other_agencies_do_not_reach_it(client, warning, other_station, ccb_liaison):
    for user in (other_station, ccb_liaison):
        client.force_login(user)
        assert client.get(reverse("task-detail", args=[warning.pk])).status_code == 404
        assert NAME not in client.get(reverse("inbox")).content.decode()


def test_api_full_for_station_and_centre_masked_for_auditor(warning, station, analyst, auditor, other_station):
    url = f"/api/v1/tasks/{warning.pk}/"
    for user in (station, analyst):
        person = token_client(user).get(url).json()["person"]
        assert person == {"name": NAME, "phone": PHONE, "id_number": None, "district": "wuhou", "address": ADDRESS}
    person = token_client(auditor).get(url).json()["person"]
    assert person["name"] == "王**" and person["phone"] == "139****2222"
    assert person["address"].startswith("成都市武侯区") and ADDRESS not in json.dumps(person, ensure_ascii=False)
    listed = token_client(auditor).get("/api/v1/tasks/?type=victim_warning").json()["results"]
    assert NAME not in json.dumps(listed, ensure_ascii=False)
    assert token_client(other_station).get(url).status_code == 404


def test_other_types_carry_no_person(stop_task, ccb_liaison):
    assert token_client(ccb_liaison).get(f"/api/v1/tasks/{stop_task.pk}/").json()["person"] is None


def test_api_creates_a_warning_for_a_named_person(case, analyst):
    response = token_client(analyst).post(
        "/api/v1/tasks/",
        {
            "case": case.pk,
            "type": "victim_warning",
            "agency": "PSB-WUHOU",
            "person": {"name": NAME, "phone": PHONE, "address": ADDRESS},
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["person"]["address"] == ADDRESS
    victim = Victim.objects.get(case=case)
    response = token_client(analyst).post(
        "/api/v1/tasks/",
        {"case": case.pk, "type": "victim_warning", "agency": "PSB-WUHOU", "person": {"victim": victim.pk}},
        format="json",
    )
    assert response.status_code == 201 and response.json()["person"]["name"] == "张三"
    response = token_client(analyst).post(
        "/api/v1/tasks/",
        {"case": case.pk, "type": "victim_warning", "agency": "PSB-WUHOU", "person": {"victim": 999999}},
        format="json",
    )
    assert response.status_code == 400


def test_push_body_names_the_person(warning):
    from alerts.payloads import push_body

    class Delivery:
        id = "00000000-0000-0000-0000-000000000001"
        task = warning

    body = json.loads(push_body(Delivery()))
    assert body["person"]["name"] == NAME and body["person"]["phone"] == PHONE and body["person"]["address"] == ADDRESS
