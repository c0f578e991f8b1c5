"""The demo partner, exercised over real sockets.

The simulator runs in-process on 127.0.0.1:0 and posts its results to a tiny
real HTTP server standing in for the platform's result endpoint; the CLI is
run as a real subprocess. Nothing here touches Django or a database.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from simulator import build_result, serve_in_thread, sign, verify
from simulator.data import (
    BANKS,
    CHENGDU_DISTRICTS,
    id_check_char,
    is_luhn_valid,
    is_valid_id_number,
    is_valid_mobile,
    make_id_number,
)
from simulator.results import task_rng
from simulator.server import SimulatorHandle

ROOT = Path(__file__).resolve().parents[2]

CONFIG: dict[str, Any] = {
    "agencies": {
        "ICBC": {"secret": "icbc-secret", "token": "tok-icbc", "sector": "bank"},
        "CCB": {"secret": "ccb-secret", "token": "tok-ccb", "sector": "bank"},
        "ALIPAY": {
            "secret": "alipay-secret",
            "token": "tok-alipay",
            "sector": "payment_institution",
        },
        "CMCC": {"secret": "cmcc-secret", "token": "tok-cmcc", "sector": "telecom_operator"},
        "CAC": {"secret": "cac-secret", "token": "tok-cac", "sector": "internet_regulator"},
        "DOUYIN": {"secret": "dy-secret", "token": "tok-dy", "sector": "internet_platform"},
        "PS-WUHOU": {"secret": "ps-secret", "token": "tok-ps", "sector": "public_security"},
    }
}
MONEY = re.compile(r"[0-9]+\.[0-9]{2}")


def _secret(agency: str) -> str:
    return CONFIG["agencies"][agency]["secret"]


def _token(agency: str) -> str:
    return CONFIG["agencies"][agency]["token"]


def _money(value: Any) -> Decimal:
    assert isinstance(value, str), value
    assert MONEY.fullmatch(value), value
    return Decimal(value)


def _when(value: str) -> datetime:
    moment = datetime.fromisoformat(value)
    assert moment.utcoffset() == timedelta(hours=8), value
    return moment


# --- a real HTTP server standing in for the platform ---------------------------------


class FakePlatform:
    """Records result POSTs; answers ``statuses`` in turn, then 200."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.statuses: list[int] = []
        self._changed = threading.Condition()
        platform = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with platform._changed:
                    status = platform.statuses.pop(0) if platform.statuses else 200
                    platform.requests.append(
                        {
                            "path": self.path,
                            "authorization": self.headers.get("Authorization"),
                            "content_type": self.headers.get("Content-Type"),
                            "json": json.loads(body),
                        }
                    )
                    platform._changed.notify_all()
                answer = json.dumps({"status": "ok" if status < 400 else "error"}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def wait_for(self, count: int, timeout: float = 5.0) -> list[dict[str, Any]]:
        with self._changed:
            self._changed.wait_for(lambda: len(self.requests) >= count, timeout)
            return list(self.requests)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


@pytest.fixture
def platform() -> Iterator[FakePlatform]:
    server = FakePlatform()
    yield server
    server.stop()


@pytest.fixture
def sim(platform: FakePlatform) -> Iterator[SimulatorHandle]:
    handle = serve_in_thread(CONFIG, platform.url, result_delay=0.0, retry_backoff=0.05)
    yield handle
    handle.stop()


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    # trust_env=False: a proxy in the environment must not intercept 127.0.0.1.
    with httpx.Client(timeout=10, trust_env=False) as http:
        yield http


def make_push(
    platform_url: str,
    *,
    task_id: int = 456,
    task_type: str = "emergency_stop_payment",
    amount: str | None = "52000.00",
    target: dict[str, Any] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A push body exactly as partner protocol v1 shows it, with times around now."""
    now = datetime.now().astimezone()
    body: dict[str, Any] = {
        "delivery_id": str(uuid.uuid4()),
        "task_id": task_id,
        "type": task_type,
        "case": {
            "reference": "CD-2026-000123",
            "fraud_type": "fake_investment",
            "reported_at": (now - timedelta(hours=1)).isoformat(),
        },
        "target": target
        or {
            "kind": "bank_account",
            "value": "6217000010012345678",
            "holder_name": "...",
            "bank": "CCB",
        },
        "amount": amount,
        "currency": "CNY",
        "legal_document_number": None,
        "deadline": (now + timedelta(minutes=30)).isoformat(),
        "result_url": f"{platform_url}/api/v1/tasks/{task_id}/result/",
    }
    body.update(extra)
    return body


def send(
    client: httpx.Client,
    sim: SimulatorHandle,
    agency: str,
    body: dict[str, Any],
    *,
    key: str | None = None,
    secret: str | None = None,
    t: int | None = None,
    tamper: Callable[[bytes], bytes] | None = None,
    path: str | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """Sign ``body`` as the platform would and POST it to ``agency``'s endpoint."""
    raw = json.dumps(body, ensure_ascii=False).encode()
    signature = sign(secret or _secret(agency), raw, int(time.time()) if t is None else t)
    all_headers = {
        "Content-Type": "application/json",
        "Idempotency-Key": key or body["delivery_id"],
        "X-Signature": signature,
        **(headers or {}),
    }
    if tamper is not None:
        raw = tamper(raw)
    return client.post(sim.url + (path or f"/{agency}/"), content=raw, headers=all_headers)


# --- signing -------------------------------------------------------------------------


def test_sign_is_hmac_sha256_of_timestamp_dot_body() -> None:
    body = b'{"task_id": 456}'
    expected = hmac.new(b"s3cret", b"1700000000." + body, hashlib.sha256).hexdigest()
    assert sign("s3cret", body, 1700000000) == f"t=1700000000,v1={expected}"
    assert sign(b"s3cret", body, 1700000000) == f"t=1700000000,v1={expected}"


@pytest.mark.parametrize(
    ("offset", "valid"),
    [(0, True), (300, True), (-300, True), (301, False), (-301, False), (3600, False)],
)
def test_verify_clock_tolerance(offset: int, valid: bool) -> None:
    header = sign("k", b"{}", 1_700_000_000)
    assert verify("k", b"{}", header, now=1_700_000_000 + offset) is valid


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "garbage",
        "t=1700000000",
        "v1=" + "0" * 64,
        "t=abc,v1=" + "0" * 64,
        "t=1700000000,v1=nothex",
        "t=1700000000,t=1700000000,v1=" + "0" * 64,
    ],
)
def test_verify_refuses_malformed_headers(header: str | None) -> None:
    assert verify("k", b"{}", header, now=1_700_000_000) is False


