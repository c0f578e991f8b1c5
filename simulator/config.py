"""Which agencies the demo partner plays, from the file the platform writes.

``{"agencies": {CODE: {"secret": ..., "token": ..., "sector": ...}}}``, written
by ``manage.py demo_partners``; codes are matched in upper case. An entry may
also list ``"secrets": [...]``, every secret the partner holds (protocol v1.1
rotation: a push is accepted when any of its ``v1`` matches any of them).
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["Agency", "ConfigSource", "parse_config"]

log = logging.getLogger("simulator")


@dataclass(frozen=True)
class Agency:
    """One simulated partner: its shared push secret, its API token and its sector."""

    code: str
    secret: str
    token: str
    sector: str
    also: tuple[str, ...] = ()  # further secrets held during a rotation

    @property
    def secrets(self) -> tuple[str, ...]:
        """Every secret this partner accepts a push under."""
        return (self.secret, *self.also)


def parse_config(data: Any) -> dict[str, Agency]:
    """Agencies from ``{"agencies": {CODE: {"secret", "token", "sector"}}}``, keyed by code."""
    agencies = data.get("agencies") if isinstance(data, Mapping) else None
    if not isinstance(agencies, Mapping):
        raise TypeError('the simulator config needs an "agencies" object')
    parsed: dict[str, Agency] = {}
    for raw_code, entry in agencies.items():
        code = str(raw_code).upper()
        secret = entry.get("secret") if isinstance(entry, Mapping) else None
        listed = entry.get("secrets") if isinstance(entry, Mapping) else None
        held = [s for s in listed if isinstance(s, str) and s] if isinstance(listed, list) else []
        if (not isinstance(secret, str) or not secret) and held:
            secret = held[0]
        if not isinstance(secret, str) or not secret:
            # One broken entry should not take every other partner down with it.
            log.warning("config: agency %s has no secret; ignored", code)
            continue
        parsed[code] = Agency(
            code=code,
            secret=secret,
            token=str(entry.get("token") or ""),
            sector=str(entry.get("sector") or "other"),
            also=tuple(s for s in held if s != secret),
        )
    return parsed


class ConfigSource:
    """The agencies, from a dict or from a JSON file re-read whenever it changes.

    The platform's ``demo_partners`` command rewrites the file while we run, so
    every lookup compares the file's mtime, size and inode with the last read.
    A missing or half-written file keeps the last good configuration.
    """

    def __init__(self, source: Mapping[str, Any] | str | os.PathLike[str] | None) -> None:
        self._lock = threading.Lock()
        self._path: Path | None = None
        self._stamp: tuple[int, int, int] | None = None
        self._agencies: dict[str, Agency] = {}
        self.set(source)

    @property
    def path(self) -> Path | None:
        """The watched file, or ``None`` when the configuration was given as a dict."""
        return self._path

    def set(self, source: Mapping[str, Any] | str | os.PathLike[str] | None) -> None:
        """Replace the configuration with a dict, or start watching a file."""
        with self._lock:
            self._stamp = None
            if source is None:
                self._path, self._agencies = None, {}
            elif isinstance(source, Mapping):
                self._path, self._agencies = None, parse_config(source)
            else:
                self._path, self._agencies = Path(source), {}
        self._refresh()

    def _refresh(self) -> None:
        if self._path is None:
            return
        try:
            stat = self._path.stat()
        except OSError:
            return
        stamp = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
        with self._lock:
            if stamp == self._stamp:
                return
            self._stamp = stamp
            try:
                agencies = parse_config(json.loads(self._path.read_text(encoding="utf-8")))
            except (OSError, TypeError, ValueError) as exc:
                log.warning("config: cannot use %s (%s); keeping the previous one", self._path, exc)
                return
            self._agencies = agencies
        log.info("config: %d agencies from %s: %s", len(agencies), self._path, " ".join(agencies) or "-")

    def agencies(self) -> dict[str, Agency]:
        """Every configured agency, by code."""
        self._refresh()
        with self._lock:
            return dict(self._agencies)

    def get(self, code: str) -> Agency | None:
        """The agency with ``code`` (any case), or ``None``."""
        return self.agencies().get(code.upper())
