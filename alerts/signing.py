"""Push signatures (partner protocol): HMAC-SHA256 over ``<t>.`` + raw body."""

from __future__ import annotations

import hashlib
import hmac
import time


def signature_header(secret: str, body: bytes, t: int | None = None) -> str:
    """The ``X-Signature`` value for ``body`` at unix time ``t``."""
    t = int(time.time()) if t is None else t
    mac = hmac.new(secret.encode(), f"{t}.".encode("ascii") + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"
