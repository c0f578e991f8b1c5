"""One list engine: a page and the API give the same rows for the same filter, and keyset
pages walk a list that grows underneath them without skipping or repeating a row.

The pages filter through the API's FilterSets (``cases.filtersets``,
``coordination.filtersets``) and page with the API's keyset helper
(``coordination.pagination.Keyset``); these tests hold the two surfaces together.
"""

from __future__ import annotations

from base64 import b64encode
from datetime import timedelta
from decimal import Decimal
from urllib.parse import urlencode

import pytest
from django.urls import reverse
from django.utils import timezone

from alerts.models import Notification
from cases import actions
from cases.models import Case, Channel, District, FraudType
from cases.views import cases as case_views
from tests.conftest import VICTIM_ACCOUNT, agency, make_user

pytestmark = pytest.mark.django_db


def new_case(user, *, days_ago: float = 0, district="wuhou", fraud="fake_investment", bank="CCB", n=0, at=None):
    """A case reported ``days_ago`` days ago (or at ``at``), paying account ``n`` at ``bank``."""
    reported = at or timezone.now() - timedelta(days=days_ago)
    return actions.create_case(
        acting_user=user,
        fraud_type=FraudType.objects.get(code=fraud),
        channel=Channel.objects.get(code="hotline_96110"),
        district=District.objects.get(code=district),
        reported_at=reported,
        loss_amount=Decimal(1000 + 10 * n),
        victims=[actions.VictimData(name="王五" if n % 2 else "赵六")],
        transfers=[
            actions.TransferData(
                from_account=VICTIM_ACCOUNT,
                from_bank=agency("ICBC"),
                to_account=f"62170000200000{n:05d}",
                to_bank=agency(bank),
                amount=Decimal("1000.00"),
                at=reported - timedelta(minutes=5),
            )
        ],
    )


@pytest.fixture
def varied(analyst):
    """Cases across districts, fraud types, days, banks and states; stop-payments on some."""
    rows = []
    plan = [
        (0.1, "wuhou", "fake_investment", "CCB"),
        (1.2, "jinjiang", "fake_investment", "ICBC"),
        (2.5, "wuhou", "fake_loan", "CCB"),
        (3.5, "jinjiang", "fake_loan", "ABC"),
        (5.5, "wuhou", "order_brushing", "ICBC"),
        (8.5, "qingyang", "fake_investment", "CCB"),
        (12.5, "wuhou", "fake_investment", "ABC"),
    ]
    for n, (days, district, fraud, bank) in enumerate(plan):
        rows.append(new_case(analyst, days_ago=days, district=district, fraud=fraud, bank=bank, n=n))
    for case in rows[::2]:
        actions.issue_stop_payments(case, acting_user=analyst)  # the bank joins the case
    actions.file_case(rows[1], acting_user=analyst, filing_number="成公立字〔2026〕1号")
    actions.file_case(rows[4], acting_user=analyst, filing_number="成公立字〔2026〕2号")
    return rows


def local_day(days_ago: int) -> str:
    return (timezone.localdate() - timedelta(days=days_ago)).isoformat()


def local_midnight_iso(days_ago: int) -> str:
    day = timezone.localdate() - timedelta(days=days_ago)
    return timezone.make_aware(timezone.datetime.combine(day, timezone.datetime.min.time())).isoformat()


def pk_of(model, code):
    return model.objects.get(code=code).pk


# name -> (page query, API query); the page spells district and fraud type by id, as its links always did.
CASE_FILTERS = {
    "everything": (lambda c: {}, lambda c: {}),
    "status": (lambda c: {"status": "filed"}, lambda c: {"status": "filed"}),
    "district": (
        lambda c: {"district": pk_of(District, "wuhou")},
        lambda c: {"district": "wuhou"},
    ),
    "fraud type and status": (
        lambda c: {"fraud_type": pk_of(FraudType, "fake_investment"), "status": "open"},
        lambda c: {"fraud_type": "fake_investment", "status": "open"},
    ),
    "agency": (lambda c: {"agency": "CCB"}, lambda c: {"agency": "CCB"}),
    "days": (
        lambda c: {"date_from": local_day(6), "date_to": local_day(2)},
        lambda c: {"reported_after": local_midnight_iso(6), "reported_before": local_midnight_iso(1)},
    ),
    "reference": (lambda c: {"q": c[3].reference.lower()}, lambda c: {"reference": c[3].reference}),
    "identifier": (
        lambda c: {"q": "6217 0000 2000 0000 002"},
        lambda c: {"identifier": "6217 0000 2000 0000 002"},
    ),
    "district and agency": (
        lambda c: {"district": pk_of(District, "wuhou"), "agency": "ICBC"},
        lambda c: {"district": "wuhou", "agency": "ICBC"},
    ),
}


