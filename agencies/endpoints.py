"""Which liaison endpoints the platform may push to (partner protocol v1.1, "Endpoints").

Outside development an endpoint must be ``https://`` and must not resolve to a
loopback, private, link-local or otherwise internal address, unless the
operator's allow-list (``PUSH_ALLOWED_HOSTS``) names it. The rule is applied
twice: when the URL is saved (``check_endpoint_url``: the manager's page,
``set_endpoint``) and when the push connects (``connect_addresses``, called by the
worker's network backend with the name it is about to connect to: resolved once,
every address checked, the connection made to a checked address, so a name that
changes its answer between the two lookups gains nothing).

An allow-list entry is a host name (``partner-sim``), an address (``127.0.0.1``,
``::1``) or a network (``10.20.0.0/16``), each optionally with a port
(``127.0.0.1:8100``, ``[::1]:8100``, ``partner-sim:8443``). An entry naming the
URL's host name allows whatever that name resolves to; an address or network
allows those addresses. Either also lifts the ``https://`` rule for that endpoint:
the operator has vouched for it.

Nothing here says to the agency which address a name resolved to: errors name
the kind of problem only. The server log (``agencies.endpoints``) has the detail.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

log = logging.getLogger(__name__)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# Never a partner's address, whatever ``ipaddress`` of this Python version calls global.
_BLOCKED: tuple[tuple[str, str], ...] = (
    ("0.0.0.0/8", "unspecified"),
    ("10.0.0.0/8", "private"),
    ("100.64.0.0/10", "cgnat"),
    ("127.0.0.0/8", "loopback"),
    ("169.254.0.0/16", "link_local"),
    ("172.16.0.0/12", "private"),
    ("192.0.0.0/24", "reserved"),
    ("192.0.2.0/24", "reserved"),
    ("192.88.99.0/24", "reserved"),
    ("192.168.0.0/16", "private"),
    ("198.18.0.0/15", "reserved"),
    ("198.51.100.0/24", "reserved"),
    ("203.0.113.0/24", "reserved"),
    ("224.0.0.0/4", "multicast"),
    ("240.0.0.0/4", "reserved"),
    ("::/128", "unspecified"),
    ("::1/128", "loopback"),
    ("::ffff:0:0/96", "ipv4_mapped"),
    ("::/96", "ipv4_mapped"),  # IPv4-compatible (deprecated)
    ("64:ff9b::/96", "ipv4_mapped"),  # NAT64: reaches whatever IPv4 address it embeds
    ("64:ff9b:1::/48", "ipv4_mapped"),
    ("100::/64", "reserved"),
    ("2001::/23", "reserved"),  # IETF protocol assignments, Teredo among them
    ("2001:db8::/32", "reserved"),
    ("2002::/16", "ipv4_mapped"),  # 6to4
    ("fc00::/7", "private"),
    ("fe80::/10", "link_local"),
    ("fec0::/10", "private"),  # site-local (deprecated)
    ("ff00::/8", "multicast"),
)
BLOCKED_NETWORKS: tuple[tuple[IPNetwork, str], ...] = tuple((ipaddress.ip_network(net), kind) for net, kind in _BLOCKED)


class BlockedEndpoint(Exception):
    """The push may not connect there; ``kind`` is what is wrong (for logs and tests)."""

    def __init__(self, kind: str, detail: str = "") -> None:
        super().__init__(f"{kind}: {detail}" if detail else kind)
        self.kind = kind


def internal_kind(address: IPAddress) -> str | None:
    """Why ``address`` is internal (``"loopback"``, ``"private"``...), or ``None`` for a public one."""
    for network, kind in BLOCKED_NETWORKS:
        if address.version == network.version and address in network:
            return kind
    if not address.is_global:
        return "reserved"
    return None


@dataclass(frozen=True)
class AllowEntry:
    host: str | None = None  # a host name, lower case
    network: IPNetwork | None = None
    port: int | None = None

    def names(self, host: str, port: int) -> bool:
        return self.host is not None and self.host == host.lower().rstrip(".") and self.port in (None, port)

    def covers(self, address: IPAddress, port: int) -> bool:
        return (
            self.network is not None
            and address.version == self.network.version
            and address in self.network
            and self.port in (None, port)
        )


def parse_allow_entry(entry: str) -> AllowEntry:
    """One ``PUSH_ALLOWED_HOSTS`` entry; ``ValueError`` for a malformed one."""
    text, port = entry.strip(), None
    if not text:
        raise ValueError("empty entry")
    if text.startswith("["):
        inside, sep, rest = text[1:].partition("]")
        if not sep or (rest and not rest.startswith(":")):
            raise ValueError(f"malformed entry {entry!r}")
        text, port = inside, rest[1:] or None
    else:
        try:
            return AllowEntry(network=ipaddress.ip_network(text, strict=False))
        except ValueError:
            pass
        if text.count(":") == 1:
            text, port = text.split(":")
    if port is not None:
        if not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"bad port in {entry!r}")
        port = int(port)
    try:
        return AllowEntry(network=ipaddress.ip_network(text, strict=False), port=port)
    except ValueError:
        pass
    if not text or any(ch in text for ch in "/@ []"):
        raise ValueError(f"malformed entry {entry!r}")
    return AllowEntry(host=text.lower().rstrip("."), port=port)


def allow_list() -> list[AllowEntry]:
    return [parse_allow_entry(entry) for entry in settings.PUSH_ALLOWED_HOSTS if entry.strip()]


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address ``host`` resolves to, once (an IP literal resolves to itself)."""
    literal = _literal(host)
    if literal is not None:
        return [literal]
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses: list[IPAddress] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        address = ipaddress.ip_address(sockaddr[0].split("%")[0])
        if address not in addresses:
            addresses.append(address)
    return addresses


