"""The API authorisation matrix: one row per route and method, one column per caller.

This table is the specification. ``test_matrix.py`` turns every cell into a
test (the expected status code, and for lists the absence of foreign rows), a
completeness test fails when a route of the ``api`` namespace has no row, and
``docs/permissions.md`` is rendered from it (``python -m tests.api.matrix``;
a test checks the page is in sync).

Adding an endpoint: add one line per method below, with its URL name (without
``api:``), the object its URL names and the body it needs (see ``BODIES`` in
``test_matrix.py``; a new kind of object is one more ``cached_property`` on its
``World``, built through the action functions), then run
``python -m tests.api.matrix > docs/permissions.md``.

Callers (columns):
- ``analyst``, ``supervisor``, ``auditor``: centre and oversight roles (session login);
- ``liaison``, ``manager``: people of CCB, the agency the objects' tasks are assigned to (session login);
- ``other``: a liaison of ICBC, another agency (session login);
- ``anon``: no credentials;
- ``partner``: CCB's partner system, a token user made by ``create_api_user``.

Objects (``object`` column): ``case`` a case with a CCB receiving account; ``task`` a
stop-payment at CCB approved and waiting for the bank; ``pending`` a CCB task
awaiting approval; ``return`` a fund return at CCB from the case's frozen receiving
account, prepared by the analyst and awaiting a supervisor; ``proposal`` a proposed follow-up; ``agency`` CCB itself;
``delivery`` a dead-lettered push of a CCB task (CCB with an endpoint), ``delivered``
one that reached the bank (a re-send of it is a conflict); ``warning`` a warning clue CCB sent,
held by the Wuhou sub-bureau (its hand-over is the sub-bureau's: tests/dissuasion).
"""

from __future__ import annotations

from dataclasses import dataclass

ROLES = ("analyst", "supervisor", "liaison", "manager", "other", "auditor", "anon", "partner")

