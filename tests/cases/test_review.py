"""The review's figures on a hand-built history (docs/review.md): each number stated."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from cases import actions, review
from cases.models import Task
from cases.review import Period, UnitFigures

from ..conftest import agency
from .review_world import build


def by_code(rows):
    return {row.code: row for row in rows}


@pytest.fixture
def world(analyst):
    return build(analyst)


@pytest.mark.django_db
def test_pushed_task_answered_minutes_later(world):
    ccb = by_code(review.unit_figures(world.period, now=world.now))["CCB"]
    assert ccb.received == 2 and ccb.completed == 2 and ccb.accepted_on_time == 2
    # From the 2xx (T+2) to the person's acceptance (T+7): 5 minutes, and 1 minute for the freeze.
    assert ccb.acceptance_median == 180.0  # (300 + 60) / 2
    assert ccb.acceptance_p90 == 276.0  # 60 + 0.9 * 240
    assert ccb.result_median == 900.0  # (1200 + 600) / 2
    assert ccb.on_time_rate == 100.0 and ccb.completion_rate == 100.0 and ccb.overdue == 0


@pytest.mark.django_db
def test_inbox_dispatch_never_opened(world):
    icbc = by_code(review.unit_figures(world.period, now=world.now))["ICBC"]
    assert icbc.received == 1 and icbc.overdue == 1 and icbc.accepted_on_time == 0
    assert icbc.acceptance_median is None and icbc.result_median is None
    assert icbc.on_time_rate == 0.0 and icbc.completion_rate == 0.0


@pytest.mark.django_db
def test_expired_stop_payment_holds_nothing(world):
    abc = by_code(review.unit_figures(world.period, now=world.now))["ABC"]
    assert abc.completed == 1 and abc.stopped == Decimal("0.00")
    # Straight to a result from dispatched: accepted when it acted (T+5 → T+10).
    assert abc.acceptance_median == 300.0


@pytest.mark.django_db
def test_conversion_counted_once(world):
    ccb = by_code(review.unit_figures(world.period, now=world.now))["CCB"]
    assert ccb.stopped == Decimal("60900.00") and ccb.frozen == Decimal("10000.00")


@pytest.mark.django_db
def test_conversion_received_later_still_takes_over(world):
    """The stop's period counts 60,900 even when the freeze was received after it."""
    stop = Task.objects.get(agency__code="CCB", type="emergency_stop_payment")
    period = Period(stop.dispatched_at, stop.dispatched_at + timedelta(minutes=10))
    [ccb] = review.unit_figures(period, now=world.now, agency_ids=[agency("CCB").pk])
    assert ccb.received == 1 and ccb.stopped == Decimal("60900.00") and ccb.frozen == Decimal("0.00")


@pytest.mark.django_db
def test_unit_with_tasks_none_done_is_zero_per_cent(world):
    boc = by_code(review.unit_figures(world.period, now=world.now))["BOC"]
    assert boc.received == 24 and boc.completed == 0 and boc.overdue == 24
    assert boc.completion_rate == 0.0 and boc.on_time_rate == 0.0


@pytest.mark.django_db
def test_rejected_cancelled_and_warnings_reached(world):
    cmcc = by_code(review.unit_figures(world.period, now=world.now))["CMCC"]
    assert (cmcc.received, cmcc.rejected, cmcc.cancelled, cmcc.owed) == (3, 1, 1, 2)
    assert cmcc.warnings_reached == 1 and cmcc.completed == 1
    assert cmcc.on_time_rate == 50.0 and cmcc.completion_rate == 50.0


@pytest.mark.django_db
def test_every_member_unit_has_a_row(world):
    rows = by_code(review.unit_figures(world.period, now=world.now))
    assert rows["CD-EDU"].received == 0 and rows["CD-EDU"].completion_rate is None
    assert "AFC" not in rows  # not a member, no tasks


@pytest.mark.django_db
def test_golden_hour(world):
    golden = review.golden_hour(world.period)
    # A: executed T+20 (20 min); C: executed T+8 (8 min, lapsed since: money was stopped); B: none.
    assert golden["cases"] == 3 and golden["count"] == 2 and golden["without"] == 1
    assert golden["median"] == 840.0 and golden["p90"] == 1128.0
    assert golden["target_minutes"] == 60 and golden["within_target"] == 2 and golden["within_target_rate"] == 100.0
    assert [b["cases"] for b in golden["histogram"]] == [1, 1, 0, 0, 0, 0]


@pytest.mark.django_db
def test_previous_period_is_of_equal_length(world):
    previous = world.period.previous()
    assert previous.end == world.period.start and previous.end - previous.start == world.period.end - world.period.start
    rows = by_code(review.unit_figures(previous, now=world.now))
    assert rows["CCB"].received == 0


@pytest.mark.django_db
def test_flow_accepted_by_a_person_after_the_push(case, analyst, ccb_liaison):
    """Through the actions: the push acknowledged 7 minutes ago, a person accepts now: about 7 minutes."""
    [task] = actions.issue_stop_payments(case, acting_user=analyst)
    acknowledged = timezone.now() - timedelta(minutes=7)
    Task.objects.filter(pk=task.pk).update(dispatched_at=acknowledged)  # the 2xx's time
    actions.accept_task(Task.objects.get(pk=task.pk), acting_user=ccb_liaison)
    period = Period(acknowledged - timedelta(minutes=1), timezone.now() + timedelta(minutes=1))
    row = review.unit_row(period, agency("CCB").pk)
    assert 419 <= row.acceptance_median <= 430


def test_score_and_response_score():
    class W:
        on_time, completion, response, response_target_minutes = 2, 1, 1, 30

    unit = UnitFigures(1, received=10, accepted_on_time=8, completed=5, acceptance_median=3600.0)
    assert review.response_score(3600.0, 30) == 50.0 and review.response_score(600.0, 30) == 100.0
    assert review.score(unit, W) == round((80 * 2 + 50 + 50) / 4, 1)
    assert review.score(UnitFigures(2), W) is None


def test_distribution_names_no_unit():
    rows = [
        UnitFigures(1, received=4, accepted_on_time=4).as_dict(),
        UnitFigures(2, received=4, accepted_on_time=2).as_dict(),
        UnitFigures(3, received=4).as_dict(),
        UnitFigures(4).as_dict(),
    ]
    dist = review.others_distribution(rows, own_id=1)
    assert dist["units"] == 2 and dist["score"] is None
    assert dist["on_time_rate"] == {"units": 2, "min": 0.0, "p25": 12.5, "median": 25.0, "p75": 37.5, "max": 50.0}


@pytest.mark.django_db
def test_the_tasks_behind_each_number_are_that_many(world):
    """The drill-down's filter finds exactly the tasks each count counts, for every unit."""
    rows = review.unit_figures(world.period, now=world.now, members=False)
    for figure in review.DRILLABLE:
        behind = review.tasks_behind(figure, world.period, world.now)
        for row in rows:
            found = Task.objects.filter(behind, agency_id=row.agency_id).count()
            assert found == getattr(row, figure), (figure, row.code)
