"""The dashboard, the manager's page, the review page, its spreadsheet and /api/v1/stats/ agree."""

from datetime import timedelta
from decimal import Decimal
from io import BytesIO

import pytest
from django.urls import reverse
from django.utils import timezone

from cases import review
from tests.cases.review_world import build


@pytest.fixture
def world(analyst):
    return build(analyst)


def window_90d():
    now = timezone.now()
    return (now - timedelta(days=90)).isoformat(), (now + timedelta(minutes=1)).isoformat()


@pytest.mark.django_db
def test_dashboard_manager_review_and_api_agree(client, world, analyst, supervisor, ccb_manager):
    start, end = window_90d()
    client.force_login(supervisor)
    api = client.get(reverse("api:stats"), {"from": start, "to": end}).json()
    units = {u["code"]: u for u in api["units"]}
    assert units["CCB"]["stopped"] == "60900.00" and units["CCB"]["frozen"] == "10000.00"
    assert units["BOC"]["completion_rate"] == 0.0 and units["BOC"]["received"] == 24
    assert units["ICBC"]["overdue"] == 1 and units["ICBC"]["acceptance_median"] is None
    assert units["CCB"]["acceptance_median"] == 180.0

    dashboard = client.get(reverse("dashboard"), {"window": "90d"})
    rows = {r["code"]: r for r in dashboard.context["rows"]}
    for code in ("CCB", "ICBC", "ABC", "BOC", "CMCC"):
        for name in ("received", "completed", "overdue", "on_time_rate", "completion_rate", "acceptance_median"):
            assert rows[code][name] == units[code][name], (code, name)
    assert dashboard.context["golden"]["median"] == api["golden_hour"]["median"] == 840.0

    page = client.get(reverse("review"), {"from": start, "to": end})
    shown = {r["code"]: r for r in page.context["data"]["units"]}
    for code, unit in units.items():
        for name in ("received", "on_time_rate", "completion_rate", "score", "warnings_reached"):
            assert shown[code][name] == unit[name], (code, name)
        assert str(shown[code]["stopped"]) == unit["stopped"]

    client.force_login(ccb_manager)
    card = client.get(reverse("my-agency"), {"window": "90d"})
    body = card.content.decode()
    # 90 days: CCB's two tasks of the last hours and the number shutdown of three days ago.
    assert units["CCB"]["received"] == 3
    assert 'data-figure="received">3<' in body and 'data-figure="completion_rate">100.0%<' in body
    mine = client.get(reverse("api:stats"), {"from": start, "to": end}).json()
    assert [u["code"] for u in mine["units"]] == ["CCB"]
    assert mine["units"][0]["stopped"] == units["CCB"]["stopped"]


@pytest.mark.django_db
def test_a_manager_sees_the_others_anonymised(client, world, ccb_manager):
    start, end = window_90d()
    client.force_login(ccb_manager)
    response = client.get(reverse("api:stats"), {"from": start, "to": end})
    data = response.json()
    assert data["scope"] == "own" and data["golden_hour"] is None
    # ICBC, ABC, BOC and CMCC had tasks: four others, none named.
    assert data["others"]["units"] == 4
    assert data["others"]["completion_rate"]["min"] == 0.0
    text = response.content.decode()
    for code in ("ICBC", "ABC", "BOC", "CMCC", "工商银行", "农业银行"):
        assert code not in text
    page = client.get(reverse("review"), {"from": start, "to": end}).content.decode()
    for code in ("ICBC", "BOC", "CMCC", "工商银行"):
        assert code not in page
    assert "review-others" in page


