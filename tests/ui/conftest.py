"""Playwright against pytest-django's live server (real PostgreSQL and Redis).

Debian's Chromium at /usr/lib/chromium/chromium (``playwright install`` cannot
download here); CJK text needs fonts-wqy-zenhei. Screenshots go to
test-artifacts/screenshots/.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# The sync Playwright API runs an event loop in this thread; Django's ORM calls in
# the test body are still plain synchronous code.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = "/usr/lib/chromium/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
PASSWORD = "pw-12345678"


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.skip("Chromium is not installed (make sysdeps-test installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def screenshots():
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def shoot(page, name: str) -> None:
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)

    return shoot


@pytest.fixture
def login(browser, live_server):
    """A fresh browser context (its own cookies) logged in through the login page."""
    contexts = []

    def _login(username: str, *, locale: str = "zh-CN"):
        context = browser.new_context(locale=locale, viewport={"width": 1440, "height": 900})
        context.set_default_timeout(15000)
        contexts.append(context)
        page = context.new_page()
        page.goto(live_server.url + "/accounts/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", PASSWORD)
        page.click("main form button[type=submit]")
        page.wait_for_load_state()
        assert "/accounts/login/" not in page.url, f"login failed for {username}"
        return page

    yield _login
    for context in contexts:
        context.close()