def test_verify_accepts_any_of_several_v1_during_rotation() -> None:
    good = sign("new", b"{}", 1_700_000_000).split("v1=")[1]
    header = f"t=1700000000, v1={'ab' * 32}, v1={good.upper()}, v0=ignored"
    assert verify("new", b"{}", header, now=1_700_000_000)
    assert not verify("old", b"{}", header, now=1_700_000_000)


# --- generated data ------------------------------------------------------------------


def test_resident_id_checksum() -> None:
    # The example from the partner protocol, and its checksum character.
    assert is_valid_id_number("51010719900101123X")
    assert id_check_char("51010719900101123") == "X"
    assert id_check_char("11010519491231002") == "X"  # GB 11643 sample
    assert not is_valid_id_number("510107199001011234")  # wrong check character
    assert not is_valid_id_number("510107199002301235")  # 30 February
    assert not is_valid_id_number("51010719900101123x")  # lower-case x
    for seed in range(200):
        assert is_valid_id_number(make_id_number(task_rng(seed)))


def test_luhn() -> None:
    assert is_luhn_valid("4111111111111111")
    assert not is_luhn_valid("4111111111111112")
    assert not is_luhn_valid("41111111111111a1")


@pytest.mark.parametrize("task_id", range(40))
def test_stop_payment_money_adds_up_for_any_task(task_id: int) -> None:
    push = {"task_id": task_id, "type": "emergency_stop_payment", "amount": "52000.37", "target": {"bank": "CCB"}}
    result = build_result(push, "CCB")["result"]
    held = _money(result["amount_held"])
    onward = [_money(t["amount"]) for t in result["onward_transfers"]]
    assert Decimal("0") < held <= Decimal("52000.37")
    assert 1 <= len(onward) <= 2
    assert sum(onward) <= Decimal("52000.37") - held
    assert all(t["bank"] not in ("CCB",) for t in result["onward_transfers"])


