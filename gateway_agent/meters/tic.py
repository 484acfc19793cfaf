"""Linky TIC (télé-information client): historic mode (1200 baud) and standard mode (9600 baud).

Written by hand: no well-kept Python library reads both modes, checks every group's checksum
and survives real captures (values with spaces, a checksum that is itself a space, frames
stored without STX/ETX, transmission errors). It is small, and total: any bytes in, only
readings or refusals out.

Framing (Enedis-NOI-CPT_02E for historic, Enedis-NOI-CPT_54E for standard):
    frame = STX group... ETX             (EOT: the meter interrupted the frame)
    group = LF label SEP [date SEP] data SEP checksum CR
    checksum = (sum of the covered bytes & 0x3F) + 0x20
Historic: SEP is SP, no date; the checksum covers label SP data (not the SP before it).
Standard: SEP is HT; the checksum covers everything before it, that last HT included; some
groups carry a date ("H200214230804": season letter, then French local time YYMMDDhhmmss).

What happens to a damaged frame (the policy):
- A group with a wrong checksum or shape is skipped and counted (`ReadStats.bad_groups`).
  The frame is still used if only the checksum is wrong and the group's label, as read, is a
  known label the reading is not built from. Otherwise the frame is refused: the error may
  have hit the label itself (so it may have been a register), and a group of the wrong shape
  may have swallowed the next group after losing its CR and LF.
- A frame is refused when it is cut (no ETX before the next STX or the end of the input,
  EOT, ETX inside a group), when bytes lie outside any group, when a label occurs twice, or
  when a group the reading needs, or one the mode always sends, is missing or malformed.
  Those groups run to the end of the frame (MOTDETAT, PJOURF+1), so a frame cut short is
  caught even without STX/ETX.
- A group whose terminating CR became another byte (seen on real lines) is kept when its
  checksum is right without that byte: the checksum protects the content, not the CR.
- Values are checked against their exact format (digits and length). A change of 64 to a
  byte passes the 6-bit checksum, but always leaves a label or value character out of range,
  so one corrupted byte never gives a wrong reading (tested on every byte of real frames).
  Two errors that compensate each other inside one group pass any 6-bit checksum: the
  formats and the always-sent groups catch most of those, not all.
Input stored without STX/ETX is cut into frames at the meter id group (ADCO / ADSC), which
the meter always sends first.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from functools import partial
from typing import Literal

from gateway_agent.meters import Clock, FrameCounter, FrameRefused, ReadStats, Result
from gateway_agent.protocol import MeterReading

Mode = Literal["historic", "standard"]

STX, ETX, EOT, LF, CR, SP = 0x02, 0x03, 0x04, 0x0A, 0x0D, 0x20
MAX_GROUP = 200  # the longest real group (standard PJOURF+1) has about 110 bytes
MAX_GROUPS = 120  # a three-phase standard frame has about 70

_LABEL = re.compile(rb"[A-Z0-9+\-]{1,16}")
_PRINTABLE = re.compile(rb"[\x20-\x7e]*")
_HISTORIC_VALUE = re.compile(rb"[\x21-\x7e]*")
# The specification says 12 digits; anonymised samples shorten it, the checksum guards it.
_METER_ID = r"[0-9]{10,14}"
_INDEX = r"[0-9]{9}"  # energy registers, already in Wh


def _labels(names: str) -> frozenset[str]:
    return frozenset(names.split())


def checksum(covered: bytes) -> int:
    return (sum(covered) & 0x3F) + 0x20


@dataclass(frozen=True, slots=True)
class Group:
    label: str
    value: str
    date: str | None = None


@dataclass(frozen=True, slots=True)
class BadGroup:
    label: str | None  # as read; None when it is not a well-formed label
    why: Literal["checksum", "shape"]
    shown: str  # the first field as read, for messages

    def __str__(self) -> str:
        return f"{self.label or repr(self.shown)} ({self.why})"


def _label(raw: bytes) -> str | None:
    return raw.decode("ascii") if _LABEL.fullmatch(raw) else None


def _bad(first_field: bytes, why: Literal["checksum", "shape"]) -> BadGroup:
    return BadGroup(_label(first_field), why, first_field[:20].decode("ascii", "replace"))


def parse_historic_group(data: bytes) -> Group | BadGroup:
    """LABEL SP DATA SP CHECKSUM; read from the end, as the checksum may be a space.

    Historic values hold no space: one would mean two groups run together.
    """
    first = data.split(b" ", 1)[0]
    label = _label(first)
    if len(data) < 4 or data[-2] != SP:
        return _bad(first, "shape")
    covered = data[:-2]
    _, separator, value = covered.partition(b" ")
    if not separator or label is None or not _HISTORIC_VALUE.fullmatch(value):
        return _bad(first, "shape")
    if checksum(covered) != data[-1]:
        return _bad(first, "checksum")
    return Group(label, value.decode("ascii"))


def parse_standard_group(data: bytes) -> Group | BadGroup:
    """LABEL HT [DATE HT] DATA HT CHECKSUM; values may hold spaces, never an HT."""
    fields = data.split(b"\t")
    label = _label(fields[0])
    well_formed = (
        label is not None
        and len(fields) in (3, 4)
        and len(fields[-1]) == 1
        and all(_PRINTABLE.fullmatch(field) for field in fields[1:-1])
    )
    if not well_formed or label is None:
        return _bad(fields[0], "shape")
    if checksum(data[:-1]) != data[-1]:
        return _bad(fields[0], "checksum")
    date = fields[1].decode("ascii") if len(fields) == 4 else None
    return Group(label, fields[-2].decode("ascii"), date)


# --- framing -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RawGroup:
    data: bytes  # between LF and CR
    ending: Literal["cr", "other", "eof"]  # "other": a byte stood where the CR should be


@dataclass(frozen=True, slots=True)
class RawFrame:
    groups: list[RawGroup]
    stray: int  # bytes outside any group
    cut: str | None  # why the frame is incomplete


class Framer:
    """Cuts a byte stream into frames of groups; frames without STX/ETX at the meter id."""

    def __init__(self, first_group_prefix: bytes) -> None:
        self._first_group_prefix = first_group_prefix  # b"ADCO " or b"ADSC\t"
        self._framed = False  # the frame began with STX
        self._groups: list[RawGroup] = []
        self._stray = 0
        self._open: bytearray | None = None  # the group after its LF, before its CR

    def feed(self, chunk: bytes) -> Iterator[RawFrame]:
        for byte in chunk:
            if byte == LF:
                yield from self._begin_group()
            elif byte == CR:
                yield from self._end_group()
            elif byte == STX:
                yield from self._begin_frame()
            elif byte == ETX:
                yield from self._flush("ETX inside a group" if self._open else None)
            elif byte == EOT:
                yield from self._flush("the meter interrupted the frame (EOT)")
            elif self._open is not None and len(self._open) < MAX_GROUP:
                self._open.append(byte)
            else:
                self._stray += 1

    def close(self) -> Iterator[RawFrame]:
        if self._framed:
            yield from self._flush("the input ended before the frame did (no ETX)")
            return
        if self._open:  # input stored without STX/ETX: its last group may lack the CR
            self._groups.append(RawGroup(bytes(self._open), "eof"))
        yield from self._flush(None)

    def _has_content(self) -> bool:
        return bool(self._groups or self._stray or self._open)

    def _begin_frame(self) -> Iterator[RawFrame]:
        if self._framed:
            yield from self._flush("a new frame began (STX) before this one ended (ETX)")
        else:
            yield from self._flush("STX inside a group" if self._open else None)
        self._framed = True

    def _begin_group(self) -> Iterator[RawFrame]:
        if self._open:  # LF before CR: the CR became another byte
            data, self._open = bytes(self._open), None
            yield from self._add(data, "other")
        self._open = bytearray()

    def _end_group(self) -> Iterator[RawFrame]:
        if self._open is None:
            self._stray += 1
            return
        data, self._open = bytes(self._open), None
        if data:
            yield from self._add(data, "cr")

    def _add(self, data: bytes, ending: Literal["cr", "other"]) -> Iterator[RawFrame]:
        starts_frame = data.startswith(self._first_group_prefix)
        if starts_frame and not self._framed and (self._groups or self._stray):
            yield from self._flush(None)  # unframed input: the meter id opens every frame
        self._groups.append(RawGroup(data, ending))
        if len(self._groups) > MAX_GROUPS:
            yield from self._flush(f"more than {MAX_GROUPS} groups")

    def _flush(self, cut: str | None) -> Iterator[RawFrame]:
        if self._has_content() or (cut and self._framed):
            yield RawFrame(self._groups, self._stray, cut)
        self._groups, self._stray, self._open, self._framed = [], 0, None, False


# --- the two modes ---------------------------------------------------------------------------

Groups = dict[str, Group]


def _value(groups: Groups, label: str, pattern: str) -> str:
    group = groups.get(label)
    if group is None:
        raise FrameRefused(f"incomplete frame: no {label}")
    if not re.fullmatch(pattern, group.value):
        raise FrameRefused(f"{label} is malformed: {group.value!r}")
    return group.value


def _phases(groups: Groups, labels: tuple[str, str, str], pattern: str) -> list[float]:
    """Phase 1 always; phases 2 and 3 both, or neither (a single-phase meter)."""
    count = 3 if any(label in groups for label in labels[1:]) else 1
    return [float(_value(groups, label, pattern)) for label in labels[:count]]


_HISTORIC_OPTIONS = {"BASE": ("BASE",), "HC..": ("HCHC", "HCHP"), "EJP.": ("EJPHN", "EJPHPM")}
_TEMPO = ("BBRHCJB", "BBRHPJB", "BBRHCJW", "BBRHPJW", "BBRHCJR", "BBRHPJR")
_HISTORIC_PERIODS = {  # PTEC, the period running now, to the register it feeds
    "TH..": "BASE",
    "HC..": "HCHC",
    "HP..": "HCHP",
    "HN..": "EJPHN",
    "PM..": "EJPHPM",
    **{register[3:]: register for register in _TEMPO},  # "HCJB": "BBRHCJB"
}
_HISTORIC_UNUSED = _labels(
    "ISOUSC PEJP DEMAIN ADPS IMAX IMAX1 IMAX2 IMAX3 PMAX HHPHC MOTDETAT PPOT ADIR1 "
    "ADIR2 ADIR3 GAZ AUTRE"
)


def _historic_registers(groups: Groups) -> tuple[str, ...]:
    option = _value(groups, "OPTARIF", r"BASE|HC\.\.|EJP\.|BBR[\x21-\x7e]")
    return _TEMPO if option.startswith("BBR") else _HISTORIC_OPTIONS[option]


def _historic_currents(groups: Groups) -> list[float]:
    if any(label in groups for label in ("IINST1", "IINST2", "IINST3")):
        return _phases(groups, ("IINST1", "IINST2", "IINST3"), r"[0-9]{3}")
    return [float(_value(groups, "IINST", r"[0-9]{3}"))]


def historic_reading(groups: Groups, now: Clock) -> MeterReading:
    """Historic frames carry no time: the reading is stamped with the reader's clock.

    PAPP (apparent power, VA) is the only power the historic mode gives: it is import_w.
    The tariff is the register the running period (PTEC) feeds, a key of import_wh.
    """
    period = _value(groups, "PTEC", r"[A-Z.]{4}")
    return MeterReading(
        timestamp=now(),
        meter_id=_value(groups, "ADCO", _METER_ID),
        import_wh={name: int(_value(groups, name, _INDEX)) for name in _historic_registers(groups)},
        import_w=int(_value(groups, "PAPP", r"[0-9]{5}")),
        current_a=_historic_currents(groups),
        tariff=_HISTORIC_PERIODS.get(period, period),
    )


_SUPPLIER_REGISTERS = tuple(f"EASF{index:02d}" for index in range(1, 11))
_STANDARD_UNUSED = _labels(
    "VTIC NGTF LTARF EASD01 EASD02 EASD03 EASD04 ERQ1 ERQ2 ERQ3 ERQ4 PREF PCOUP SINSTS1 "
    "SINSTS2 SINSTS3 SMAXSN SMAXSN1 SMAXSN2 SMAXSN3 SMAXSN-1 SMAXSN1-1 SMAXSN2-1 "
    "SMAXSN3-1 SMAXIN SMAXIN-1 CCASN CCASN-1 CCAIN CCAIN-1 UMOY1 UMOY2 UMOY3 STGE DPM1 "
    "DPM2 DPM3 FPM1 FPM2 FPM3 MSG1 MSG2 PRM RELAIS NJOURF NJOURF+1 PJOURF+1 PPOINTE"
)
_SEASON_OFFSET = {"E": 2, "H": 1}  # été: CEST, hiver: CET; lower case when the clock is degraded


def french_time(stamp: str) -> datetime:
    """'H200214230804' (season letter + YYMMDDhhmmss, French local time) to UTC.

    The season letter gives the offset, so the repeated autumn hour is never ambiguous.
    """
    match = re.fullmatch(r"([EeHh])([0-9]{12})", stamp)
    if match is None:
        raise FrameRefused(f"malformed date {stamp!r}")
    offset = timezone(timedelta(hours=_SEASON_OFFSET[match[1].upper()]))
    try:
        local = datetime.strptime(match[2], "%y%m%d%H%M%S").replace(tzinfo=offset)
    except ValueError as error:
        raise FrameRefused(f"impossible date {stamp!r}") from error
    return local.astimezone(UTC)


def _standard_time(groups: Groups) -> datetime:
    date = groups.get("DATE")
    if date is None:
        raise FrameRefused("incomplete frame: no DATE")
    if date.date is None or date.value:
        raise FrameRefused("DATE is malformed")
    return french_time(date.date)


def standard_reading(groups: Groups, now: Clock) -> MeterReading:
    """EAST is the total import and EASF01..10 its split by the supplier's periods.

    The standard mode always sends EASF01..10, URMS1 and IRMS1: a frame without them lost a
    group to an error that the 6-bit checksum let through (it misses two compensating ones).

    SINSTS (apparent power drawn, VA) is import_w, SINSTI (injected) export_w. The tariff is
    the supplier register running now (NTARF 3: "EASF03"), a key of import_wh.
    """
    tariff_index = int(_value(groups, "NTARF", r"0[1-9]|10"))
    suppliers = {label: int(_value(groups, label, _INDEX)) for label in _SUPPLIER_REGISTERS}
    exported = {"EAIT": int(_value(groups, "EAIT", _INDEX))} if "EAIT" in groups else {}
    injected = int(_value(groups, "SINSTI", r"[0-9]{5}")) if "SINSTI" in groups else 0
    return MeterReading(
        timestamp=_standard_time(groups),
        meter_id=_value(groups, "ADSC", _METER_ID),
        import_wh={"EAST": int(_value(groups, "EAST", _INDEX)), **suppliers},
        export_wh=exported,
        import_w=int(_value(groups, "SINSTS", r"[0-9]{5}")),
        export_w=injected,
        voltage_v=_phases(groups, ("URMS1", "URMS2", "URMS3"), r"[0-9]{3}"),
        current_a=_phases(groups, ("IRMS1", "IRMS2", "IRMS3"), r"[0-9]{3}"),
        tariff=f"EASF{tariff_index:02d}",
    )


@dataclass(frozen=True)
class ModeSpec:
    protocol: str
    id_label: str
    separator: bytes
    parse_group: Callable[[bytes], Group | BadGroup]
    tolerated: frozenset[str]  # known labels the reading is not built from
    build: Callable[[Groups, Clock], MeterReading]
    # Unused labels the mode always sends: a frame without one lost a group to an error that
    # the checksum let through (e.g. two groups run together into a register's label).
    always_sent: frozenset[str] = frozenset()


MODES: dict[Mode, ModeSpec] = {
    "historic": ModeSpec(
        "linky-historic",
        "ADCO",
        b" ",
        parse_historic_group,
        _HISTORIC_UNUSED,
        historic_reading,
        always_sent=_labels("ISOUSC HHPHC MOTDETAT"),
    ),
    "standard": ModeSpec(
        "linky-standard",
        "ADSC",
        b"\t",
        parse_standard_group,
        _STANDARD_UNUSED,
        standard_reading,
        always_sent=_labels(
            "VTIC NGTF LTARF EASD01 EASD02 EASD03 EASD04 PREF PCOUP STGE PRM RELAIS NJOURF "
            "NJOURF+1 PJOURF+1"
        ),
    ),
}


class TicReader:
    """Push reader for one mode: bytes in, readings and refusals out."""

    def __init__(self, mode: Mode, *, now: Clock, stats: ReadStats | None = None) -> None:
        self._spec = MODES[mode]
        self._now = now
        self._framer = Framer(self._spec.id_label.encode() + self._spec.separator)
        self._frames = FrameCounter(self._spec.protocol, stats)

    @property
    def stats(self) -> ReadStats:
        return self._frames.stats

    def feed(self, chunk: bytes) -> Iterator[Result]:
        for frame in self._framer.feed(chunk):
            yield self._frames.outcome(partial(self._evaluate, frame))

    def close(self) -> Iterator[Result]:
        for frame in self._framer.close():
            yield self._frames.outcome(partial(self._evaluate, frame))

    def _parse(self, raw: RawGroup) -> Group | BadGroup:
        repairing = raw.ending == "other"  # drop the byte that stood where the CR should be
        parsed = self._spec.parse_group(raw.data[:-1] if repairing else raw.data)
        if isinstance(parsed, BadGroup):
            self.stats.bad_groups += 1
        elif repairing:
            self.stats.repaired_groups += 1
        return parsed

    def _evaluate(self, frame: RawFrame) -> MeterReading:
        parsed = [self._parse(raw) for raw in frame.groups]  # all of them, to count bad ones
        good = {group.label: group for group in parsed if isinstance(group, Group)}
        if frame.cut:
            raise FrameRefused(f"truncated frame: {frame.cut}")
        refusal = self._refusal(parsed, frame.stray)
        if refusal:
            raise FrameRefused(refusal)
        return self._spec.build(good, self._now)

    def _tolerated(self, group: BadGroup) -> bool:
        return group.why == "checksum" and group.label in self._spec.tolerated

    def _refusal(self, parsed: list[Group | BadGroup], stray: int) -> str | None:
        labels = Counter(group.label for group in parsed if group.label is not None)
        if self._spec.id_label not in labels:
            return f"no {self._spec.id_label}: the frame began before the reader did"
        fatal = [
            str(group)
            for group in parsed
            if isinstance(group, BadGroup) and not self._tolerated(group)
        ]
        if fatal:
            return f"bad group{'s' if len(fatal) > 1 else ''}: {', '.join(fatal)}"
        if stray:
            return f"{stray} byte{'s' if stray > 1 else ''} outside any group"
        twice = sorted(label for label, count in labels.items() if count > 1)
        if twice:
            return f"label{'s' if len(twice) > 1 else ''} sent twice: {', '.join(twice)}"
        missing = sorted(self._spec.always_sent - labels.keys())
        if missing:
            return f"incomplete frame: no {', '.join(missing)}"
        return None


def reader(variant: str, *, now: Clock, stats: ReadStats | None = None) -> TicReader:
    if variant not in MODES:
        raise ValueError(f"unknown Linky TIC mode {variant!r}")
    return TicReader("historic" if variant == "historic" else "standard", now=now, stats=stats)
