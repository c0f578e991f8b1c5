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

from dataclasses import dataclass, field, fields, replace

from .choices import Role

ADMINISTRATOR_NAME = "administrator"
NOBODY_NAME = "anonymous"


def capability(meaning: str):
    """A capability of ``RolePolicy``: refused unless a role grants it; ``meaning`` goes to the docs."""
    return field(default=False, metadata={"capability": meaning})


@dataclass(frozen=True)
class RolePolicy:
    """The capabilities of one role (every one ``False`` unless granted)."""

    name: str
    sees_all_cases: bool = capability(
        "Every case and the rows under it (victims, identifiers, transfers, tasks, proposals, deliveries); "
        "the case list and the dashboard."
    )
    changes_all_cases: bool = capability("Every case and task may be changed (each action still checks its kind).")
    sees_full_pii: bool = capability("Personal data unmasked (an agency still reads its own task's target in full).")
    sees_case_references: bool = capability("Which cases an identifier is in (the identifier lookup).")
    sees_all_people: bool = capability("Every person of every agency.")
    reads_history: bool = capability("The audit rows of cases and tasks (timelines, case audit, task events).")
    reads_audit: bool = capability("The audit-trail page: search and export the whole trail.")
    creates_cases: bool = capability("Record a case (intake).")
    edits_cases: bool = capability("Correct, file and close a case.")
    extends_cases: bool = capability("Add transfers, identifiers and victims to a recorded case.")
    links_cases: bool = capability("Link two cases by hand, and unlink them, with a reason.")
    creates_tasks: bool = capability("Issue tasks (stop-payments, follow-ups, any type).")
    approves_analyst_types: bool = capability("Approve tasks of the types that need no supervisor.")
    approves_supervisor_types: bool = capability(
        "Approve tasks of the types that need a supervisor; the approval queue."
    )
    works_attention: bool = capability(
        "The 'needs attention' page: failed and dead-lettered pushes, rejected and overdue tasks."
    )
    cancels: bool = capability("Withdraw or return a task; clear its flag.")
    resends: bool = capability("Re-send a failed or dead-lettered push.")
    shares: bool = capability("Share a case with a named person, and withdraw the share.")
    acts_for_own_agency: bool = capability(
        "Accept, reject and report results on the tasks of one's own agency; the inbox."
    )
    sees_own_warning_contacts: bool = capability(
        "The person a victim warning assigned to one's own agency must reach (name, phone, address), in full."
    )
    imports_records: bool = capability(
        "Import historical cases and bank statements (dry run, import, cancel, resume); every import job."
    )
    sends_warning_clues: bool = capability(
        "Send warning clues (POST warnings/): the centre, and liaisons of the sectors that find potential "
        "victims (banks, payment institutions, operators, platforms: ``dissuasion.CLUE_SECTORS``)."
    )
    works_warnings: bool = capability(
        "A police unit's warnings: its station's inbox, a sub-bureau's district (hand-over), the contact form."
    )
    manages_agency: bool = capability("One's own agency: its endpoint and secret, its liaisons, its performance.")
    manages_all_agencies: bool = capability("Every agency and every person.")
    reviews_all_units: bool = capability(
        "The joint meeting's review of every member unit: the review page, its export and `stats/` for all units."
    )
    reviews_own_unit: bool = capability(
        "One's own unit's review row and the others' figures as an anonymised distribution (no unit named)."
    )
    runs_review: bool = capability(
        "The joint meeting's office: sets the review's score weights and assigns supervision items."
    )
    #: The URL name a signed-in user of this role starts at ("" when none: 403).
    home: str = ""
    #: The role exists only in the anti-fraud centre's agency (``agencies.actions.create_user``).
    centre_only: bool = False

    def joined(self, other: RolePolicy) -> RolePolicy:
        """Both policies' capabilities; ``other``'s home first (a role's work beats the admin's)."""
        granted = {name: getattr(self, name) or getattr(other, name) for name in CAPABILITIES}
        return replace(self, name=f"{self.name}+{other.name}", home=other.home or self.home, **granted)


#: The capabilities, in the order of the documentation's table.
CAPABILITIES = tuple(f.name for f in fields(RolePolicy) if "capability" in f.metadata)

NOBODY = RolePolicy(name=NOBODY_NAME)

_CENTRE = {
    "sees_all_cases": True,
    "changes_all_cases": True,
    "sees_full_pii": True,
    "sees_case_references": True,
    "sees_all_people": True,
    "reads_history": True,
    "edits_cases": True,
    "extends_cases": True,
    "links_cases": True,
    "creates_tasks": True,
    "approves_analyst_types": True,
    "cancels": True,
    "reviews_all_units": True,
    "imports_records": True,
    "sends_warning_clues": True,
}

POLICIES: dict[str, RolePolicy] = {
    Role.ANALYST.value: RolePolicy(
        name=Role.ANALYST.value, creates_cases=True, home="case-list", centre_only=True, **_CENTRE
    ),
    Role.SUPERVISOR.value: RolePolicy(
        name=Role.SUPERVISOR.value,
        approves_supervisor_types=True,
        works_attention=True,
        resends=True,
        shares=True,
        runs_review=True,
        home="approvals",
        centre_only=True,
        **_CENTRE,
    ),
    Role.LIAISON.value: RolePolicy(
        name=Role.LIAISON.value,
        acts_for_own_agency=True,
        sees_own_warning_contacts=True,
        sends_warning_clues=True,
        works_warnings=True,
        home="inbox",
    ),
    Role.MANAGER.value: RolePolicy(
        name=Role.MANAGER.value,
        acts_for_own_agency=True,
        sees_own_warning_contacts=True,
        sends_warning_clues=True,
        works_warnings=True,
        manages_agency=True,
        reviews_own_unit=True,
        home="inbox",
    ),
    Role.AUDITOR.value: RolePolicy(
        name=Role.AUDITOR.value,
        sees_all_cases=True,
        sees_all_people=True,
        reads_history=True,
        reads_audit=True,
        reviews_all_units=True,
        home="dashboard",
    ),
}

# What only an agency's own people hold: an administrator acts for no agency.
_AGENCY_ONLY = (
    "acts_for_own_agency",
    "manages_agency",
    "sees_own_warning_contacts",
    "reviews_own_unit",
    "works_warnings",
)

ADMINISTRATOR = RolePolicy(
    name=ADMINISTRATOR_NAME,
    **{name: True for name in CAPABILITIES if name not in _AGENCY_ONLY},
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


def is_own_request(user, obj) -> bool:
    """``user`` created ``obj`` (its ``created_by``): the four-eyes rule keeps them from approving it."""
    return user is not None and user.pk is not None and getattr(obj, "created_by_id", None) == user.pk


def policy_table() -> str:
    """The policy as a Markdown table: one row per capability, one column per role."""
    columns = [*POLICIES.values(), ADMINISTRATOR, NOBODY]
    meanings = {f.name: f.metadata["capability"] for f in fields(RolePolicy) if "capability" in f.metadata}
    header = ["capability", *(p.name for p in columns), "meaning"]
    rows = [[name, *("yes" if getattr(p, name) else "-" for p in columns), meanings[name]] for name in CAPABILITIES]
    rows.append(["home", *(p.home or "-" for p in columns), "The page a role starts at (none: 403)."])
    rows.append(["centre_only", *("yes" if p.centre_only else "-" for p in columns), "Only in the centre's agency."])
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    out = [line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    out.extend(line(r) for r in rows)
    return "\n".join(out) + "\n"