# --- the round trip ------------------------------------------------------------------


def test_signed_stop_payment_is_accepted_and_a_result_posted(
    sim: SimulatorHandle, platform: FakePlatform, client: httpx.Client
) -> None:
    body = make_push(platform.url, task_id=456, amount="52000.00")
    before = datetime.now().astimezone()

    response = send(client, sim, "ICBC", body)

    assert response.status_code == 202
    assert response.json()["idempotency_key"] == body["delivery_id"]
    (request,) = platform.wait_for(1)
    assert request["path"] == "/api/v1/tasks/456/result/"
    assert request["authorization"] == "Token tok-icbc"
    assert request["content_type"] == "application/json"
    posted = request["json"]
    assert set(posted) == {"status", "executed_at", "reason", "result"}
    assert posted["status"] == "completed"
    assert posted["reason"] is None
    executed = _when(posted["executed_at"])
    assert before - timedelta(seconds=1) <= executed <= datetime.now().astimezone()

    result = posted["result"]
    assert set(result) == {"amount_held", "balance", "onward_transfers", "lapses_at"}
    held = _money(result["amount_held"])
    assert Decimal("0") < held <= Decimal("52000.00")
    assert _money(result["balance"]) >= held
    assert _when(result["lapses_at"]) == executed + timedelta(hours=48)
    transfers = result["onward_transfers"]
    assert 1 <= len(transfers) <= 2
    assert sum(_money(t["amount"]) for t in transfers) <= Decimal("52000.00") - held
    for transfer in transfers:
        assert set(transfer) == {"account_number", "bank", "holder_name", "amount", "at"}
        assert transfer["bank"] in BANKS
        assert transfer["bank"] not in ("ICBC", "CCB")  # neither this bank nor the target's
        assert 16 <= len(transfer["account_number"]) <= 19
        assert is_luhn_valid(transfer["account_number"])
        assert re.fullmatch(r"[\u4e00-\u9fff]{2,4}", transfer["holder_name"])
        assert executed - timedelta(hours=1) <= _when(transfer["at"]) < executed
    # Deterministic: the same push predicts the same result.
    assert posted == build_result(body, "ICBC", now=executed)

    (acted,) = sim.wait_for_acted(1)
    assert acted["task_id"] == 456
    assert acted["idempotency_key"] == body["delivery_id"]
    assert acted["status"] == 200
    assert acted["attempts"] == 1
    (received,) = sim.received()
    assert received["verified"] is True
    assert received["status"] == 202
    assert received["times_seen"] == 1
    assert received["type"] == "emergency_stop_payment"


