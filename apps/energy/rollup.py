"""Quarter-hour energy from raw readings: pure functions, no database.

Meter: a quarter's energy is the register delta between the boundary values at its start
and end. A boundary's value is the last reading at or before it, taken only if it is at
most BOUNDARY_TOLERANCE old; otherwise the quarter is a gap. Boxes sample every 10 s and
keep a quarter-hourly reading longest, so 5 minutes is generous for a live box while a
reading from before an outage is never stretched over it. A register that goes down (meter
replaced or reset) or appears/disappears also makes a gap: no energy is invented.

Devices: cumulative `energy_wh` deltas by the same boundary rule where the device counts
energy; else the trapezoid of `power_w` over consecutive readings at most MAX_POWER_GAP
apart (boxes read devices every 60 s). A quarter is complete only if the trapezoid covers
all of it. Positive power is consumption (loads), production (PV) or charge (battery);
negative power is a battery's discharge.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from apps.energy.periods import QUARTER

BOUNDARY_TOLERANCE = timedelta(minutes=5)
MAX_POWER_GAP = timedelta(minutes=5)

T = TypeVar("T")


@dataclass(frozen=True)
class MeterQuarter:
    start: datetime
    import_by_register: dict[str, int] | None  # None: a gap
    export_by_register: dict[str, int] | None

    @property
    def complete(self) -> bool:
        return self.import_by_register is not None


@dataclass(frozen=True)
class DeviceQuarter:
    start: datetime
    positive_wh: int  # consumption, production or charge
    negative_wh: int  # battery discharge, as a positive number
    complete: bool


def boundary_values(
    times: Sequence[datetime], values: Sequence[T], boundaries: Sequence[datetime]
) -> list[T | None]:
    """For each boundary: the last value at or before it, if recent enough, else None."""
    out: list[T | None] = []
    for boundary in boundaries:
        index = bisect_right(times, boundary) - 1
        fresh = index >= 0 and boundary - times[index] <= BOUNDARY_TOLERANCE
        out.append(values[index] if fresh else None)
    return out


def register_delta(
    first: dict[str, int] | None, last: dict[str, int] | None
) -> dict[str, int] | None:
    if first is None or last is None or first.keys() != last.keys():
        return None
    delta = {register: int(last[register]) - int(first[register]) for register in first}
    return None if any(wh < 0 for wh in delta.values()) else delta


def meter_quarters(
    readings: Sequence[tuple[datetime, dict[str, int], dict[str, int]]],
    quarter_starts: Sequence[datetime],
) -> list[MeterQuarter]:
    if not quarter_starts:
        return []
    boundaries = [*quarter_starts, quarter_starts[-1] + QUARTER]
    times = [r[0] for r in readings]
    at = boundary_values(times, [(r[1], r[2]) for r in readings], boundaries)
    quarters = []
    for n, start in enumerate(quarter_starts):
        first, last = at[n], at[n + 1]
        imports = register_delta(first and first[0], last and last[0])
        exports = register_delta(first and first[1], last and last[1])
        if imports is None or exports is None:
            imports = exports = None
        quarters.append(MeterQuarter(start, imports, exports))
    return quarters


def _segment_parts(p0: float, p1: float, seconds: float) -> tuple[float, float]:
    """Positive and negative energy (W·s) of a straight line from p0 to p1 over `seconds`."""
    if p0 >= 0 and p1 >= 0:
        return (p0 + p1) / 2 * seconds, 0.0
    if p0 <= 0 and p1 <= 0:
        return 0.0, -(p0 + p1) / 2 * seconds
    crossing = p0 / (p0 - p1) * seconds  # where the line crosses zero
    first, second = p0 * crossing / 2, p1 * (seconds - crossing) / 2
    return max(first, 0) + max(second, 0), -min(first, 0) - min(second, 0)


def _power_at(t0: datetime, p0: float, t1: datetime, p1: float, moment: datetime) -> float:
    span = (t1 - t0).total_seconds()
    return p0 + (p1 - p0) * (moment - t0).total_seconds() / span if span else p0


def trapezoid_quarter(
    times: Sequence[datetime], powers: Sequence[int], start: datetime
) -> DeviceQuarter:
    end = start + QUARTER
    positive = negative = covered = 0.0
    first = max(bisect_right(times, start) - 1, 0)
    for n in range(first, len(times) - 1):
        t0, t1 = times[n], times[n + 1]
        if t0 >= end:
            break
        if t1 <= start or t1 - t0 > MAX_POWER_GAP:
            continue
        a, b = max(t0, start), min(t1, end)
        pa = _power_at(t0, powers[n], t1, powers[n + 1], a)
        pb = _power_at(t0, powers[n], t1, powers[n + 1], b)
        seconds = (b - a).total_seconds()
        plus, minus = _segment_parts(pa, pb, seconds)
        positive, negative, covered = positive + plus, negative + minus, covered + seconds
    complete = covered >= QUARTER.total_seconds() - 1e-6
    return DeviceQuarter(start, round(positive / 3600), round(negative / 3600), complete)


def device_quarters(
    readings: Sequence[tuple[datetime, int, int | None]],
    quarter_starts: Sequence[datetime],
    *,
    use_counter: bool = True,
) -> list[DeviceQuarter]:
    """One device's readings (time, power_w, energy_wh), oldest first.

    A battery's single counter cannot tell charge from discharge: pass use_counter=False.
    """
    times = [r[0] for r in readings]
    powers = [r[1] for r in readings]
    counted = [(r[0], r[2]) for r in readings if r[2] is not None and use_counter]
    counter_times = [c[0] for c in counted]
    boundaries = [*quarter_starts, quarter_starts[-1] + QUARTER] if quarter_starts else []
    at = boundary_values(counter_times, [c[1] for c in counted], boundaries)
    quarters = []
    for n, start in enumerate(quarter_starts):
        first, last = at[n], at[n + 1]
        if first is not None and last is not None and last >= first:
            quarters.append(DeviceQuarter(start, int(last - first), 0, True))
        else:
            quarters.append(trapezoid_quarter(times, powers, start))
    return quarters
