"""The pages under the Content-Security-Policy, in Chromium: not one violation.

Every row of the accessibility table (``test_accessibility.PAGES``) is loaded as
each role that may see it, plus the API docs (Swagger UI) and the admin's login;
the polls of the header, the inbox and the case page run (their pause logic is
in app.js, not in an htmx filter, which would need eval), the money-flow graph
and the dashboard's charts draw. A ``securitypolicyviolation`` event, a console
error naming the policy or a script error fails the test, with the page named.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.conftest import make_user

from .test_accessibility import PAGES, USERS, build_objects, log_in

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

# Runs before any of the page's own scripts (a DevTools script, not subject to the policy).
LISTEN = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', (e) => {
  const where = `${e.sourceFile || '-'}:${e.lineNumber}`;
  window.__csp.push(`${e.effectiveDirective} blocked ${e.blockedURI || 'inline'} at ${where}`);
});
"""
EXTRA = {
    "analyst": ["/api/docs/"],
    "anonymous": ["/admin/login/"],
}
# Pages whose polls should fire at least once while we watch (seconds).
POLLED = {"case-detail": 5.5, "inbox": 3.5}


def watch(page, problems: list[str], label: dict) -> None:
    page.on("pageerror", lambda exc: problems.append(f"{label['now']}: script error {exc}"))
    page.on(
        "console",
        lambda msg: (
            problems.append(f"{label['now']}: console {msg.type}: {msg.text}")
            if msg.type == "error" and ("Content Security Policy" in msg.text or "Refused" in msg.text)
            else None
        ),
    )


def violations(page) -> list[str]:
    return page.evaluate("window.__csp || []")


@pytest.mark.parametrize("role", ["anonymous", *USERS])
def test_pages_raise_no_csp_violation(live_server, browser, role):
    users = {key: make_user(*spec) for key, spec in USERS.items()}
    objects = {**build_objects(users), "role": role}
    context = browser.new_context(locale="zh-CN", viewport={"width": 1440, "height": 900})
    context.set_default_timeout(15000)
    context.add_init_script(LISTEN)
    page = context.new_page()
    problems: list[str] = []
    label = {"now": "login"}
    watch(page, problems, label)
    try:
        if role != "anonymous":
            log_in(page, live_server, users[role])
            problems += [f"login: {v}" for v in violations(page)]
        urls = [
            (row.name, row.url(objects)) for row in PAGES if role in row.roles and row.name not in ("500", "locked-out")
        ]
        urls += [(url, url) for url in EXTRA.get(role, [])]
        for name, url in urls:
            label["now"] = f"{role} {name} {url}"
            response = page.goto(live_server.url + url)
            assert response is not None
            header = response.headers.get("content-security-policy", "")
            if "script-src 'self'" not in header:
                problems.append(f"{label['now']}: no policy header ({header!r})")
            page.wait_for_load_state("networkidle")
            if name in POLLED:
                page.wait_for_timeout(POLLED[name] * 1000)
            problems += [f"{label['now']}: {v}" for v in violations(page)]
        if role == "analyst":
            # The intake form's inline checks (htmx POST) and a formset row added by app.js.
            label["now"] = "analyst case-create interactions"
            page.goto(live_server.url + reverse("case-create"))
            page.wait_for_load_state("networkidle")
            add = page.locator("[data-add-row]").first
            if add.count():
                add.click()
            page.wait_for_load_state("networkidle")
            problems += [f"{label['now']}: {v}" for v in violations(page)]
    finally:
        context.close()
    assert not problems, "\n".join(problems)
