"""Every page, as each role that may see it, in Chinese and English, on a desk and a phone.

axe-core (the npm package pinned in package-lock.json, installed by ``make test``;
never a CDN) runs on each page and no violation of impact serious or critical may
remain. At 390 px the document may not scroll sideways and every button of the
page's content, its primary ones first, must be on screen. A screenshot of each
page at 390 px goes to test-artifacts/screenshots/a11y-*.png.

``PAGES`` is the one table to extend. ``test_every_page_is_in_the_table`` reads
the URLconf, so a new page fails until it has a row here (or a line in
``NOT_PAGES`` saying why it is not a page).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from django.test import RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone, translation

from agencies.models import Agency
from cases import actions
from tests.conftest import make_case, make_user

from .conftest import PASSWORD

BROWSER_MARKS = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
# axe is loaded as a same-origin script file (served by ``page.route``), so the pages keep
# their Content-Security-Policy (script-src 'self') while axe checks them: an inline
# ``add_script_tag(path=...)`` would be refused, and ``bypass_csp`` would check pages
# as no user sees them.
AXE_URL = "/__a11y__/axe.min.js"
LANGUAGES = ("zh-CN", "en")
VIEWPORTS = {"desk": (1440, 900), "phone": (390, 844)}
BLOCKING = ("serious", "critical")

CENTRE = ("analyst", "supervisor")
READERS = ("analyst", "supervisor", "auditor")
AGENCY = ("liaison", "manager")
SIGNED_IN = (*READERS, *AGENCY)


@dataclass(frozen=True)
class Page:
    """One page to check: its URL name, who may see it, how to reach it, what must be on screen."""

    name: str  # the URL name (or the error page's label)
    roles: tuple[str, ...]  # role keys of ``USERS``, or "anonymous"
    url: Callable[[dict], str]
    primary: str = ""  # a selector: at least one must match and be on screen at 390 px
    status: int = 200


def named(name: str, *args: str) -> Callable[[dict], str]:
    return lambda o: reverse(name, args=[o[a].pk for a in args])


# The table. Rows for one URL name may repeat for roles that see different buttons.
PAGES = [
    Page("home", SIGNED_IN, named("home")),
    Page("case-list", READERS, named("case-list"), primary="form[role=search] button[type=submit]"),
    Page("case-create", ("analyst",), named("case-create"), primary="form#intake button[type=submit]"),
    Page("case-detail", CENTRE, named("case-detail", "fresh"), primary="#issue-stop-payments"),
    Page("case-detail", READERS, named("case-detail", "case")),
    Page("task-detail", ("supervisor",), named("task-detail", "pending"), primary="#approve"),
    Page("task-detail", READERS, named("task-detail", "dispatched")),
    Page("task-detail", AGENCY, named("task-detail", "dispatched"), primary="#accept"),
    Page("task-detail", AGENCY, named("task-detail", "accepted"), primary="#submit-result"),
    Page("inbox", AGENCY, named("inbox"), primary="#inbox-rows button[type=submit]"),
    Page("approvals", ("supervisor",), named("approvals"), primary="button[value=approve]"),
    Page("attention", ("supervisor",), named("attention"), primary="#attention button[type=submit]"),
    Page("case-edit", CENTRE, named("case-edit", "fresh"), primary="#correct-case button[type=submit]"),
    Page(
        "measure-create",
        CENTRE,
        lambda o: reverse("measure-create", args=[o["fresh"].pk, "other"]),
        primary="#submit-measure",
    ),
    Page("convert-freezes", CENTRE, named("convert-freezes", "case")),
    Page(
        "fund-return",
        CENTRE,
        lambda o: reverse("fund-return", args=[o["case"].pk, o["held"].target_id]),
        primary="#submit-return",
    ),
    Page("task-renew", CENTRE, named("task-renew", "held")),
    Page("task-reissue", CENTRE, named("task-reissue", "rejected"), primary="#reissue"),
    Page("dashboard", READERS, named("dashboard")),
    Page("review", (*READERS, "manager"), named("review"), primary="#review-period button[type=submit]"),
    Page("review-tasks", READERS, lambda o: reverse("review-tasks") + "?agency=CCB&figure=received"),
    Page("review-weights", ("supervisor",), named("review-weights"), primary="main form button[type=submit]"),
    Page("supervision-list", ("supervisor",), named("supervision-list"), primary="main form button[type=submit]"),
    Page("supervision-list", AGENCY, named("supervision-list")),
    Page("supervision-detail", ("manager",), named("supervision-detail", "item"), primary="main form button"),
    Page("notifications", (*CENTRE, *AGENCY), named("notifications"), primary="main button[type=submit]"),
    Page("notifications", ("auditor",), named("notifications")),  # nothing to do: no "mark done"
    Page("my-agency", ("manager",), named("my-agency"), primary="main form button[type=submit]"),
    Page("warning-list", (*READERS, *AGENCY), named("warning-list")),
    Page("warning-new", CENTRE, named("warning-new")),
    Page("warning-detail", (*READERS, *AGENCY), named("warning-detail", "warning")),
    Page("import-list", CENTRE, named("import-list"), primary="#check"),
    Page("import-detail", CENTRE, named("import-detail", "job"), primary="#start"),
    Page("statement-import", CENTRE, named("statement-import", "dispatched"), primary="#check-statement"),
    Page("audit", ("auditor",), named("audit"), primary="form[role=search] button[type=submit]"),
    Page("password_change", ("analyst",), named("password_change"), primary="main form [type=submit]"),
    Page("password_change_done", ("analyst",), named("password_change_done")),
    Page("login", ("anonymous",), named("login"), primary="main form button[type=submit]"),
    Page("password_reset", ("anonymous",), named("password_reset"), primary="main form [type=submit]"),
    Page("password_reset_done", ("anonymous",), named("password_reset_done")),
    Page("password_reset_confirm", ("anonymous",), lambda o: "/accounts/reset/MQ/invalid-token/"),
    Page("password_reset_complete", ("anonymous",), named("password_reset_complete")),
    # A page of another role: the analyst has no inbox, the bank no case list.
    Page(
        "403", ("analyst", "liaison"), lambda o: reverse({"analyst": "inbox"}.get(o["role"], "case-list")), status=403
    ),
    Page("404", ("analyst", "liaison"), lambda o: reverse("case-detail", args=[999999]), status=404),
    Page("404", ("anonymous",), lambda o: "/no-such-page/", status=404),
    Page("500", ("anonymous",), lambda o: "/__a11y__/500/", status=500),  # served by page.route (the test)
    Page("locked-out", ("anonymous",), lambda o: "", status=429),  # reached by failing to log in, see lock_out
]

# Routes of the URLconf that are not pages of their own, and why.
NOT_PAGES = {
    "case-changes": "htmx fragment polled by the case page",
    "case-action": "POST only (one-click actions of the case page)",
    "task-action": "POST only (accept, reject, approve, return)",
    "field-check": "htmx POST fragment of the intake form",
    "dashboard-csv": "CSV download",
    "review-export": "XLSX download",
    "notification-badge": "htmx fragment of the header",
    "notification-done": "POST only (mark one notification done)",
    "notification-group-done": "POST only (mark a case's notifications done)",
    "logout": "POST only",
    "import-template": "XLSX/CSV download",
    "import-progress": "htmx fragment polled by the import page",
    "import-action": "POST only (start, cancel, resume an import)",
}
# Top-level prefixes whose routes are not this product's pages: Django's admin, the
# API (JSON, its docs are drf-spectacular's), the language switch (POST) and health.
NOT_PAGE_PREFIXES = ("admin/", "api/", "i18n/", "health/")

USERS = {
    "analyst": ("a11y_analyst", "AFC", "analyst"),
    "supervisor": ("a11y_supervisor", "AFC", "supervisor"),
    "auditor": ("a11y_auditor", "AFC", "auditor"),
    "liaison": ("a11y_ccb", "CCB", "liaison"),
    "manager": ("a11y_ccb_mgr", "CCB", "manager"),
}


def url_names() -> set[str]:
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


def test_every_page_is_in_the_table():
    missing = url_names() - {p.name for p in PAGES} - set(NOT_PAGES)
    assert not missing, f"pages without a row in PAGES (or a reason in NOT_PAGES): {sorted(missing)}"
    stale = set(NOT_PAGES) - url_names()
    assert not stale, f"NOT_PAGES names no longer in the URLconf: {sorted(stale)}"


# Receiving accounts at CCB, one case each: dispatched, accepted, pending approval, no task yet.
ACCOUNTS = (
    "6217000010022222222",
    "6217000010033333333",
    "6217000010055555555",
    "6217000010044444444",
    "6217000010066666666",
)


def build_objects(users: dict) -> dict:
    analyst, liaison = users["analyst"], users["liaison"]
    case = make_case(analyst, extra_transfers=2)
    tasks = actions.issue_stop_payments(case, acting_user=analyst)
    held = next(t for t in tasks if t.agency.code == "CCB")
    actions.accept_task(held, acting_user=liaison)
    actions.submit_result(
        held,
        acting_user=liaison,
        status="completed",
        result={
            "amount_held": "31000.00",
            "balance": "31000.00",
            "onward_transfers": [
                {
                    "account_number": "6230000000000001",
                    "bank": "ABC",
                    "holder_name": "李四",
                    "amount": "21000.00",
                    "at": (timezone.now() - timedelta(minutes=25)).isoformat(),
                }
            ],
        },
    )
    [dispatched] = actions.issue_stop_payments(make_case(analyst, to_account=ACCOUNTS[0]), acting_user=analyst)
    [accepted] = actions.issue_stop_payments(make_case(analyst, to_account=ACCOUNTS[1]), acting_user=analyst)
    actions.accept_task(accepted, acting_user=liaison)
    [pending] = actions.issue_stop_payments(
        make_case(analyst, to_account=ACCOUNTS[2]), acting_user=analyst, approve=False
    )
    fresh = make_case(analyst, to_account=ACCOUNTS[3])
    # A number trace waits for the supervisor (the approval queue holds only such types).
    actions.create_task(
        fresh,
        acting_user=analyst,
        type="number_trace",
        agency=Agency.objects.get(code="CMCC"),
        target_kind="phone",
        target_value="13900001111",
    )
    # Refused by the bank: on the supervisor's "needs attention" page, re-issued by the centre.
    [rejected] = actions.issue_stop_payments(make_case(analyst, to_account=ACCOUNTS[4]), acting_user=analyst)
    rejected = actions.reject_task(rejected, acting_user=liaison, reason="账户信息不符")
    from review.models import SupervisionItem

    item = SupervisionItem.objects.create(
        resolution="提升止付响应速度",
        owner=Agency.objects.get(code="CCB"),
        deadline=timezone.now() + timedelta(days=7),
        created_by=analyst,
    )
    from dissuasion.intake import take_clues
    from dissuasion.models import Warning

    # A clue CCB's risk system sent (no address: it waits at the Wuhou sub-bureau).
    [entry] = take_clues(
        liaison.agency,
        liaison,
        [{"source_reference": "A11Y-1", "phone": "13800000000", "name": "王五", "district": "wuhou", "level": "high"}],
    )
    from imports.models import ImportJob

    job = ImportJob.objects.create(
        status="checked",
        file_name="历史案件.csv",
        file_sha256="0" * 64,
        content=b"",
        created_by=analyst,
        total=2,
        error_count=1,
        errors=[
            {
                "row": 3,
                "field": "loss_amount",
                "column_zh": "损失金额",
                "column_en": "Amount lost",
                "message_zh": "金额最多两位小数。",
                "message_en": "The amount has at most two decimals.",
            }
        ],
    )
    return {
        "job": job,
        "item": item,
        "warning": Warning.objects.get(pk=entry.warning),
        "case": case,
        "fresh": fresh,
        "held": held,
        "dispatched": dispatched,
        "accepted": accepted,
        "pending": pending,
        "rejected": rejected,
    }


def run_axe(page) -> list[str]:
    """axe's serious and critical violations on the page, one readable line per rule."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(url=AXE_URL)
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    lines = []
    for v in result["violations"]:
        if v["impact"] in BLOCKING:
            targets = ", ".join(json.dumps(n["target"]) for n in v["nodes"][:5])
            lines.append(f"{v['impact']} {v['id']}: {v['help']} ({len(v['nodes'])}x: {targets})")
    return lines


