"""What each role may see and do: the platform's one access policy.

Every check reads this table: ``visible_to`` (through ``User.policy``), the
predicates of ``cases/permissions.py``, masking, the pages' ``allowed`` and the
menu of ``base.html``. Wagtail's permission policies are the model: a role is a
small declarative object, and adding a capability is one field here, not a hunt
through ``if role == ...``.

A capability says *whether* a role may do a kind of thing; which rows it reaches
is the model's ``visible_to`` (an agency's own tasks, a case shared with a named
person), and whether the object's state allows it is the action's state table.

- A user who is not signed in, is inactive, or has no role holds ``NOBODY``.
- A superuser holds ``ADMINISTRATOR``, joined with its role's policy should it
  also have one (the platform never gives it one; a hand-made one keeps both).

``docs/permissions.md`` shows the table (rendered by ``policy_table``, kept in
sync by ``tests/api/test_matrix.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

from .choices import Role

ADMINISTRATOR_NAME = "administrator"
NOBODY_NAME = "anonymous"


@dataclass(frozen=True)
class RolePolicy:
    """The capabilities of one role (every one ``False`` unless granted)."""

    name: str
    #: Every case and the rows under it (victims, identifiers, transfers, tasks,
    #: follow-up proposals, deliveries): the case list, the dashboard, case ids on tasks.
    sees_all_cases: bool = False
    #: Every case and task may be changed (actions still check what kind of change).
    changes_all_cases: bool = False
    #: Victims' and accounts' personal data unmasked (an agency still reads its own
    #: task's target in full: ``own_task_target`` in ``coordination.masking``).
    sees_full_pii: bool = False
    #: Which cases an identifier is in (the identifier lookup's ``cases``).
    sees_case_references: bool = False
    #: Every person of every agency.
    sees_all_people: bool = False
    #: The audit rows of cases and tasks (timelines, ``/cases/{id}/audit/``, ``/tasks/{id}/events/``).
    reads_history: bool = False
    #: The audit-trail page: search and export the whole trail.
    reads_audit: bool = False
    creates_cases: bool = False
    #: Correct, file and close a case.
    edits_cases: bool = False
    creates_tasks: bool = False
    #: Approve tasks of the types that need no supervisor.
    approves_analyst_types: bool = False
    #: Approve tasks of the types that need a supervisor (and work the approval queue).
    approves_supervisor_types: bool = False
    #: Withdraw or return a task, clear its flag.
    cancels: bool = False
    #: Re-send a failed or dead-lettered push.
    resends: bool = False
    #: Share a case with a named person.
    shares: bool = False
    #: Accept, reject and report results on the tasks of one's own agency (the inbox).
    acts_for_own_agency: bool = False
    #: One's own agency: its endpoint and secret, its liaisons, its performance.
    manages_agency: bool = False
    #: Every agency and every person (the administrator).
    manages_all_agencies: bool = False
    #: The URL name a signed-in user of this role starts at ("" when none: 403).
    home: str = ""
    #: The role exists only in the anti-fraud centre's agency (``agencies.actions.create_user``).
    centre_only: bool = False

    def joined(self, other: RolePolicy) -> RolePolicy:
        """Both policies' capabilities; ``other``'s home first (a role's work beats the admin's)."""
        granted = {name: getattr(self, name) or getattr(other, name) for name in CAPABILITIES}
        return replace(self, name=f"{self.name}+{other.name}", home=other.home or self.home, **granted)


#: The capabilities, in the order of the documentation's table.
CAPABILITIES = tuple(f.name for f in fields(RolePolicy) if f.type == "bool" and f.name != "centre_only")

NOBODY = RolePolicy(name=NOBODY_NAME)

_CENTRE = {
    "sees_all_cases": True,
    "changes_all_cases": True,
    "sees_full_pii": True,
    "sees_case_references": True,
    "sees_all_people": True,
    "reads_history": True,
    "edits_cases": True,
    "creates_tasks": True,
    "approves_analyst_types": True,
    "cancels": True,
}

POLICIES: dict[str, RolePolicy] = {
    Role.ANALYST.value: RolePolicy(
        name=Role.ANALYST.value, creates_cases=True, home="case-list", centre_only=True, **_CENTRE
    ),
    Role.SUPERVISOR.value: RolePolicy(
        name=Role.SUPERVISOR.value,
        approves_supervisor_types=True,
        resends=True,
        shares=True,
        home="approvals",
        centre_only=True,
        **_CENTRE,
    ),
    Role.LIAISON.value: RolePolicy(name=Role.LIAISON.value, acts_for_own_agency=True, home="inbox"),
    Role.MANAGER.value: RolePolicy(
        name=Role.MANAGER.value, acts_for_own_agency=True, manages_agency=True, home="inbox"
    ),
    Role.AUDITOR.value: RolePolicy(
        name=Role.AUDITOR.value,
        sees_all_cases=True,
        sees_all_people=True,
        reads_history=True,
        reads_audit=True,
        home="dashboard",
    ),
}

ADMINISTRATOR = RolePolicy(
    name=ADMINISTRATOR_NAME,
    **{name: True for name in CAPABILITIES if name not in ("acts_for_own_agency", "manages_agency")},
    home="dashboard",
)

#: Roles that belong to the anti-fraud centre's agency only.
CENTRE_ROLES = frozenset(name for name, policy in POLICIES.items() if policy.centre_only)


def policy_for(user) -> RolePolicy:
    """The policy ``user`` holds now (read on every call: deactivation takes effect at once)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return NOBODY
    role = POLICIES.get(getattr(user, "role", ""), NOBODY)
    if user.is_superuser:
        return ADMINISTRATOR if role is NOBODY else ADMINISTRATOR.joined(role)
    return role


def can(user, capability: str) -> bool:
    """Whether ``user``'s policy grants ``capability`` (one of ``CAPABILITIES``)."""
    if capability not in CAPABILITIES:
        raise ValueError(f"Unknown capability {capability!r}; one of {', '.join(CAPABILITIES)}.")
    return getattr(policy_for(user), capability)


def is_agency_user(user) -> bool:
    """Acts for an agency, and has one (the inbox and the agency's own task targets)."""
    return can(user, "acts_for_own_agency") and user.agency_id is not None


def acts_for(user, agency_id) -> bool:
    """Acts for the agency ``agency_id`` (its tasks: accept, reject, report results)."""
    return can(user, "acts_for_own_agency") and user.agency_id is not None and user.agency_id == agency_id


def manages(user, agency_id) -> bool:
    """Manages the agency ``agency_id``: the administrator any, a manager its own."""
    policy = policy_for(user)
    if policy.manages_all_agencies:
        return True
    return policy.manages_agency and user.agency_id is not None and user.agency_id == agency_id


def policy_table() -> str:
    """The policy as a Markdown table: one row per capability, one column per role."""
    columns = [*POLICIES.values(), ADMINISTRATOR, NOBODY]
    header = ["capability", *(p.name for p in columns)]
    rows = [[name, *("yes" if getattr(p, name) else "-" for p in columns)] for name in CAPABILITIES]
    rows.append(["home", *(p.home or "-" for p in columns)])
    rows.append(["centre_only", *("yes" if p.centre_only else "-" for p in columns)])
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]

    def line(cells) -> str:
        return "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    out = [line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    out.extend(line(r) for r in rows)
    return "\n".join(out) + "\n"
