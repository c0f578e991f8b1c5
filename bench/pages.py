"""Page timings: each main page of the browser UI, logged in, against the bench's gunicorn.

Contract (see ``bench/__main__.py``): ``run(ctx) -> dict``. From ``ctx`` this
section uses ``base_url``/``port`` (the running gunicorn, production settings),
``database_url`` (to pick real ids of the seeded data set), ``duration`` (seconds
per page, capped at 10), ``only`` and ``log``. If ``ctx`` carries ``users`` =
``{role: (username, password)}`` those people are used; otherwise the section
creates its own (``bench_page_<role>``) with ``agencies.actions.create_user``.

People log in through the real login page (CSRF and all), then each page is
requested sequentially by one client for the time allowed: the figure is the
latency a person waits for, not throughput. Every row reports p50/p95/p99 in ms;
the issue's target is p95 < 200 ms at 100,000 cases.
"""

from __future__ import annotations

import http.client
import random
import re
import time
from datetime import datetime, timedelta
from http.cookies import SimpleCookie
from urllib.parse import urlencode

from .api import search_queries
from .common import percentile

PASSWORD = "bench-pages-Pw-2026"
ROLES = {
    "analyst": ("AFC", "analyst"),
    "supervisor": ("AFC", "supervisor"),
    "auditor": ("AFC", "auditor"),
    "liaison": ("CCB", "liaison"),
    "manager": ("CCB", "manager"),
}
TARGET_MS = 200.0


