"""UK SMETS2 through a consumer access device (CAD), as a Glow CAD publishes it on its local
MQTT broker, topic `glow/<device>/SENSOR/electricitymeter`:

    {"electricitymeter": {"timestamp": "2026-01-15T18:30:00Z",
      "energy": {"export": {"cumulative": 412.118, "units": "kWh"},
                 "import": {"cumulative": 8231.56, "units": "kWh", "mpan": "1200012345678", ...}},
      "power": {"value": 2.347, "units": "kW"}}}

- The meter point's MPAN core (13 digits) is the identity. Until the CAD has read it, it sends
  "read pending": such payloads are refused, never sent under another id.
- The CAD gives the meter's total import and export only: register "total".
- Power is signed: positive is import, negative export.
- Numbers are read as Decimal, so kWh become exact Wh.
- JSON has no checksum: integrity comes from the transport (TCP), so unlike P1 and TIC a
  changed digit cannot be detected here.

Input: one JSON document per line (as received from MQTT), or a file holding one document
written over several lines.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from functools import partial
from typing import Any

from gateway_agent.meters import Clock, FrameCounter, FrameRefused, ReadStats, Result, from_kilo
from gateway_agent.protocol import MeterReading

GLOW_TOPIC = "glow/+/SENSOR/electricitymeter"
MAX_DOCUMENT = 65_536  # a Glow message is under 1 KB
REGISTER = "total"
_MPAN_CORE = re.compile(r"[0-9]{13}")


def parse_payload(document: Any, *, now: Clock) -> MeterReading:
    """One decoded `electricitymeter` document to a reading; raises FrameRefused."""
    meter = _object(document, "electricitymeter")
    energy = _object(meter, "energy")
    imported = _object(energy, "import")
    exported = {REGISTER: _wh(_object(energy, "export"))} if "export" in energy else {}
    power_w = _power_w(_object(meter, "power"))
    return MeterReading(
        timestamp=_timestamp(meter.get("timestamp"), now),
        meter_id=_mpan(imported),
        import_wh={REGISTER: _wh(imported)},
        export_wh=exported,
        import_w=max(power_w, 0),
        export_w=max(-power_w, 0),
    )


def _object(parent: Any, key: str) -> dict[str, Any]:
    value = parent.get(key) if isinstance(parent, dict) else None
    if not isinstance(value, dict):
        raise FrameRefused(f"no {key!r} object in the payload")
    return value


def _number(parent: dict[str, Any], key: str) -> Decimal:
    value = parent.get(key)
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise FrameRefused(f"{key!r} is not a number: {value!r}")
    return Decimal(value)


def _scaled(value: Decimal, units: Any, base: str) -> int:
    """`base` ("W" or "Wh") or its kilo, to whole units of `base`."""
    if units == "k" + base:
        return from_kilo(value)
    if units == base:
        return int(value.to_integral_value(ROUND_HALF_EVEN))
    raise FrameRefused(f"unknown units {units!r} (expected k{base} or {base})")


def _wh(register: dict[str, Any]) -> int:
    wh = _scaled(_number(register, "cumulative"), register.get("units"), "Wh")
    if wh < 0:
        raise FrameRefused(f"negative cumulative energy: {wh} Wh")
    return wh


def _power_w(power: dict[str, Any]) -> int:
    return _scaled(_number(power, "value"), power.get("units"), "W")


def _mpan(imported: dict[str, Any]) -> str:
    mpan = imported.get("mpan")
    if not isinstance(mpan, str) or not _MPAN_CORE.fullmatch(mpan):
        raise FrameRefused(f"no MPAN in the payload yet (mpan={mpan!r})")
    return mpan


def _timestamp(value: Any, now: Clock) -> datetime:
    if value is None:
        return now()
    try:
        stamp = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        stamp = None
    if stamp is None or stamp.tzinfo is None:
        raise FrameRefused(f"timestamp is not an ISO 8601 time with a zone: {value!r}")
    return stamp.astimezone(UTC)


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not a number a meter sends")


class Smets2Reader:
    """Push reader: JSON documents one per line, or one document over several lines."""

    def __init__(self, *, now: Clock, stats: ReadStats | None = None) -> None:
        self._now = now
        self._frames = FrameCounter("smets2-cad", stats)
        self._line = bytearray()
        self._skip_line = False  # the rest of a line that was too long
        self._document: list[bytes] = []  # lines of the document being assembled

    def feed(self, chunk: bytes) -> Iterator[Result]:
        self._line += chunk
        while (newline := self._line.find(b"\n")) >= 0:
            line = bytes(self._line[:newline])
            del self._line[: newline + 1]
            yield from self._take(line)
        if len(self._line) > MAX_DOCUMENT:
            self._line.clear()
            self._skip_line = True
            yield self._frames.refused(f"a line longer than {MAX_DOCUMENT} bytes")

    def close(self) -> Iterator[Result]:
        if self._line:
            yield from self._take(bytes(self._line))
            self._line.clear()
        if self._document:
            self._document = []
            yield self._frames.refused("JSON document cut short by the end of the input")

    def _take(self, line: bytes) -> Iterator[Result]:
        if self._skip_line:
            self._skip_line = False
            return
        text = line.strip()
        if not self._document:
            if not text:
                return
            if not text.startswith(b"{"):
                yield self._frames.refused(f"not a JSON object: {text[:40]!r}")
                return
        elif text.startswith(b"{") and not line[:1].isspace():
            self._document = []  # a new document at column 0: the one before was cut
            yield self._frames.refused("JSON document cut short by the next one")
        self._document.append(line)
        if sum(len(part) for part in self._document) > MAX_DOCUMENT:
            self._document = []
            yield self._frames.refused(f"JSON document longer than {MAX_DOCUMENT} bytes")
        elif text.endswith(b"}"):
            yield from self._try_document()

    def _try_document(self) -> Iterator[Result]:
        try:
            document = json.loads(
                b"\n".join(self._document),
                parse_float=Decimal,
                parse_constant=_refuse_constant,
            )
        except (ValueError, RecursionError) as error:
            if len(self._document) == 1:  # a one-line document is whole: it is broken
                self._document = []
                yield self._frames.refused(f"not valid JSON: {error}")
            return  # else more lines of this document may follow
        self._document = []
        yield self._frames.outcome(partial(parse_payload, document, now=self._now))


def reader(variant: str, *, now: Clock, stats: ReadStats | None = None) -> Smets2Reader:
    if variant != "cad":
        raise ValueError(f"unknown SMETS2 variant {variant!r}")
    return Smets2Reader(now=now, stats=stats)
