"""Push signatures (partner protocol v1.1): HMAC-SHA256 over ``<t>.`` + raw body.

While an agency rotates its secret the header carries one ``v1`` per live
secret, the newest first: ``t=<t>,v1=<new>,v1=<old>``.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Sequence


def signature_header(secrets: str | Sequence[str], body: bytes, t: int | None = None) -> str:
    """The ``X-Signature`` value for ``body`` at unix time ``t``, one ``v1`` per secret."""
    t = int(time.time()) if t is None else t
    keys = [secrets] if isinstance(secrets, str) else list(secrets)
    if not keys:
        raise ValueError("no secret to sign with")
    message = f"{t}.".encode("ascii") + body
    macs = [hmac.new(key.encode(), message, hashlib.sha256).hexdigest() for key in keys]
    return ",".join([f"t={t}", *(f"v1={mac}" for mac in macs)])