MATRIX = """
| route                     | method | object    | body         | analyst | supervisor | liaison | manager | other | auditor | anon | partner |
|---------------------------|--------|-----------|--------------|---------|------------|---------|---------|-------|---------|------|---------|
| reference                 | GET    | -         | -            | 200     | 200        | 200     | 200     | 200   | 200     | 401  | 200     |
| identifier-lookup         | GET    | -         | lookup       | 200     | 200        | 200     | 200     | 200   | 200     | 401  | 200     |
| identifier-lookup         | POST   | -         | lookup       | 200     | 200        | 200     | 200     | 200   | 200     | 401  | 200     |
| agency-list               | GET    | -         | -            | 200     | 200        | 200     | 200     | 200   | 200     | 401  | 200     |
| agency-detail             | GET    | agency    | -            | 200     | 200        | 200     | 200     | 200   | 200     | 401  | 200     |
| case-list                 | GET    | -         | -            | 200     | 200        | 200     | 200     | 200   | 200     | 401  | 200     |
| case-list                 | POST   | -         | case         | 201     | 403        | 403     | 403     | 403   | 403     | 401  | 403     |
| case-search               | POST   | -         | case_search  | 200     | 200        | 200     | 200     | 200   | 200     | 401  | 200     |
| case-detail               | GET    | case      | -            | 200     | 200        | 404     | 404     | 404   | 200     | 401  | 404     |
| case-identifiers          | GET    | case      | -            | 200     | 200        | 404     | 404     | 404   | 200     | 401  | 404     |
| case-transfers            | GET    | case      | -            | 200     | 200        | 404     | 404     | 404   | 200     | 401  | 404     |
| case-money-flow           | GET    | case      | -            | 200     | 200        | 404     | 404     | 404   | 200     | 401  | 404     |
| case-linked               | GET    | case      | -            | 200     | 200        | 404     | 404     | 404   | 200     | 401  | 404     |
| case-audit                | GET    | case      | -            | 200     | 200        | 404     | 404     | 404   | 200     | 401  | 404     |
| case-proposals            | GET    | case      | -            | 200     | 200        | 404     | 404     | 404   | 200     | 401  | 404     |
| case-file                 | POST   | case      | file         | 200     | 200        | 404     | 404     | 404   | 403     | 401  | 404     |
| case-close                | POST   | case      | close        | 200     | 200        | 404     | 404     | 404   | 403     | 401  | 404     |
| case-share                | POST   | case      | share        | 403     | 204        | 404     | 404     | 404   | 403     | 401  | 404     |
| case-unshare              | POST   | case      | share        | 403     | 204        | 404     | 404     | 404   | 403     | 401  | 404     |
| case-stop-payments        | POST   | case      | stop         | 201     | 201        | 404     | 404     | 404   | 403     | 401  | 404     |
| case-follow-ups           | POST   | case      | follow_ups   | 201     | 201        | 404     | 404     | 404   | 403     | 401  | 404     |
| task-list                 | GET    | -         | -            | 200     | 200        | 200     | 200     | 200   | 200     | 401  | 200     |
| task-list                 | POST   | -         | task         | 201     | 201        | 403     | 403     | 403   | 403     | 401  | 403     |
| task-search               | POST   | -         | task_search  | 200     | 200        | 200     | 200     | 200   | 200     | 401  | 200     |
| task-list                 | POST   | -         | fund_return  | 201     | 201        | 403     | 403     | 403   | 403     | 401  | 403     |
| task-detail               | GET    | task      | -            | 200     | 200        | 200     | 200     | 404   | 200     | 401  | 200     |
| task-detail               | GET    | return    | -            | 200     | 200        | 200     | 200     | 404   | 200     | 401  | 200     |
| task-events               | GET    | task      | -            | 200     | 200        | 403     | 403     | 404   | 200     | 401  | 403     |
| task-approve              | POST   | pending   | -            | 200     | 200        | 403     | 403     | 404   | 403     | 401  | 403     |
| task-approve              | POST   | return    | approve_return | 403     | 200        | 403     | 403     | 404   | 403     | 401  | 403     |
| task-approve-many         | POST   | -         | approve_many | 200     | 200        | 403     | 403     | 403   | 403     | 401  | 403     |
| task-accept               | POST   | task      | -            | 403     | 403        | 200     | 200     | 404   | 403     | 401  | 200     |
| task-reject               | POST   | task      | reason       | 403     | 403        | 200     | 200     | 404   | 403     | 401  | 200     |
| task-result               | POST   | task      | result       | 403     | 403        | 200     | 200     | 404   | 403     | 401  | 200     |
| task-cancel               | POST   | task      | reason       | 200     | 200        | 403     | 403     | 404   | 403     | 401  | 403     |
| proposal-list             | GET    | -         | -            | 200     | 200        | 200     | 200     | 200   | 200     | 401  | 200     |
| proposal-detail           | GET    | proposal  | -            | 200     | 200        | 404     | 404     | 404   | 200     | 401  | 404     |
| delivery-list             | GET    | -         | task_filter  | 200     | 200        | 200     | 200     | 200   | 200     | 401  | 200     |
| delivery-detail           | GET    | delivery  | -            | 200     | 200        | 200     | 200     | 404   | 200     | 401  | 200     |
| delivery-resend           | POST   | delivery  | -            | 403     | 200        | 403     | 403     | 404   | 403     | 401  | 403     |
| delivery-resend           | POST   | delivered | -            | 403     | 409        | 403     | 403     | 404   | 403     | 401  | 403     |
| notification-list         | GET    | -         | -            | 200     | 200        | 200     | 200     | 200   | 200     | 401  | 200     |
| notification-unread-count | GET    | -         | -            | 200     | 200        | 200     | 200     | 200   | 200     | 401  | 200     |
| notification-mark-read    | POST   | -         | -            | 200     | 200        | 200     | 200     | 200   | 200     | 401  | 200     |
| stats                     | GET    | -         | -            | 200     | 200        | 403     | 200     | 403   | 200     | 401  | 403     |
| warning-list              | GET    | -         | -            | 200     | 200        | 200     | 200     | 200   | 200     | 401  | 200     |
| warning-list              | POST   | -         | clues        | 201     | 201        | 201     | 201     | 201   | 403     | 401  | 201     |
| warning-detail            | GET    | warning   | -            | 200     | 200        | 200     | 200     | 404   | 200     | 401  | 200     |
| warning-hand-over         | POST   | warning   | hand_over    | 403     | 403        | 403     | 403     | 404   | 403     | 401  | 403     |
"""


