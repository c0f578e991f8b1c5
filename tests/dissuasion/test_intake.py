"""``POST /api/v1/warnings/``: batches, duplicates, per-clue errors, authorisation, routing."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from cases import actions
from cases.models import Task
from dissuasion.models import Warning
from tests.api.conftest import token_client
from tests.conftest import make_case, make_user

from .conftest import clue

pytestmark = pytest.mark.django_db
URL = "/api/v1/warnings/"


def post(user, clues):
    return token_client(user).post(URL, {"clues": clues}, format="json")


def test_a_batch_answers_each_clue_in_order_and_a_bad_clue_stops_nothing(icbc_liaison):
    answer = post(
        icbc_liaison,
        [
            clue("R-1"),
            clue("R-2", phone="12", district="nowhere"),
            clue("R-3", address="武侯区玉林南路8号", phone=None, level="low"),
            "not an object",
            clue("R-4", id_number="510107199001011230"),
        ],
    )
    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert [e["source_reference"] for e in body] == ["R-1", "R-2", "R-3", None, "R-4"]
    assert body[0]["created"] is True and isinstance(body[0]["warning"], int)
    assert set(body[1]["errors"]) == {"phone", "district"}
    assert body[2]["created"] is True
    assert "non_field_errors" in body[3]["errors"]
    assert "id_number" in body[4]["errors"]
    assert Warning.objects.count() == 2
    # Routing: the address names Yulin's street -> the station; no address -> the sub-bureau.
    first = Warning.objects.get(source_reference="R-1")
    third = Warning.objects.get(source_reference="R-3")
    assert first.unit.code == "PSB-WUHOU" and first.bureau.code == "PSB-WUHOU"
    assert third.unit.code == "PS-WUHOU-YULIN"
    assert third.task.agency.code == "PS-WUHOU-YULIN" and third.task.type == "victim_warning"
    assert third.task.case_id is None and third.task.state == "dispatched"
    assert third.task.person_to_reach()["address"] == "武侯区玉林南路8号"
    assert third.task.person_to_reach()["level"] == "low"


def test_the_same_clue_twice_is_one_warning_and_one_task(icbc_liaison):
    first = post(icbc_liaison, [clue("DUP-1")]).json()[0]
    again = post(icbc_liaison, [clue("DUP-1"), clue("DUP-1")]).json()
    assert again[0] == {"source_reference": "DUP-1", "warning": first["warning"], "created": False}
    assert again[1]["created"] is False
    assert Warning.objects.count() == 1
    assert Task.objects.filter(type="victim_warning").count() == 1


def test_another_sender_may_reuse_a_reference(icbc_liaison, ccb_liaison):
    a = post(icbc_liaison, [clue("SAME")]).json()[0]
    b = post(ccb_liaison, [clue("SAME")]).json()[0]
    assert a["created"] and b["created"] and a["warning"] != b["warning"]


@pytest.mark.django_db(transaction=True)
def test_two_requests_with_the_same_clue_at_once_make_one_warning(db):
    sender = make_user("t_icbc_c", "ICBC", "liaison")
    answers = []

    def send():
        try:
            answers.append(post(sender, [clue("RACE-1"), clue("RACE-2")]).json())
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert Warning.objects.filter(source_reference__startswith="RACE").count() == 2
    assert Task.objects.filter(type="victim_warning").count() == 2
    created = [e["created"] for a in answers for e in a]
    assert created.count(True) == 2
    assert len({e["warning"] for a in answers for e in a}) == 2


def test_who_may_send(analyst, auditor, station_user, icbc_liaison):
    assert post(analyst, [clue("C-1")]).status_code == 201
    assert post(icbc_liaison, [clue("C-2")]).status_code == 201
    assert post(auditor, [clue("C-3")]).status_code == 403
    assert post(station_user, [clue("C-4")]).status_code == 403  # police do not send clues
    assert token_client(icbc_liaison).post(URL, {"clues": []}, format="json").status_code == 400
    assert post(icbc_liaison, [clue(f"B-{i}") for i in range(1001)]).status_code == 400
    assert token_client(icbc_liaison).post(URL, {"clues": "x"}, format="json").status_code == 400


def test_a_bank_reads_its_own_clues_only_and_only_their_outcome(icbc_liaison, ccb_liaison, analyst):
    mine = post(icbc_liaison, [clue("OWN-1"), clue("OWN-2")]).json()
    theirs = post(ccb_liaison, [clue("THEIRS-1")]).json()[0]
    listed = token_client(icbc_liaison).get(URL).json()
    assert [r["source_reference"] for r in listed["results"]] == ["OWN-2", "OWN-1"]
    assert set(listed["results"][0]) == {"id", "source_reference", "level", "outcome", "created_at", "closed_at"}
    assert token_client(icbc_liaison).get(f"{URL}{theirs['warning']}/").status_code == 404
    detail = token_client(icbc_liaison).get(f"{URL}{mine[0]['warning']}/").json()
    assert detail["outcome"] == "pending" and "task" not in detail
    # The bank cannot read the warning's task (the person, the station's result).
    task_id = Warning.objects.get(pk=mine[0]["warning"]).task_id
    assert token_client(icbc_liaison).get(f"/api/v1/tasks/{task_id}/").status_code == 404
    centre = token_client(analyst).get(f"{URL}{mine[0]['warning']}/").json()
    assert centre["task"] == task_id and centre["agency"] == "PSB-WUHOU"


def test_a_clue_naming_a_hot_identifier_is_linked_and_raised(analyst, icbc_liaison):
    case = make_case(analyst)
    [stop] = actions.issue_stop_payments(case, acting_user=analyst)
    answer = post(icbc_liaison, [clue("HOT-1", level="low"), clue("COLD-1", level="low", identifier=None)]).json()
    hot = Warning.objects.get(pk=answer[0]["warning"])
    cold = Warning.objects.get(pk=answer[1]["warning"])
    assert hot.is_hot and hot.level == "medium" and hot.sent_level == "low"
    assert list(hot.cases.values_list("pk", flat=True)) == [case.pk]
    assert not cold.is_hot and cold.level == "low"
    assert stop.state in ("dispatched", "approved")
