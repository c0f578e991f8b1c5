"""Warning figures on a hand-built history: every number stated (docs/warnings.md, "Figures")."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from agencies.models import Agency
from dissuasion.figures import district_figures, totals, warning_figures
from dissuasion.intake import take_clues
from dissuasion.models import Warning
from tests.conftest import agency

from .conftest import clue

pytestmark = pytest.mark.django_db
M = timedelta(minutes=1)


@pytest.fixture
def history(icbc_liaison):
    start = timezone.now() - timedelta(days=1)

    def make(ref, *, at, level, outcome="pending", contact=None, amount=None, lost=None, station=True):
        address = "玉林北路1号" if station else None
        [entry] = take_clues(
            agency("ICBC"), icbc_liaison, [clue(ref, address=address, level=level, amount=amount, identifier=None)]
        )
        minutes = {"high": 10, "medium": 30, "low": 120}[level]
        Warning.objects.filter(pk=entry.warning).update(
            created_at=at,
            deadline=at + minutes * M,
            outcome=outcome,
            contacted_at=at + contact * M if contact is not None else None,
            amount_lost=Decimal(lost) if lost else None,
        )

    h = timedelta(hours=1)
    make("w1", at=start + h, level="high", outcome="reached", contact=5, amount="10000.00")
    make("w2", at=start + 2 * h, level="medium", outcome="reached", contact=40, amount="5000.00")
    make("w3", at=start + 3 * h, level="low", outcome="unreachable", contact=50, amount="7000.00")
    make("w4", at=start + 4 * h, level="medium", outcome="already_lost", contact=20, lost="8000.00")
    make("w5", at=start + 5 * h, level="high")
    make("w6", at=start - h, level="high", outcome="reached", contact=1, amount="99999.00")  # before the period
    make("w7", at=start + 6 * h, level="low", outcome="reached", contact=15, station=False)
    return start, timezone.now()


def test_per_unit(history):
    start, end = history
    yulin = Agency.objects.get(code="PS-WUHOU-YULIN")
    cuqiao = Agency.objects.get(code="PS-WUHOU-CUQIAO")
    rows = warning_figures(start, end, [yulin, cuqiao])
    f = rows["PS-WUHOU-YULIN"]
    # w1..w5 (w6 is before the period, w7 stayed at the sub-bureau).
    assert f.received == 5
    assert f.pending == 1  # w5
    assert f.reached_in_time == 2  # w1 (5 of 10 min), w4 (20 of 30); w2 was late (40 of 30)
    assert f.dissuaded == 2  # w1, w2
    assert f.unreachable == 1  # w3
    assert f.already_lost == 1  # w4
    assert f.median_minutes_to_contact == 20.0  # of 5, 40, 20 (the unreachable w3 is not a contact)
    assert f.money_kept == Decimal("15000.00")  # w1 + w2; w3's 7000 was not kept
    assert f.money_lost == Decimal("8000.00")
    assert rows["PS-WUHOU-CUQIAO"].received == 0
    every = warning_figures(start, end)
    assert list(every) == ["PS-WUHOU-YULIN", "PSB-WUHOU"]
    bureau = every["PSB-WUHOU"]
    assert (bureau.received, bureau.reached_in_time, bureau.dissuaded, bureau.median_minutes_to_contact) == (
        1,
        1,
        1,
        15.0,
    )
    assert bureau.money_kept == Decimal("0.00")  # w7 named no amount


def test_per_district_and_city(history):
    start, end = history
    district = district_figures(start, end)["PSB-WUHOU"]
    assert district.received == 6
    assert district.reached_in_time == 3
    assert district.dissuaded == 3
    assert district.median_minutes_to_contact == 17.5  # of 5, 40, 20, 15
    assert district.money_kept == Decimal("15000.00")
    city = totals(start - timedelta(hours=2), end)
    assert city.received == 7 and city.dissuaded == 4 and city.money_kept == Decimal("114999.00")


def test_the_dashboard_shows_them(history, analyst):
    from django.test import Client

    c = Client()
    c.force_login(analyst)
    html = c.get("/dashboard/?window=90d").content.decode()
    assert 'id="warnings-by-district"' in html and 'id="warnings-received">7<' in html