@pytest.mark.parametrize(
    ("agency", "task_type", "target"),
    [
        ("CCB", "freeze", {"kind": "bank_account", "value": "6217000010012345678"}),
        ("ALIPAY", "account_query", {"kind": "social_account", "value": "fraud@example.com"}),
        ("CMCC", "number_shutdown", {"kind": "phone", "value": "13800000000"}),
        ("CMCC", "number_trace", {"kind": "phone", "value": "13800000000"}),
        ("CAC", "url_block", {"kind": "url", "value": "https://fraud.example/"}),
        ("DOUYIN", "account_ban", {"kind": "social_account", "value": "dy_12345"}),
        ("PS-WUHOU", "victim_warning", {"kind": "phone", "value": "13900000000"}),
        ("PS-WUHOU", "other", {"kind": "none", "value": ""}),
    ],
)
def test_result_shape_per_task_type(
    sim: SimulatorHandle,
    platform: FakePlatform,
    client: httpx.Client,
    agency: str,
    task_type: str,
    target: dict[str, Any],
) -> None:
    body = make_push(platform.url, task_id=789, task_type=task_type, target=target)

    assert send(client, sim, agency, body).status_code == 202

    (request,) = platform.wait_for(1)
    assert request["authorization"] == f"Token {_token(agency)}"
    posted = request["json"]
    assert posted["status"] == "completed"
    executed = _when(posted["executed_at"])
    assert posted == build_result(body, agency, now=executed)
    result = posted["result"]
    if task_type == "freeze":
        assert _money(result["amount_held"]) <= Decimal("52000.00")
        assert _when(result["lapses_at"]) > executed + timedelta(days=30)
    elif task_type == "account_query":
        assert set(result) == {"holder_name", "holder_id_number", "balance", "opened_at", "onward_transfers"}
        assert is_valid_id_number(result["holder_id_number"])
        _money(result["balance"])
        assert _when(result["opened_at"]) < executed
        assert all(is_luhn_valid(t["account_number"]) for t in result["onward_transfers"])
    elif task_type in ("number_shutdown", "url_block", "account_ban"):
        assert result == {"done_at": posted["executed_at"]}
    elif task_type == "number_trace":
        assert set(result) == {"registered_name", "registered_id_number", "location", "related_numbers"}
        assert is_valid_id_number(result["registered_id_number"])
        assert result["location"] in CHENGDU_DISTRICTS
        assert 1 <= len(result["related_numbers"]) <= 3
        assert all(is_valid_mobile(n) for n in result["related_numbers"])
        assert target["value"] not in result["related_numbers"]
    elif task_type == "victim_warning":
        assert result == {"contacted_at": posted["executed_at"], "outcome": "reached"}
    else:
        assert result == {}


def test_result_waits_for_the_delay_and_reset_cancels_it(
    sim: SimulatorHandle, platform: FakePlatform, client: httpx.Client
) -> None:
    sim.set_results(delay=0.5)
    started = time.monotonic()
    assert send(client, sim, "ICBC", make_push(platform.url, task_id=1)).status_code == 202
    platform.wait_for(1)
    assert time.monotonic() - started >= 0.45

    assert send(client, sim, "ICBC", make_push(platform.url, task_id=2)).status_code == 202
    sim.reset()  # also restores the delay of 0, which does not matter: task 2 is gone
    time.sleep(0.8)
    assert [r["json"] for r in platform.requests][1:] == []
    assert sim.received() == []
    assert sim.acted() == []


# --- deduplication and refusals ------------------------------------------------------


def test_same_idempotency_key_twice_answers_409_and_acts_once(
    sim: SimulatorHandle, platform: FakePlatform, client: httpx.Client
) -> None:
    body = make_push(platform.url)

    first = send(client, sim, "ICBC", body)
    second = send(client, sim, "ICBC", body)

    assert (first.status_code, second.status_code) == (202, 409)
    assert second.json()["error"] == "duplicate"
    platform.wait_for(1)
    time.sleep(0.3)  # room for a wrong second result to arrive
    assert len(platform.requests) == 1
    assert len(sim.acted()) == 1
    assert [r["status"] for r in sim.received()] == [202, 409]
    assert [r["times_seen"] for r in sim.received()] == [2, 2]


def test_same_key_at_another_agency_is_another_delivery(
    sim: SimulatorHandle, platform: FakePlatform, client: httpx.Client
) -> None:
    body = make_push(platform.url)
    assert send(client, sim, "ICBC", body).status_code == 202
    assert send(client, sim, "CCB", body).status_code == 202


