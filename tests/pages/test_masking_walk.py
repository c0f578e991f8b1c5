"""One masking rule on every page; every page that shows personal data in full audited.

The page matrix (``test_access.MATRIX``: every page and form, GET and POST) is walked
as every role over a case with planted values (a victim's name, resident ID and phone,
the victim's own account, the receiving account and its holder, a bank's result with
an onward transfer's account and holder, its follow-up proposal, audit rows,
notifications quoting an account). Each request runs in a savepoint rolled back
afterwards. A planted value in full where the role should see a mask fails; a page
that shows one in full must have written exactly one read-audit row for its reader.
A completeness check holds the walk to the URLconf.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.utils import timezone

from alerts.models import Notification
from cases import actions
from cases.models import Identifier
from coordination.choices import READ_ACTIONS
from coordination.models import AuditRecord
from tests.conftest import RECEIVING_ACCOUNT, VICTIM_ACCOUNT, agency

from .test_access import MATRIX, ROLES, objects, post_data  # noqa: F401 - ``objects`` is a fixture

pytestmark = pytest.mark.django_db

ONWARD_ACCOUNT = "6228480000000000017"
DONE_ACCOUNT = "6217000010055555555"
VICTIM = {"victim name": "张三", "victim id": "51010719900101123X", "victim phone": "13800000000"}
PAYER = {"victim's account": VICTIM_ACCOUNT}
TARGET = {"receiving account": RECEIVING_ACCOUNT, "its holder": "王五"}
ONWARD = {"onward account": ONWARD_ACCOUNT, "onward holder": "李四"}
PLANTED = {**VICTIM, **PAYER, **TARGET, **ONWARD}

FULL = {
    "anonymous": set(),
    "analyst": set(PLANTED),
    "supervisor": set(PLANTED),
    # CCB reads its own tasks' targets and its own results in full, nothing else.
    "ccb_liaison": set(TARGET) | set(ONWARD),
    "ccb_manager": set(TARGET) | set(ONWARD),
    "icbc_liaison": set(),
    "auditor": set(),
}

# Page URL names the matrix need not reach: sign-in and password pages hold no case data.
NO_CASE_DATA = frozenset(
    {
        "login",
        "logout",
        "password_change",
        "password_change_done",
        "password_reset",
        "password_reset_done",
        "password_reset_confirm",
        "password_reset_complete",
        "set_language",
    }
)
NOT_PAGE_PREFIXES = ("admin/", "api/", "i18n/", "health/", "static/")


def page_names() -> set[str]:
    def walk(patterns, prefix=""):
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if route.startswith(NOT_PAGE_PREFIXES):
                continue
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, route)
            elif isinstance(pattern, URLPattern):
                yield pattern.name or route

    return set(walk(get_resolver().url_patterns))


def plant(objs, analyst, ccb_liaison, users) -> None:
    Identifier.objects.filter(value=RECEIVING_ACCOUNT).update(holder_name=TARGET["its holder"])
    done = actions.create_task(
        objs["case"],
        acting_user=analyst,
        type="emergency_stop_payment",
        agency=agency("CCB"),
        target_kind="bank_account",
        target_value=DONE_ACCOUNT,
        amount=Decimal("500.00"),
    )
    done = actions.approve_task(done, acting_user=analyst)
    at = (timezone.now() - timedelta(minutes=5)).isoformat()
    onward = {"account_number": ONWARD_ACCOUNT, "bank": "ABC", "holder_name": "李四", "amount": "200.00", "at": at}
    actions.submit_result(
        done,
        acting_user=ccb_liaison,
        status="completed",
        executed_at=timezone.now() - timedelta(minutes=5),
        result={"amount_held": "300.00", "onward_transfers": [onward]},
    )
    objs["done"] = done
    for user in users:
        Notification.objects.create(
            user=user, kind="rejected", title=f"退回 {VICTIM_ACCOUNT}", body="联系 13800000000", dedupe_key="planted"
        )


def without_own_input(text: str, data: dict) -> str:
    """The page less what only echoes the caller's own input (a search box keeps what was typed)."""
    for value in data.values():
        if isinstance(value, str) and value:
            text = text.replace(f'value="{value}"', 'value=""')
    return text


def body_of(response) -> str:
    if response.get("Content-Type", "").startswith("application/vnd.openxmlformats"):
        # A spreadsheet (the review's export): every cell's text is what it shows.
        from io import BytesIO

        from openpyxl import load_workbook

        book = load_workbook(BytesIO(response.content), read_only=True)
        return "\n".join(
            " ".join("" if v is None else str(v) for v in row)
            for sheet in book.worksheets
            for row in sheet.iter_rows(values_only=True)
        )
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode("utf-8-sig")
    return response.content.decode()


def test_the_walk_covers_every_page():
    reached = {
        resolve(
            url(
                {
                    "case": _Pk(),
                    "task": _Pk(),
                    "pending": _Pk(),
                    "rejected": _Pk(),
                    "notification": _Pk(),
                    "item": _Pk(),
                    "job": _Pk(),
                    "warning": _Pk(),
                }
            ).split("?")[0]
        ).url_name
        for _page, _method, url, _expected in MATRIX
    }
    missing = page_names() - reached - NO_CASE_DATA
    assert not missing, f"pages the masking walk does not reach (add them to test_access.MATRIX): {sorted(missing)}"


class _Pk:
    pk = 1
    target_id = 1
    case_id = 1


@pytest.mark.parametrize("role", ROLES)
def test_every_page_masks_and_audits_as_the_rule_says(client, request, objects, analyst, ccb_liaison, role):  # noqa: F811
    users = [request.getfixturevalue(r) for r in ROLES if r != "anonymous"]
    plant(objects, analyst, ccb_liaison, users)
    user = request.getfixturevalue(role) if role != "anonymous" else None
    if user is not None:
        client.force_login(user)
    # The pages the matrix names, and the pages of the objects planted here.
    rows = [(page, method, url) for page, method, url, _expected in MATRIX]
    rows.append(("task page (result)", "get", lambda o: f"/tasks/{o['done'].pk}/"))
    rows.append(("audit, a case's rows", "get", lambda o: f"/audit/?case={o['case'].pk}"))
    rows.append(("audit csv, a case's rows", "get", lambda o: f"/audit/?format=csv&case={o['case'].pk}"))
    leaks, unaudited, twice = [], [], []
    for page, method, url in rows:
        with transaction.atomic():
            last = AuditRecord.objects.order_by("-id").values_list("id", flat=True).first() or 0
            if method == "post":
                data = post_data(page, objects)
                response = client.post(url(objects), data)
                text = without_own_input(body_of(response), data)
            else:
                response = client.get(url(objects))
                text = body_of(response)
            reads = list(AuditRecord.objects.filter(id__gt=last, action__in=READ_ACTIONS).values("user_id"))
            transaction.set_rollback(True)
        shown = {name for name, value in PLANTED.items() if value in text}
        if leaked := shown - FULL[role]:
            leaks.append((page, sorted(leaked)))
        if len(reads) > 1:
            twice.append((page, len(reads)))
        if shown and not any(r["user_id"] == user.pk for r in reads):
            unaudited.append((page, sorted(shown)))
    assert not leaks, f"{role} reads in full what it should see masked: {leaks}"
    assert not twice, f"more than one read-audit row for one request: {twice}"
    assert not unaudited, f"{role} was shown personal data in full with no read-audit row: {unaudited}"
