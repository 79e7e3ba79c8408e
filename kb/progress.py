"""Progress a person can see: a bar on a terminal, a plain line every few seconds otherwise.

Under ``make run`` or a service manager stderr is not a terminal and a tqdm bar never shows, so then
:class:`ChunkProgress` prints ``Inlezen: 120/414 teksten (29 %), nog ongeveer 3 min`` at least every
``interval`` seconds (a background timer, so a slow step still gets a line) and once at the end.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import IO, Any


def format_duration(seconds: float) -> str:
    if seconds < 60:
        return f"{max(1, round(seconds))} s"
    if seconds < 3600:
        return f"{round(seconds / 60)} min"
    return f"{seconds / 3600:.1f} uur"


class ChunkProgress:
    """Texts embedded out of a total, with an estimate of the time left."""

    def __init__(
        self,
        desc: str,
        stream: IO[str] | None = None,
        interval: float = 10.0,
        unit: str = "teksten",
        tty: bool | None = None,
    ) -> None:
        self.desc = desc
        self.stream = stream or sys.stderr
        self.interval = interval
        self.unit = unit
        self.done = 0
        self.total = 0
        self._start = time.monotonic()
        self._first_done: tuple[float, int] | None = None  # (time, done) when work started (cached ones excluded)
        self._bar: Any = None
        self._tty = self.stream.isatty() if tty is None else tty
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    # ------------------------------------------------------------------------------ updates
    def __call__(self, done: int, total: int) -> None:
        with self._lock:
            if self._first_done is None and total:
                self._first_done = (time.monotonic(), done)
            self.done, self.total = done, total
        if self._tty:
            self._update_bar()
        elif self._thread is None and total:
            self._thread = threading.Thread(target=self._tick, daemon=True)
            self._thread.start()

    def _update_bar(self) -> None:
        from tqdm import tqdm

        if self._bar is None:
            self._bar = tqdm(total=self.total, desc=self.desc, unit=f" {self.unit}", file=self.stream, leave=False)
        if self._bar.total != self.total:
            self._bar.total = self.total
        self._bar.n = self.done
        self._bar.refresh()

    def _tick(self) -> None:
        while not self._stop.wait(self.interval):
            self.stream.write(self.line() + "\n")
            self.stream.flush()

    def estimate(self) -> float | None:
        """Seconds left at the rate since the first update (None until something was embedded)."""
        with self._lock:
            if self._first_done is None or self.done >= self.total:
                return None if self.done < self.total else 0.0
            t0, d0 = self._first_done
            rate = (self.done - d0) / max(1e-9, time.monotonic() - t0)
            return (self.total - self.done) / rate if rate > 0 else None

    def line(self) -> str:
        pct = 100 * self.done / self.total if self.total else 100
        left = self.estimate()
        tail = (
            f", nog ongeveer {format_duration(left)}"
            if left
            else (", schatting volgt" if self.done < self.total else "")
        )
        return f"{self.desc}: {self.done}/{self.total} {self.unit} ({pct:.0f} %){tail}"

    def write(self, text: str, file: IO[str] | None = None) -> None:
        """A message line that does not tear the bar."""
        if self._bar is not None:
            self._bar.write(text, file=file or sys.stdout)
        else:
            print(text, file=file or sys.stdout)

    def close(self) -> None:
        self._stop.set()
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        elif self._thread is not None and self.total:
            self.stream.write(self.line() + "\n")
            self.stream.flush()
        self._thread = None