def _flip_last_digit(raw: bytes) -> bytes:
    return raw.replace(b"52000.00", b"92000.00")


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"tamper": _flip_last_digit}, "mismatch"),
        # Offsets, not times: parameters are built at collection, long before the test runs.
        ({"t_offset": -301}, "stale"),
        ({"t_offset": 400}, "stale"),
        ({"secret": "not-the-secret"}, "mismatch"),
        ({"headers": {"X-Signature": ""}}, "missing"),
        ({"headers": {"X-Signature": "t=1,v1=zz"}}, "malformed"),
    ],
    ids=["tampered", "301s-old", "future", "wrong-secret", "missing", "malformed"],
)
def test_bad_signatures_answer_401(
    sim: SimulatorHandle,
    platform: FakePlatform,
    client: httpx.Client,
    kwargs: dict[str, Any],
    reason: str,
) -> None:
    body = make_push(platform.url)
    if "t_offset" in kwargs:
        kwargs = {"t": int(time.time()) + kwargs["t_offset"]}

    response = send(client, sim, "ICBC", body, **kwargs)

    assert response.status_code == 401
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.json()["error"] == "invalid_signature"
    assert response.json()["reason"] == reason
    (received,) = sim.received()
    assert received["verified"] is False
    assert received["status"] == 401
    # A refused delivery is not remembered: the platform may fix it and resend.
    assert send(client, sim, "ICBC", body).status_code == 202


def test_unknown_agency_answers_404(sim: SimulatorHandle, platform: FakePlatform, client: httpx.Client) -> None:
    response = send(client, sim, "NOSUCH", make_push(platform.url), secret="x")
    assert response.status_code == 404
    assert response.json()["error"] == "unknown_agency"
    assert sim.received()[0]["agency"] == "NOSUCH"


def test_non_json_content_type_answers_400(sim: SimulatorHandle, platform: FakePlatform, client: httpx.Client) -> None:
    response = send(client, sim, "ICBC", make_push(platform.url), headers={"Content-Type": "text/plain"})
    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_media_type"


@pytest.mark.parametrize("path", ["/ICBC/push", "/ICBC/push/", "/ICBC", "/icbc/"])
def test_push_path_variants(sim: SimulatorHandle, platform: FakePlatform, client: httpx.Client, path: str) -> None:
    assert send(client, sim, "ICBC", make_push(platform.url), path=path).status_code == 202


# --- failure modes -------------------------------------------------------------------


def test_always_503_with_retry_after_then_ok_accepts_the_retry(
    sim: SimulatorHandle, platform: FakePlatform, client: httpx.Client
) -> None:
    sim.set_mode("always_503", retry_after=2)
    body = make_push(platform.url)

    for _ in range(2):
        response = send(client, sim, "ICBC", body)
        assert response.status_code == 503
        assert response.headers["Retry-After"] == "2"
    sim.set_mode("ok")
    # Not 409: an unavailable partner never took the delivery in.
    assert send(client, sim, "ICBC", body).status_code == 202
    assert [r["status"] for r in sim.received()] == [503, 503, 202]
    assert sim.received()[-1]["times_seen"] == 3
    assert len(sim.wait_for_acted(1)) == 1


def test_flaky_fails_fail_count_times_then_accepts_once(
    sim: SimulatorHandle, platform: FakePlatform, client: httpx.Client
) -> None:
    sim.set_mode("flaky", "ICBC", fail_count=2)
    body = make_push(platform.url)

    statuses = [send(client, sim, "ICBC", body).status_code for _ in range(4)]

    assert statuses == [503, 503, 202, 409]
    assert len(sim.wait_for_acted(1)) == 1


def test_bad_request_mode_answers_400(sim: SimulatorHandle, platform: FakePlatform, client: httpx.Client) -> None:
    sim.set_mode("bad_request", "ICBC")
    assert send(client, sim, "ICBC", make_push(platform.url)).status_code == 400
    # Only ICBC was switched.
    assert send(client, sim, "CCB", make_push(platform.url)).status_code == 202


def test_down_mode_drops_the_connection_without_an_answer(
    sim: SimulatorHandle, platform: FakePlatform, client: httpx.Client
) -> None:
    sim.set_mode("down")
    with pytest.raises(httpx.TransportError):
        send(client, sim, "ICBC", make_push(platform.url))
    (received,) = sim.received()
    assert received["status"] is None
    assert received["mode"] == "down"
    sim.set_mode("ok")
    assert send(client, sim, "ICBC", make_push(platform.url)).status_code == 202


