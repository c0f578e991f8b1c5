"""Write throttling per token (per user): a runaway partner script cannot flood the centre.

Reads are not throttled by this one; identifier lookups have their own, much
higher, rate per token (``LookupRateThrottle``). The rate is ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["writes"]``
(environment ``API_WRITE_RATE``), counted in the Redis cache shared by every
worker. DRF answers 429 with ``Retry-After`` and a JSON ``detail``.
"""

from __future__ import annotations

import hashlib

from rest_framework.permissions import SAFE_METHODS
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle


class WriteRateThrottle(SimpleRateThrottle):
    scope = "writes"

    def get_rate(self):
        # Read at call time, not import time, so settings overrides take effect.
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def allow_request(self, request, view):
        if request.method in SAFE_METHODS or getattr(view, "action", None) == "search":
            return True
        # The rate is read per request (see get_rate).
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_cache_key(self, request, view):
        user = request.user
        ident = f"user:{user.pk}" if user and user.is_authenticated else f"ip:{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}


class LookupRateThrottle(SimpleRateThrottle):
    """Identifier lookups per token: one scope per lookup endpoint (the view's ``throttle_scope``).

    A lookup answers whether an account, phone or URL is involved in cases; at an
    unlimited rate it is an oracle to enumerate them (a liaison token once made 214
    a second). Each endpoint names its scope; the rate is
    ``DEFAULT_THROTTLE_RATES[scope]`` (environment ``API_LOOKUP_RATE`` for the
    identifier lookup), counted per token in the Redis cache every worker shares,
    GET and POST together. Over the rate DRF answers 429 with ``Retry-After`` and
    the JSON error of ``coordination.api``.
    """

    scope = None

    def __init__(self):
        # The scope is the view's, known only in allow_request (DRF's init would look the rate up now).
        self.rate = None

    def allow_request(self, request, view):
        self.scope = getattr(view, "throttle_scope", None)
        self.rate = api_settings.DEFAULT_THROTTLE_RATES.get(self.scope) if self.scope else None
        if not self.rate:
            return True
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_cache_key(self, request, view):
        key = getattr(getattr(request, "auth", None), "key", None)
        user = request.user
        if key:
            # The token itself is a password: the cache holds a digest of it.
            ident = "token:" + hashlib.sha256(key.encode()).hexdigest()[:32]
        elif user and user.is_authenticated:
            ident = f"user:{user.pk}"
        else:
            ident = f"ip:{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}
