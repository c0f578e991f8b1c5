"""The one access policy (agencies/roles.py): what it grants, and that every check reads it.

The oracle below is the role logic as the code had it before the policy was
written down once (``cases/permissions.py``, ``CHANGERS``, ``User.sees_all``,
``FULL_PII_ROLES``...): over every combination of role, superuser flag, activity
and agency, the predicates that now read the policy answer exactly as it did.
"""

from __future__ import annotations

import ast
import itertools
import re
from pathlib import Path

import pytest
from django.contrib.auth.models import AnonymousUser

from agencies import roles
from agencies.models import User
from cases import permissions
from coordination.masking import sees_full_pii

ROOT = Path(__file__).resolve().parents[2]
ROLE_CODES = ("analyst", "supervisor", "liaison", "manager", "auditor", "")
CCB, ICBC = 11, 12


class Task:
    agency_id = CCB


def _grid():
    for role, superuser, active, agency_id in itertools.product(ROLE_CODES, (False, True), (True, False), (CCB, None)):
        user = User(username="u", role=role, is_superuser=superuser, is_active=active, agency_id=agency_id)
        yield pytest.param(user, id=f"{role or 'none'}-{'su' if superuser else 'user'}-{active}-{agency_id}")


def grid():
    return list(_grid())


# --- the rules as they were written before, one place each ------------------------------------


def old_active(u):
    return u.is_authenticated and u.is_active


def old_sees_all(u):  # User.sees_all / _may_view_all (visible_to had already required is_active)
    return old_active(u) and (u.is_superuser or u.role in ("analyst", "supervisor", "auditor"))


OLD = {
    "can_create_case": lambda u: old_active(u) and (u.is_superuser or u.role == "analyst"),
    "can_edit_case": lambda u: old_active(u) and (u.is_superuser or u.role in ("analyst", "supervisor")),
    "can_create_task": lambda u: old_active(u) and (u.is_superuser or u.role in ("analyst", "supervisor")),
    "can_cancel": lambda u: old_active(u) and (u.is_superuser or u.role in ("analyst", "supervisor")),
    "can_resend": lambda u: old_active(u) and (u.is_superuser or u.role == "supervisor"),
    "can_share": lambda u: old_active(u) and (u.is_superuser or u.role == "supervisor"),
}


@pytest.mark.parametrize("user", grid())
def test_predicates_answer_as_before(user):
    for name, old in OLD.items():
        assert getattr(permissions, name)(user) == old(user), name
    for needs_supervisor in (False, True):
        old = old_active(user) and (
            user.is_superuser or user.role == "supervisor" or (user.role == "analyst" and not needs_supervisor)
        )
        assert permissions.can_approve(user, Task(), needs_supervisor) == old
    acts = old_active(user) and user.role in ("liaison", "manager") and user.agency_id == Task.agency_id
    assert permissions.can_act_for_agency(user, Task()) == acts


@pytest.mark.parametrize("user", grid())
def test_visibility_shortcuts_and_pages_answer_as_before(user):
    policy = user.policy
    assert policy.sees_all_cases == old_sees_all(user)  # _may_view_all, the case list, the dashboard
    changers = old_active(user) and (user.is_superuser or user.role in ("analyst", "supervisor"))
    assert policy.changes_all_cases == changers  # _may_change_all (CHANGERS)
    assert policy.reads_history == old_sees_all(user)  # AuditQuerySet, case audit, task events
    assert policy.sees_all_people == old_sees_all(user)  # UserQuerySet
    assert policy.resends == (old_active(user) and (user.is_superuser or user.role == "supervisor"))  # deliveries
    assert policy.manages_all_agencies == (old_active(user) and user.is_superuser)
    assert policy.reads_audit == (old_active(user) and (user.is_superuser or user.role == "auditor"))
    assert policy.sees_case_references == changers  # is_superuser or is_centre
    assert policy.manages_agency == (old_active(user) and user.role == "manager")
    old_agency_user = old_active(user) and user.role in ("liaison", "manager") and user.agency_id is not None
    assert user.is_agency_user == old_agency_user
    assert policy.acts_for_own_agency == (old_active(user) and user.role in ("liaison", "manager"))
    # Masking: FULL_PII_ROLES, for users who can be signed in (inactive ones cannot be).
    if user.is_active:
        assert sees_full_pii(user) == (user.is_superuser or user.role in ("analyst", "supervisor"))
    else:
        assert not sees_full_pii(user)


