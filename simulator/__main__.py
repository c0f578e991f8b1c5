"""``python -m simulator``: run the demo partner until SIGTERM or SIGINT.

    python -m simulator --port 8100 --config var/simulator.json \\
        --platform http://127.0.0.1:8000 [--result-delay 2.0] [--mode flaky ...]
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from .partner import MODES
from .results import RESULT_STATUSES
from .server import loopback_address, serve_in_thread
from .signing import DEFAULT_TOLERANCE

log = logging.getLogger("simulator")


def _agency_mode(value: str) -> tuple[str, str]:
    code, sep, mode = value.partition("=")
    if not sep or not code or mode not in MODES:
        raise argparse.ArgumentTypeError(f"expected CODE=MODE with MODE one of {', '.join(MODES)}")
    return code.upper(), mode


def _loopback(value: str) -> str:
    try:
        return loopback_address(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def build_parser() -> argparse.ArgumentParser:
    """The command line; failure-mode flags set the defaults the control API can change."""
    parser = argparse.ArgumentParser(
        prog="python -m simulator",
        description="Demo partner: receives signed task pushes for banks, payment "
        "institutions, operators and platforms, and posts results back.",
    )
    parser.add_argument(
        "--host", type=_loopback, default="127.0.0.1", help="loopback address to listen on (default 127.0.0.1)"
    )
    parser.add_argument("--port", type=int, default=8100, help="port (default 8100; 0 picks one)")
    parser.add_argument(
        "--config",
        type=Path,
        default=Path("var/simulator.json"),
        help="agencies JSON, re-read when it changes (default var/simulator.json)",
    )
    parser.add_argument(
        "--platform", default="http://127.0.0.1:8000", help="platform base URL (default http://127.0.0.1:8000)"
    )
    parser.add_argument(
        "--result-delay", type=float, default=2.0, help="seconds before acting on an accepted push (default 2.0)"
    )
    parser.add_argument(
        "--rewrite-result-host",
        action="store_true",
        help="post results to --platform's scheme and host, keeping the path of the push's result_url",
    )
    parser.add_argument("--no-results", action="store_true", help="accept pushes but never act")
    parser.add_argument(
        "--result-status",
        choices=RESULT_STATUSES,
        default="completed",
        help="status every result reports (default completed)",
    )
    parser.add_argument(
        "--mode", choices=MODES, default="ok", help="failure mode of every agency's endpoint (default ok)"
    )
    parser.add_argument(
        "--agency-mode",
        type=_agency_mode,
        action="append",
        default=[],
        metavar="CODE=MODE",
        help="failure mode of one agency; repeatable",
    )
    parser.add_argument(
        "--slow-seconds", type=float, default=5.0, help="how long 'slow' waits before answering (default 5)"
    )
    parser.add_argument(
        "--fail-count", type=int, default=3, help="how many pushes 'flaky' answers 503 first (default 3)"
    )
    parser.add_argument(
        "--retry-after", type=int, default=None, help="Retry-After seconds sent with simulated 503s (default none)"
    )
    parser.add_argument(
        "--tolerance",
        type=int,
        default=DEFAULT_TOLERANCE,
        help=f"signature clock tolerance in seconds (default {DEFAULT_TOLERANCE})",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log every HTTP request")
    return parser


def _configure_logging(verbose: bool) -> None:
    # Our own handler, not basicConfig: httpx's INFO lines would otherwise join ours.
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("[sim] %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.DEBUG if verbose else logging.INFO)
    log.propagate = False
    # Line buffering so a process manager (make run) shows each line as it happens.
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(line_buffering=True)


def main(argv: Sequence[str] | None = None) -> int:
    """Run until SIGTERM or SIGINT; 0 on a clean stop, 2 when the port cannot be had."""
    args = build_parser().parse_args(argv)
    _configure_logging(args.verbose)
    if not args.config.exists():
        log.warning("config: %s does not exist yet; waiting for it", args.config)
    try:
        handle = serve_in_thread(
            args.config,
            args.platform,
            port=args.port,
            result_delay=args.result_delay,
            host=args.host,
            mode=args.mode,
            agency_modes=dict(args.agency_mode),
            slow_seconds=args.slow_seconds,
            fail_count=args.fail_count,
            retry_after=args.retry_after,
            results_enabled=not args.no_results,
            result_status=args.result_status,
            rewrite_result_host=args.rewrite_result_host,
            tolerance=args.tolerance,
        )
    except (OSError, TypeError, ValueError) as exc:
        log.error("cannot start: %s", exc)
        return 2

    stop = threading.Event()

    def _request_stop(signum: int, frame: FrameType | None) -> None:
        log.info("%s received; stopping", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, _request_stop)
    signal.signal(signal.SIGINT, _request_stop)
    # A timed wait keeps the main thread returning to the interpreter, where
    # Python runs signal handlers.
    while not stop.wait(0.5):
        pass
    handle.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
