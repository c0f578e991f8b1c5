"""The inbox on a phone (390 x 844): no horizontal overflow, the accept button on screen,
a new task arriving at the top by itself, and bulk accept.

Screenshots go to test-artifacts/screenshots/.
"""

from __future__ import annotations

import pytest

from cases import actions
from cases.models import Task
from tests.conftest import make_case, make_user

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


def test_inbox_at_390_px_live_and_bulk_accept(live_server, login, screenshots, analyst):
    first = make_case(analyst)
    [older] = actions.issue_stop_payments(first, acting_user=analyst)
    second = make_case(analyst, to_account="6217000010088881234")
    [newer] = actions.issue_stop_payments(second, acting_user=analyst)
    liaison = make_user("ui_q_ccb", "CCB", "liaison")
    errors: list[str] = []

    page = login(liaison.username)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.set_viewport_size(PHONE)
    page.goto(live_server.url + "/inbox/")
    rows = page.locator("#inbox-rows tr[data-task]")
    assert rows.count() == 2
    assert rows.first.get_attribute("data-task") == str(newer.pk)  # newest first

    # Nothing wider than the phone; the first row's accept button fully on screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    box = rows.first.locator("button.accept").bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    # What the bank verifies: the victim's payer account, masked, and the transfer's time.
    payment = rows.first.locator("td.payments").inner_text()
    assert "6222" in payment and "3445" in payment and "*" in payment
    screenshots(page, "queues-01-inbox-390px")

    # A task approved meanwhile appears at the top by itself (HTMX polling).
    third = make_case(analyst, to_account="6217000010077770000")
    [newest] = actions.issue_stop_payments(third, acting_user=analyst)
    page.wait_for_selector(f'#inbox-rows tr[data-task="{newest.pk}"]', timeout=15000)
    assert rows.first.get_attribute("data-task") == str(newest.pk)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    # Bulk accept: tick two, one click; each goes through the accept action.
    page.check(f"#task-{older.pk}")
    page.check(f"#task-{newer.pk}")
    screenshots(page, "queues-02-inbox-ticked")
    page.click("#accept-selected")
    page.wait_for_selector(".messages .msg-success")
    states = dict(Task.objects.filter(pk__in=[older.pk, newer.pk, newest.pk]).values_list("pk", "state"))
    assert states == {older.pk: "accepted", newer.pk: "accepted", newest.pk: "dispatched"}
    assert page.locator(f"#task-{older.pk}").is_disabled()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshots(page, "queues-03-inbox-accepted")
    assert not errors, errors
