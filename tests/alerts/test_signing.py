"""Our signer against the partner's verifier, over real HTTP (the demo partner).

A tampered body and an old timestamp are refused: this is what proves the
signature covers ``<t>.`` + the raw body with the agency's secret.
"""

from __future__ import annotations

import json
import time

import httpx
import pytest

from alerts.signing import signature_header
from simulator import serve_in_thread, verify

SECRET = "shared-secret-0123456789"


@pytest.fixture
def partner():
    handle = serve_in_thread(
        {"agencies": {"CCB": {"secret": SECRET, "token": "", "sector": "bank"}}}, "http://127.0.0.1:9"
    )
    handle.set_results(enabled=False)
    yield handle
    handle.stop()


def _post(partner, body: bytes, signature: str, key: str):
    headers = {"Content-Type": "application/json", "Idempotency-Key": key, "X-Signature": signature}
    return httpx.post(partner.endpoint("CCB"), content=body, headers=headers, timeout=5, trust_env=False)


def _body(key: str) -> bytes:
    return json.dumps({"delivery_id": key, "task_id": 1, "type": "emergency_stop_payment", "amount": "1.00"}).encode()


def test_valid_signature_is_accepted(partner):
    body = _body("k-valid")
    header = signature_header(SECRET, body)
    assert verify(SECRET, body, header)
    assert _post(partner, body, header, "k-valid").status_code == 202


def test_tampered_body_is_rejected(partner):
    body = _body("k-tampered")
    header = signature_header(SECRET, body)
    tampered = body.replace(b'"1.00"', b'"9.00"')
    response = _post(partner, tampered, header, "k-tampered")
    assert response.status_code == 401 and response.json()["reason"] == "mismatch"


def test_old_timestamp_is_rejected(partner):
    body = _body("k-old")
    header = signature_header(SECRET, body, t=int(time.time()) - 301)
    response = _post(partner, body, header, "k-old")
    assert response.status_code == 401 and response.json()["reason"] == "stale"


def test_wrong_secret_is_rejected(partner):
    body = _body("k-secret")
    response = _post(partner, body, signature_header("another-secret", body), "k-secret")
    assert response.status_code == 401