@pytest.mark.django_db
def test_the_spreadsheet_has_the_same_rows(client, world, supervisor):
    from openpyxl import load_workbook

    start, end = window_90d()
    client.force_login(supervisor)
    response = client.get(reverse("review-export"), {"from": start, "to": end})
    assert response.status_code == 200 and response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    by_code = {row[0]: row for row in rows[2:] if row and row[0]}
    assert by_code["BOC"][2] == 24 and by_code["BOC"][9] == 0.0
    assert Decimal(str(by_code["CCB"][14])) == Decimal("60900.00")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2026-13-01"}, "from"),
        ({"from": "yesterday"}, "from"),
        ({"to": "2026-01-01T00:00"}, "to"),  # no zone
        ({"from": "2026-02-01", "to": "2026-01-01"}, "to"),
        ({"from": "2020-01-01", "to": "2026-01-01"}, "to"),  # longer than a year
        ({"from": "1900-01-01", "to": "1900-01-02"}, "from"),
    ],
)
def test_bad_periods_are_json_errors(client, supervisor, params, field):
    client.force_login(supervisor)
    response = client.get(reverse("api:stats"), params)
    assert response.status_code == 400
    data = response.json()
    assert data["detail"] and field in data


@pytest.mark.django_db
def test_liaisons_are_refused(client, ccb_liaison):
    client.force_login(ccb_liaison)
    assert client.get(reverse("api:stats")).status_code == 403


@pytest.mark.django_db
def test_drill_down_lists_what_the_viewer_may_see(client, world, supervisor, ccb_manager):
    start, end = window_90d()
    client.force_login(supervisor)
    page = client.get(reverse("review-tasks"), {"from": start, "to": end, "agency": "BOC", "figure": "overdue"})
    assert len(page.context["tasks"]) == 24
    client.force_login(ccb_manager)
    page = client.get(reverse("review-tasks"), {"from": start, "to": end, "agency": "BOC", "figure": "overdue"})
    assert page.context["tasks"] == []
    bad = client.get(reverse("review-tasks"), {"agency": "BOC", "figure": "nonsense"})
    assert bad.status_code == 400


@pytest.mark.django_db
def test_trend_is_the_previous_period(client, world, supervisor):
    client.force_login(supervisor)
    now = timezone.now()
    day = review.Period(now - timedelta(hours=12), now + timedelta(minutes=1))
    data = client.get(reverse("api:stats"), {"from": day.start.isoformat(), "to": day.end.isoformat()}).json()
    ccb = next(u for u in data["units"] if u["code"] == "CCB")
    assert ccb["received"] == 2 and ccb["previous"]["received"] == 0
    assert data["previous_period"]["to"] == data["period"]["from"]


@pytest.mark.django_db
def test_dashboard_shows_zero_per_cent_and_the_target(client, world, supervisor):
    client.force_login(supervisor)
    body = client.get(reverse("dashboard"), {"window": "90d"}).content.decode()
    boc = body.split('data-code="BOC"')[1].split("</tr>")[0]
    # No answer yet, so no median ("—"); 24 tasks owed and none done: 0.0% on time, 0.0% completed.
    assert boc.endswith('<td class="num">—</td><td class="num">0.0%</td><td class="num">0.0%</td>')
    assert 'id="golden-target"' in body and "60" in body.split('id="golden-target"')[1][:200]
    chart = client.get(reverse("dashboard"), {"window": "90d"}).context["chart"]
    assert chart["response"][chart["labels"].index("CCB")] == 3.0  # minutes, not 0


@pytest.mark.django_db
def test_review_page_in_english(client, world, supervisor):
    client.force_login(supervisor)
    client.cookies.load({"django_language": "en"})
    body = client.get(reverse("review"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Joint meeting&#x27;s review" in body or "Joint meeting's review" in body
    client.cookies.load({"django_language": "zh-hans"})
    body = client.get(reverse("review"), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "联席会议考核" in body


HOSTILE = [
    "9999-12-31T23:59:59-14:00",
    "0001-01-01T00:00:00+08:00",
    "2026-11-24T09:12:00+18:21",
    "２０２６-11-24",
    "٢٠٢٦-11-24",
    "2026-02-30",
    "\x00",
    "x" * 3000,
    "2026-11-24T09:12:00 08:00",
]


@pytest.mark.django_db
@pytest.mark.parametrize("value", HOSTILE, ids=repr)
def test_hostile_periods_are_refused_on_every_door(client, supervisor, value):
    client.force_login(supervisor)
    for key in ("from", "to"):
        api = client.get(reverse("api:stats"), {key: value})
        assert api.status_code == 400 and key in api.json(), (key, value)
        for name in ("review", "review-export"):
            assert client.get(reverse(name), {key: value}).status_code == 400, (name, key, value)
