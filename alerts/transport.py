"""The HTTP client of pushes: it connects only to addresses the endpoint rule allows.

``agencies.endpoints`` checked the URL when it was saved; a name can resolve
differently later (DNS rebinding), so the check is made again here, inside the
connection pool's network backend: the host name is resolved once, every address
it gave is checked, and the socket is opened to one of those checked addresses.
TLS still verifies the certificate against the host name (httpcore passes it as
the server name), and pooled connections are keyed by the host name as usual.
Redirects are never followed (a 3xx is recorded as the answer).
"""

from __future__ import annotations

import httpcore
import httpx
from django.conf import settings

from agencies.endpoints import BlockedEndpoint, connect_addresses


class GuardedBackend(httpcore.SyncBackend):
    """httpcore's socket backend, but only to checked addresses of the name asked for."""

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        addresses = connect_addresses(host, port)  # raises BlockedEndpoint
        error: Exception | None = None
        for address in addresses:
            try:
                return super().connect_tcp(str(address), port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                error = exc
        assert error is not None  # connect_addresses never returns an empty list
        raise error


class GuardedTransport(httpx.HTTPTransport):
    """``httpx.HTTPTransport`` whose connection pool uses :class:`GuardedBackend`."""

    def __init__(self, *, limits: httpx.Limits) -> None:
        # One SSL context (loading the CA bundle is the costly part of a worker's first push).
        ssl_context = httpx.create_ssl_context(trust_env=False)
        super().__init__(verify=ssl_context, limits=limits, trust_env=False)
        self._pool.close()
        # httpx keeps its pool in ``_pool`` (pinned httpx 0.28); tests/alerts/test_endpoints.py
        # proves the replacement is the one connecting.
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl_context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=GuardedBackend(),
        )


def push_client() -> httpx.Client:
    """A client for pushes: guarded transport, no proxy from the environment, no redirects."""
    return httpx.Client(
        timeout=httpx.Timeout(settings.DELIVERY_READ_TIMEOUT, connect=settings.DELIVERY_CONNECT_TIMEOUT),
        transport=GuardedTransport(limits=httpx.Limits(max_keepalive_connections=20, max_connections=50)),
        trust_env=False,  # a proxy from the environment must never see a push
        follow_redirects=False,
    )


__all__ = ["BlockedEndpoint", "GuardedBackend", "GuardedTransport", "push_client"]