@pytest.mark.parametrize("name", list(CASE_FILTERS))
def test_case_list_page_and_api_give_the_same_rows(client, api, analyst, varied, name):
    page_query, api_query = CASE_FILTERS[name]
    client.force_login(analyst)
    response = client.get(reverse("case-list"), page_query(varied))
    assert response.status_code == 200
    assert not response.context["form"].errors
    page_rows = [c.pk for c in response.context["cases"]]
    api_rows = [row["id"] for row in api(analyst).get("/api/v1/cases/", api_query(varied)).json()["results"]]
    assert page_rows == api_rows
    # Each filter narrows (the table would prove nothing if every row matched everything).
    assert page_rows and (name == "everything" or len(page_rows) < len(varied))


def test_other_lists_page_and_api_give_the_same_rows(client, api, analyst, auditor, varied):
    """The audit trail of a case, the inbox, notifications: the page's rows are the API's."""
    case = varied[0]
    client.force_login(auditor)
    page = [r.pk for r in client.get(reverse("audit"), {"case": case.pk}).context["rows"]]
    by_reference = [r.pk for r in client.get(reverse("audit"), {"case": case.reference}).context["rows"]]
    api_rows = [r["id"] for r in api(auditor).get(f"/api/v1/cases/{case.pk}/audit/").json()["results"]]
    assert page == by_reference == api_rows and len(page) > 1

    liaison = make_user("e_ccb_liaison", "CCB", "liaison")
    client.force_login(liaison)
    inbox = {t.pk for t in client.get(reverse("inbox")).context["tasks"]}
    awaiting = {"status": ["approved", "dispatched", "accepted"]}
    api_tasks = {r["id"] for r in api(liaison).get("/api/v1/tasks/", awaiting).json()["results"]}
    assert inbox == api_tasks and inbox

    Notification.objects.bulk_create(
        Notification(user=analyst, kind="result", title=f"n{i}", dedupe_key=f"e{i}") for i in range(5)
    )
    client.force_login(analyst)
    page = [n.pk for n in client.get(reverse("notifications")).context["notifications"]]
    assert page == [r["id"] for r in api(analyst).get("/api/v1/notifications/").json()["results"]]


def test_search_box_uses_the_api_identifier_rule(client, api, analyst):
    """A landline that also reads as an account number finds the phone (the API's rule: any kind).

    The page used to take the first kind the value validated as (an account, 12+ digits)
    and found nothing.
    """
    with_phone = new_case(analyst, n=1)
    new_case(analyst, n=2)
    actions.add_identifier(with_phone, kind="phone", value="028-12345678-9", role="suspect", acting_user=analyst)
    client.force_login(analyst)
    page = [c.pk for c in client.get(reverse("case-list"), {"q": "028123456789"}).context["cases"]]
    api_rows = [r["id"] for r in api(analyst).get("/api/v1/cases/", {"identifier": "028123456789"}).json()["results"]]
    assert page == api_rows == [with_phone.pk]


def test_audit_day_filter_takes_the_whole_last_second(client, auditor, analyst):
    """``date_to`` is the day's end exclusive (the API's ``*_before`` rule), not 23:59:59."""
    from coordination.models import AuditRecord

    day = timezone.localdate() - timedelta(days=3)
    last = timezone.make_aware(timezone.datetime.combine(day, timezone.datetime.max.time()))
    record = AuditRecord.objects.create(at=last, user_name="x", action="test.edge", object_type="t")
    client.force_login(auditor)
    rows = client.get(reverse("audit"), {"action": "test.edge", "date_from": day, "date_to": day}).context["rows"]
    assert [r.pk for r in rows] == [record.pk]
    next_day = {"action": "test.edge", "date_from": day + timedelta(days=1)}
    assert list(client.get(reverse("audit"), next_day).context["rows"]) == []


# --- keyset pages under inserts -----------------------------------------------------------


