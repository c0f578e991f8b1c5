"""The Content-Security-Policy of every response (Django 5.2 has none built in).

Pages load only the platform's own scripts and styles (``static/js/app.js``,
``static/css/app.css`` and the vendored libraries under ``static/vendor``): no
inline script, event handler, ``style`` attribute or ``javascript:`` URL, no eval
(htmx runs with ``allowEval: false``), nothing from another origin. The page may
not be framed, embed plugins, change its base URL or post a form elsewhere.
``tests/coordination/test_security_headers.py`` pins the header and
``tests/ui/test_csp.py`` loads the pages in Chromium and fails on any violation.

``settings.CONTENT_SECURITY_POLICY`` (a dict of directive → sources) is the one
place to change it; ``CSP_REPORT_ONLY`` sends it as
``Content-Security-Policy-Report-Only`` instead (to try a change on a live site).
"""

from __future__ import annotations

from django.conf import settings

DEFAULT_POLICY: dict[str, tuple[str, ...]] = {
    "default-src": ("'self'",),
    "script-src": ("'self'",),
    "style-src": ("'self'",),
    # Swagger UI and Chart.js draw small images as data: URIs.
    "img-src": ("'self'", "data:"),
    "font-src": ("'self'",),
    "connect-src": ("'self'",),
    "object-src": ("'none'",),
    "base-uri": ("'self'",),
    "form-action": ("'self'",),
    "frame-ancestors": ("'none'",),
}


def policy_header(policy: dict[str, tuple[str, ...]] | None = None) -> str:
    policy = DEFAULT_POLICY if policy is None else policy
    return "; ".join(f"{name} {' '.join(sources)}" for name, sources in policy.items())


class ContentSecurityPolicyMiddleware:
    """Adds the policy to every response that has not set its own."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.header = (
            "Content-Security-Policy-Report-Only"
            if getattr(settings, "CSP_REPORT_ONLY", False)
            else "Content-Security-Policy"
        )
        self.value = policy_header(getattr(settings, "CONTENT_SECURITY_POLICY", None))

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault(self.header, self.value)
        return response
