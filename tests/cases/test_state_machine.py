"""Every task state transition, allowed and forbidden, against the one table."""

import itertools

import pytest

from cases.choices import TASK_TRANSITIONS, TaskState
from cases.models import Task
from coordination.exceptions import InvalidTransition

ALLOWED = {
    ("pending_approval", "approved"),
    ("pending_approval", "cancelled"),
    ("approved", "dispatched"),
    ("approved", "cancelled"),
    ("dispatched", "accepted"),
    ("dispatched", "rejected"),
    ("dispatched", "completed"),
    ("dispatched", "failed"),
    ("dispatched", "cancelled"),
    ("accepted", "completed"),
    ("accepted", "failed"),
    ("accepted", "rejected"),
    ("accepted", "cancelled"),
    ("completed", "expired"),
}
PAIRS = list(itertools.product(TaskState.values, TaskState.values))


def test_table_is_exactly_the_protocol():
    table = {(a, b) for a, targets in TASK_TRANSITIONS.items() for b in targets}
    assert table == ALLOWED
    assert set(TASK_TRANSITIONS) == set(TaskState.values)


@pytest.mark.parametrize(("current", "new"), PAIRS)
def test_transition(current, new):
    task = Task(state=current)
    if (current, new) in ALLOWED:
        assert task.transition_to(new) == current
        assert task.state == new
    else:
        with pytest.raises(InvalidTransition) as raised:
            task.transition_to(new)
        assert raised.value.current == current
        assert task.state == current
