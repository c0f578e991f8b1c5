"""Write throttling per token (per user): a runaway partner script cannot flood the centre.

Reads are not throttled: the payment-time lookup must never be refused for
volume. The rate is ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["writes"]``
(environment ``API_WRITE_RATE``), counted in the Redis cache shared by every
worker. DRF answers 429 with ``Retry-After`` and a JSON ``detail``.
"""

from __future__ import annotations

from rest_framework.permissions import SAFE_METHODS
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle


class WriteRateThrottle(SimpleRateThrottle):
    scope = "writes"

    def get_rate(self):
        # Read at call time, not import time, so settings overrides take effect.
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def allow_request(self, request, view):
        if request.method in SAFE_METHODS:
            return True
        # The rate is read per request (see get_rate).
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_cache_key(self, request, view):
        user = request.user
        ident = f"user:{user.pk}" if user and user.is_authenticated else f"ip:{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}