@dataclass(frozen=True)
class Row:
    route: str
    method: str
    object: str
    body: str
    expected: dict[str, int]

    @property
    def id(self) -> str:
        return f"{self.method} {self.route}"


def cell_id(row: Row, rows: list[Row]) -> str:
    """The row's id, with its object when the route and method have several rows."""
    if sum(other.id == row.id for other in rows) > 1:
        return f"{row.id} ({row.object})"
    return row.id


def parse(table: str = MATRIX) -> list[Row]:
    lines = [line.strip() for line in table.strip().splitlines()]
    header = [cell.strip() for cell in lines[0].strip("|").split("|")]
    assert tuple(header[4:]) == ROLES, header
    rows = []
    for line in lines[2:]:
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        route, method, obj, body, *codes = cells
        rows.append(Row(route, method, obj, body, {role: int(code) for role, code in zip(ROLES, codes, strict=True)}))
    return rows


ROWS = parse()

DOC_HEAD = """# Who may call what: the API authorisation matrix

Generated from `tests/api/matrix.py` (`python -m tests.api.matrix > docs/permissions.md`);
`tests/api/test_matrix.py` turns every cell into a test and fails when this page is out of
date or when a route of the API has no row. Paths are under `/api/v1/`; `route` is the URL
name in the `api` namespace.

## The rules behind the cells
- What a caller may **see** is decided once per model by `Model.objects.visible_to(user, action)`,
  applied in one base viewset (`coordination/viewsets.py`). An object outside that scope
  answers **404 with the same body as a missing id**: an agency cannot probe for the centre's
  cases or another agency's tasks.
- What a caller may **do** to an object it sees is decided by its role's policy
  (`agencies/roles.py`, the table at the end of this page), read by the predicates of
  `cases/permissions.py` and enforced by the action functions: **403**. An object a caller may
  read but not change (an auditor, or a liaison on an approval) answers 403 to a write, not 404.
- A forbidden state transition answers **409** with the current `state`; bad input **400**
  with `detail` and the offending fields; too many writes **429** with `Retry-After`.
- Lists answer 200 to every signed-in caller with only the rows it may see: an agency's
  case list is empty (it sees tasks, not cases, unless a case is shared with a named
  person); its task list holds its own agency's tasks only. The tests check for the
  absence of foreign rows, not only the status.
- The identifier lookup answers every signed-in caller; only centre roles get the case
  references (`cases`). It answers `GET ?kind=&value=` (the protocol's form) and `POST`
  with the same fields in a JSON body, which keeps the value out of URLs and access logs;
  both count against one limit per token (`API_LOOKUP_RATE`, **429** with `Retry-After`).
- `POST cases/search/` and `POST tasks/search/` are the case and task lists with their
  filters (`identifier`, `q`, `target`...) in the body: the list's scope, rows and pages,
  no audit row asked of them (they read), not counted as writes.
- **Search follows masking.** The case list's search (`?q=` on the page and the API) and
  the API's `identifier` filter reach only what the caller is shown. A role that sees
  personal data in full (`sees_full_pii`: analyst, supervisor, administrator) searches
  victims' names and phones and identifiers in full. Every other reader of cases (the
  auditor; a person a case is shared with) searches only what the mask leaves in sight
  (`coordination/masking.py`, `KEPT`): the first character of a victim's name (the
  surname's first character), an account's first and last four digits, a phone's first
  three and last four, URLs whole; a query that would match only through a hidden
  character or digit finds nothing (`欧阳` for `欧**`, `1234` inside `139****5678`), and
  `identifier=` with a whole account or phone finds nothing. The summary is shown to every
  reader and searched by every reader. (`docs/adr/0007-case-search.md`,
  `tests/cases/test_search.py`.)
- **One masking rule, everywhere.** `coordination/masking.py` declares which fields hold
  personal data (`FIELD_KINDS`, and `MODEL_FIELD_KINDS` for keys personal only on a model's
  rows, such as a victim's `name`), what the mask of each kind keeps (`KEPT`) and who sees
  it in full: `sees_full_pii` roles everything; an agency its own task's target and its own
  result; a station its victim warning's person to reach. Serializers, template tags, the
  audit views (before/after by key, object labels, the CSV), task results, follow-up
  proposals and notifications (free text: long digit runs) all go through it. A case's
  summary and closing summary and a task's note and reason are free text masked also with
  the case's own names (victims, account holders, persons to reach: `cases/people.py`) on
  the case and task pages and in the API's case and task answers (a task list loads the
  names of its page's cases in one query); the audit trail's free text masks digit runs.
  `tests/api/test_masking_walk.py` and `tests/pages/test_masking_walk.py` plant known values
  and walk every API operation and every page as every role.
- **Every read of personal data is audited**, one row per request (`coordination/reads.py`):
  the rule notes each value it lets through in full, and the request writes one row
  (`data.read`, or `case.view`/`task.view` for those pages) listing the kinds, the objects'
  ids and the cases; identifier lookups (`identifier.lookup`, the value masked) and exports
  of the trail (`audit.export`, with the filters) always write theirs. The trail's `?case=`
  finds the reads that showed that case's data among others (`after.cases`), `?user=` who
  read it.
- A delivery (one push of a task to its agency) is visible to whoever sees its task; only a
  supervisor (or the administrator) re-sends one, and only a failed or dead-lettered one
  (otherwise **409**). Notifications are everyone's own: the inbox, its counts, "mark
  read" and "mark done" (one, a case group, all) only ever touch the caller's rows;
  another person's notification or group answers **404** like a missing one. Marking
  read is not audited (it changes nothing but the reader's own inbox); marking done is,
  one row per case (`notification.done`): who dealt with an escalation is part of the
  case's record.
- `GET stats/` is the joint meeting's review (`docs/review.md`): the roles with
  `reviews_all_units` (analyst, supervisor, auditor, administrator) get every member unit
  named; a manager (`reviews_own_unit`) gets its own unit's row and the other units as an
  anonymised distribution (no other unit's name, code or id); liaisons and partner systems
  **403**. A bad `from`/`to` is **400** naming the field.

## Callers
- `analyst`, `supervisor`, `auditor`: the anti-fraud centre and oversight (session login).
- `liaison`, `manager`: people of CCB, the agency the tasks below are assigned to (session login).
- `other`: a liaison of ICBC, another agency: every CCB object is foreign to it.
- `anon`: no credentials (401).
- `partner`: CCB's partner system, a token user made by `create_api_user` (token authentication).

## Objects
- `case`: a case with a CCB receiving account; `task`: a stop-payment at CCB, approved and
  waiting for the bank; `pending`: a CCB task awaiting approval; `proposal`: a proposed
  follow-up stop-payment; `agency`: CCB; `delivery`: a dead-lettered push of a CCB task
  (CCB with an endpoint); `delivered`: a push the bank acknowledged; `warning`: a warning clue
  CCB sent, held by the Wuhou sub-bureau (only that sub-bureau hands it over:
  `tests/dissuasion/test_work.py`). A clue's sender reads its clues' `outcome`, nothing of the
  person or the station's contact; a police unit reads the warnings it holds (a sub-bureau its
  district's too); the person in full only by the unit holding it (`docs/warnings.md`).

## The matrix
"""


POLICY_HEAD = """
## The role policy
Rendered from `agencies/roles.py`, the one place that says what each role may see and do;
every check reads it (`visible_to` through `user.policy`, `cases/permissions.py`, masking,
the pages and their menu). `administrator` is a superuser (joined with its role's policy
should it have one); `anonymous` is anyone not signed in, inactive, or without a role.
A capability says whether a role may do a kind of thing at all; which rows it reaches is
the model's `visible_to` (an agency's own tasks, a case shared with a named person).

"""


def render() -> str:
    from agencies.roles import policy_table

    return DOC_HEAD + MATRIX.lstrip("\n") + POLICY_HEAD + policy_table()


if __name__ == "__main__":
    print(render(), end="")
