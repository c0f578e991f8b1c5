"""Every page x every role, own and other agency's objects: the authorisation matrix.

One readable table; each row yields a test per role. Out of scope answers 404
(the same page as missing), a role that may see but not act gets 403, anonymous
users go to the login page.
"""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from agencies.models import User
from alerts.models import Notification

ROLES = ("anonymous", "analyst", "supervisor", "ccb_liaison", "ccb_manager", "icbc_liaison", "auditor")

# (page, method, url(objects) , expected per role in ROLES order)
#                                            anon analyst super ccb_l ccb_m icbc_l auditor
MATRIX = [
    ("home", "get", lambda o: reverse("home"), (302, 302, 302, 302, 302, 302, 302)),
    ("case list", "get", lambda o: reverse("case-list"), (302, 200, 200, 403, 403, 403, 200)),
    ("case list, searched by POST", "post", lambda o: reverse("case-list"), (302, 200, 200, 403, 403, 403, 200)),
    ("case intake", "get", lambda o: reverse("case-create"), (302, 200, 403, 403, 403, 403, 403)),
    ("case page", "get", lambda o: reverse("case-detail", args=[o["case"].pk]), (302, 200, 200, 404, 404, 404, 200)),
    (
        "case changes (htmx)",
        "get",
        lambda o: reverse("case-changes", args=[o["case"].pk]),
        (302, 200, 200, 404, 404, 404, 200),
    ),
    ("case edit", "get", lambda o: reverse("case-edit", args=[o["case"].pk]), (302, 200, 200, 404, 404, 404, 403)),
    ("missing case edit", "get", lambda o: reverse("case-edit", args=[999999]), (302, 404, 404, 404, 404, 404, 404)),
    ("correct case", "post", lambda o: reverse("case-edit", args=[o["case"].pk]), (302, 302, 302, 404, 404, 404, 403)),
    (
        "add identifier to case",
        "post",
        lambda o: reverse("case-edit", args=[o["case"].pk]),
        (302, 302, 302, 404, 404, 404, 403),
    ),
    ("link case", "post", lambda o: reverse("case-edit", args=[o["case"].pk]), (302, 302, 302, 404, 404, 404, 403)),
    ("close case", "post", lambda o: reverse("case-edit", args=[o["case"].pk]), (302, 302, 302, 404, 404, 404, 403)),
    ("missing case", "get", lambda o: reverse("case-detail", args=[999999]), (302, 404, 404, 404, 404, 404, 404)),
    ("task page", "get", lambda o: reverse("task-detail", args=[o["task"].pk]), (302, 200, 200, 200, 200, 404, 200)),
    ("missing task", "get", lambda o: reverse("task-detail", args=[999999]), (302, 404, 404, 404, 404, 404, 404)),
    ("inbox", "get", lambda o: reverse("inbox"), (302, 403, 403, 200, 200, 200, 403)),
    ("approvals", "get", lambda o: reverse("approvals"), (302, 403, 200, 403, 403, 403, 403)),
    ("needs attention", "get", lambda o: reverse("attention"), (302, 403, 200, 403, 403, 403, 403)),
    (
        "needs attention, filtered",
        "get",
        lambda o: reverse("attention") + "?kind=delivery&type=freeze&agency=CCB&age=overdue",
        (302, 403, 200, 403, 403, 403, 403),
    ),
    ("inbox, filtered", "get", lambda o: reverse("inbox") + "?q=6217&sort=urgent", (302, 403, 403, 200, 200, 200, 403)),
    ("dashboard", "get", lambda o: reverse("dashboard"), (302, 200, 200, 403, 403, 403, 200)),
    ("dashboard csv", "get", lambda o: reverse("dashboard-csv"), (302, 200, 200, 403, 403, 403, 200)),
    ("notifications", "get", lambda o: reverse("notifications"), (302, 200, 200, 200, 200, 200, 200)),
    ("unread badge", "get", lambda o: reverse("notification-badge"), (302, 200, 200, 200, 200, 200, 200)),
    ("my agency", "get", lambda o: reverse("my-agency"), (302, 403, 403, 403, 200, 403, 403)),
    ("audit", "get", lambda o: reverse("audit"), (302, 403, 403, 403, 403, 403, 200)),
    ("audit csv", "get", lambda o: reverse("audit") + "?format=csv", (302, 403, 403, 403, 403, 403, 200)),
    (
        "one-click stop-payment",
        "post",
        lambda o: reverse("case-action", args=[o["case"].pk, "stop-payments"]),
        (302, 302, 302, 404, 404, 404, 403),
    ),
    (
        "issue follow-ups",
        "post",
        lambda o: reverse("case-action", args=[o["case"].pk, "follow-ups"]),
        (302, 302, 302, 404, 404, 404, 403),
    ),
    (
        "accept task",
        "post",
        lambda o: reverse("task-action", args=[o["task"].pk, "accept"]),
        (302, 403, 403, 302, 302, 404, 403),
    ),
    (
        "reject task",
        "post",
        lambda o: reverse("task-action", args=[o["task"].pk, "reject"]),
        (302, 403, 403, 302, 302, 404, 403),
    ),
    (
        "report result",
        "post",
        lambda o: reverse("task-detail", args=[o["task"].pk]),
        (302, 403, 403, 302, 302, 404, 403),
    ),
    (
        "return task",
        "post",
        lambda o: reverse("task-action", args=[o["pending"].pk, "return"]),
        (302, 302, 302, 403, 403, 404, 403),
    ),
    (
        "approve in queue",
        "post",
        lambda o: reverse("approvals"),
        (302, 403, 302, 403, 403, 403, 403),
    ),
    (
        "bulk accept in inbox",
        "post",
        lambda o: reverse("inbox"),
        (302, 403, 403, 302, 302, 404, 403),
    ),
    (
        "mark handled",
        "post",
        lambda o: reverse("attention"),
        (302, 403, 302, 403, 403, 403, 403),
    ),
    (
        "rotate secret",
        "post",
        lambda o: reverse("my-agency"),
        (302, 403, 403, 403, 200, 403, 403),
    ),
    (
        "measure page",
        "get",
        lambda o: reverse("measure-create", args=[o["case"].pk, "other"]),
        (302, 200, 200, 404, 404, 404, 403),
    ),
    (
        "measure page on an identifier",
        "get",
        lambda o: (
            reverse("measure-create", args=[o["case"].pk, "account_query"]) + f"?identifier={o['task'].target_id}"
        ),
        (302, 200, 200, 404, 404, 404, 403),
    ),
    (
        "issue a measure",
        "post",
        lambda o: reverse("measure-create", args=[o["case"].pk, "other"]),
        (302, 302, 302, 404, 404, 404, 403),
    ),
    (
        "convert freezes page",
        "get",
        lambda o: reverse("convert-freezes", args=[o["case"].pk]),
        (302, 200, 200, 404, 404, 404, 403),
    ),
    (
        # The case is open: refused on the form.
        "convert freezes",
        "post",
        lambda o: reverse("convert-freezes", args=[o["case"].pk]),
        (302, 400, 400, 404, 404, 404, 403),
    ),
    (
        "fund-return page of an account",
        "get",
        lambda o: reverse("fund-return", args=[o["case"].pk, o["task"].target_id]),
        (302, 200, 200, 404, 404, 404, 403),
    ),
    (
        # The case is open and nothing is frozen: refused on the form.
        "prepare a fund return",
        "post",
        lambda o: reverse("fund-return", args=[o["case"].pk, o["task"].target_id]),
        (302, 400, 400, 404, 404, 404, 403),
    ),
    (
        "fund-return page of an account not in the case",
        "get",
        lambda o: reverse("fund-return", args=[o["case"].pk, 999999]),
        (302, 404, 404, 404, 404, 404, 403),
    ),
    ("renew page", "get", lambda o: reverse("task-renew", args=[o["task"].pk]), (302, 200, 200, 403, 403, 404, 403)),
    (
        # A stop-payment is not renewed: refused on the form.
        "renew",
        "post",
        lambda o: reverse("task-renew", args=[o["task"].pk]),
        (302, 400, 400, 403, 403, 404, 403),
    ),
    (
        "re-issue page",
        "get",
        lambda o: reverse("task-reissue", args=[o["rejected"].pk]),
        (302, 200, 200, 403, 403, 404, 403),
    ),
    (
        "re-issue",
        "post",
        lambda o: reverse("task-reissue", args=[o["rejected"].pk]),
        (302, 302, 302, 403, 403, 404, 403),
    ),
    (
        # A stop-payment takes no objection: refused on the form (a return's own are in test_return_notice).
        "record an objection",
        "post",
        lambda o: reverse("task-action", args=[o["task"].pk, "object"]),
        (302, 400, 400, 403, 403, 404, 403),
    ),
    ("imports", "get", lambda o: reverse("import-list"), (302, 200, 200, 403, 403, 403, 403)),
    # No file: refused on the form.
    ("upload a case file", "post", lambda o: reverse("import-list"), (302, 400, 400, 403, 403, 403, 403)),
    (
        "import template",
        "get",
        lambda o: reverse("import-template", args=["csv"]) + "?lang=en",
        (302, 200, 200, 403, 403, 403, 403),
    ),
    ("import job", "get", lambda o: reverse("import-detail", args=[o["job"].pk]), (302, 200, 200, 403, 403, 403, 403)),
    (
        "missing import job",
        "get",
        lambda o: reverse("import-detail", args=[999999]),
        (302, 404, 404, 403, 403, 403, 403),
    ),
    (
        "import progress (htmx)",
        "get",
        lambda o: reverse("import-progress", args=[o["job"].pk]),
        (302, 200, 200, 403, 403, 403, 403),
    ),
    (
        "start an import",
        "post",
        lambda o: reverse("import-action", args=[o["job"].pk, "start"]),
        (302, 302, 302, 403, 403, 403, 403),
    ),
    (
        "statement import page",
        "get",
        lambda o: reverse("statement-import", args=[o["task"].pk]),
        (302, 200, 200, 403, 403, 403, 403),
    ),
    # No file: refused on the form.
    (
        "check a statement",
        "post",
        lambda o: reverse("statement-import", args=[o["task"].pk]),
        (302, 400, 400, 403, 403, 403, 403),
    ),
    ("field check (htmx)", "post", lambda o: reverse("field-check"), (302, 200, 200, 200, 200, 200, 403)),
    ("mark read", "post", lambda o: reverse("notifications"), (302, 302, 302, 302, 302, 302, 302)),
    # The analyst's notification and its case group: everyone else's is not found.
    (
        "notification done",
        "post",
        lambda o: reverse("notification-done", args=[o["notification"].pk]),
        (302, 302, 404, 404, 404, 404, 404),
    ),
    (
        "notification group done",
        "post",
        lambda o: reverse("notification-group-done", args=[o["notification"].case_id]),
        (302, 302, 404, 404, 404, 404, 404),
    ),
    ("missing notification", "post", lambda o: reverse("notification-done", args=[999999]), (302,) + (404,) * 6),
    # The joint meeting's review (docs/review.md): the centre and auditors all units, a manager its own.
    ("review", "get", lambda o: reverse("review"), (302, 200, 200, 403, 200, 403, 200)),
    (
        "review, a period",
        "get",
        lambda o: reverse("review") + "?from=2026-01-01&to=2026-01-31",
        (302, 200, 200, 403, 200, 403, 200),
    ),
    (
        "review, a bad period",
        "get",
        lambda o: reverse("review") + "?from=2026-13-01",
        (302, 400, 400, 403, 400, 403, 400),
    ),
    ("review export", "get", lambda o: reverse("review-export"), (302, 200, 200, 403, 200, 403, 200)),
    (
        "review drill-down",
        "get",
        lambda o: reverse("review-tasks") + "?agency=CCB&figure=received",
        (302, 200, 200, 403, 200, 403, 200),
    ),
    ("review weights", "get", lambda o: reverse("review-weights"), (302, 403, 200, 403, 403, 403, 403)),
    ("set review weights", "post", lambda o: reverse("review-weights"), (302, 403, 302, 403, 403, 403, 403)),
    ("supervision items", "get", lambda o: reverse("supervision-list"), (302, 200, 200, 200, 200, 200, 200)),
    ("assign supervision item", "post", lambda o: reverse("supervision-list"), (302, 403, 302, 403, 403, 403, 403)),
    (
        "supervision item",
        "get",
        lambda o: reverse("supervision-detail", args=[o["item"].pk]),
        (302, 200, 200, 200, 200, 404, 200),
    ),
    (
        "supervision progress",
        "post",
        lambda o: reverse("supervision-detail", args=[o["item"].pk]),
        (302, 403, 403, 302, 302, 404, 403),
    ),
    (
        "close supervision item",
        "post",
        lambda o: reverse("supervision-detail", args=[o["item"].pk]),
        (302, 403, 403, 302, 302, 404, 403),
    ),
    (
        "missing supervision item",
        "get",
        lambda o: reverse("supervision-detail", args=[999999]),
        (302, 404, 404, 404, 404, 404, 404),
    ),
    ("warnings", "get", lambda o: reverse("warning-list"), (302, 200, 200, 200, 200, 200, 200)),
    ("warning entry", "get", lambda o: reverse("warning-new"), (302, 200, 200, 403, 403, 403, 403)),
    ("enter a clue", "post", lambda o: reverse("warning-new"), (302, 302, 302, 403, 403, 403, 403)),
    (
        "warning page",
        "get",
        lambda o: reverse("warning-detail", args=[o["warning"].pk]),
        (302, 200, 200, 200, 200, 404, 200),
    ),
    (
        "hand over a warning",
        "post",
        lambda o: reverse("warning-detail", args=[o["warning"].pk]),
        (302, 403, 403, 403, 403, 404, 403),
    ),
    (
        "record a warning contact",
        "post",
        lambda o: reverse("warning-detail", args=[o["warning"].pk]),
        (302, 403, 403, 403, 403, 404, 403),
    ),
]

