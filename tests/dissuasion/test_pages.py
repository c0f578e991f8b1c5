"""The warning pages: a station's inbox and contact form, the hand-over button, centre entry and CSV."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from dissuasion.intake import take_clues
from dissuasion.models import Warning
from tests.conftest import agency

from .conftest import clue

pytestmark = pytest.mark.django_db


def browser(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def sent(user, *clues):
    return [Warning.objects.get(pk=e.warning) for e in take_clues(user.agency, user, list(clues))]


def test_a_station_works_its_inbox(icbc_liaison, yulin, cuqiao):
    [mine, other] = sent(icbc_liaison, clue("P-1", address="玉林北路1号"), clue("P-2", address="簇桥"))
    page = browser(yulin).get("/warnings/")
    assert page.status_code == 200
    html = page.content.decode()
    assert f'data-warning="{mine.pk}"' in html and f'data-warning="{other.pk}"' not in html
    detail = browser(yulin).get(f"/warnings/{mine.pk}/").content.decode()
    assert "13800000000" in detail and 'id="contact-form"' in detail
    # Another station: 404; the bank that sent it: the outcome, not the person.
    assert browser(cuqiao).get(f"/warnings/{mine.pk}/").status_code == 404
    bank = browser(icbc_liaison).get(f"/warnings/{mine.pk}/").content.decode()
    assert "13800000000" not in bank and "王五" not in bank and 'id="contact-form"' not in bank
    # A bad contact: form errors, nothing changed.
    bad = browser(yulin).post(
        f"/warnings/{mine.pk}/", {"do": "contact", "contacted_at": "", "method": "call", "outcome": "already_lost"}
    )
    assert bad.status_code == 400
    mine.refresh_from_db()
    assert mine.outcome == "pending"
    at = timezone.localtime(timezone.now() - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M")
    ok = browser(yulin).post(
        f"/warnings/{mine.pk}/", {"do": "contact", "contacted_at": at, "method": "visit", "outcome": "reached"}
    )
    assert ok.status_code == 302
    mine.refresh_from_db()
    assert mine.outcome == "reached" and mine.contact_method == "visit"
    assert mine.task.state == "completed"


def test_the_sub_bureau_hands_over_with_one_button(icbc_liaison, wuhou_bureau, yulin):
    [warning] = sent(icbc_liaison, clue("P-3"))
    page = browser(wuhou_bureau).get(f"/warnings/{warning.pk}/").content.decode()
    assert 'id="hand-over"' in page and "PS-WUHOU-YULIN" in page
    assert "13800000000" in page  # the sub-bureau holds it: it reaches the person until it hands over
    answer = browser(wuhou_bureau).post(f"/warnings/{warning.pk}/", {"do": "hand_over", "station": "PS-WUHOU-YULIN"})
    assert answer.status_code == 302
    warning.refresh_from_db()
    assert warning.unit.code == "PS-WUHOU-YULIN"
    after = browser(wuhou_bureau).get(f"/warnings/{warning.pk}/").content.decode()
    assert "13800000000" not in after and 'id="hand-over"' not in after
    bad = browser(wuhou_bureau).post(f"/warnings/{warning.pk}/", {"do": "hand_over", "station": "PS-WUHOU-CUQIAO"})
    assert bad.status_code == 403
    warning.refresh_from_db()
    assert warning.unit.code == "PS-WUHOU-YULIN"
    district = browser(wuhou_bureau).get("/warnings/").content.decode()
    assert 'id="district-warnings"' in district


def test_the_centre_enters_one_clue(analyst):
    page = browser(analyst).get("/warnings/new/")
    assert page.status_code == 200
    answer = browser(analyst).post(
        "/warnings/new/",
        {"do": "one", "source_reference": "AFC-1", "phone": "13800000000", "district": "wuhou", "level": "high"},
    )
    assert answer.status_code == 302
    warning = Warning.objects.get(source_reference="AFC-1")
    assert warning.sender == agency("AFC")
    bad = browser(analyst).post(
        "/warnings/new/",
        {"do": "one", "source_reference": "AFC-2", "phone": "12", "district": "wuhou", "level": "high"},
    )
    assert bad.status_code == 400 and not Warning.objects.filter(source_reference="AFC-2").exists()


def test_the_centre_uploads_a_csv_dry_first(analyst):
    rows = (
        "source_reference,name,phone,id_number,district,address,level,reason,identifier_kind,identifier_value,amount\n"
        "CSV-1,王五,13800000000,,wuhou,玉林北路1号,high,刷单,,,30000.00\n"
        "CSV-2,李四,12,,nowhere,,urgent,,,,\n"
    )

    def upload(dry):
        data = {"do": "upload", "file": SimpleUploadedFile("c.csv", rows.encode("utf-8-sig"), "text/csv")}
        if dry:
            data["dry_run"] = "on"
        return browser(analyst).post("/warnings/new/", data)

    dry = upload(True)
    assert dry.status_code == 200
    html = dry.content.decode()
    assert 'data-row="3"' in html and "district" in html and not Warning.objects.exists()
    stored = upload(False)
    assert stored.status_code == 200
    assert list(Warning.objects.values_list("source_reference", flat=True)) == ["CSV-1"]
    assert Warning.objects.get().unit.code == "PS-WUHOU-YULIN"


def test_who_reaches_the_pages(auditor, ccb_liaison, station_user, admin_user):
    assert browser(auditor).get("/warnings/").status_code == 200
    assert browser(auditor).get("/warnings/new/").status_code == 403
    assert browser(ccb_liaison).get("/warnings/").status_code == 200
    assert browser(ccb_liaison).get("/warnings/new/").status_code == 403
    assert browser(station_user).get("/warnings/").status_code == 200
    assert Client().get("/warnings/").status_code == 302


def test_the_station_inbox_and_task_page_show_a_clue_task_without_a_case(icbc_liaison, yulin, analyst, supervisor):
    from cases import actions as case_actions

    [warning] = sent(icbc_liaison, clue("P-T1", address="玉林北路1号"))
    inbox = browser(yulin).get("/inbox/")
    assert inbox.status_code == 200 and f'data-task="{warning.task_id}"' in inbox.content.decode()
    task_page = browser(yulin).get(f"/tasks/{warning.task_id}/").content.decode()
    assert f"/warnings/{warning.pk}/" in task_page and "13800000000" in task_page
    assert browser(analyst).get(f"/tasks/{warning.task_id}/").status_code == 200
    # Overdue, it is on the supervisor's "needs attention" page without a case link.
    case_actions.flag_task(warning.task, reason="push refused with HTTP 422")
    assert browser(supervisor).get("/attention/").status_code == 200
