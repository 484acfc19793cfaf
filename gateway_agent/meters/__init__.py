"""Meter adapters: bytes from the meter's port in, normalised `MeterReading`s out.

One entry point for the agent's run loop, whatever the source of the bytes (serial port, file,
stdin, MQTT):

    for result in read_frames("linky-standard", chunks, now=clock):
        if isinstance(result, FrameError): log it and go on
        else: queue the MeterReading

Every reader is total: any bytes in, only `MeterReading` or `FrameError` out, never an
exception, and a reading leaves only when it passes the wire schema (`protocol.MeterReading`).

Each protocol module is imported only when that protocol is used: dsmr-parser pulls in
cryptography and dlms-cosem (about 17 MB of RSS) and paho-mqtt about 11 MB, which a Linky box
with < 50 MB of RAM must not pay for.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Protocol

import msgspec

from gateway_agent.protocol import MeterReading

PROTOCOLS: tuple[str, ...] = ("p1-be", "p1-nl", "linky-historic", "linky-standard", "smets2-cad")

Clock = Callable[[], datetime]


@dataclass(frozen=True, slots=True)
class FrameError:
    """A frame the reader refused, and why (`frame` counts every frame the reader saw, from 1)."""

    protocol: str
    frame: int
    reason: str

    def __str__(self) -> str:
        return f"frame {self.frame} refused: {self.reason}"


Result = MeterReading | FrameError


@dataclass(slots=True)
class ReadStats:
    """Counters an installer or the agent's heartbeat can show about the meter link."""

    frames: int = 0
    readings: int = 0
    refused: int = 0
    bad_groups: int = 0  # TIC groups with a wrong checksum or shape (skipped or fatal)
    repaired_groups: int = 0  # TIC groups kept although their CR became another byte


class FrameReader(Protocol):
    """Push interface: feed bytes as they arrive, close at the end of the input."""

    def feed(self, chunk: bytes) -> Iterator[Result]: ...

    def close(self) -> Iterator[Result]: ...


class FrameRefused(Exception):
    """Raised by the protocol parsers; `FrameCounter` turns it into a `FrameError`."""


class FrameCounter:
    """Numbers frames, keeps the stats and turns any failure into a `FrameError`."""

    def __init__(self, protocol: str, stats: ReadStats | None = None) -> None:
        self.protocol = protocol
        self.stats = stats if stats is not None else ReadStats()

    def outcome(self, build: Callable[[], MeterReading]) -> Result:
        self.stats.frames += 1
        try:
            reading = checked(build())
        except FrameRefused as refusal:
            return self._refuse(str(refusal))
        except Exception as error:  # the reader must survive any input: say what broke instead
            return self._refuse(f"unreadable frame ({type(error).__name__}: {error})")
        self.stats.readings += 1
        return reading

    def refused(self, reason: str) -> FrameError:
        self.stats.frames += 1
        return self._refuse(reason)

    def _refuse(self, reason: str) -> FrameError:
        self.stats.refused += 1
        return FrameError(self.protocol, self.stats.frames, reason)


def checked(reading: MeterReading) -> MeterReading:
    """Hold a reading to the wire schema here, so the platform never refuses a batch for it."""
    offset = reading.timestamp.utcoffset()
    if offset is None:
        raise FrameRefused("timestamp without a time zone")
    try:
        msgspec.convert(msgspec.to_builtins(reading), MeterReading)
    except msgspec.ValidationError as error:
        raise FrameRefused(f"value out of range: {error}") from error
    if offset:
        reading.timestamp = reading.timestamp.astimezone(UTC)
    return reading


def from_kilo(value: Decimal) -> int:
    """kWh to whole Wh, kW to whole W: Decimal as the meter wrote it, no float rounding drift."""
    return int((value * 1000).to_integral_value(ROUND_HALF_EVEN))


def make_reader(protocol: str, *, now: Clock, stats: ReadStats | None = None) -> FrameReader:
    """A push reader for `protocol`; raises ValueError for a name not in PROTOCOLS."""
    if protocol not in PROTOCOLS:
        raise ValueError(f"unknown meter protocol {protocol!r}; expected one of {PROTOCOLS}")
    family, _, variant = protocol.partition("-")
    module = importlib.import_module(f"gateway_agent.meters.{_MODULES[family]}")
    reader: FrameReader = module.reader(variant, now=now, stats=stats)
    return reader


_MODULES = {"p1": "p1", "linky": "tic", "smets2": "smets2"}


def read_frames(
    protocol: str,
    chunks: Iterable[bytes],
    *,
    now: Clock,
    stats: ReadStats | None = None,
) -> Iterator[Result]:
    """Readings and refusals, in stream order, from chunks of bytes cut anywhere.

    `now` is the reader's clock (aware datetimes): the timestamp of frames that carry none
    (Linky historic mode). `stats`, when given, is updated as frames go by.
    """
    reader = make_reader(protocol, now=now, stats=stats)
    for chunk in chunks:
        yield from reader.feed(chunk)
    yield from reader.close()