def test_slow_mode_answers_202_late(sim: SimulatorHandle, platform: FakePlatform, client: httpx.Client) -> None:
    sim.set_mode("slow", slow_seconds=0.5)
    started = time.monotonic()
    assert send(client, sim, "ICBC", make_push(platform.url)).status_code == 202
    assert time.monotonic() - started >= 0.45


def test_slow_mode_times_out_a_hasty_client(sim: SimulatorHandle, platform: FakePlatform) -> None:
    sim.set_mode("slow", slow_seconds=2)
    with httpx.Client(timeout=0.3, trust_env=False) as hasty, pytest.raises(httpx.ReadTimeout):
        send(hasty, sim, "ICBC", make_push(platform.url))


def test_failure_mode_from_startup_options(platform: FakePlatform, client: httpx.Client) -> None:
    with serve_in_thread(CONFIG, platform.url, mode="always_503", agency_modes={"CCB": "ok"}) as handle:
        assert send(client, handle, "ICBC", make_push(platform.url)).status_code == 503
        assert send(client, handle, "CCB", make_push(platform.url)).status_code == 202
        handle.set_mode("ok")
        assert send(client, handle, "ICBC", make_push(platform.url)).status_code == 202
        handle.reset()  # back to the startup modes
        assert send(client, handle, "ICBC", make_push(platform.url)).status_code == 503


# --- the control API -----------------------------------------------------------------


def test_control_api_over_http(sim: SimulatorHandle, platform: FakePlatform, client: httpx.Client) -> None:
    assert client.get(sim.url + "/health").json() == {
        "status": "ok",
        "agencies": sorted(CONFIG["agencies"]),
    }
    answer = client.post(sim.url + "/_control/mode", json={"agency": "ICBC", "mode": "flaky", "fail_count": 1})
    assert answer.status_code == 200
    assert answer.json()["ICBC"]["mode"] == "flaky"
    assert client.get(sim.url + "/_control/mode").json()["*"]["mode"] == "ok"
    body = make_push(platform.url, task_id=77)
    assert send(client, sim, "ICBC", body).status_code == 503
    assert send(client, sim, "ICBC", body).status_code == 202
    sim.wait_for_acted(1)

    received = client.get(sim.url + "/_control/received").json()
    assert [r["status"] for r in received] == [503, 202]
    assert {k: received[1][k] for k in ("agency", "idempotency_key", "delivery_id", "task_id", "type", "verified")} == {
        "agency": "ICBC",
        "idempotency_key": body["delivery_id"],
        "delivery_id": body["delivery_id"],
        "task_id": 77,
        "type": "emergency_stop_payment",
        "verified": True,
    }
    assert received[1]["times_seen"] == 2
    assert _when(received[1]["time"])
    assert client.get(sim.url + "/_control/received?agency=CCB").json() == []
    acted = client.get(sim.url + "/_control/acted").json()
    assert [(a["task_id"], a["idempotency_key"], a["status"]) for a in acted] == [(77, body["delivery_id"], 200)]

    assert client.post(sim.url + "/_control/reset").json() == {"reset": True}
    assert client.get(sim.url + "/_control/received").json() == []
    assert client.get(sim.url + "/_control/acted").json() == []
    assert client.get(sim.url + "/_control/mode").json() == {
        "*": {"mode": "ok", "slow_seconds": 5.0, "fail_count": 3, "retry_after": None}
    }


@pytest.mark.parametrize(
    ("path", "payload"),
    [
        ("/_control/mode", {"mode": "sideways"}),
        ("/_control/mode", {"agency": "ICBC"}),
        ("/_control/mode", {"mode": "slow", "slow_seconds": "long"}),
        ("/_control/mode", {"mode": "ok", "colour": "red"}),
        ("/_control/results", {"enabled": "no"}),
        ("/_control/results", {"status": "maybe"}),
        ("/_control/nothing", {}),
    ],
)
def test_control_api_refuses_nonsense(
    sim: SimulatorHandle, client: httpx.Client, path: str, payload: dict[str, Any]
) -> None:
    response = client.post(sim.url + path, json=payload)
    assert response.status_code in (400, 404)
    assert "detail" in response.json()