POST_DATA = {
    "case list, searched by POST": {"q": "6217000010012345678"},
    "correct case": {"do": "correct", "case-summary": "更正", "case-reason": "核对"},  # completed in the test
    "add identifier to case": {"do": "add-identifier", "identifier-kind": "phone", "identifier-value": "13912345678"},
    "link case": {"do": "link", "link-reason": "同一嫌疑人"},  # link-reference: the other case's
    "close case": {"do": "close", "close-outcome": "not_recovered", "close-summary": "未追回"},
    "reject task": {"reason": "账户已销户"},
    "report result": {
        "status": "completed",
        "amount_held": "52000.00",
        "onward-TOTAL_FORMS": "0",
        "onward-INITIAL_FORMS": "0",
    },
    "return task": {"reason": "资料不全"},
    "approve in queue": {"do": "approve"},
    "bulk accept in inbox": {},
    "mark handled": {},
    "rotate secret": {"do": "endpoint", "endpoint_url": "https://ccb.example.invalid/afc"},
    "mark read": {"all": "1"},
    "issue a measure": {"agency": "CD-SAMR", "note": "协查"},
    "convert freezes": {"legal_document_number": "成公冻字〔2026〕7号"},
    "renew": {"legal_document_number": "成公冻字〔2026〕8号"},
    "re-issue": {"target_value": "6217000010012345679", "agency": "CCB"},
    "record an objection": {"objector": "李四", "text": "异议"},
    "enter a clue": {
        "do": "one",
        "source_reference": "P-CLUE-1",
        "phone": "13800000000",
        "district": "wuhou",
        "level": "high",
    },
    "hand over a warning": {"do": "hand_over", "station": "PS-WUHOU-YULIN"},
    "record a warning contact": {"do": "contact", "contacted_at": "", "method": "call", "outcome": "reached"},
    "field check (htmx)": {"field": "transfers-0-to_account", "transfers-0-to_account": "6217000010012345678"},
    "set review weights": {"on_time": "50", "completion": "30", "response": "20", "response_target_minutes": "30"},
    "assign supervision item": {"resolution": "整改止付响应", "owner": "CCB", "deadline": "2030-01-31T18:00"},
    "supervision progress": {"do": "note", "text": "已完成培训"},
    "close supervision item": {"do": "close", "evidence": "培训记录", "document_number": "建行川〔2026〕1号"},
}