@pytest.mark.parametrize("user", grid())
def test_home_page_as_before(user):
    expected = ""
    if old_active(user):
        if user.role in ("liaison", "manager"):
            expected = "inbox"
        elif user.role == "supervisor":
            expected = "approvals"
        elif user.role == "analyst":
            expected = "case-list"
        elif user.role == "auditor" or user.is_superuser:
            expected = "dashboard"
    assert user.policy.home == expected


def test_anonymous_and_none_hold_nothing():
    for user in (AnonymousUser(), None):
        assert roles.policy_for(user) is roles.NOBODY
        assert not any(roles.can(user, name) for name in roles.CAPABILITIES)
        assert not sees_full_pii(user)


def test_deactivation_takes_effect_at_once():
    user = User(username="u", role="supervisor", is_active=True)
    assert user.policy.shares
    user.is_active = False
    assert user.policy is roles.NOBODY


def test_an_unknown_capability_is_an_error_not_a_refusal():
    with pytest.raises(ValueError, match="Unknown capability"):
        roles.can(User(role="analyst"), "approve")


def test_centre_roles():
    assert {"analyst", "supervisor"} == roles.CENTRE_ROLES


# --- every check reads the policy ------------------------------------------------------------

APPS = ("agencies", "cases", "alerts", "coordination")
# Choosing demo people by role is data, not access.
NOT_ACCESS = {"cases/demo.py"}


def app_sources():
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if "/migrations/" not in rel and rel != "agencies/roles.py" and rel not in NOT_ACCESS:
                yield rel, ast.parse(path.read_text(encoding="utf-8"))


def test_no_role_check_outside_the_policy():
    """No ``user.role == "..."``, ``role in (...)`` or ``is_superuser`` outside agencies/roles.py."""
    found = []
    for rel, tree in app_sources():
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr == "is_superuser" and isinstance(node.ctx, ast.Load):
                found.append(f"{rel}:{node.lineno} reads is_superuser")
            if isinstance(node, ast.Compare):
                sides = [node.left, *node.comparators]
                reads_role = any(isinstance(s, ast.Attribute) and s.attr == "role" for s in sides)
                constant = any(
                    isinstance(s, ast.Constant | ast.Tuple | ast.Set | ast.List)
                    or (isinstance(s, ast.Attribute) and isinstance(s.value, ast.Name) and s.value.id == "Role")
                    for s in sides
                )
                if reads_role and constant:
                    found.append(f"{rel}:{node.lineno} compares a role")
    assert not found, "Read agencies.roles (roles.can, user.policy) instead:\n" + "\n".join(found)


def test_no_role_check_in_templates():
    pattern = re.compile(r"user\.role\s*(==|!=|in)|is_superuser|user\.sees_all\b|is_centre|is_auditor")
    found = [
        f"{path.relative_to(ROOT)}:{n}"
        for path in sorted((ROOT / "templates").rglob("*.html"))
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if pattern.search(line)
    ]
    assert not found, "Templates read user.policy: " + ", ".join(found)


def test_visible_to_is_written_once():
    """Models narrow in ``_restrict``; the opening (signed in, view-all, change-all) is RestrictedQuerySet's."""
    defined = [
        rel
        for rel, tree in app_sources()
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef) and node.name == "visible_to"
    ]
    assert defined == ["coordination/querysets.py"]
