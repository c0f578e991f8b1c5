"""The demo partner's behaviour, independent of HTTP: verify, deduplicate, misbehave, act.

It receives signed pushes the way partner protocol v1 says a bank, payment
institution, operator or platform must (verify, deduplicate on
``Idempotency-Key``, answer), then acts like one: after a delay it posts a
realistic result to the task's ``result_url`` with the agency's API token.
On request it misbehaves (503, slow, dropped connections, 400, flaky) so the
platform's retries and dead-lettering can be shown and tested.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from email.message import Message
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from .config import Agency, ConfigSource
from .results import CST, RESULT_STATUSES, build_result
from .signing import DEFAULT_TOLERANCE, SignatureError, check_signature

__all__ = ["MODES", "Answer", "Mode", "Simulator", "error_answer"]

log = logging.getLogger("simulator")

#: Failure modes a push endpoint can be switched into.
MODES = ("ok", "always_503", "slow", "down", "bad_request", "flaky")

_RETRYABLE_STATUSES = frozenset({408, 429})
_MAX_RETRY_AFTER = 30.0
_RECORDED_BODY_CHARS = 4096


def _now_iso() -> str:
    return datetime.now(CST).isoformat(timespec="milliseconds")


def _header(headers: Message | Mapping[str, str], name: str) -> str | None:
    """A header by case-insensitive name from either http.server's or a plain mapping."""
    if isinstance(headers, Message):
        return headers.get(name)
    lowered = name.lower()
    for key, value in headers.items():
        if key.lower() == lowered:
            return value
    return None


# --- failure modes -----------------------------------------------------------------


@dataclass(frozen=True)
class Mode:
    """How a push endpoint answers: normally (``ok``) or one of the failure modes."""

    mode: str = "ok"
    slow_seconds: float = 5.0
    fail_count: int = 3
    retry_after: int | None = None

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}")
        if isinstance(self.slow_seconds, bool) or not isinstance(self.slow_seconds, int | float):
            raise TypeError("slow_seconds must be a number")
        if not 0 <= self.slow_seconds <= 600:
            raise ValueError("slow_seconds must be between 0 and 600")
        if isinstance(self.fail_count, bool) or not isinstance(self.fail_count, int):
            raise TypeError("fail_count must be an integer")
        if self.fail_count < 0:
            raise ValueError("fail_count must not be negative")
        if self.retry_after is not None and (
            isinstance(self.retry_after, bool) or not isinstance(self.retry_after, int) or self.retry_after < 0
        ):
            raise ValueError("retry_after must be a whole number of seconds or null")


@dataclass
class Answer:
    """What to answer a request with; ``status=None`` drops the connection instead."""

    status: int | None
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


def error_answer(status: int, code: str, detail: str, **extra: Any) -> Answer:
    """A JSON error answer: a machine-readable ``error`` code and a human ``detail``."""
    return Answer(status, {"error": code, "detail": detail, **extra})


# --- the partner -------------------------------------------------------------------


