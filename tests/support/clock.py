"""Movable clocks for tests: in-process (ManualClock) and across processes (FileClock, via SIMPUL_CLOCK).

A service started with ``SIMPUL_CLOCK=tests.support.clock:file_clock`` and ``SIMPUL_TEST_CLOCK_FILE=<path>`` reads
the time as the real time plus the offset that the test writes into that file. This module is the only way to move
time in a running process, and it ships with the tests, never with the services.
"""

from __future__ import annotations

import json
import os
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

CLOCK_SPEC = "tests.support.clock:file_clock"
CLOCK_FILE_ENV = "SIMPUL_TEST_CLOCK_FILE"


class ManualClock:
    """A clock that stands still until the test moves it."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime.now(UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def set(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("a ManualClock takes timezone-aware datetimes")
        with self._lock:
            self._now = at.astimezone(UTC)

    def advance(self, delta: timedelta) -> datetime:
        with self._lock:
            self._now += delta
            return self._now


class FileClock:
    """The real time plus an offset read from a JSON file ({"offset_seconds": x}), re-read when the file changes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stamp: tuple[int, int] | None = None
        self._offset = timedelta(0)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        return datetime.now(UTC) + self._current_offset()

    def _current_offset(self) -> timedelta:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return timedelta(0)
        stamp = (st.st_mtime_ns, st.st_size)
        with self._lock:
            if stamp != self._stamp:
                data = json.loads(self.path.read_text() or "{}")
                self._offset = timedelta(seconds=float(data.get("offset_seconds", 0)))
                self._stamp = stamp
            return self._offset

    @staticmethod
    def write(path: Path, offset: timedelta) -> None:
        """Move every process reading `path` to real time + `offset` (atomically)."""
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"offset_seconds": offset.total_seconds()}))
        os.replace(tmp, path)


def file_clock() -> FileClock:
    """The SIMPUL_CLOCK factory: a FileClock on the file named by SIMPUL_TEST_CLOCK_FILE."""
    path = os.environ.get(CLOCK_FILE_ENV)
    if not path:
        raise RuntimeError(f"{CLOCK_FILE_ENV} must name the clock file when SIMPUL_CLOCK={CLOCK_SPEC}")
    return FileClock(Path(path))