def check_addresses(host: str, port: int, addresses: list[IPAddress], entries: list[AllowEntry]) -> None:
    """Raise :class:`BlockedEndpoint` unless every address may be pushed to."""
    if any(entry.names(host, port) for entry in entries):
        return
    if not addresses:
        raise BlockedEndpoint("unresolvable", host)
    for address in addresses:
        kind = internal_kind(address)
        if kind is not None and not any(entry.covers(address, port) for entry in entries):
            raise BlockedEndpoint(kind, f"{host} -> {address}")


def allow_listed(host: str, port: int, entries: list[AllowEntry]) -> bool:
    """Whether the operator vouched for this endpoint (its name, or its literal address)."""
    if any(entry.names(host, port) for entry in entries):
        return True
    literal = _literal(host)
    return literal is not None and any(entry.covers(literal, port) for entry in entries)


def split_url(url: str) -> tuple[str, str, int]:
    """``(scheme, host, port)`` of an endpoint URL; :class:`BlockedEndpoint` if it has none."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise BlockedEndpoint("malformed", str(exc)) from None
    scheme, host = parts.scheme.lower(), parts.hostname or ""
    if scheme not in ("http", "https") or not host:
        raise BlockedEndpoint("scheme", scheme)
    if parts.username is not None or parts.password is not None:
        raise BlockedEndpoint("credentials")
    return scheme, host, port or (443 if scheme == "https" else 80)


def check_scheme(url: str, entries: list[AllowEntry] | None = None) -> tuple[str, int]:
    """The rule that needs no lookup: ``https://`` outside development; returns ``(host, port)``."""
    entries = allow_list() if entries is None else entries
    scheme, host, port = split_url(url)
    if scheme != "https" and settings.PUSH_REQUIRE_HTTPS and not allow_listed(host, port, entries):
        raise BlockedEndpoint("scheme", "http")
    return host, port


def connect_addresses(host: str, port: int) -> list[IPAddress]:
    """The checked addresses to connect to for ``host:port``, resolved once; the worker uses only these."""
    entries = allow_list()
    try:
        addresses = resolve(host, port)
    except OSError as exc:
        raise BlockedEndpoint("unresolvable", f"{host}: {exc}") from None
    check_addresses(host, port, addresses, entries)
    return addresses


MESSAGES = {
    "scheme": _("The endpoint must be an https:// address."),
    "credentials": _("The endpoint address must not contain a user name or password."),
    "malformed": _("Enter a valid URL."),
}
INTERNAL_MESSAGE = _(
    "This endpoint points to a loopback, private, link-local or otherwise internal address; "
    "pushes cannot be sent there."
)


def check_endpoint_url(url: str) -> None:
    """The rule when an endpoint is saved; a ``ValidationError`` that names no resolved address.

    A name that does not resolve now is accepted (its DNS may come later); the
    check at connect time refuses it until it resolves to an allowed address.
    """
    entries = allow_list()
    try:
        host, port = check_scheme(url, entries)
        try:
            addresses = resolve(host, port)
        except (OSError, UnicodeError):
            log.info("endpoint %s does not resolve now; checked again at connect time", host)
            if any(entry.names(host, port) for entry in entries):
                return
            addresses = None
        if addresses is not None:
            check_addresses(host, port, addresses, entries)
    except BlockedEndpoint as exc:
        log.warning("endpoint refused when saved: %s", exc)
        raise ValidationError(MESSAGES.get(exc.kind, INTERNAL_MESSAGE), code="endpoint_not_allowed") from None