class Simulator:
    """The state and behaviour of the demo partner, independent of the HTTP layer.

    ``result_delay`` is how long an agency takes to act on an accepted push;
    ``rewrite_result_host`` posts results to ``platform_url``'s scheme and host
    instead of the push's ``result_url`` host (the platform may sit behind a
    name the simulator cannot reach); ``result_status="failed"`` makes every
    agency report failure. Results are retried ``result_attempts`` times in all.
    """

    def __init__(
        self,
        config: Mapping[str, Any] | str | os.PathLike[str] | None,
        platform_url: str,
        *,
        result_delay: float = 2.0,
        mode: str = "ok",
        slow_seconds: float = 5.0,
        fail_count: int = 3,
        retry_after: int | None = None,
        agency_modes: Mapping[str, str] | None = None,
        results_enabled: bool = True,
        result_status: str = "completed",
        result_reason: str | None = None,
        rewrite_result_host: bool = False,
        tolerance: int = DEFAULT_TOLERANCE,
        result_attempts: int = 4,
        retry_backoff: float = 0.5,
        result_timeout: float = 10.0,
    ) -> None:
        self.config = ConfigSource(config)
        self.platform_url = platform_url.rstrip("/")
        self.tolerance = tolerance
        self.result_attempts = max(1, result_attempts)
        self.retry_backoff = retry_backoff
        # Defaults survive a reset, which puts the partner back as it was started.
        self._default_mode = Mode(mode, slow_seconds, fail_count, retry_after)
        self._default_agency_modes = {
            code.upper(): Mode(m, slow_seconds, fail_count, retry_after) for code, m in (agency_modes or {}).items()
        }
        self._default_results = self._results_settings(
            results_enabled, result_delay, result_status, result_reason, rewrite_result_host
        )
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._timers: set[threading.Timer] = set()
        self._generation = 0
        # trust_env=False: a proxy set in the environment must not swallow local results.
        self._client = httpx.Client(timeout=result_timeout, trust_env=False)
        self._restore_defaults()

    @staticmethod
    def _results_settings(
        enabled: bool, delay: float, status: str, reason: str | None, rewrite_host: bool
    ) -> dict[str, Any]:
        if not isinstance(enabled, bool) or not isinstance(rewrite_host, bool):
            raise TypeError("enabled and rewrite_host must be true or false")
        if isinstance(delay, bool) or not isinstance(delay, int | float) or not 0 <= delay <= 3600:
            raise ValueError("delay must be a number of seconds between 0 and 3600")
        if status not in RESULT_STATUSES:
            raise ValueError(f"status must be one of {', '.join(RESULT_STATUSES)}")
        if reason is not None and not isinstance(reason, str):
            raise ValueError("reason must be text or null")
        return {
            "enabled": enabled,
            "delay": float(delay),
            "status": status,
            "reason": reason,
            "rewrite_host": rewrite_host,
        }

    def _restore_defaults(self) -> None:
        with self._lock:
            self._mode = self._default_mode
            self._agency_modes = dict(self._default_agency_modes)
            self._flaky_failures: dict[str, int] = {}
            self._results = dict(self._default_results)
            self._received: list[dict[str, Any]] = []
            self._acted: list[dict[str, Any]] = []
            self._seen: dict[tuple[str, str], int] = {}
            self._accepted: set[tuple[str, str]] = set()

    # -- control ----------------------------------------------------------------

    def modes(self) -> dict[str, dict[str, Any]]:
        """The current modes: ``"*"`` for every agency, then per-agency overrides."""
        with self._lock:
            modes = {"*": asdict(self._mode)}
            modes.update({code: asdict(m) for code, m in sorted(self._agency_modes.items())})
            return modes

    def mode_for(self, code: str) -> Mode:
        """The mode the push endpoint of ``code`` is in."""
        with self._lock:
            return self._agency_modes.get(code.upper(), self._mode)

    def set_mode(
        self,
        mode: str,
        agency: str = "*",
        *,
        slow_seconds: float | None = None,
        fail_count: int | None = None,
        retry_after: int | None = None,
    ) -> dict[str, dict[str, Any]]:
        """Switch one agency, or with ``"*"`` every agency, into ``mode``.

        ``"*"`` also drops per-agency overrides, so it always means "all of
        them, now". Omitted parameters take the values the simulator was
        started with. A ``flaky`` count starts again at every change.
        """
        base = self._default_mode
        new = Mode(
            mode,
            base.slow_seconds if slow_seconds is None else slow_seconds,
            base.fail_count if fail_count is None else fail_count,
            base.retry_after if retry_after is None else retry_after,
        )
        if not isinstance(agency, str) or not agency:
            raise ValueError('agency must be an agency code or "*"')
        with self._lock:
            if agency == "*":
                self._mode = new
                self._agency_modes.clear()
                self._flaky_failures.clear()
            else:
                self._agency_modes[agency.upper()] = new
                self._flaky_failures.pop(agency.upper(), None)
        log.info("mode %s -> %s", agency, new.mode)
        return self.modes()

    def results_settings(self) -> dict[str, Any]:
        """Whether results are posted back, after what delay, and with which status."""
        with self._lock:
            return dict(self._results)

    def set_results(
        self,
        enabled: bool | None = None,
        delay: float | None = None,
        status: str | None = None,
        reason: str | None = None,
        rewrite_host: bool | None = None,
    ) -> dict[str, Any]:
        """Change how results are posted back; omitted values stay as they are."""
        with self._lock:
            current = self._results
            self._results = self._results_settings(
                current["enabled"] if enabled is None else enabled,
                current["delay"] if delay is None else delay,
                current["status"] if status is None else status,
                current["reason"] if reason is None else reason,
                current["rewrite_host"] if rewrite_host is None else rewrite_host,
            )
            settings = dict(self._results)
        log.info("results %s", settings)
        return settings

    def received(self, agency: str | None = None) -> list[dict[str, Any]]:
        """Every push received, oldest first, each with how often its key was seen in all."""
        with self._lock:
            return [
                {
                    **{k: v for k, v in record.items() if k != "_key"},
                    "times_seen": self._seen.get(record["_key"], 1) if record["_key"] else 1,
                }
                for record in self._received
                if agency is None or record["agency"] == agency.upper()
            ]

    def acted(self, agency: str | None = None) -> list[dict[str, Any]]:
        """Every result posted back (or given up on), oldest first."""
        with self._lock:
            return [dict(record) for record in self._acted if agency is None or record["agency"] == agency.upper()]

    def reset(self) -> None:
        """Forget everything received and acted on, cancel pending results, restore defaults."""
        with self._lock:
            self._generation += 1
            timers, self._timers = list(self._timers), set()
        for timer in timers:
            timer.cancel()
        self._restore_defaults()
        log.info("reset")

    def stop(self, timeout: float = 2.0) -> None:
        """Cancel pending results, let ones in flight give up, and close the HTTP client."""
        self._stopping.set()
        with self._lock:
            timers, self._timers = list(self._timers), set()
        for timer in timers:
            timer.cancel()
        deadline = time.monotonic() + timeout
        for timer in timers:
            if timer is not threading.current_thread():
                timer.join(max(0.0, deadline - time.monotonic()))
        self._client.close()

    @property
    def stopping(self) -> threading.Event:
        """Set once the simulator is shutting down; waits watch it to return early."""
        return self._stopping

    # -- pushes -----------------------------------------------------------------

    def handle_push(self, code: str, headers: Message | Mapping[str, str], body: bytes, path: str = "/") -> Answer:
        """Answer one push to ``code``'s endpoint as the protocol and the current mode say."""
        code = code.upper()
        payload = _json_object(body)
        header_key = _header(headers, "Idempotency-Key") or None
        body_key = payload.get("delivery_id") if payload is not None else None
        body_key = body_key if isinstance(body_key, str) and body_key else None
        # v1.1: deduplicate on the verified body's delivery_id (the header must equal it).
        key = body_key or header_key
        content_type = _header(headers, "Content-Type")
        record: dict[str, Any] = {
            "agency": code,
            "path": path,
            "idempotency_key": header_key or body_key,
            "delivery_id": payload.get("delivery_id") if payload else None,
            "task_id": payload.get("task_id") if payload else None,
            "type": payload.get("type") if payload else None,
            "time": _now_iso(),
            "content_type": content_type,
            "verified": False,
            "signature_error": None,
            "mode": None,
            "status": None,
            "body": payload if payload is not None else body[:_RECORDED_BODY_CHARS].decode("utf-8", "replace"),
            "_key": (code, key) if key else None,
        }
        agency = self.config.get(code)
        if agency is None:
            return self._finish(record, error_answer(404, "unknown_agency", f"no agency {code} here"))

        signature_error: SignatureError | None = None
        try:
            check_signature(agency.secrets, body, _header(headers, "X-Signature"), tolerance=self.tolerance)
            record["verified"] = True
        except SignatureError as exc:
            signature_error = exc
            record["signature_error"] = exc.code
        if key:
            with self._lock:
                self._seen[(code, key)] = self._seen.get((code, key), 0) + 1

        mode = self.mode_for(code)
        record["mode"] = mode.mode
        forced = self._forced_answer(code, mode)
        if forced is not None:
            return self._finish(record, forced)

        if signature_error is not None:
            return self._finish(
                record, error_answer(401, "invalid_signature", str(signature_error), reason=signature_error.code)
            )
        media_type = (content_type or "").split(";")[0].strip().lower()
        if media_type != "application/json":
            # 400 rather than 415: the protocol lists 400 as permanent, 415 not at all.
            return self._finish(
                record, error_answer(400, "unsupported_media_type", "Content-Type must be application/json")
            )
        if payload is None:
            return self._finish(record, error_answer(400, "invalid_json", "body must be a JSON object"))
        if not header_key:
            return self._finish(
                record, error_answer(400, "missing_idempotency_key", "Idempotency-Key header is missing")
            )
        if body_key is None:
            return self._finish(record, error_answer(400, "missing_delivery_id", "the body has no delivery_id"))
        if header_key != body_key:
            # A captured push replayed under a new key is the same delivery: refuse it (v1.1).
            return self._finish(
                record,
                error_answer(400, "idempotency_key_mismatch", "Idempotency-Key differs from the body's delivery_id"),
            )
        with self._lock:
            duplicate = (code, key) in self._accepted
            self._accepted.add((code, key))
        if duplicate:
            return self._finish(record, error_answer(409, "duplicate", "already received", idempotency_key=key))
        answer = Answer(
            202, {"received": True, "agency": code, "idempotency_key": key, "task_id": payload.get("task_id")}
        )
        self._finish(record, answer)
        self._schedule(agency, payload, key)
        return answer

    def _forced_answer(self, code: str, mode: Mode) -> Answer | None:
        """The answer a failure mode imposes, or ``None`` to handle the push normally."""
        if mode.mode == "slow":
            # Returns early when stopping, so shutdown is never held up by a sleeper.
            self._stopping.wait(mode.slow_seconds)
            return None
        if mode.mode == "down":
            return Answer(None)
        if mode.mode == "bad_request":
            return error_answer(400, "bad_request", "simulated: this partner refuses the request")
        if mode.mode == "always_503":
            return self._unavailable(mode)
        if mode.mode == "flaky":
            with self._lock:
                failures = self._flaky_failures.get(code, 0)
                if failures < mode.fail_count:
                    self._flaky_failures[code] = failures + 1
                    return self._unavailable(mode)
        return None

    @staticmethod
    def _unavailable(mode: Mode) -> Answer:
        answer = error_answer(503, "unavailable", "simulated: this partner is unavailable")
        if mode.retry_after is not None:
            answer.headers["Retry-After"] = str(mode.retry_after)
        return answer

    def _finish(self, record: dict[str, Any], answer: Answer) -> Answer:
        record["status"] = answer.status
        with self._lock:
            self._received.append(record)
        if record["verified"]:
            check = "verified"
        elif record["signature_error"]:
            check = f"unverified({record['signature_error']})"
        else:
            check = "-"
        mode = f" mode={record['mode']}" if record["mode"] not in (None, "ok") else ""
        outcome = "dropped" if answer.status is None else str(answer.status)
        log.info(
            "%s push task=%s type=%s key=%s %s%s -> %s",
            record["agency"],
            record["task_id"],
            record["type"],
            _short(record["idempotency_key"]),
            check,
            mode,
            outcome,
        )
        return answer

    # -- results ----------------------------------------------------------------

    def result_url(self, payload: Mapping[str, Any]) -> str:
        """Where to post the result of ``payload``: its ``result_url``, possibly re-hosted."""
        url = payload.get("result_url")
        parts = urlsplit(url) if isinstance(url, str) else None
        if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
            return f"{self.platform_url}/api/v1/tasks/{payload.get('task_id')}/result/"
        if self.results_settings()["rewrite_host"]:
            platform = urlsplit(self.platform_url)
            return urlunsplit((platform.scheme, platform.netloc, parts.path, parts.query, ""))
        return url

    def _schedule(self, agency: Agency, payload: dict[str, Any], key: str) -> None:
        with self._lock:
            if not self._results["enabled"] or self._stopping.is_set():
                log.info("%s task=%s: results are off; not acting", agency.code, payload.get("task_id"))
                return
            timer = threading.Timer(self._results["delay"], self._act, args=(agency, payload, key, self._generation))
            timer.daemon = True
            self._timers.add(timer)
        timer.start()

    def _act(self, agency: Agency, payload: dict[str, Any], key: str, generation: int) -> None:
        try:
            self._post_result(agency, payload, key, generation)
        except Exception:
            # A bug here must be loud in the log, not end the timer thread silently.
            log.exception("%s task=%s: acting failed", agency.code, payload.get("task_id"))
        finally:
            with self._lock:
                self._timers.discard(threading.current_thread())  # type: ignore[arg-type]

    def _post_result(self, agency: Agency, payload: dict[str, Any], key: str, generation: int) -> None:
        with self._lock:
            if self._stopping.is_set() or generation != self._generation:
                return
            settings = dict(self._results)
        if not settings["enabled"]:
            return
        result = build_result(payload, agency.code, status=settings["status"], reason=settings["reason"])
        url = self.result_url(payload)
        record: dict[str, Any] = {
            "agency": agency.code,
            "task_id": payload.get("task_id"),
            "type": payload.get("type"),
            "idempotency_key": key,
            "delivery_id": payload.get("delivery_id"),
            "result_url": url,
            "time": _now_iso(),
            "status": None,
            "attempts": 0,
            "error": None,
            "answer": None,
            "payload": result,
        }
        if agency.token:
            self._send_result(agency, url, result, record)
        else:
            record["error"] = "the agency has no token in the config"
        with self._lock:
            if generation == self._generation:
                self._acted.append(record)
        outcome = record["status"] if record["status"] is not None else record["error"]
        # The platform's answer only when it refused: that is what someone reading the log needs.
        refused = record["status"] is not None and record["status"] >= 300
        answer = f" {_brief(record['answer'])}" if refused else ""
        log.info(
            "%s result task=%s %s attempts=%d -> %s%s",
            agency.code,
            record["task_id"],
            result["status"],
            record["attempts"],
            outcome,
            answer,
        )

    def _send_result(self, agency: Agency, url: str, result: dict[str, Any], record: dict[str, Any]) -> None:
        """POST ``result``, retrying unreachable platforms, 408, 429 and 5xx with back-off."""
        content = json.dumps(result, ensure_ascii=False).encode("utf-8")
        headers = {
            "Authorization": f"Token {agency.token}",
            "Content-Type": "application/json",
            "Accept": "application/json",
        }
        for attempt in range(1, self.result_attempts + 1):
            if self._stopping.is_set():
                record["error"] = record["error"] or "stopped"
                return
            record["attempts"] = attempt
            retry_after: float | None = None
            try:
                response = self._client.post(url, content=content, headers=headers)
            except (httpx.HTTPError, RuntimeError) as exc:
                # RuntimeError: the client was closed because we are stopping.
                record["status"], record["answer"] = None, None
                record["error"] = f"{type(exc).__name__}: {exc}"
                retryable = True
            else:
                record["status"], record["error"] = response.status_code, None
                record["answer"] = _response_body(response)
                retryable = response.status_code >= 500 or response.status_code in _RETRYABLE_STATUSES
                retry_after = _retry_after(response)
            if not retryable or attempt == self.result_attempts:
                return
            wait = self.retry_backoff * 2 ** (attempt - 1)
            if retry_after is not None:
                wait = max(wait, min(retry_after, _MAX_RETRY_AFTER))
            log.info(
                "%s result task=%s -> %s; retry in %.1fs",
                agency.code,
                record["task_id"],
                record["status"] or record["error"],
                wait,
            )
            if self._stopping.wait(wait):
                record["error"] = record["error"] or "stopped"
                return


def _json_object(body: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    return value if isinstance(value, dict) else None


def _short(key: str | None) -> str:
    if not key:
        return "-"
    return key if len(key) <= 12 else key[:8] + "…"


def _brief(answer: Any) -> str:
    text = answer if isinstance(answer, str) else json.dumps(answer, ensure_ascii=False)
    return text if len(text) <= 200 else text[:200] + "…"


def _response_body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text[:1000]


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None  # an HTTP date: rare enough that the normal back-off will do
