"""A simple progress bar on stderr for the commands (no dependency): ``[#####.....]  52%  5200/10000``."""

from __future__ import annotations

import sys
import time


class ProgressBar:
    def __init__(self, total: int, *, stream=None, width: int = 30):
        self.total, self.stream, self.width = total, stream or sys.stderr, width
        self.started = time.monotonic()

    def update(self, done: int) -> None:
        share = done / self.total if self.total else 1.0
        filled = int(self.width * share)
        elapsed = time.monotonic() - self.started
        rate = done / elapsed if elapsed > 0 else 0.0
        self.stream.write(
            f"\r[{'#' * filled}{'.' * (self.width - filled)}] {share:4.0%}  {done}/{self.total}  {rate:,.0f} rows/s"
        )
        self.stream.flush()

    def close(self) -> None:
        self.stream.write("\n")
        self.stream.flush()