CELLS = [
    pytest.param(page, method, url, role, expected[i], id=f"{page}-{role}")
    for page, method, url, expected in MATRIX
    for i, role in enumerate(ROLES)
]


@pytest.fixture
def objects(case, stop_task, analyst, ccb_liaison):
    from cases import actions
    from tests.conftest import make_case

    other = make_case(analyst, to_account="6217000010099999999")
    [pending] = actions.issue_stop_payments(other, acting_user=analyst, approve=False)
    # Shares no identifier with ``case``: a link by hand.
    lone = make_case(analyst, to_account="6217000010088888888", from_account="6222020200100000001")
    # On the "needs attention" page (as a failed push would leave it).
    actions.flag_task(pending, reason="push refused with HTTP 422")
    refused = make_case(analyst, to_account="6217000010077777777")
    [rejected] = actions.issue_stop_payments(refused, acting_user=analyst)
    rejected = actions.reject_task(rejected, acting_user=ccb_liaison, reason="账户信息不符")
    notification = Notification.objects.create(
        user=analyst, kind="overdue", task=stop_task, case=case, dedupe_key=f"overdue:{stop_task.pk}"
    )
    from review.models import SupervisionItem

    item = SupervisionItem.objects.create(
        resolution="提升止付响应速度", owner=stop_task.agency, deadline=timezone.now(), created_by=analyst
    )
    from imports.models import ImportJob

    job = ImportJob.objects.create(
        status="checked", file_name="历史案件.csv", file_sha256="0" * 64, content=b"", created_by=analyst, total=1
    )
    from agencies.models import Agency
    from dissuasion.intake import take_clues
    from dissuasion.models import Warning

    # A clue CCB sent (no address: it waits at the Wuhou sub-bureau).
    [entry] = take_clues(
        Agency.objects.get(code="CCB"),
        ccb_liaison,
        [
            {
                "source_reference": "P-WARN-1",
                "phone": "13800000000",
                "name": "王五",
                "district": "wuhou",
                "level": "high",
            }
        ],
    )
    return {
        "warning": Warning.objects.get(pk=entry.warning),
        "job": job,
        "case": case,
        "task": stop_task,
        "pending": pending,
        "lone": lone,
        "rejected": rejected,
        "notification": notification,
        "item": item,
    }