def walk_api(api_client, insert) -> list[int]:
    seen, url, step = [], "/api/v1/cases/?page_size=3", 0
    while url:
        body = api_client.get(url).json()
        seen += [row["id"] for row in body["results"]]
        url = body["next"]
        if url:
            insert(step, body["results"][-1]["id"])
        step += 1
    return seen


def walk_page(client, insert) -> list[int]:
    seen, query, step = [], "", 0
    while True:
        response = client.get(reverse("case-list") + query)
        rows = response.context["cases"]
        seen += [c.pk for c in rows]
        query = response.context["next_url"]
        if not query:
            return seen
        insert(step, rows[-1].pk)
        step += 1


@pytest.mark.parametrize("surface", ["api", "page"])
def test_keyset_pages_yield_every_row_once_under_inserts(client, api, analyst, monkeypatch, surface):
    """Rows arrive while someone pages: newer ones, ties on the page's last time, older ones.

    Every row that was there at the start is seen exactly once; so is every row inserted
    behind the reader's position; nothing is seen twice (an OFFSET or a first-column
    position with an offset over ties would repeat or skip rows here).
    """
    base = timezone.now() - timedelta(hours=1)
    # Ties: pairs of cases reported at the very same instant.
    start = [new_case(analyst, at=base - timedelta(minutes=i // 2), n=i) for i in range(10)]
    behind = []

    def insert(step, last_id):
        last = Case.objects.get(pk=last_id)
        new_case(analyst, at=timezone.now(), n=100 + step)  # ahead of the reader: not seen
        new_case(analyst, at=last.reported_at, n=200 + step)  # a tie, with a larger id: ahead
        behind.append(new_case(analyst, at=base - timedelta(minutes=30 + step), n=300 + step).pk)

    if surface == "api":
        seen = walk_api(api(analyst), insert)
    else:
        monkeypatch.setattr(case_views, "PAGE_SIZE", 3)
        client.force_login(analyst)
        seen = walk_page(client, insert)
    assert len(seen) == len(set(seen)), "a row was seen twice"
    assert {c.pk for c in start} <= set(seen)
    assert set(behind) <= set(seen)
    reported = dict(Case.objects.filter(pk__in=seen).values_list("pk", "reported_at"))
    order = [(reported[pk], pk) for pk in seen]
    assert order == sorted(order, reverse=True)


def test_api_honours_cursors_handed_out_before_the_keyset_helper(api, analyst):
    """DRF's cursors (first column + offset over ties) still work, and lead on to keyset cursors."""
    base = timezone.now() - timedelta(hours=2)
    cases = [new_case(analyst, at=base - timedelta(minutes=i), n=i) for i in range(5)]
    tie = new_case(analyst, at=cases[2].reported_at, n=9)

    def drf_cursor(**tokens) -> str:
        return b64encode(urlencode(tokens).encode()).decode()

    client = api(analyst)
    # Strictly older than cases[1]: the two at cases[2]'s time (newest id first), then older.
    position = str(cases[1].reported_at)
    body = client.get("/api/v1/cases/", {"cursor": drf_cursor(p=position), "page_size": 2}).json()
    assert [r["id"] for r in body["results"]] == [tie.pk, cases[2].pk]
    rest = client.get(body["next"]).json()
    assert [r["id"] for r in rest["results"]] == [cases[3].pk, cases[4].pk] and rest["next"] is None
    skipped = client.get("/api/v1/cases/", {"cursor": drf_cursor(o=1, p=position), "page_size": 2}).json()
    assert [r["id"] for r in skipped["results"]] == [cases[2].pk, cases[3].pk]
    assert client.get("/api/v1/cases/", {"cursor": drf_cursor(p="yesterday")}).status_code == 404
    assert client.get("/api/v1/cases/", {"cursor": drf_cursor(r=1, p=position)}).status_code == 404
    assert client.get("/api/v1/cases/", {"cursor": ""}).status_code == 200


def test_filters_apply_to_lists_only(api, analyst, case, stop_task):
    """A list filter on a detail route or an action neither hides the object nor narrows the action."""
    client = api(analyst)
    assert client.get(f"/api/v1/cases/{case.pk}/", {"status": "closed"}).status_code == 200
    assert client.get(f"/api/v1/tasks/{stop_task.pk}/", {"status": "completed"}).status_code == 200
    transfers = client.get(f"/api/v1/cases/{case.pk}/transfers/", {"status": "closed"}).json()["results"]
    assert len(transfers) == 1
    assert client.get("/api/v1/cases/", {"status": "closed"}).json()["results"] == []