LAYOUT = r"""(primary) => {
  const out = [];
  const width = window.innerWidth;
  if (document.documentElement.scrollWidth > width) {
    const css = (e) => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
      + (typeof e.className === 'string' && e.className ? '.' + e.className.trim().split(/\s+/).join('.') : '');
    const wide = [...document.querySelectorAll('body *')]
      .filter(e => e.getBoundingClientRect().right > width + 1).slice(-3).map(css);
    const scroll = document.documentElement.scrollWidth;
    out.push(`document scrolls sideways: scrollWidth ${scroll} > ${width} (widest: ${wide.join(' ')})`);
  }
  const onScreen = (el) => {
    const r = el.getBoundingClientRect();
    if (!r.width || !r.height) return null;  // not displayed
    window.scrollTo(0, window.scrollY + r.top - window.innerHeight / 2);
    const s = el.getBoundingClientRect();
    if (s.left < -1 || s.right > width + 1) return false;
    const hit = document.elementFromPoint(s.left + s.width / 2, s.top + s.height / 2);
    return !!hit && (el === hit || el.contains(hit) || hit.contains(el));
  };
  const name = (el) => (el.id ? '#' + el.id + ' ' : '')
    + JSON.stringify((el.innerText || el.value || '').trim().slice(0, 40));
  const buttons = [...document.querySelectorAll('main button, main .btn, main input[type=submit]')];
  for (const el of buttons) {
    if (onScreen(el) === false) out.push(`button off screen: ${name(el)}`);
  }
  if (primary) {
    const shown = [...document.querySelectorAll(primary)].filter(el => onScreen(el) !== null);
    if (!shown.length) out.push(`no primary button shown (${primary})`);
    for (const el of shown) if (!onScreen(el)) out.push(`primary button off screen: ${name(el)}`);
  }
  window.scrollTo(0, 0);
  return out;
}"""