def post_data(page: str, objects) -> dict:
    """The form each POST row sends: its fixed fields and the ids of the objects it acts on."""
    data = dict(POST_DATA.get(page, {}))
    if page == "approve in queue":
        data["task"] = [objects["pending"].pk]
    if page == "correct case":
        case = objects["case"]
        data.update(
            {
                "case-fraud_type": case.fraud_type_id,
                "case-channel": case.channel_id,
                "case-district": case.district_id,
                "case-reported_at": timezone.localtime(case.reported_at).strftime("%Y-%m-%dT%H:%M"),
                "case-loss_amount": "51000.00",
            }
        )
    if page == "link case":
        data["link-reference"] = objects["lone"].reference
    if page == "bulk accept in inbox":
        data["task"] = [objects["task"].pk]
    if page == "mark handled":
        data["task"] = objects["pending"].pk
    if "agency" in data:
        from agencies.models import Agency

        data["agency"] = Agency.objects.get(code=data["agency"]).pk
    return data


@pytest.mark.django_db
@pytest.mark.parametrize(("page", "method", "url", "role", "expected"), CELLS)
def test_access_matrix(client, request, objects, page, method, url, role, expected):
    if role != "anonymous":
        user: User = request.getfixturevalue(role)
        client.force_login(user)
    data = post_data(page, objects)
    response = getattr(client, method)(url(objects), data) if method == "post" else client.get(url(objects))
    assert response.status_code == expected, (page, role, response.status_code)
    if role == "anonymous" and expected == 302:
        assert response["Location"].startswith(reverse("login"))
    if expected == 404:
        # The same friendly page as a missing object: nothing hints that it exists.
        assert "404" in response.content.decode()


@pytest.mark.django_db
def test_other_agency_sees_no_foreign_rows_in_inbox(client, stop_task, icbc_liaison, ccb_liaison):
    client.force_login(icbc_liaison)
    body = client.get(reverse("inbox")).content.decode()
    assert stop_task.case.reference not in body
    client.force_login(ccb_liaison)
    body = client.get(reverse("inbox")).content.decode()
    assert stop_task.case.reference in body


@pytest.mark.django_db
def test_out_of_scope_is_the_same_page_as_missing(client, stop_task, icbc_liaison):
    import re

    def body(url):
        response = client.get(url)
        assert response.status_code == 404
        # Only the per-request CSRF token and the address itself (the language form's
        # "next") may differ.
        text = re.sub(r'(csrfmiddlewaretoken" value="|X-CSRFToken": ")[^"]+', "", response.content.decode())
        return text.replace(url, "")

    client.force_login(icbc_liaison)
    assert body(reverse("task-detail", args=[stop_task.pk])) == body(reverse("task-detail", args=[999999]))
    assert body(reverse("case-detail", args=[stop_task.case_id])) == body(reverse("case-detail", args=[999999]))
