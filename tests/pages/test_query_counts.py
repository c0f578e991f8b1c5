"""Every page's query count is pinned and does not grow with the number of rows."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from alerts.models import Delivery, Notification
from cases import actions
from cases.models import Channel, District, FraudType
from tests.conftest import agency, make_case, make_user

# page -> queries for one request: session read and save (3, with its savepoint), user,
# the page's own reads and the choices of its filter forms [+ READ: the one read-audit row of a
# page showing personal data in full (``coordination.reads``), whatever its number of rows; the
# case page's ``case.view`` was already that row].
READ = 1
PINNED = {
    "case list": 11 + READ,
    # Words: the grams index, same reads as the bare list.
    "case list search": 11 + READ,
    "case list search (auditor)": 11,
    # A whole account: its identifiers first, then the list.
    "case list search (account)": 12 + READ,
    # + the stopped and frozen totals (cases.holdings) and what fund returns gave back to the case's victims.
    "case page": 19,
    # Linked by a shared account and by hand, with holds on the account: the panel's three reads.
    "case page (linked)": 20,
    # + the totals, the transfers to correct and the banks (read once for all their forms), and the
    # accounts the case's live freezes hold (the closing figures).
    "case edit": 24 + READ,
    # The queues add the types' deadlines (age flags), their other-app column (alerts'
    # failed pushes) or the victim's payments (inbox), and the agency filter's choices.
    "inbox": 11 + READ,
    # + the reader's agency, which only the read-audit row needs here (the full page reads it anyway).
    "inbox rows (htmx)": 9 + READ + 1,
    "inbox, searched": 11 + READ,
    "approvals": 10 + READ,
    "approvals, filtered": 12 + READ,
    "needs attention": 10,
    "notifications": 9,  # its groups, their notifications (with case, task, agency), the to-do count
    # + the review's per-unit figures (cases/review.py): the units' aggregate, the live holds, the
    # returns, the warnings reached and the units' names (the follow-ups only when something is held);
    # + the warning figures: per district, and the city (one statement each).
    "dashboard": 16,
    "audit": 10,  # + the words for the rows' cases, identifiers and transfers (one query per kind)
    "my agency": 13,  # the unit's review row: the same five reads as the dashboard's
    # The review (cases/review.py): per period (this one and the previous) the units' aggregate, the
    # live holds and their follow-ups, the returns, the warnings, the agencies, the supervision items;
    # then the weights and the golden hour.
    "review": 20,
    "review (manager)": 19,  # no golden hour; its own agency once
    "review export": 19,
    "supervision items": 7,
}


def bank_case(user, n: int, bank: str = "CCB"):
    """A case whose victim paid ``n`` accounts at ``bank``."""
    now = timezone.now()
    transfers = [
        actions.TransferData(
            from_account="6222020200112233445",
            from_bank=agency("ICBC"),
            to_account=f"6217000099{i:08d}",
            to_bank=agency(bank),
            amount=Decimal("1000.00"),
            at=now - timedelta(minutes=30),
        )
        for i in range(n)
    ]
    return actions.create_case(
        acting_user=user,
        fraud_type=FraudType.objects.get(code="fake_investment"),
        channel=Channel.objects.get(code="hotline_96110"),
        district=District.objects.get(code="wuhou"),
        reported_at=now,
        loss_amount=Decimal(1000 * n),
        victims=[actions.VictimData(name="李四")],
        transfers=transfers,
    )


def build(page: str, n: int, analyst):
    """Make ``n`` rows for ``page``; return (user, url, headers)."""
    if page == "case list":
        for _ in range(n):
            make_case(analyst)
        return analyst, reverse("case-list"), {}
    if page.startswith("case list search"):
        for _ in range(n):
            make_case(analyst)  # victim 张三, receiving account 6217000010012345678
        if "auditor" in page:
            return make_user("q_auditor", "AFC", "auditor"), reverse("case-list") + "?q=张+5678", {}
        query = "6217000010012345678" if "account" in page else "张三+测试"
        return analyst, reverse("case-list") + f"?q={query}", {}
    if page == "case page":
        case = make_case(analyst, extra_transfers=n)
        actions.issue_stop_payments(case, acting_user=analyst)
        return analyst, reverse("case-detail", args=[case.pk]), {}
    if page in ("case page (linked)", "case edit"):
        # The edit page: one correction form per transfer, ``n`` of them.
        case = make_case(analyst, extra_transfers=n if page == "case edit" else 0)
        actions.issue_stop_payments(case, acting_user=analyst)
        for i in range(n):
            # The same receiving account: every one is linked through it.
            other = make_case(analyst)
            if i % 5 == 0:
                actions.add_case_identifier(
                    other,
                    acting_user=analyst,
                    data=actions.IdentifierData(kind="phone", value=f"1390000{i:04d}"),
                )
                actions.link_cases(
                    case,
                    make_case(analyst, to_account=f"62170000200{i:08d}", from_account=f"62220000300{i:08d}"),
                    acting_user=analyst,
                    reason="同一团伙",
                )
        name = "case-detail" if page == "case page (linked)" else "case-edit"
        return analyst, reverse(name, args=[case.pk]), {}
    if page.startswith("inbox"):
        actions.issue_stop_payments(bank_case(analyst, n), acting_user=analyst)
        if page == "inbox, searched":
            return (
                make_user("q_liaison", "CCB", "liaison"),
                reverse("inbox") + "?q=0000&type=emergency_stop_payment",
                {},
            )
        liaison = make_user("q_liaison", "CCB", "liaison")
        headers = {"HTTP_HX_REQUEST": "true"} if "htmx" in page else {}
        return liaison, reverse("inbox"), headers
    if page.startswith("approvals"):
        # Number traces: the supervisor approves them (stop-payments never wait in the queue).
        case = make_case(analyst)
        for i in range(n):
            actions.create_task(
                case,
                acting_user=analyst,
                type="number_trace",
                agency=agency("CMCC"),
                target_kind="phone",
                target_value=f"1390000{i:04d}",
            )
        query = "?type=number_trace&agency=CMCC&age=on_time" if "filtered" in page else ""
        return make_user("q_supervisor", "AFC", "supervisor"), reverse("approvals") + query, {}
    if page == "needs attention":
        now = timezone.now()
        for task in actions.issue_stop_payments(bank_case(analyst, n), acting_user=analyst):
            Delivery.objects.create(
                task=task,
                agency=task.agency,
                state="failed",
                attempts=1,
                give_up_at=now,
                last_status=422,
                last_error="http_4xx",
                partner_reason="account details do not match",
            )
            actions.flag_task(task, reason="push refused with HTTP 422")
        return make_user("q_supervisor", "AFC", "supervisor"), reverse("attention"), {}
    if page == "notifications":
        # n case groups (more than a page of groups at n=50) of two notifications each,
        # drawn from their task, and n loose ones (digests) in the group about no case.
        case = make_case(analyst)
        [task] = actions.issue_stop_payments(case, acting_user=analyst)
        cases = [case, *(make_case(analyst) for _ in range(n - 1))]
        Notification.objects.bulk_create(
            Notification(user=analyst, kind=kind, task=task, case=c, dedupe_key=f"{kind}:{c.pk}", count=2)
            for c in cases
            for kind in ("overdue", "delivery_failed")
        )
        Notification.objects.bulk_create(
            Notification(user=analyst, kind="digest", params={"items": 3, "cases": 2}, dedupe_key=f"digest:{i}")
            for i in range(n)
        )
        return analyst, reverse("notifications"), {}
    if page == "dashboard":
        actions.issue_stop_payments(bank_case(analyst, n), acting_user=analyst)
        return analyst, reverse("dashboard"), {}
    if page == "audit":
        for _ in range(n // 10):
            make_case(analyst)
        return make_user("q_auditor", "AFC", "auditor"), reverse("audit"), {}
    if page.startswith("review") or page == "supervision items":
        from review.models import SupervisionItem

        actions.issue_stop_payments(bank_case(analyst, n), acting_user=analyst)
        for i in range(n // 10):
            SupervisionItem.objects.create(
                resolution=f"事项{i}", owner=agency("CCB"), deadline=timezone.now(), created_by=analyst
            )
        url = {"review export": reverse("review-export"), "supervision items": reverse("supervision-list")}
        user = make_user("q_manager", "CCB", "manager") if page == "review (manager)" else analyst
        return user, url.get(page, reverse("review")), {}
    if page == "my agency":
        for i in range(n):
            make_user(f"q_l{i}", "CCB", "liaison")
        return make_user("q_manager", "CCB", "manager"), reverse("my-agency"), {}
    raise AssertionError(page)


def count_queries(client, user, url, headers) -> int:
    client.force_login(user)
    client.get(url, **headers)  # warm: reference data, content types
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, **headers)
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.django_db
@pytest.mark.parametrize("page", list(PINNED))
@pytest.mark.parametrize("n", [10, 50])
def test_query_count_pinned(client, analyst, page, n):
    user, url, headers = build(page, n, analyst)
    assert count_queries(client, user, url, headers) == PINNED[page]