def test_results_can_be_switched_off(sim: SimulatorHandle, platform: FakePlatform, client: httpx.Client) -> None:
    answer = client.post(sim.url + "/_control/results", json={"enabled": False})
    assert answer.json()["enabled"] is False

    assert send(client, sim, "ICBC", make_push(platform.url)).status_code == 202

    time.sleep(0.3)
    assert platform.requests == []
    assert sim.acted() == []
    assert len(sim.received()) == 1


def test_failed_results_on_request(sim: SimulatorHandle, platform: FakePlatform, client: httpx.Client) -> None:
    sim.set_results(status="failed", reason="账户不存在")
    assert send(client, sim, "ICBC", make_push(platform.url)).status_code == 202
    (request,) = platform.wait_for(1)
    assert request["json"]["status"] == "failed"
    assert request["json"]["reason"] == "账户不存在"
    assert request["json"]["result"] == {}


# --- posting results -----------------------------------------------------------------


def test_result_is_retried_while_the_platform_answers_5xx(
    sim: SimulatorHandle, platform: FakePlatform, client: httpx.Client
) -> None:
    platform.statuses = [503, 502]
    assert send(client, sim, "ICBC", make_push(platform.url)).status_code == 202

    requests = platform.wait_for(3)

    assert len(requests) == 3
    assert requests[0]["json"] == requests[2]["json"]
    (acted,) = sim.wait_for_acted(1)
    assert (acted["status"], acted["attempts"]) == (200, 3)


def test_result_is_not_retried_on_4xx(sim: SimulatorHandle, platform: FakePlatform, client: httpx.Client) -> None:
    platform.statuses = [409]
    assert send(client, sim, "ICBC", make_push(platform.url)).status_code == 202
    (acted,) = sim.wait_for_acted(1)
    assert (acted["status"], acted["attempts"]) == (409, 1)
    assert acted["answer"] == {"status": "error"}


def test_unreachable_platform_is_retried_then_given_up(platform: FakePlatform, client: httpx.Client) -> None:
    closed = FakePlatform()
    closed.stop()  # its port now refuses connections
    with serve_in_thread(CONFIG, closed.url, result_attempts=3, retry_backoff=0.05) as handle:
        body = make_push(closed.url)
        assert send(client, handle, "ICBC", body).status_code == 202
        (acted,) = handle.wait_for_acted(1)
    assert acted["status"] is None
    assert acted["attempts"] == 3
    assert "ConnectError" in acted["error"]


def test_result_url_host_can_be_rewritten_to_the_platform(
    sim: SimulatorHandle, platform: FakePlatform, client: httpx.Client
) -> None:
    sim.set_results(rewrite_host=True)
    body = make_push(platform.url, task_id=31, result_url="https://platform.internal/api/v1/tasks/31/result/")
    assert send(client, sim, "ICBC", body).status_code == 202
    (request,) = platform.wait_for(1)
    assert request["path"] == "/api/v1/tasks/31/result/"
    assert sim.wait_for_acted(1)[0]["result_url"] == f"{platform.url}/api/v1/tasks/31/result/"


def test_missing_result_url_falls_back_to_the_platform(
    sim: SimulatorHandle, platform: FakePlatform, client: httpx.Client
) -> None:
    body = make_push(platform.url, task_id=32)
    del body["result_url"]
    assert send(client, sim, "ICBC", body).status_code == 202
    (request,) = platform.wait_for(1)
    assert request["path"] == "/api/v1/tasks/32/result/"


# --- configuration and lifecycle -----------------------------------------------------


