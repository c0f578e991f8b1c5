"""Supervision items (督办事项) and the score's weights: who may change them, the audit, the watcher."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from alerts.models import Notification
from cases import review as figures
from coordination.exceptions import ActionNotAllowed, InvalidTransition
from coordination.models import AuditRecord
from review import actions, watchers
from review.figures import review_for
from review.models import ScoreWeights, SupervisionItem
from tests.conftest import agency


def trail(item):
    return list(
        AuditRecord.objects.filter(object_type="review.supervisionitem", object_id=item.pk)
        .order_by("id")
        .values_list("action", flat=True)
    )


@pytest.mark.django_db
def test_item_lifecycle_is_audited_and_counted(supervisor, ccb_liaison, ccb_manager, icbc_liaison, analyst):
    now = timezone.now()
    late = actions.create_item(
        acting_user=supervisor, resolution="压降止付响应时间", owner=agency("CCB"), deadline=now - timedelta(hours=1)
    )
    on_time = actions.create_item(
        acting_user=supervisor, resolution="完善值班制度", owner=agency("CCB"), deadline=now + timedelta(days=2)
    )
    with pytest.raises(ActionNotAllowed):
        actions.create_item(acting_user=analyst, resolution="x", owner=agency("CCB"), deadline=now)
    with pytest.raises(ActionNotAllowed):
        actions.add_note(late, acting_user=icbc_liaison, text="不是我们的")
    actions.add_note(late, acting_user=ccb_liaison, text="已排查")
    actions.close_item(on_time, acting_user=ccb_manager, evidence="制度文件", document_number="建行川〔2026〕9号")
    with pytest.raises(InvalidTransition):
        actions.close_item(on_time, acting_user=ccb_manager, evidence="again")
    assert trail(late) == ["supervision.create", "supervision.note"]
    assert trail(on_time) == ["supervision.create", "supervision.close"]

    # The watcher marks the late one overdue once and tells the owner unit and the supervisors once.
    assert watchers.supervision_overdue() == 1
    assert watchers.supervision_overdue() == 0
    assert trail(late)[-1] == "supervision.overdue"
    told = set(Notification.objects.filter(kind="supervision_overdue").values_list("user__username", flat=True))
    assert told == {"t_supervisor", "t_ccb_liaison", "t_ccb_manager"}

    period = figures.Period(now - timedelta(days=1), now + timedelta(days=3))
    ccb = next(u for u in review_for(supervisor, period, trend=False)["units"] if u["code"] == "CCB")
    assert ccb["supervision"] == {"items": 2, "open": 1, "overdue": 1, "closed_on_time": 1}


@pytest.mark.django_db
def test_another_units_item_is_not_found(client, supervisor, icbc_liaison, ccb_liaison):
    item = actions.create_item(
        acting_user=supervisor, resolution="整改", owner=agency("CCB"), deadline=timezone.now() + timedelta(days=1)
    )
    client.force_login(icbc_liaison)
    assert client.get(reverse("supervision-detail", args=[item.pk])).status_code == 404
    assert "整改" not in client.get(reverse("supervision-list")).content.decode()
    client.force_login(ccb_liaison)
    response = client.post(reverse("supervision-detail", args=[item.pk]), {"do": "close", "evidence": ""})
    assert response.status_code == 400
    assert SupervisionItem.objects.get(pk=item.pk).status == "open"


@pytest.mark.django_db
def test_weights_are_set_by_the_office_and_audited(client, supervisor, analyst):
    client.force_login(supervisor)
    response = client.post(
        reverse("review-weights"),
        {"on_time": "60", "completion": "20", "response": "20", "response_target_minutes": "15"},
    )
    assert response.status_code == 302
    weights = ScoreWeights.current()
    assert (weights.on_time, weights.response_target_minutes) == (60, 15)
    row = AuditRecord.objects.get(action="review.weights_set")
    assert row.before["on_time"] == 40 and row.after["on_time"] == 60
    bad = client.post(
        reverse("review-weights"), {"on_time": "0", "completion": "0", "response": "0", "response_target_minutes": "5"}
    )
    assert bad.status_code == 400 and ScoreWeights.objects.count() == 1
    bad = client.post(
        reverse("review-weights"), {"on_time": "-1", "completion": "x", "response": "0", "response_target_minutes": ""}
    )
    assert bad.status_code == 400 and ScoreWeights.objects.count() == 1
