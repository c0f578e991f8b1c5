"""The push signature of partner protocol v1.1, from the partner's side.

``X-Signature: t=<unix seconds>,v1=<hex>`` where ``<hex>`` is HMAC-SHA256, keyed
with the agency's shared secret, of the ASCII bytes ``<t>.`` followed by the raw
request body. The platform has its own signer; this module is the reference the
tests of both sides can hold it against.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Sequence

__all__ = ["DEFAULT_TOLERANCE", "SignatureError", "check_signature", "parse_signature", "sign", "verify"]

#: Seconds a signature's ``t`` may lie from the partner's clock, either way.
DEFAULT_TOLERANCE = 300

_HEX_DIGEST = re.compile(r"[0-9a-fA-F]{64}")
_TIMESTAMP = re.compile(r"[0-9]{1,12}")


class SignatureError(ValueError):
    """Why a signature was refused; ``code`` is short enough for a log line."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def _key(secret: bytes | str) -> bytes:
    # Secrets are configured as text; the key is their UTF-8 bytes on both sides.
    return secret.encode("utf-8") if isinstance(secret, str) else bytes(secret)


def _digest(secret: bytes | str, body: bytes, t: int) -> str:
    message = f"{int(t)}.".encode("ascii") + body
    return hmac.new(_key(secret), message, hashlib.sha256).hexdigest()


def sign(secret: bytes | str, body: bytes, t: int) -> str:
    """Return the ``X-Signature`` header value for ``body`` signed at unix time ``t``."""
    return f"t={int(t)},v1={_digest(secret, body, t)}"


def parse_signature(header: str) -> tuple[int, list[str]]:
    """Split a header into its timestamp and its ``v1`` digests.

    Several ``v1`` values are allowed so a sender can sign with an old and a new
    secret while a rotation is under way; unknown schemes are ignored so a later
    ``v2`` does not break v1 partners.
    """
    timestamp: int | None = None
    digests: list[str] = []
    for part in header.split(","):
        name, sep, value = part.strip().partition("=")
        if not sep:
            raise SignatureError("malformed", f"signature element {part.strip()!r} has no '='")
        name, value = name.strip(), value.strip()
        if name == "t":
            if timestamp is not None:
                raise SignatureError("malformed", "signature has more than one t")
            if not _TIMESTAMP.fullmatch(value):
                raise SignatureError("malformed", "signature t is not unix seconds")
            timestamp = int(value)
        elif name == "v1":
            if not _HEX_DIGEST.fullmatch(value):
                raise SignatureError("malformed", "signature v1 is not a SHA-256 hex digest")
            digests.append(value.lower())
    if timestamp is None:
        raise SignatureError("malformed", "signature has no t")
    if not digests:
        raise SignatureError("malformed", "signature has no v1")
    return timestamp, digests


def check_signature(
    secret: bytes | str | Sequence[bytes | str],
    body: bytes,
    header: str | None,
    now: float | None = None,
    tolerance: int = DEFAULT_TOLERANCE,
) -> None:
    """Raise :class:`SignatureError` unless ``header`` signs ``body`` with ``secret``.

    ``secret`` may be several secrets (a partner holding the old and the new one
    during a rotation): any ``v1`` matching any of them is enough (v1.1).
    """
    if not header:
        raise SignatureError("missing", "X-Signature header is missing")
    timestamp, digests = parse_signature(header)
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance:
        raise SignatureError("stale", f"signature timestamp is more than {tolerance} seconds from our clock")
    secrets = [secret] if isinstance(secret, bytes | str) else list(secret)
    # Compare every candidate, without stopping early, in constant time each.
    matched = False
    for key in secrets:
        expected = _digest(key, body, timestamp).encode("ascii")
        for digest in digests:
            matched |= hmac.compare_digest(expected, digest.encode("ascii"))
    if not matched:
        raise SignatureError("mismatch", "signature does not match the body")


def verify(
    secret: bytes | str | Sequence[bytes | str],
    body: bytes,
    header: str | None,
    now: float | None = None,
    tolerance: int = DEFAULT_TOLERANCE,
) -> bool:
    """Whether ``header`` is a valid, fresh signature of ``body`` under ``secret``."""
    try:
        check_signature(secret, body, header, now=now, tolerance=tolerance)
    except SignatureError:
        return False
    return True