def test_config_file_is_reread_when_it_changes(tmp_path: Path, platform: FakePlatform, client: httpx.Client) -> None:
    config = tmp_path / "simulator.json"
    config.write_text(json.dumps({"agencies": {"ICBC": CONFIG["agencies"]["ICBC"]}}))
    with serve_in_thread(config, platform.url) as handle:
        body = make_push(platform.url)
        assert send(client, handle, "CCB", body).status_code == 404

        both = {"agencies": {k: CONFIG["agencies"][k] for k in ("ICBC", "CCB")}}
        config.write_text(json.dumps(both))
        assert send(client, handle, "CCB", body).status_code == 202

        config.write_text("{not json")  # half-written: the last good config stays
        assert send(client, handle, "CCB", make_push(platform.url)).status_code == 202


def test_listens_on_loopback_only(platform: FakePlatform) -> None:
    with pytest.raises(ValueError, match=r"127\.0\.0\.0/8"):
        serve_in_thread(CONFIG, platform.url, host="0.0.0.0")


def test_stop_is_prompt_even_with_a_slow_request_in_flight(
    platform: FakePlatform,
) -> None:
    handle = serve_in_thread(CONFIG, platform.url, mode="slow", slow_seconds=30)
    url = handle.url

    def push_and_wait() -> None:
        with httpx.Client(timeout=10, trust_env=False) as slow_client:
            _swallow(lambda: send(slow_client, handle, "ICBC", make_push(platform.url)))

    thread = threading.Thread(target=push_and_wait, daemon=True)
    thread.start()
    time.sleep(0.2)
    started = time.monotonic()
    handle.stop()
    assert time.monotonic() - started < 3
    with pytest.raises(httpx.ConnectError):
        httpx.get(url + "/health", timeout=1, trust_env=False)
    thread.join(5)


def _swallow(action: Callable[[], object]) -> None:
    with contextlib.suppress(httpx.HTTPError):  # the server is being stopped under it
        action()


def _read_lines(stream: Any, lines: queue.Queue[str]) -> None:
    for line in stream:
        lines.put(line)


@pytest.mark.slow
def test_cli_serves_and_stops_on_sigterm(tmp_path: Path, platform: FakePlatform, client: httpx.Client) -> None:
    config = tmp_path / "simulator.json"
    config.write_text(json.dumps(CONFIG, ensure_ascii=False))
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
    command = [
        sys.executable, "-m", "simulator", "--host", "127.0.0.1", "--port", "0",
        "--config", str(config), "--platform", platform.url, "--result-delay", "0",
    ]  # fmt: skip
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(target=_read_lines, args=(process.stdout, lines), daemon=True)
    reader.start()
    output: list[str] = []
    try:
        url = None
        deadline = time.monotonic() + 30  # a cold interpreter on a loaded machine
        while url is None and time.monotonic() < deadline:
            try:
                output.append(lines.get(timeout=0.5))
            except queue.Empty:
                continue
            match = re.search(r"listening on (http://127\.0\.0\.1:\d+)", output[-1])
            url = match.group(1) if match else None
        assert url, "".join(output)
        assert all(line.startswith("[sim] ") for line in output)

        assert client.get(url + "/health").status_code == 200
        response = client.post(
            url + "/ICBC/",
            content=(raw := json.dumps(make_push(platform.url, delivery_id="k-1")).encode()),
            headers={
                "Content-Type": "application/json",
                "Idempotency-Key": "k-1",
                "X-Signature": sign("icbc-secret", raw, int(time.time())),
            },
        )
        assert response.status_code == 202
        assert platform.wait_for(1)[0]["authorization"] == "Token tok-icbc"

        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=5) == 0
        assert time.monotonic() - started < 5
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        reader.join(5)
        assert process.stdout is not None
        process.stdout.close()
    while not lines.empty():
        output.append(lines.get())
    log = "".join(output)
    assert "ICBC push task=456 type=emergency_stop_payment key=k-1 verified -> 202" in log
    assert "ICBC result task=456 completed attempts=1 -> 200" in log
    assert "SIGTERM received; stopping" in log


@pytest.mark.slow
def test_cli_refuses_a_non_loopback_host(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "simulator", "--host", "0.0.0.0", "--port", "0"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=20,
    )
    assert result.returncode == 2
    assert "127.0.0.0/8" in result.stderr
