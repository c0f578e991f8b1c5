"""The demo partner over HTTP: one server standing in for every agency's liaison endpoint.

Routes ``POST /<CODE>/`` (or ``/<CODE>/push``) to :class:`~.partner.Simulator`,
serves ``/`` (an HTML index for people), ``/health`` and the ``/_control/`` API, and runs in a thread behind a
:class:`SimulatorHandle`. It is a separate process, like a real partner, and
deliberately knows nothing of Django.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import logging
import os
import re
import socket
import struct
import threading
import time
from collections.abc import Mapping
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

from .partner import MODES, Answer, Simulator, error_answer

__all__ = [
    "MODES",
    "SimulatorHandle",
    "SimulatorServer",
    "loopback_address",
    "serve_in_thread",
]

log = logging.getLogger("simulator")

#: Pushes are small JSON documents; anything larger is refused before it is read.
MAX_BODY = 1 << 20

_PUSH_PATH = re.compile(r"/(?P<code>[A-Za-z0-9][A-Za-z0-9-]*)(?:/push)?/?")


# --- HTTP --------------------------------------------------------------------------


class SimulatorServer(ThreadingHTTPServer):
    """A threading HTTP server that can also close its open keep-alive connections."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], simulator: Simulator) -> None:
        self.simulator = simulator
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Shut idle keep-alive connections so their handler threads end now."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):  # already closed by its client
                connection.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    """Routes: ``/health``, ``/_control/...`` and ``POST /<CODE>/`` (or ``/<CODE>/push``)."""

    # HTTP/1.1 so the platform's pooled keep-alive connections behave as in production.
    protocol_version = "HTTP/1.1"
    # TCP_NODELAY, and headers and body in one write (``_end_with``): with Nagle on and two
    # writes the body waited for the client's delayed ACK (~40 ms) on every back-to-back
    # keep-alive answer (43.5 ms a post; 0.7 ms with NODELAY; issue 16).
    disable_nagle_algorithm = True
    server_version = "DemoPartner/1.0"
    sys_version = ""
    # An idle keep-alive connection gives its thread back after this many seconds.
    timeout = 30
    server: SimulatorServer

    def log_message(self, format: str, *args: Any) -> None:
        """Keep http.server's access log out of stdout; our own lines say more."""
        log.debug("%s %s", self.address_string(), format % args)

    def do_GET(self) -> None:
        """Health and the read-only control endpoints."""
        self._guarded(self._get)

    def do_POST(self) -> None:
        """Pushes and the control endpoints that change state."""
        self._guarded(self._post)

    def _guarded(self, handler: Any) -> None:
        try:
            handler()
        except Exception:
            log.exception("error handling %s %s", self.command, self.path)
            self.close_connection = True
            with contextlib.suppress(OSError):  # the client may be gone too
                self._send(error_answer(500, "internal_error", "the simulator failed; see its log"))

    def _get(self) -> None:
        parts = urlsplit(self.path)
        path, query = parts.path, parse_qs(parts.query)
        agency = query.get("agency", [None])[0]
        simulator = self.server.simulator
        if path == "/":
            self._send_html(index_page(simulator))
            return
        if path == "/health":
            agencies = simulator.config.agencies()
            answer = Answer(200, {"status": "ok", "agencies": sorted(agencies)})
        elif path == "/_control/received":
            answer = Answer(200, simulator.received(agency))
        elif path == "/_control/acted":
            answer = Answer(200, simulator.acted(agency))
        elif path == "/_control/mode":
            answer = Answer(200, simulator.modes())
        elif path == "/_control/results":
            answer = Answer(200, simulator.results_settings())
        elif path.startswith("/_control/") or _PUSH_PATH.fullmatch(path):
            answer = error_answer(405, "method_not_allowed", f"use POST for {path}")
            answer.headers["Allow"] = "POST"
        else:
            answer = error_answer(404, "not_found", f"nothing at {path}")
        self._send(answer)

    def _post(self) -> None:
        body = self._read_body()
        if body is None:
            return
        path = urlsplit(self.path).path
        simulator = self.server.simulator
        if path.startswith("/_control/"):
            self._send(_control(simulator, path, body))
            return
        match = _PUSH_PATH.fullmatch(path)
        if path == "/health" or match is None:
            self._send(error_answer(404, "not_found", f"nothing at {path}"))
            return
        answer = simulator.handle_push(match["code"], self.headers, body, path)
        if answer.status is None:
            self._drop()
        else:
            self._send(answer)

    def _read_body(self) -> bytes | None:
        """The request body, or ``None`` after answering why it cannot be read."""
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            # Pushes are small and always sized; not worth a chunked decoder here.
            self.close_connection = True
            self._send(error_answer(411, "length_required", "send a Content-Length"))
            return None
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0 or length > MAX_BODY:
            # The unread body would be parsed as the next request: close instead.
            self.close_connection = True
            self._send(error_answer(413 if length > 0 else 400, "bad_length", "bad Content-Length"))
            return None
        return self.rfile.read(length) if length else b""

    def _send(self, answer: Answer) -> None:
        data = json.dumps(answer.body, ensure_ascii=False).encode("utf-8")
        self.send_response(answer.status or 500)
        for name, value in answer.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self._end_with(data)

    def _end_with(self, data: bytes) -> None:
        """End the headers and send them with the body in one write (one segment, no Nagle wait)."""
        self._headers_buffer.append(b"\r\n" + data)
        self.flush_headers()

    def _send_html(self, text: str) -> None:
        data = text.encode("utf-8")
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self._end_with(data)

    def _drop(self) -> None:
        """Close without answering; a zero linger makes it a reset, as a crashed partner would."""
        self.close_connection = True
        with contextlib.suppress(OSError):  # then it is a plain close, which also answers nothing
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def index_page(simulator: Simulator) -> str:
    """``GET /``: what a person opening the banner's link should see (the API is JSON).

    The agencies it stands in for with their push endpoints and modes, counts of
    what it received and acted on, and the control endpoints; read-only.
    """
    agencies = simulator.config.agencies()
    modes = simulator.modes()
    received, acted = simulator.received(), simulator.acted()
    default = modes.get("*", {})
    rows = []
    for code in sorted(agencies):
        mode = modes.get(code, default).get("mode", "")
        got = sum(1 for r in received if str(r.get("agency", "")).upper() == code)
        done = sum(1 for r in acted if str(r.get("agency", "")).upper() == code)
        rows.append(
            f"<tr><td>{escape(code)}</td><td><code>POST /{escape(code)}/push</code></td>"
            f"<td>{escape(str(mode))}</td><td>{got}</td><td>{done}</td></tr>"
        )
    body = "".join(rows) or '<tr><td colspan="5">No agency configured.</td></tr>'
    results = simulator.results_settings()
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Demo partner simulator</title>
<style>body{{font-family:system-ui,sans-serif;margin:1.5rem;max-width:60rem}}
table{{border-collapse:collapse;width:100%}}th,td{{border-bottom:1px solid #ccc;padding:.3rem .5rem;text-align:left}}
code{{font-size:.9em}}</style></head>
<body><main>
<h1>Demo partner simulator</h1>
<p>This process stands in for the liaison systems of the demo banks and operators: it receives the
platform's signed pushes, acknowledges them and, after a delay, posts results back
(partner protocol v1). It is a development tool, not part of the platform.</p>
<h2>Agencies</h2>
<table><thead><tr><th scope="col">Agency</th><th scope="col">Push endpoint</th><th scope="col">Mode</th>
<th scope="col">Pushes received</th><th scope="col">Results posted</th></tr></thead><tbody>{body}</tbody></table>
<p>Results: {"on" if results.get("enabled") else "off"}, delay {escape(str(results.get("delay", "")))} s,
status {escape(str(results.get("status", "")))}.</p>
<h2>Control API (JSON)</h2>
<ul>
<li><a href="/health"><code>GET /health</code></a></li>
<li><a href="/_control/received"><code>GET /_control/received</code></a>,
<a href="/_control/acted"><code>GET /_control/acted</code></a> (<code>?agency=CODE</code>)</li>
<li><a href="/_control/mode"><code>GET /_control/mode</code></a>, <code>POST /_control/mode</code></li>
<li><a href="/_control/results"><code>GET /_control/results</code></a>, <code>POST /_control/results</code></li>
<li><code>POST /_control/reset</code></li>
</ul>
</main></body></html>
"""


_MODE_FIELDS = frozenset({"agency", "mode", "slow_seconds", "fail_count", "retry_after"})
_RESULTS_FIELDS = frozenset({"enabled", "delay", "status", "reason", "rewrite_host"})


def _control(simulator: Simulator, path: str, body: bytes) -> Answer:
    """``POST /_control/mode``, ``/_control/results`` and ``/_control/reset``."""
    try:
        data = json.loads(body) if body.strip() else {}
    except (ValueError, UnicodeDecodeError):
        return error_answer(400, "invalid_json", "body must be a JSON object")
    if not isinstance(data, dict):
        return error_answer(400, "invalid_json", "body must be a JSON object")
    try:
        if path == "/_control/mode":
            _only(data, _MODE_FIELDS)
            if "mode" not in data:
                raise ValueError("mode is required")
            return Answer(200, simulator.set_mode(**{"agency": "*", **data}))
        if path == "/_control/results":
            _only(data, _RESULTS_FIELDS)
            return Answer(200, simulator.set_results(**data))
        if path == "/_control/reset":
            simulator.reset()
            return Answer(200, {"reset": True})
    except (TypeError, ValueError) as exc:
        return error_answer(400, "invalid", str(exc))
    return error_answer(404, "not_found", f"nothing at {path}")


def _only(data: Mapping[str, Any], allowed: frozenset[str]) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ValueError(f"unknown fields: {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}")


# --- running -----------------------------------------------------------------------


def loopback_address(host: str) -> str:
    """``host`` if it is an IPv4 loopback address; the simulator never listens beyond it."""
    if host == "localhost":
        return "127.0.0.1"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise ValueError(f"{host!r} is not an IP address") from None
    if address.version != 4 or not address.is_loopback:
        raise ValueError(f"the simulator listens on 127.0.0.0/8 only, not {host}")
    return host


class SimulatorHandle:
    """A simulator serving in a background thread; stop it with :meth:`stop` or ``with``."""

    def __init__(self, simulator: Simulator, server: SimulatorServer, thread: threading.Thread):
        self.simulator = simulator
        self._server = server
        self._thread = thread
        self._stopped = False

    @property
    def host(self) -> str:
        """The loopback address served on."""
        return str(self._server.server_address[0])

    @property
    def port(self) -> int:
        """The port served on (the real one when started with port 0)."""
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """Base URL, without a trailing slash: an agency's endpoint is ``f"{url}/{CODE}/"``."""
        return f"http://{self.host}:{self.port}"

    def endpoint(self, code: str) -> str:
        """The push endpoint URL of agency ``code``."""
        return f"{self.url}/{code}/"

    def received(self, agency: str | None = None) -> list[dict[str, Any]]:
        """See :meth:`Simulator.received`."""
        return self.simulator.received(agency)

    def acted(self, agency: str | None = None) -> list[dict[str, Any]]:
        """See :meth:`Simulator.acted`."""
        return self.simulator.acted(agency)

    def set_mode(self, mode: str, agency: str = "*", **params: Any) -> dict[str, dict[str, Any]]:
        """See :meth:`Simulator.set_mode`."""
        return self.simulator.set_mode(mode, agency, **params)

    def set_results(self, **settings: Any) -> dict[str, Any]:
        """See :meth:`Simulator.set_results`."""
        return self.simulator.set_results(**settings)

    def set_config(self, config: Mapping[str, Any] | str | os.PathLike[str]) -> None:
        """Replace the agencies (a dict) or watch another config file."""
        self.simulator.config.set(config)

    def reset(self) -> None:
        """See :meth:`Simulator.reset`."""
        self.simulator.reset()

    def wait_for_acted(self, count: int = 1, timeout: float = 10.0) -> list[dict[str, Any]]:
        """Wait until at least ``count`` results were posted; return them all (maybe fewer)."""
        deadline = time.monotonic() + timeout
        while True:
            acted = self.acted()
            if len(acted) >= count or time.monotonic() >= deadline:
                return acted
            time.sleep(0.02)

    def stop(self, timeout: float = 5.0) -> None:
        """Stop serving, drop open connections and pending results; safe to call twice."""
        if self._stopped:
            return
        self._stopped = True
        self.simulator.stopping.set()  # wakes slow handlers and retry waits first
        self._server.shutdown()
        self._server.close_connections()
        self._server.server_close()
        self._thread.join(timeout)
        self.simulator.stop()
        log.info("stopped %s", self.url)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def serve_in_thread(
    config: Mapping[str, Any] | str | os.PathLike[str] | None,
    platform_url: str,
    port: int = 0,
    result_delay: float = 0.0,
    *,
    host: str = "127.0.0.1",
    **options: Any,
) -> SimulatorHandle:
    """Start the demo partner on ``host:port`` in a daemon thread and return its handle.

    ``config`` is the config dict or the path of the JSON file to watch;
    ``options`` are the keyword arguments of :class:`Simulator`.
    """
    simulator = Simulator(config, platform_url, result_delay=result_delay, **options)
    try:
        server = SimulatorServer((loopback_address(host), port), simulator)
    except BaseException:
        simulator.stop()
        raise
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.1},
        name=f"simulator-{server.server_address[1]}",
        daemon=True,
    )
    thread.start()
    handle = SimulatorHandle(simulator, server, thread)
    log.info("listening on %s (platform %s)", handle.url, simulator.platform_url)
    return handle
