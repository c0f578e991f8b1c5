"""Run a command with PostgreSQL and Redis available; exit with the command's status.

    .venv/bin/python scripts/with_services.py CMD [ARGS...]

Starts (or joins) the servers described in ``scripts/services.py``, exports
``DATABASE_URL`` and ``REDIS_URL`` to CMD, and stops what it started once CMD
exits, whatever the reason.

The command stays in our process group so it keeps the terminal: ``pytest --pdb``
can read stdin, and a Ctrl-C at the keyboard reaches it directly from the terminal.
SIGTERM and SIGHUP sent to this wrapper (``kill``, a CI runner, ``make``) are
forwarded. SIGINT and SIGQUIT are forwarded too, unless the wrapper is the
terminal's foreground job: then they came from the keyboard and the command has
them already (a ``kill -INT`` of a foreground wrapper is the one case not relayed).
"""

from __future__ import annotations

import atexit
import os
import signal
import subprocess
import sys
from pathlib import Path

# `python scripts/with_services.py` puts scripts/ first on sys.path.
from services import start_services

BASE_DIR = Path(__file__).resolve().parent.parent
FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)


def _child_has_terminal_signal() -> bool:
    """True if a keyboard signal would also have reached the child.

    Terminal-generated SIGINT/SIGQUIT go to the whole foreground process group,
    which includes the child; forwarding it again would make pytest treat one
    Ctrl-C as two and skip its teardown.
    """
    try:
        fd = os.open("/dev/tty", os.O_RDONLY | os.O_NOCTTY)
    except OSError:
        return False  # no controlling terminal: the signal was sent to us alone
    try:
        return os.tcgetpgrp(fd) == os.getpgrp()
    except OSError:
        return False
    finally:
        os.close(fd)


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2

    # Until the child exists a signal means "give up": the handlers below turn it
    # into an exception so start_services() can undo a half-finished start.
    def early(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    for sig in FORWARDED:
        signal.signal(sig, early)

    try:
        env, stop = start_services(BASE_DIR)
    except KeyboardInterrupt:
        print("with_services: interrupted while starting services", file=sys.stderr)
        return 130
    atexit.register(stop)  # also covers an exception anywhere below

    child_env = {**os.environ, **env}
    try:
        child = subprocess.Popen(argv, env=child_env)
    except OSError as exc:
        print(f"with_services: cannot run {argv[0]!r}: {exc}", file=sys.stderr)
        stop()
        return 127

    def forward(signum: int, _frame: object) -> None:
        if signum in (signal.SIGINT, signal.SIGQUIT) and _child_has_terminal_signal():
            return
        if child.poll() is None:
            child.send_signal(signum)

    for sig in FORWARDED:
        signal.signal(sig, forward)

    returncode = child.wait()
    # Ctrl-C pressed again while we tear down must not abort the teardown.
    for sig in FORWARDED:
        signal.signal(sig, signal.SIG_IGN)
    stop()
    # Shell convention for "killed by signal N".
    return 128 - returncode if returncode < 0 else returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
