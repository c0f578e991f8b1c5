"""The hand-written list representations equal DRF's own rendering, for every reader."""

from __future__ import annotations

import pytest
from rest_framework.test import APIRequestFactory

from cases import actions
from cases.api.serializers import CaseSerializer, TaskSerializer
from cases.api.views import CaseViewSet, TaskViewSet
from tests.conftest import make_case

pytestmark = pytest.mark.django_db


def _context(user):
    request = APIRequestFactory().get("/")
    request.user = user
    return {"request": request}


def test_fast_representations_equal_drf(analyst, auditor, ccb_liaison, icbc_liaison, stop_task):
    case = stop_task.case
    actions.file_case(case, acting_user=analyst, filing_number="成公立字〔2026〕9号")
    completed = actions.submit_result(
        stop_task,
        acting_user=ccb_liaison,
        status="completed",
        result={"amount_held": "12.30", "balance": "4.00"},
    )[0]
    make_case(analyst, amount="0.10")
    tasks = list(TaskViewSet.base_queryset.all())
    cases = list(CaseViewSet.base_queryset.all())
    assert completed.pk in {t.pk for t in tasks} and len(cases) == 2
    for user in (analyst, auditor, ccb_liaison, icbc_liaison):
        task_serializer = TaskSerializer(context=_context(user))
        for task in tasks:
            assert task_serializer.to_representation(task) == task_serializer.drf_representation(task)
        case_serializer = CaseSerializer(context=_context(user))
        for row in cases:
            assert case_serializer.to_representation(row) == case_serializer.drf_representation(row)
