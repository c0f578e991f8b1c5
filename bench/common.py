"""What every benchmark section shares: the server under test and a bounded load driver.

The driver runs ``concurrency`` client processes (processes, not threads, so
the client is not serialised on one GIL) for ``duration`` seconds each; every
process opens a fresh connection per request, as gunicorn's sync workers close
connections anyway, and records the latency of each request. Its CPU use is
part of the measurement on a small machine: say so when reporting.
"""

from __future__ import annotations

import http.client
import json
import multiprocessing
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# A request factory returns (method, path, body-or-None) for the i-th request of a client.
RequestFactory = Callable[[int, "random.Random"], tuple[str, str, dict | None]]  # noqa: F821


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    """A real gunicorn serving the platform with production settings on 127.0.0.1."""

    database_url: str
    redis_url: str
    workers: int = 3
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            {
                "DJANGO_SETTINGS_MODULE": "coordination.settings",
                "DEBUG": "0",
                "SECRET_KEY": secrets.token_urlsafe(50),
                "DATABASE_URL": self.database_url,
                "REDIS_URL": self.redis_url,
                "ALLOWED_HOSTS": "127.0.0.1,localhost",
                # TLS is terminated in front of the platform in production; here there is none.
                "SECURE_SSL_REDIRECT": "0",
                "SESSION_COOKIE_SECURE": "0",
                "CSRF_COOKIE_SECURE": "0",
                "DB_POOL": "1",
                "DB_POOL_MAX": "4",
                "API_PING": "1",
                # The write throttle would cap the task-creation scenario at its rate.
                "API_WRITE_RATE": "1000000/min",
                # Likewise the lookup throttle for the payment-time lookup scenario.
                "API_LOOKUP_RATE": "1000000/min",
                "LOG_LEVEL": "WARNING",
            }
        )
        return env

    def __enter__(self) -> Server:
        argv = [
            sys.executable, "-m", "gunicorn", "coordination.wsgi:application",
            "--bind", f"127.0.0.1:{self.port}", "--workers", str(self.workers),
            "--worker-class", "sync", "--backlog", "512", "--timeout", "60",
            "--log-level", "warning",
        ]  # fmt: skip
        self.process = subprocess.Popen(argv, cwd=ROOT, env=self.env(), start_new_session=True)
        # Generous: on the shared 2-core machine, with other sessions' test suites running,
        # three workers importing Django have taken over a minute.
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}")
            try:
                # Any HTTP answer means the workers are up (health may be 503 without a Celery worker).
                request(self.port, "GET", "/health/", None, {})
                return self
            except OSError:
                pass
            time.sleep(0.2)
        self.__exit__(None, None, None)
        raise RuntimeError("gunicorn did not answer within 180 s")

    def __exit__(self, *exc) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def request(port: int, method: str, path: str, body: dict | None, headers: dict) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        payload = json.dumps(body).encode() if body is not None else None
        all_headers = {"Accept": "application/json", **headers}
        if payload is not None:
            all_headers["Content-Type"] = "application/json"
        conn.request(method, path, body=payload, headers=all_headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def _client(args) -> tuple[list[float], int, dict[int, int]]:
    import random

    port, token, factory, duration, seed = args
    rng = random.Random(seed)
    headers = {"Authorization": f"Token {token}"}
    latencies, errors, statuses = [], 0, {}
    end = time.perf_counter() + duration
    i = 0
    while time.perf_counter() < end:
        method, path, body = factory(i, rng)
        started = time.perf_counter()
        try:
            status, _ = request(port, method, path, body, headers)
        except OSError:
            status = 0
        latencies.append(time.perf_counter() - started)
        statuses[status] = statuses.get(status, 0) + 1
        if not 200 <= status < 300:
            errors += 1
        i += 1
    return latencies, errors, statuses


def percentile(sorted_values: list[float], fraction: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(fraction * (len(sorted_values) - 1))))
    return sorted_values[index]


def load(port: int, token: str, factory, *, duration: float, concurrency: int) -> dict:
    """Drive ``concurrency`` clients for ``duration`` seconds; requests/s and latency percentiles (ms)."""
    with multiprocessing.get_context("fork").Pool(concurrency) as pool:
        started = time.perf_counter()
        parts = pool.map(_client, [(port, token, factory, duration, seed) for seed in range(concurrency)])
        elapsed = time.perf_counter() - started
    latencies = sorted(latency for part, _e, _s in parts for latency in part)
    statuses: dict[int, int] = {}
    for _l, _e, part in parts:
        for status, count in part.items():
            statuses[status] = statuses.get(status, 0) + count
    return {
        "requests": len(latencies),
        "errors": sum(e for _l, e, _s in parts),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "rps": round(len(latencies) / elapsed, 1),
        "p50_ms": round(percentile(latencies, 0.50) * 1000, 2),
        "p95_ms": round(percentile(latencies, 0.95) * 1000, 2),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 2),
        "concurrency": concurrency,
        "seconds": round(elapsed, 1),
    }
