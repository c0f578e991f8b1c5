"""The Content-Security-Policy header, and templates and scripts that need nothing it forbids."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import override_settings
from django.urls import reverse

from coordination.security import DEFAULT_POLICY, ContentSecurityPolicyMiddleware

ROOT = Path(__file__).resolve().parents[2]


def directives(header: str) -> dict[str, list[str]]:
    out = {}
    for part in header.split(";"):
        name, *sources = part.split()
        out[name] = sources
    return out


STRICT = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url", "login"),
    [
        ("/accounts/login/", False),  # a page
        ("/no-such-page/", False),  # an error page
        ("/api/v1/reference/", True),  # the API
        ("/api/docs/", True),  # Swagger UI
        ("/", True),
    ],
)
def test_every_response_carries_the_strict_policy(client, analyst, url, login):
    if login:
        client.force_login(analyst)
    response = client.get(url)
    header = response.headers.get("Content-Security-Policy")
    assert header, f"{url}: no Content-Security-Policy"
    found = directives(header)
    for name, sources in STRICT.items():
        assert found.get(name) == sources, f"{url}: {name} is {found.get(name)}, expected {sources}"
    assert "'unsafe-inline'" not in header and "'unsafe-eval'" not in header
    assert "Content-Security-Policy-Report-Only" not in response.headers


def test_report_only_sends_the_other_header(rf):
    with override_settings(CSP_REPORT_ONLY=True):
        middleware = ContentSecurityPolicyMiddleware(lambda request: __import__("django").http.HttpResponse("x"))
        response = middleware(rf.get("/"))
    assert "Content-Security-Policy" not in response.headers
    assert "script-src 'self'" in response.headers["Content-Security-Policy-Report-Only"]


def test_the_default_policy_has_no_unsafe_source():
    flat = " ".join(s for sources in DEFAULT_POLICY.values() for s in sources)
    assert "unsafe" not in flat and "*" not in flat and "http" not in flat


# What the policy would block, as it appears in a template or our own script.
FORBIDDEN = [
    (re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/(?:ld\+)?json\")[^>]*>", re.I), "inline script"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "inline event handler"),
    (re.compile(r"\sstyle\s*=", re.I), "style attribute"),
    (re.compile(r"<style", re.I), "<style> element"),
    (re.compile(r"javascript:", re.I), "javascript: URL"),
    (re.compile(r"hx-trigger=\"[^\"]*\["), "htmx trigger filter (eval)"),
    (re.compile(r"hx-on|hx-vars|js:", re.I), "htmx attribute evaluated as script"),
]


COMMENT = re.compile(r"\{#.*?#\}|\{% comment %\}.*?\{% endcomment %\}|<!--.*?-->", re.S)


def test_templates_and_scripts_need_no_inline_code():
    files = [*ROOT.glob("templates/**/*.html"), *ROOT.glob("*/templates/**/*.html"), *ROOT.glob("static/js/*.js")]
    assert files
    found = []
    for path in files:
        text = COMMENT.sub(lambda m: "\n" * m.group(0).count("\n"), path.read_text(encoding="utf-8"))
        if path.suffix == ".js":
            # Our script may not write markup with handlers or styles either.
            text = "\n".join(line for line in text.splitlines() if "innerHTML" in line or "setAttribute" in line)
        for pattern, what in FORBIDDEN:
            for match in pattern.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                found.append(f"{path.relative_to(ROOT)}:{line}: {what}: {match.group(0)!r}")
    assert not found, "\n".join(found)


def test_htmx_runs_without_eval_and_injected_styles(client):
    html = client.get(reverse("login")).content.decode()
    assert 'name="htmx-config"' in html
    assert '"allowEval": false' in html and '"includeIndicatorStyles": false' in html
