"""A police station works a warning in the browser: its inbox, the person in full, the contact form.

The sub-bureau hands the warning over with one button first. Screenshots go to
test-artifacts/screenshots/.
"""

from __future__ import annotations

import pytest

from dissuasion.intake import take_clues
from dissuasion.models import Warning
from tests.conftest import agency, make_user

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_a_station_works_a_warning(live_server, login, screenshots):
    bank = make_user("ui_w_icbc", "ICBC", "liaison")
    bureau = make_user("ui_w_wuhou", "PSB-WUHOU", "liaison")
    station = make_user("ui_w_yulin", "PS-WUHOU-YULIN", "liaison")
    [entry] = take_clues(
        agency("ICBC"),
        bank,
        [
            {
                "source_reference": "UI-W-1",
                "phone": "13800000000",
                "name": "王五",
                "district": "wuhou",
                "level": "high",
                "reason": "向已报案账户转账",
                "amount": "30000.00",
            }
        ],
    )
    errors: list[str] = []

    # The sub-bureau holds it (no address): it hands it to Yulin in one action.
    page = login(bureau.username)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{live_server.url}/warnings/{entry.warning}/")
    page.select_option("#id_station", "PS-WUHOU-YULIN")
    screenshots(page, "warnings-01-hand-over")
    page.click("#hand-over")
    page.wait_for_load_state()
    assert "13800000000" not in page.content()  # no longer its to reach

    # The station: the warning in its inbox, the person in full, the contact recorded.
    page = login(station.username)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(live_server.url + "/warnings/")
    row = page.locator(f'#warnings tr[data-warning="{entry.warning}"]')
    assert row.count() == 1
    row.locator("a").first.click()
    page.wait_for_load_state()
    assert "13800000000" in page.locator("#warning-person").inner_text()
    screenshots(page, "warnings-02-station")
    page.select_option("#id_method", "call")
    page.select_option("#id_outcome", "reached")
    page.click("#record-contact")
    page.wait_for_load_state()
    assert page.locator("#warning-outcome").inner_text().strip() == "已劝阻"
    screenshots(page, "warnings-03-reached")
    warning = Warning.objects.get(pk=entry.warning)
    assert warning.outcome == "reached" and warning.contact_method == "call"
    assert errors == []
