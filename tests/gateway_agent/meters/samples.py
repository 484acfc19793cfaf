"""Real meter captures from ../shared/realdata (never copied into the repository).

A bare clone has no ../shared: the tests that need a capture then skip, saying so.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from gateway_agent.meters import FrameError, ReadStats, Result, read_frames
from gateway_agent.protocol import MeterReading

REALDATA = Path(__file__).resolve().parents[3] / ".." / "shared" / "realdata"
READ_AT = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)  # the reader's clock in these tests


def sample_path(name: str) -> Path:
    path = REALDATA / name
    if not path.is_file():
        pytest.skip(
            f"real-data capture {name} not found under {REALDATA.resolve()}"
            " (a bare clone has no ../shared/realdata)"
        )
    return path


def sample(name: str) -> bytes:
    return sample_path(name).read_bytes()


def read_at() -> datetime:
    return READ_AT


def read_all(
    protocol: str, data: bytes | Iterable[bytes], stats: ReadStats | None = None
) -> list[Result]:
    chunks = [data] if isinstance(data, bytes) else data
    return list(read_frames(protocol, chunks, now=read_at, stats=stats))


def readings(results: list[Result]) -> list[MeterReading]:
    return [result for result in results if isinstance(result, MeterReading)]


def refusals(results: list[Result]) -> list[FrameError]:
    return [result for result in results if isinstance(result, FrameError)]


def only_reading(protocol: str, data: bytes) -> MeterReading:
    results = read_all(protocol, data)
    assert len(results) == 1 and isinstance(results[0], MeterReading), results
    return results[0]
