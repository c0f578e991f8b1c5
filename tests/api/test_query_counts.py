"""Query counts of every list and detail endpoint: pinned, and the same for 10 and 100 rows.

A change that adds a query per row (an N+1) or a query anywhere fails here with
the two counts side by side. Counts include the token lookup (1 query).
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases import actions
from cases.choices import IdentifierRole, TargetKind, TransferSource
from tests.conftest import RECEIVING_ACCOUNT, agency, make_case

from .conftest import token_client

pytestmark = pytest.mark.django_db

# endpoint name -> queries per request (token 1 + the endpoint's own [+ READ: the one read-audit
# row of an answer showing personal data in full, or of a lookup; one per request, whatever the rows]).
READ = 1
PINNED = {
    "reference": 1 + 4,
    "lookup (centre)": 1 + 2 + READ,
    "lookup (agency)": 1 + 1 + READ,
    "agency-list": 1 + 1,
    "agency-detail": 1 + 1,
    "case-list": 1 + 1,
    "case-list (search)": 1 + 1,
    "case-list (search, masked)": 1 + 1,
    "case-detail": 1 + 2 + READ,
    "case-identifiers": 1 + 2 + READ,
    "case-transfers": 1 + 2 + READ,
    "case-money-flow": 1 + 3 + READ,
    "case-linked": 1 + 2,
    "case-audit": 1 + 2 + READ,
    "case-proposals": 1 + 2 + READ,
    "task-list": 1 + 1 + READ,
    "task-list (agency)": 1 + 1 + READ,
    "task-detail": 1 + 1 + READ,
    "task-events": 1 + 2,
    "proposal-list": 1 + 1 + READ,
    "proposal-detail": 1 + 1 + READ,
    "delivery-list": 1 + 2,
    "delivery-detail": 1 + 2,
    "notification-list": 1 + 1,
    "notification-unread-count": 1 + 1,
    # The review for this month and the previous period: per period the units' aggregate, the live
    # holds (+ their follow-ups), the returns, the warnings, the units, the supervision items; the
    # weights; the golden hour.
    "stats": 1 + 15,
}


class Growing:
    """A data set that grows to ``n`` rows of everything a list shows."""

    def __init__(self, analyst, bank_user):
        self.analyst = analyst
        self.bank_user = bank_user
        self.case = make_case(analyst)
        self.cases = [self.case]
        self.accounts = 0
        [self.task] = actions.issue_stop_payments(self.case, acting_user=analyst)
        self.task = actions.accept_task(self.task, acting_user=bank_user)
        self.flags = 0

    def grow(self, n: int) -> None:
        now = timezone.now()
        while len(self.cases) < n:  # cases linked to the first through the receiving account
            self.cases.append(make_case(self.analyst, to_account=RECEIVING_ACCOUNT))
        victim = self.case.transfers.first().from_identifier
        while self.accounts < n:  # identifiers, transfers and ABC tasks of the first case
            account = actions.add_identifier(
                self.case,
                kind=TargetKind.BANK_ACCOUNT,
                value=f"62300000000{self.accounts:05d}",
                bank=agency("ABC"),
                role=IdentifierRole.RECEIVING_ACCOUNT,
                acting_user=self.analyst,
            )
            actions.add_transfer(
                self.case,
                from_identifier=victim,
                to_identifier=account,
                amount=Decimal("10.00"),
                at=now - timedelta(minutes=1),
                source=TransferSource.VICTIM_REPORT,
                acting_user=self.analyst,
            )
            self.accounts += 1
        actions.issue_stop_payments(self.case, acting_user=self.analyst, approve=False)
        while self.flags < n:  # events of the task
            actions.flag_task(self.task, reason="look", acting_user=None)
            self.flags += 1
        self._proposals(n)
        self._deliveries(n)

    def _deliveries(self, n: int) -> None:
        """n pushes of the task (two attempts each) and n notifications of the analyst.

        Written directly: the rows a worker and the event hooks would leave, without a
        partner endpoint to push to.
        """
        from alerts.choices import DeliveryState
        from alerts.models import Delivery, DeliveryAttempt, Notification

        have = Delivery.objects.filter(task=self.task).count()
        give_up = timezone.now() + timedelta(hours=1)
        rows = Delivery.objects.bulk_create(
            [
                Delivery(task=self.task, agency=self.task.agency, state=DeliveryState.FAILED, give_up_at=give_up)
                for _ in range(have, n)
            ]
        )
        DeliveryAttempt.objects.bulk_create(
            [DeliveryAttempt(delivery=d, status_code=503) for d in rows for _ in (1, 2)]
        )
        have = Notification.objects.filter(user=self.analyst).count()
        Notification.objects.bulk_create(
            [
                Notification(user=self.analyst, kind="new_task", title=f"n{i}", dedupe_key=f"count-{i}")
                for i in range(have, n)
            ]
        )

    def _proposals(self, n: int) -> None:
        from cases.models import FollowUpProposal

        if FollowUpProposal.objects.count() >= n:
            return
        # One completed stop-payment reporting n onward accounts: n proposals.
        at = (timezone.now() - timedelta(minutes=2)).isoformat()
        task = actions.create_task(
            self.case,
            acting_user=self.analyst,
            type="emergency_stop_payment",
            agency=agency("CCB"),
            target_kind="bank_account",
            target_value=f"621700001{n:010d}",
        )
        task = actions.approve_task(task, acting_user=self.analyst)
        onward = [
            {"account_number": f"62280000{n:03d}{i:05d}", "bank": "BOC", "holder_name": "", "amount": "1.00", "at": at}
            for i in range(n)
        ]
        actions.submit_result(
            task,
            acting_user=self.bank_user,
            status="completed",
            result={"amount_held": "1.00", "onward_transfers": onward},
        )


def endpoints(data: Growing, proposal_id: int, delivery_id: str):
    case, task = data.case.pk, data.task.pk
    return {
        "reference": ("centre", "/api/v1/reference/"),
        "lookup (centre)": ("centre", f"/api/v1/identifiers/lookup/?kind=bank_account&value={RECEIVING_ACCOUNT}"),
        "lookup (agency)": ("bank", f"/api/v1/identifiers/lookup/?kind=bank_account&value={RECEIVING_ACCOUNT}"),
        "agency-list": ("bank", "/api/v1/agencies/"),
        "agency-detail": ("bank", "/api/v1/agencies/CCB/"),
        "case-list": ("centre", "/api/v1/cases/"),
        "case-list (search)": ("centre", "/api/v1/cases/?q=张三+5678"),
        "case-list (search, masked)": ("auditor", "/api/v1/cases/?q=张+5678"),
        "case-detail": ("centre", f"/api/v1/cases/{case}/"),
        "case-identifiers": ("centre", f"/api/v1/cases/{case}/identifiers/"),
        "case-transfers": ("centre", f"/api/v1/cases/{case}/transfers/"),
        "case-money-flow": ("centre", f"/api/v1/cases/{case}/money-flow/"),
        "case-linked": ("centre", f"/api/v1/cases/{case}/linked/"),
        "case-audit": ("centre", f"/api/v1/cases/{case}/audit/"),
        "case-proposals": ("centre", f"/api/v1/cases/{case}/proposals/"),
        "task-list": ("centre", "/api/v1/tasks/"),
        "task-list (agency)": ("bank", "/api/v1/tasks/"),
        "task-detail": ("bank", f"/api/v1/tasks/{task}/"),
        "task-events": ("centre", f"/api/v1/tasks/{task}/events/"),
        "proposal-list": ("centre", "/api/v1/proposals/"),
        "proposal-detail": ("centre", f"/api/v1/proposals/{proposal_id}/"),
        "delivery-list": ("centre", f"/api/v1/deliveries/?task={task}"),
        "delivery-detail": ("bank", f"/api/v1/deliveries/{delivery_id}/"),
        "notification-list": ("centre", "/api/v1/notifications/"),
        "notification-unread-count": ("centre", "/api/v1/notifications/unread-count/"),
        "stats": ("centre", "/api/v1/stats/"),
    }


def measure(clients, data: Growing) -> dict[str, tuple[int, int]]:
    from alerts.models import Delivery
    from cases.models import FollowUpProposal

    proposal_id = FollowUpProposal.objects.order_by("id").first().pk
    delivery_id = Delivery.objects.order_by("created_at", "id").first().pk
    counts = {}
    for name, (who, url) in endpoints(data, proposal_id, delivery_id).items():
        sep = "&" if "?" in url else "?"
        with CaptureQueriesContext(connection) as ctx:
            response = clients[who].get(f"{url}{sep}page_size=200")
        assert response.status_code == 200, (name, response.content[:300])
        body = response.json()
        rows = len(body.get("results", body.get("edges", [])))
        counts[name] = (len(ctx.captured_queries), rows)
    return counts


def test_query_counts_are_pinned_and_independent_of_rows(analyst, ccb_liaison, auditor):
    clients = {"centre": token_client(analyst), "bank": token_client(ccb_liaison), "auditor": token_client(auditor)}
    data = Growing(analyst, ccb_liaison)
    data.grow(10)
    small = measure(clients, data)
    data.grow(100)
    large = measure(clients, data)
    report = {name: (small[name][0], large[name][0], PINNED[name]) for name in PINNED}
    assert all(s == big == pinned for s, big, pinned in report.values()), (
        "queries (10 rows, 100 rows, pinned) per endpoint: "
        + ", ".join(f"{n}={v}" for n, v in report.items() if len(set(v)) > 1)
    )
    # The lists really did grow, so the equality above means something.
    lists = (
        "case-list",
        "case-list (search)",
        "case-list (search, masked)",
        "case-identifiers",
        "case-transfers",
        "case-linked",
        "task-list",
        "proposal-list",
    )
    for name in (*lists, "delivery-list", "notification-list"):
        assert large[name][1] >= 100 > small[name][1] or large[name][1] > small[name][1], (
            name,
            small[name],
            large[name],
        )
    assert large["case-money-flow"][1] > small["case-money-flow"][1]
    assert large["task-events"][1] > small["task-events"][1]