class Browser:
    """A minimal cookie-keeping HTTP client for one person."""

    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: dict | None = None) -> tuple[int, str, dict]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {"Accept": "text/html", "Accept-Language": "zh-hans"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Referer"] = f"http://127.0.0.1:{self.port}{path}"
            headers["Origin"] = f"http://127.0.0.1:{self.port}"
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            text = response.read().decode("utf-8", "replace")
            for header in response.headers.get_all("Set-Cookie") or []:
                cookie = SimpleCookie()
                cookie.load(header)
                for key, morsel in cookie.items():
                    self.cookies[key] = morsel.value
            return response.status, text, dict(response.headers)
        finally:
            conn.close()

    def login(self, username: str, password: str) -> None:
        status, text, _ = self.request("GET", "/accounts/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', text)
        if status != 200 or not token:
            raise RuntimeError(f"login page answered {status}")
        status, _text, _headers = self.request(
            "POST",
            "/accounts/login/",
            {"csrfmiddlewaretoken": token.group(1), "username": username, "password": password, "next": "/"},
        )
        if status != 302 or "sessionid" not in self.cookies:
            raise RuntimeError(f"login of {username} failed ({status})")


def ensure_users(ctx) -> dict[str, tuple[str, str]]:
    given = getattr(ctx, "users", None) or {}
    if given:
        return dict(given)
    from agencies.actions import create_user
    from agencies.models import Agency, User

    users = {}
    for role, (code, role_name) in ROLES.items():
        username = f"bench_page_{role}"
        user = User.objects.filter(username=username).first()
        if user is None:
            user = create_user(
                username=username, agency=Agency.objects.get(code=code), role=role_name, acting_user=None
            )
        user.set_password(PASSWORD)
        user.save(update_fields=["password"])
        users[role] = (username, PASSWORD)
    return users


def sample_paths(ctx) -> dict[str, list[str]]:
    """Real addresses in the seeded data: random cases, known accounts, tasks of CCB."""
    import psycopg

    rng = random.Random(11)
    with psycopg.connect(ctx.database_url) as conn:
        max_case = conn.execute("SELECT coalesce(max(id), 1) FROM cases_case").fetchone()[0]
        accounts = [
            r[0]
            for r in conn.execute(
                "SELECT value FROM cases_identifier WHERE kind = 'bank_account' AND case_count > 0 "
                "ORDER BY id LIMIT 500"
            ).fetchall()
        ]
        names = [r[0] for r in conn.execute("SELECT name FROM cases_victim ORDER BY id LIMIT 200").fetchall()]
        refs = [r[0] for r in conn.execute("SELECT reference FROM cases_case ORDER BY id DESC LIMIT 200").fetchall()]
        district = conn.execute("SELECT id FROM cases_district ORDER BY id LIMIT 1").fetchone()[0]
        ccb = conn.execute("SELECT id FROM agencies_agency WHERE code = 'CCB'").fetchone()[0]
        tasks = [
            r[0]
            for r in conn.execute(
                "SELECT id FROM cases_task WHERE agency_id = %s ORDER BY id DESC LIMIT 200", [ccb]
            ).fetchall()
        ]
        partial = [f"/cases/?{urlencode({'q': q})}" for q in search_queries(conn, rng)]
        deep = conn.execute(
            "SELECT reported_at, id FROM cases_case ORDER BY reported_at DESC, id DESC OFFSET %s LIMIT 1",
            [max(0, ctx.cases // 2)],
        ).fetchone()
    cases = [rng.randint(1, max_case) for _ in range(500)]
    today = datetime.now().date()
    d0, d1 = (today - timedelta(days=40)).isoformat(), (today - timedelta(days=10)).isoformat()
    deep_cursor = urlencode({"after": f"{deep[0].isoformat()}|{deep[1]}"}) if deep else ""
    return {
        "case_list": ["/cases/"],
        "case_list_deep": [f"/cases/?{deep_cursor}"],
        "case_list_district": [f"/cases/?district={district}&status=open"],
        "case_list_agency": ["/cases/?agency=CCB", "/cases/?agency=ICBC", "/cases/?agency=ALIPAY"],
        "case_list_dates": [f"/cases/?date_from={d0}&date_to={d1}&sort=-loss_amount"],
        "case_search_account": [f"/cases/?{urlencode({'q': a})}" for a in accounts]
        or ["/cases/?q=6217000010012345678"],
        "case_search_name": [f"/cases/?{urlencode({'q': n})}" for n in names] or ["/cases/?q=张三"],
        "case_search_reference": [f"/cases/?{urlencode({'q': r})}" for r in refs] or ["/cases/"],
        "case_search_partial": partial,
        "case_search_masked": partial,
        "case_page": [f"/cases/{i}/" for i in cases],
        "dashboard": ["/dashboard/"],
        "approvals": ["/approvals/"],
        "attention": ["/attention/", "/attention/?kind=overdue"],
        "inbox": ["/inbox/"],
        "inbox_search": ["/inbox/?q=0000&sort=urgent"],
        "task_page_liaison": [f"/tasks/{t}/" for t in tasks] or ["/inbox/"],
        "notifications": ["/notifications/"],
        "my_agency": ["/agency/"],
        "audit": ["/audit/"],
    }


# page -> the role that uses it
PAGES = {
    "case_list": "analyst",
    "case_list_deep": "analyst",
    "case_list_district": "analyst",
    "case_list_agency": "analyst",
    "case_list_dates": "analyst",
    "case_search_account": "analyst",
    "case_search_name": "analyst",
    "case_search_reference": "analyst",
    "case_search_partial": "analyst",
    "case_search_masked": "auditor",
    "case_page": "analyst",
    "dashboard": "analyst",
    "approvals": "supervisor",
    "attention": "supervisor",
    "inbox": "liaison",
    "inbox_search": "liaison",
    "task_page_liaison": "liaison",
    "notifications": "analyst",
    "my_agency": "manager",
    "audit": "auditor",
}


def time_page(browser: Browser, paths: list[str], seconds: float) -> dict:
    rng = random.Random(5)
    latencies, errors, statuses = [], 0, {}
    browser.request("GET", paths[0])  # warm the worker's connection and caches
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        path = rng.choice(paths)
        started = time.perf_counter()
        status, _body, _h = browser.request("GET", path)
        latencies.append(time.perf_counter() - started)
        statuses[status] = statuses.get(status, 0) + 1
        if status != 200:
            errors += 1
    latencies.sort()
    total = sum(latencies) or 1
    return {
        "requests": len(latencies),
        "errors": errors,
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "rps": round(len(latencies) / total, 1),
        "p50_ms": round(percentile(latencies, 0.50) * 1000, 2),
        "p95_ms": round(percentile(latencies, 0.95) * 1000, 2),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 2),
        "concurrency": 1,
    }


def ensure_static() -> bool:
    """Pages name their stylesheet and scripts through the static manifest (DEBUG off).

    Returns True when the manifest had to be built now: a server started before
    that has no manifest in memory, so the section then starts its own.
    """
    from django.conf import settings
    from django.core.management import call_command

    if (settings.STATIC_ROOT / "staticfiles.json").exists():
        return False
    call_command("collectstatic", interactive=False, verbosity=0)
    return True


def run(ctx) -> dict:
    if ensure_static():
        from .common import Server

        ctx.log("  static files collected; pages are timed against a gunicorn started after that")
        with Server(ctx.database_url, ctx.redis_url, workers=3) as server:
            return measure(ctx, server.port)
    return measure(ctx, ctx.port)


def measure(ctx, port: int) -> dict:
    users = ensure_users(ctx)
    paths = sample_paths(ctx)
    browsers: dict[str, Browser] = {}
    seconds = min(float(getattr(ctx, "duration", 5.0)), 10.0)
    results: dict = {}
    for page, role in PAGES.items():
        if ctx.only and page not in ctx.only:
            continue
        if role not in browsers:
            browser = Browser(port)
            browser.login(*users[role])
            browsers[role] = browser
        ctx.log(f"  pages/{page} ...")
        results[page] = time_page(browsers[role], paths[page], seconds)
    measured = [v for v in results.values() if isinstance(v, dict) and "p95_ms" in v]
    results["target_p95_under_200ms"] = bool(measured) and all(v["p95_ms"] < TARGET_MS for v in measured)
    return results
