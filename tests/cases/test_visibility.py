"""The visibility rule of every model, for every role, own and other agency, and guardian shares.

Each row of ``MATRIX`` reads: this role, looking at objects of this model that
belong to the case's agencies (CCB holds the stop-payment), sees them or not.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from agencies.models import Agency, User
from alerts.models import Delivery, Notification
from cases import actions
from cases.models import Case, CaseIdentifier, FollowUpProposal, Identifier, Task, Transfer, Victim
from coordination.models import AuditRecord

# role fixture -> model -> (sees on view, sees on change)
MATRIX = {
    "analyst": {
        Case: (1, 1),
        Task: (1, 1),
        Victim: (1, 1),
        Identifier: (1, 1),
        CaseIdentifier: (1, 1),
        Transfer: (1, 1),
        FollowUpProposal: (1, 1),
        AuditRecord: (1, 0),
    },
    "supervisor": {
        Case: (1, 1),
        Task: (1, 1),
        Victim: (1, 1),
        Identifier: (1, 1),
        CaseIdentifier: (1, 1),
        Transfer: (1, 1),
        FollowUpProposal: (1, 1),
        AuditRecord: (1, 0),
    },
    "auditor": {
        Case: (1, 0),
        Task: (1, 0),
        Victim: (1, 0),
        Identifier: (1, 0),
        CaseIdentifier: (1, 0),
        Transfer: (1, 0),
        FollowUpProposal: (1, 0),
        AuditRecord: (1, 0),
    },
    # CCB is the assigned agency: its task, that task's target and the transfers into it
    # (what the bank verifies, the payer masked), nothing of the case as such.
    "ccb_liaison": {
        Case: (0, 0),
        Task: (1, 1),
        Victim: (0, 0),
        Identifier: (1, 0),
        CaseIdentifier: (0, 0),
        Transfer: (1, 0),
        FollowUpProposal: (0, 0),
        AuditRecord: (0, 0),
    },
    "ccb_manager": {
        Case: (0, 0),
        Task: (1, 1),
        Victim: (0, 0),
        Identifier: (1, 0),
        CaseIdentifier: (0, 0),
        Transfer: (1, 0),
        FollowUpProposal: (0, 0),
        AuditRecord: (0, 0),
    },
    # ICBC holds the victim's account but has no task: it sees nothing.
    "icbc_liaison": {
        Case: (0, 0),
        Task: (0, 0),
        Victim: (0, 0),
        Identifier: (0, 0),
        CaseIdentifier: (0, 0),
        Transfer: (0, 0),
        FollowUpProposal: (0, 0),
        AuditRecord: (0, 0),
    },
    "station_user": {
        Case: (0, 0),
        Task: (0, 0),
        Victim: (0, 0),
        Identifier: (0, 0),
        CaseIdentifier: (0, 0),
        Transfer: (0, 0),
        FollowUpProposal: (0, 0),
        AuditRecord: (0, 0),
    },
}
CELLS = [(role, model) for role, models in MATRIX.items() for model in models]


@pytest.fixture
def world(case, stop_task, analyst, ccb_liaison, django_capture_on_commit_callbacks):
    """A case with a completed stop-payment at CCB that proposed a follow-up at ABC."""
    with django_capture_on_commit_callbacks(execute=True):
        actions.submit_result(
            stop_task,
            acting_user=ccb_liaison,
            status="completed",
            result={
                "amount_held": "30000.00",
                "onward_transfers": [
                    {
                        "account_number": "6230000000000001",
                        "bank": "ABC",
                        "holder_name": "李四",
                        "amount": "22000.00",
                        "at": (timezone.now() - timedelta(minutes=25)).isoformat(),
                    }
                ],
            },
        )
    return case


def _rows(model, case):
    if model is Case:
        return model.objects.filter(pk=case.pk)
    if model is Identifier:
        return model.objects.filter(kind="bank_account", value="6217000010012345678")
    if model is AuditRecord:
        return model.objects.filter(case_id=case.pk)
    return model.objects.filter(case=case)


@pytest.mark.django_db
@pytest.mark.parametrize(("role", "model"), CELLS, ids=[f"{r}-{m.__name__}" for r, m in CELLS])
def test_matrix(request, world, role, model):
    user = request.getfixturevalue(role)
    expected_view, expected_change = MATRIX[role][model]
    rows = _rows(model, world)
    assert rows.exists(), "the world must hold rows of every model"
    visible = model.objects.visible_to(user, "view").filter(pk__in=rows.values("pk"))
    changeable = model.objects.visible_to(user, "change").filter(pk__in=rows.values("pk"))
    assert visible.exists() == bool(expected_view)
    assert changeable.exists() == bool(expected_change)
    if expected_view and role.startswith("ccb"):
        # The agency sees exactly its own agency's tasks, never another's.
        assert not Task.objects.visible_to(user).exclude(agency=user.agency).exists()


@pytest.mark.django_db
def test_anonymous_sees_nothing(world):
    from django.contrib.auth.models import AnonymousUser

    for model in (
        Case,
        Task,
        Victim,
        Identifier,
        CaseIdentifier,
        Transfer,
        FollowUpProposal,
        AuditRecord,
        Delivery,
        Notification,
        Agency,
        User,
    ):
        assert not model.objects.visible_to(AnonymousUser()).exists(), model


@pytest.mark.django_db
def test_inactive_user_sees_nothing(world, analyst):
    analyst.is_active = False
    assert not Case.objects.visible_to(analyst).exists()
    assert not Task.objects.visible_to(analyst).exists()


@pytest.mark.django_db
def test_guardian_share_gives_one_case(world, analyst, supervisor, station_user):
    other = __import__("tests.conftest", fromlist=["make_case"]).make_case(analyst, to_account="6217000099999999")
    actions.share_case(world, user=station_user, acting_user=supervisor)
    assert list(Case.objects.visible_to(station_user)) == [world]
    assert not Case.objects.visible_to(station_user, "change").exists()
    assert set(Victim.objects.visible_to(station_user).values_list("case_id", flat=True)) == {world.pk}
    assert Transfer.objects.visible_to(station_user).filter(case=world).exists()
    assert not Transfer.objects.visible_to(station_user).filter(case=other).exists()
    # A share is not a task: the station still sees no other agency's task.
    assert not Task.objects.visible_to(station_user).exists()
    actions.unshare_case(world, user=station_user, acting_user=supervisor)
    assert not Case.objects.visible_to(station_user).exists()


@pytest.mark.django_db
def test_group_share(world, supervisor, station_user):
    from django.contrib.auth.models import Group
    from guardian.shortcuts import assign_perm

    group = Group.objects.create(name="wuhou investigators")
    station_user.groups.add(group)
    assign_perm("cases.view_case", group, world)
    assert list(Case.objects.visible_to(station_user)) == [world]


@pytest.mark.django_db
def test_deliveries_and_notifications(world, ccb_liaison, icbc_liaison, analyst, supervisor):
    assert Notification.objects.visible_to(analyst).exists()  # result received
    assert not Notification.objects.visible_to(icbc_liaison).exists()
    assert all(n.user_id == analyst.pk for n in Notification.objects.visible_to(analyst))


@pytest.mark.django_db
def test_agencies_and_users(ccb_manager, ccb_liaison, icbc_liaison, analyst):
    assert Agency.objects.visible_to(icbc_liaison).count() == Agency.objects.count()
    assert list(Agency.objects.visible_to(ccb_manager, "change")) == [ccb_manager.agency]
    assert not Agency.objects.visible_to(ccb_liaison, "change").exists()
    assert set(User.objects.visible_to(ccb_manager)) == {ccb_manager, ccb_liaison}
    assert list(User.objects.visible_to(icbc_liaison)) == [icbc_liaison]
    assert User.objects.visible_to(analyst).count() == User.objects.count()