def check(page, row: Page, label: str, screenshots, language: str) -> list[str]:
    """Every check of one page already loaded: its language, axe at both widths, layout at 390 px."""
    problems = []
    lang = page.evaluate("document.documentElement.lang")
    if lang != {"zh-CN": "zh-Hans"}.get(language, language):
        problems.append(f"{label}: <html lang={lang!r}> in a {language} browser")
    for viewport, (width, height) in VIEWPORTS.items():
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_timeout(100)  # media queries and the charts' resize
        problems += [f"{label} {viewport}: {p}" for p in run_axe(page)]
        if viewport == "phone":
            problems += [f"{label} {viewport}: {p}" for p in page.evaluate(LAYOUT, row.primary)]
            screenshots(page, f"a11y-{label}")
    return problems


def visit(page, live_server, row: Page, objects: dict, label: str, screenshots, language: str) -> list[str]:
    response = page.goto(live_server.url + row.url(objects))
    page.wait_for_load_state("networkidle")
    problems = []
    if response is None or response.status != row.status:
        problems.append(f"{label}: status {response and response.status}, expected {row.status}")
    if "/accounts/login/" in page.url and row.name != "login":
        return [*problems, f"{label}: sent to the login page"]
    return problems + check(page, row, label, screenshots, language)


def lock_out(page, live_server) -> None:
    """Fail to log in until the account is locked: the lockout page is the answer."""
    for _ in range(6):
        page.goto(live_server.url + reverse("login"))
        page.fill("#id_username", "a11y_locked")
        page.fill("#id_password", "wrong-password")
        page.click("main form button[type=submit]")
        page.wait_for_load_state()
        if page.locator(".error-page").count():
            return


