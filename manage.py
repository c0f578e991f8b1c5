#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
# What tells a deployment or a configured shell from a bare one: any of these set
# means the caller chose its servers and key, and nothing is read from var/.
CONFIGURED_BY = ("DATABASE_URL", "REDIS_URL", "SECRET_KEY")


def _run_environment() -> None:
    """In a bare shell, take the environment a running ``make run`` published.

    ``scripts/run.py`` writes ``var/run.env`` (0600) while it runs: the live URLs of
    the embedded PostgreSQL and Redis (their ports change at every start), its
    development ``SECRET_KEY``, ``DEBUG=0`` and its plain-HTTP settings. Without
    that file, or with any of ``CONFIGURED_BY`` set, nothing changes: production
    still refuses to start without ``SECRET_KEY``. ``COORD_VAR_DIR`` moves ``var/``
    as it does for ``scripts/services.py`` (``var_dir_for``).
    """
    if any(name in os.environ for name in CONFIGURED_BY):
        return
    var = Path(os.environ["COORD_VAR_DIR"]) if os.environ.get("COORD_VAR_DIR") else BASE_DIR / "var"
    try:
        text = (var / "run.env").read_text()
    except OSError:
        return
    values = {}
    for line in text.splitlines():
        name, sep, value = line.partition("=")
        if sep and not name.startswith("#"):
            values[name.strip()] = value.strip()
    if not _alive(values.pop("RUN_PID", "")):
        return  # left by a `make run` that was killed: its servers' ports are stale
    for name, value in values.items():
        os.environ.setdefault(name, value)


def _alive(pid: str) -> bool:
    try:
        os.kill(int(pid), 0)
    except (ValueError, ProcessLookupError):
        return False
    except PermissionError:
        return True
    return True


def main() -> None:
    _run_environment()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coordination.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
