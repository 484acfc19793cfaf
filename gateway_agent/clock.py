"""Clocks for the agent: the real one, one running X times faster, and one moved by hand.

Everything in the agent asks a clock for the time and waits through it, so ten minutes of
simulated time can pass in seconds (`ScaledClock`) or in one step (`ManualClock`).
Request signatures always use the real wall clock: the server checks them against its own.
"""

from __future__ import annotations

import json
import os
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """Aware UTC time as the agent sees it."""

    def monotonic(self) -> float:
        """Seconds that never go backwards; differences are in this clock's seconds."""

    def wait(self, stop: threading.Event, seconds: float) -> bool:
        """Wait `seconds` of this clock's time or until `stop` is set; True if stopped."""


class RealClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()

    def wait(self, stop: threading.Event, seconds: float) -> bool:
        return stop.wait(max(seconds, 0.0))


class ScaledClock:
    """Simulated time running `speed` times faster than the real clock.

    simulated = start + (real - real_start) * speed. With `anchor_file`, the pair
    (start, real_start) is written on first use and read back later, so a restarted agent
    continues the same simulated timeline (time went on while it was down, as a meter's does).
    """

    def __init__(
        self, speed: float, start: datetime | None = None, anchor_file: Path | None = None
    ) -> None:
        if speed <= 0:
            raise ValueError("speed must be > 0")
        self.speed = speed
        self._start, self._real_start = self._anchor(start, anchor_file)

    def _anchor(self, start: datetime | None, anchor_file: Path | None) -> tuple[datetime, float]:
        real_now = time.time()
        if anchor_file is not None and anchor_file.exists():
            saved = json.loads(anchor_file.read_text())
            return datetime.fromisoformat(saved["start"]), float(saved["real_start"])
        begin = start or datetime.fromtimestamp(real_now, UTC)
        if anchor_file is not None:
            tmp = anchor_file.with_suffix(".tmp")
            tmp.write_text(json.dumps({"start": begin.isoformat(), "real_start": real_now}))
            os.replace(tmp, anchor_file)
        return begin, real_now

    def now(self) -> datetime:
        return self._start + timedelta(seconds=self.monotonic())

    def monotonic(self) -> float:
        return (time.time() - self._real_start) * self.speed

    def wait(self, stop: threading.Event, seconds: float) -> bool:
        return stop.wait(max(seconds, 0.0) / self.speed)


class ManualClock:
    """Time moves only when told; `wait` moves it at once, so a loop runs without sleeping."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("start must be timezone-aware")
        self._start = start.astimezone(UTC)
        self._elapsed = 0.0
        self._lock = threading.Lock()

    def now(self) -> datetime:
        return self._start + timedelta(seconds=self.monotonic())

    def monotonic(self) -> float:
        with self._lock:
            return self._elapsed

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("time does not go backwards")
        with self._lock:
            self._elapsed += seconds

    def wait(self, stop: threading.Event, seconds: float) -> bool:
        if not stop.is_set():
            self.advance(max(seconds, 0.0))
        return stop.is_set()