def serve_axe(route) -> None:
    route.fulfill(status=200, content_type="text/javascript; charset=utf-8", body=AXE.read_bytes())


def server_error_html(language: str) -> str:
    from coordination.views import error_500

    request = RequestFactory().get("/")
    with translation.override("en" if language == "en" else "zh-hans"):
        return error_500(request).content.decode()


def serve_server_error(language: str):
    """A route handler answering with the 500 page (nothing in the URLconf fails on purpose)."""
    html = server_error_html(language)

    def handler(route):
        route.fulfill(status=500, content_type="text/html; charset=utf-8", body=html)

    return handler


ROLE_PARAMS = [pytest.param(role, id=role, marks=BROWSER_MARKS) for role in ("anonymous", *USERS)]


def log_in(page, live_server, user) -> None:
    page.goto(live_server.url + reverse("login"))
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    assert "/accounts/login/" not in page.url, f"login failed for {user.username}"


@pytest.mark.parametrize("role", ROLE_PARAMS)
def test_pages_are_accessible_and_fit_a_phone(live_server, browser, screenshots, role):
    """One test per role (the data is built once); each language in its own browser context."""
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run `make nodedeps-test` (npm ci installs axe-core)")
    users = {key: make_user(*spec) for key, spec in USERS.items()}
    objects = {**build_objects(users), "role": role}
    problems: list[str] = []
    errors: list[str] = []
    for language in LANGUAGES:
        context = browser.new_context(locale=language, viewport={"width": 1440, "height": 900})
        context.set_default_timeout(15000)
        page = context.new_page()
        page.on("pageerror", lambda exc, language=language: errors.append(f"{language}: {exc}"))
        page.route("**" + AXE_URL, serve_axe)
        if role == "anonymous":
            page.route("**/__a11y__/500/", serve_server_error(language))
        else:
            log_in(page, live_server, users[role])
        try:
            for index, row in enumerate(PAGES):
                if role not in row.roles:
                    continue
                label = f"{role}-{language}-{index:02d}-{row.name}"
                if row.name == "locked-out":
                    lock_out(page, live_server)
                    problems += check(page, row, label, screenshots, language)
                else:
                    problems += visit(page, live_server, row, objects, label, screenshots, language)
        finally:
            context.close()
    problems += [f"script error: {e}" for e in errors]
    assert not problems, "\n".join(problems)
