"""P1 port: Belgium (Fluvius e-MUCS, DSMR 5 based) and the Netherlands (DSMR 4.2 / 5.0).

Telegrams run from '/' to '!' followed by a CRC16 in 4 hex digits. The splitter finds them in
the byte stream and resyncs after garbage or a telegram cut short; dsmr-parser checks the CRC
and parses the lines (with its own telegram specifications, reduced to the lines we use).

Registers keep the meter's numbers: "1" and "2" (Belgium: 1 = day/peak, 2 = night/off-peak;
the Netherlands: 1 = low, 2 = normal). The meter's clock is local time with an S/W (summer /
winter) flag; dsmr-parser turns it into an aware UTC datetime, the flag settling the repeated
autumn hour (Europe/Amsterdam rules, the same as Brussels').
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Sequence
from datetime import datetime
from decimal import Decimal
from functools import cache, partial
from typing import Any, Literal

from dsmr_parser import telegram_specifications
from dsmr_parser.exceptions import InvalidChecksumError, ParseError
from dsmr_parser.parsers import TelegramParser

from gateway_agent.meters import (
    Clock,
    FrameCounter,
    FrameRefused,
    ReadStats,
    Result,
    from_kilo,
)
from gateway_agent.protocol import MeterReading

Country = Literal["be", "nl"]

# dsmr-parser logs a traceback for a line it cannot parse; we report the refusal ourselves.
logging.getLogger("dsmr_parser").addHandler(logging.NullHandler())

MAX_TELEGRAM = 16_384  # real telegrams are 1-3 KB; past this the stream is not P1
_HEX4 = re.compile(rb"[0-9A-Fa-f]{4}")
_PRINTABLE_ID = re.compile(r"[\x21-\x7e]+")

_IMPORT = {"1": "ELECTRICITY_USED_TARIFF_1", "2": "ELECTRICITY_USED_TARIFF_2"}
_EXPORT = {"1": "ELECTRICITY_DELIVERED_TARIFF_1", "2": "ELECTRICITY_DELIVERED_TARIFF_2"}
_VOLTAGES = tuple(f"INSTANTANEOUS_VOLTAGE_L{phase}" for phase in (1, 2, 3))
_CURRENTS = tuple(f"INSTANTANEOUS_CURRENT_L{phase}" for phase in (1, 2, 3))
_USED = {
    "P1_MESSAGE_TIMESTAMP",
    "ELECTRICITY_ACTIVE_TARIFF",
    "CURRENT_ELECTRICITY_USAGE",
    "CURRENT_ELECTRICITY_DELIVERY",
    *_IMPORT.values(),
    *_EXPORT.values(),
    *_VOLTAGES,
    *_CURRENTS,
}
# The electricity meter's own id is on channel 0; gas meters on M-Bus channels 1-4 may use the
# same OBIS code (96.1.1 in Belgium), which the Dutch specification's pattern also matches.
_METER_ID = "BELGIUM_EQUIPMENT_IDENTIFIER"


class TelegramSplitter:
    """Cuts a byte stream into candidate telegrams ('/' ... '!' and the 4-hex-digit CRC).

    `feed` and `close` yield a telegram's bytes, or a string saying why bytes were dropped.
    A '!' not followed by four hex digits is not a footer; a second '/' before the footer
    means the first telegram was cut short; bytes before a '/' are noise (or the tail of a
    telegram whose start the reader missed).
    """

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._scan_from = 0

    def feed(self, chunk: bytes) -> Iterator[bytes | str]:
        self._buffer += chunk
        while (end := self._next_footer_end()) is not None:
            candidate = bytes(self._buffer[:end])
            del self._buffer[:end]
            self._scan_from = 0
            yield from _telegram_in(candidate)
        if len(self._buffer) > MAX_TELEGRAM:
            yield from self._drop_overflow()

    def close(self) -> Iterator[bytes | str]:
        if b"/" in self._buffer:
            yield "telegram cut short by the end of the input (no '!' and CRC)"
        self._buffer.clear()
        self._scan_from = 0

    def _next_footer_end(self) -> int | None:
        while (bang := self._buffer.find(b"!", self._scan_from)) >= 0:
            if len(self._buffer) < bang + 5:
                self._scan_from = bang
                return None  # the CRC has not arrived yet
            if _HEX4.fullmatch(self._buffer, bang + 1, bang + 5):
                return bang + 5
            self._scan_from = bang + 1
        self._scan_from = len(self._buffer)
        return None

    def _drop_overflow(self) -> Iterator[str]:
        start = self._buffer.rfind(b"/")
        keep = start >= 0 and len(self._buffer) - start <= MAX_TELEGRAM
        yield f"no telegram end within {MAX_TELEGRAM} bytes"
        del self._buffer[: start if keep else len(self._buffer)]
        self._scan_from = 0


def _telegram_in(candidate: bytes) -> Iterator[bytes | str]:
    start = candidate.rfind(b"/")
    if start < 0:
        yield "telegram without its '/' header (cut at the start?)"
        return
    if candidate.find(b"/") < start:
        yield "telegram cut short: a new '/' header came before its '!' and CRC"
    yield candidate[start:]


@cache
def _parser(country: Country) -> TelegramParser:
    """A TelegramParser limited to the lines we read (dsmr-parser's own definitions).

    The Dutch telegrams use the DSMR 5 specification: for these lines DSMR 4.2 is the same,
    minus the voltages, which a 4.2 meter simply does not send.
    """
    base = (
        telegram_specifications.BELGIUM_FLUVIUS if country == "be" else telegram_specifications.V5
    )
    objects = [spec for spec in base["objects"] if spec["value_name"] in _USED]
    objects += [
        spec
        for spec in telegram_specifications.BELGIUM_FLUVIUS["objects"]
        if spec["value_name"] == _METER_ID
    ]
    specification = {"checksum_support": True, "objects": objects}
    return TelegramParser(specification, apply_checksum_validation=True)


def parse_telegram(telegram: bytes, country: Country) -> MeterReading:
    """One telegram ('/' through '!' and its 4-hex-digit CRC) to a reading; raises FrameRefused."""
    if telegram.count(b"!") != 1:  # dsmr-parser would read the CRC after the first '!'
        raise FrameRefused("a stray '!' inside the telegram")
    text = telegram.decode("latin-1") + "\r\n"
    try:
        parsed = _parser(country).parse(text, throw_ex=True)
    except InvalidChecksumError as error:
        raise FrameRefused(_crc_mismatch(text)) from error
    except ParseError as error:
        raise FrameRefused(f"malformed telegram: {error}") from error
    return _reading(parsed)


def _crc_mismatch(text: str) -> str:
    content = text[: text.rindex("!") + 1]
    computed = TelegramParser.crc16(content)
    sent = text[len(content) : len(content) + 4]
    return f"bad CRC: the telegram says {sent}, its content gives {computed:04X}"


def _reading(telegram: Any) -> MeterReading:
    return MeterReading(
        timestamp=_timestamp(telegram),
        meter_id=decode_equipment_id(_value(telegram, _METER_ID, str)),
        import_wh={name: _wh(telegram, line) for name, line in _IMPORT.items()},
        export_wh={name: _wh(telegram, line) for name, line in _EXPORT.items()},
        import_w=_watts(telegram, "CURRENT_ELECTRICITY_USAGE"),
        export_w=_watts(telegram, "CURRENT_ELECTRICITY_DELIVERY"),
        voltage_v=_phases(telegram, _VOLTAGES, "V"),
        current_a=_phases(telegram, _CURRENTS, "A"),
        tariff=_tariff(telegram),
    )


def _line(telegram: Any, name: str) -> Any:
    line = getattr(telegram, name, None)
    if line is None:
        raise FrameRefused(f"incomplete telegram: no {name}")
    return line


def _value(telegram: Any, name: str, kind: type, unit: str | None = None) -> Any:
    line = _line(telegram, name)
    if not isinstance(line.value, kind) or (unit is not None and line.unit != unit):
        raise FrameRefused(f"{name} is malformed: {line.value!r} {line.unit or ''}".rstrip())
    return line.value


def _timestamp(telegram: Any) -> datetime:
    value: datetime = _value(telegram, "P1_MESSAGE_TIMESTAMP", datetime)
    return value


def _wh(telegram: Any, name: str) -> int:
    return from_kilo(_value(telegram, name, Decimal, "kWh"))


def _watts(telegram: Any, name: str) -> int:
    return from_kilo(_value(telegram, name, Decimal, "kW"))


def _phases(telegram: Any, names: Sequence[str], unit: str) -> list[float]:
    """Per-phase values from L1 on; a gap (L2 missing, L3 present) would misplace phases."""
    present = [getattr(telegram, name, None) is not None for name in names]
    count = present.index(False) if False in present else len(names)
    if any(present[count:]):
        raise FrameRefused(f"per-phase {unit} values with a gap")
    return [float(_value(telegram, name, Decimal, unit)) for name in names[:count]]


def _tariff(telegram: Any) -> str | None:
    line = getattr(telegram, "ELECTRICITY_ACTIVE_TARIFF", None)
    if line is None:
        return None
    if not isinstance(line.value, str) or not line.value.isdigit():
        raise FrameRefused(f"ELECTRICITY_ACTIVE_TARIFF is malformed: {line.value!r}")
    return str(int(line.value))  # "0001" is register "1"


def decode_equipment_id(raw: str) -> str:
    """DSMR sends the equipment id as hex-encoded ASCII; keep it raw when it is not."""
    if raw and len(raw) % 2 == 0 and all(c in "0123456789abcdefABCDEF" for c in raw):
        text = bytes.fromhex(raw).decode("latin-1")
        if _PRINTABLE_ID.fullmatch(text):
            return text
    return raw


class P1Reader:
    """Push reader: bytes in, readings and refusals out."""

    def __init__(self, country: Country, *, stats: ReadStats | None = None) -> None:
        self._country: Country = country
        self._splitter = TelegramSplitter()
        self._frames = FrameCounter(f"p1-{country}", stats)

    def feed(self, chunk: bytes) -> Iterator[Result]:
        for item in self._splitter.feed(chunk):
            yield self._outcome(item)

    def close(self) -> Iterator[Result]:
        for item in self._splitter.close():
            yield self._outcome(item)

    def _outcome(self, item: bytes | str) -> Result:
        if isinstance(item, str):
            return self._frames.refused(item)
        return self._frames.outcome(partial(parse_telegram, item, self._country))


def reader(variant: str, *, now: Clock, stats: ReadStats | None = None) -> P1Reader:
    """`now` is unused: every P1 telegram carries the meter's own clock."""
    if variant not in ("be", "nl"):
        raise ValueError(f"unknown P1 variant {variant!r}")
    return P1Reader("be" if variant == "be" else "nl", stats=stats)
