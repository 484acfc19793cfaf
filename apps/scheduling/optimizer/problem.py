"""The planner's inputs: plain dataclasses, and the slot arithmetic every module shares.

Time is a list of slots given by the caller (tz-aware starts, normally 15 min long), so a
DST night is just a list of another length (92 or 100 quarter-hours in a Brussels day).
Appliance windows are absolute instants; quiet hours are local times of day, read in
`Problem.timezone`, so "no washing machine 22:00-07:00" stays right across DST changes.

Units: power in kW (constant over a slot), energy in kWh, money in the prices' currency.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

UTC = ZoneInfo("UTC")
# Slot boundaries are compared with a little slack so float durations (0.25 h) never
# make a slot look a microsecond longer than its window.
_EPS = timedelta(seconds=1)


class PlanningError(Exception):
    """The planner could not run (bad input, solver failure, time limit)."""


class InvalidProblem(PlanningError, ValueError):
    """The input contradicts itself (not an infeasible plan: a malformed problem)."""


class SolverTimeLimit(PlanningError):
    """HiGHS hit the time limit before proving a plan optimal."""


@dataclass(frozen=True)
class Slot:
    start: datetime  # tz-aware
    import_price: float  # per kWh bought
    export_price: float  # per kWh sold (may be negative on dynamic tariffs)
    pv_kw: float = 0.0  # PV forecast, average over the slot
    base_load_kw: float = 0.0  # uncontrolled house load forecast
    duration_h: float = 0.25

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.start.utcoffset() is None:
            raise InvalidProblem(f"slot start {self.start!r} must be timezone-aware")
        if self.duration_h <= 0:
            raise InvalidProblem("slot duration must be positive")
        if self.pv_kw < 0 or self.base_load_kw < 0:
            raise InvalidProblem("PV and base load forecasts must be non-negative")

    @property
    def end(self) -> datetime:
        return self.start + timedelta(hours=self.duration_h)


@dataclass(frozen=True)
class TimeOfDayRange:
    """[start, end) in local time of day; wraps past midnight when end <= start."""

    start: time
    end: time

    def contains(self, moment: time) -> bool:
        if self.start < self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


@dataclass(frozen=True)
class Appliance:
    """A programme that runs uninterrupted once started: exactly one start in the window."""

    name: str
    profile_kw: Sequence[float]  # kW per slot of the programme, e.g. (2.0, 0.3, 0.3, 0.5)
    earliest_start: datetime | None = None  # None: the horizon's start
    latest_end: datetime | None = None  # "done by"; None: the horizon's end
    quiet_hours: Sequence[TimeOfDayRange] = ()  # local times it may not run

    def __post_init__(self) -> None:
        if not self.profile_kw or any(p < 0 for p in self.profile_kw):
            raise InvalidProblem(f"{self.name}: the profile needs at least one slot, all >= 0")


@dataclass(frozen=True)
class EVCharge:
    """Interruptible: charge `target_kwh` into the car between arrival and departure."""

    target_kwh: float  # energy delivered to the car's battery
    max_kw: float  # charger power drawn from the house
    arrival: datetime | None = None
    departure: datetime | None = None
    efficiency: float = 0.9  # kWh into the car per kWh drawn
    name: str = "EV"
    # A charger cannot charge slower than this (IEC 61851: 6 A, 1.4 kW on one phase):
    # each slot is 0 or between min_kw and max_kw. 0: any power (the exact LP part).
    min_kw: float = 0.0


@dataclass(frozen=True)
class WaterHeater:
    """Interruptible: `energy_kwh` drawn in total inside the windows (empty: any time)."""

    energy_kwh: float
    max_kw: float
    windows: Sequence[tuple[datetime, datetime]] = ()
    name: str = "water heater"


@dataclass(frozen=True)
class Battery:
    capacity_kwh: float
    max_charge_kw: float
    max_discharge_kw: float
    initial_soc_kwh: float
    charge_efficiency: float = 0.95  # kWh stored per kWh drawn
    discharge_efficiency: float = 0.95  # kWh delivered per kWh taken out
    min_soc_kwh: float = 0.0
    final_soc_kwh: float | None = None  # None: end at least as full as it started

    @property
    def final_target_kwh(self) -> float:
        return self.initial_soc_kwh if self.final_soc_kwh is None else self.final_soc_kwh


@dataclass(frozen=True)
class CapacityCharge:
    """Belgian capacity tariff: a price per kW on the month's highest quarter-hour import.

    The plan only pays for raising the month's peak: the part of its highest slot import
    above `floor_kw` (the peak so far this month), never below the 2.5 kW minimum billed.
    """

    rate_per_kw: float  # e.g. the yearly EUR/kW rate / 12 for one month's peak
    floor_kw: float = 2.5
    minimum_kw: float = 2.5

    @property
    def effective_floor_kw(self) -> float:
        return max(self.floor_kw, self.minimum_kw)


@dataclass(frozen=True)
class Problem:
    slots: Sequence[Slot]
    limit_kw: float  # contracted import power, never exceeded in any slot
    appliances: Sequence[Appliance] = ()
    ev: EVCharge | None = None
    water_heater: WaterHeater | None = None
    battery: Battery | None = None
    export_limit_kw: float | None = None
    capacity: CapacityCharge | None = None
    timezone: str = "UTC"  # reads quiet hours and writes times in messages
    # PV inverters can throttle; without it a PV surplus over the export limit has no home.
    allow_pv_curtailment: bool = True
    _cache: dict[str, object] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        validate(self)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def horizon_start(self) -> datetime:
        return self.slots[0].start

    @property
    def horizon_end(self) -> datetime:
        return self.slots[-1].end


def validate(problem: Problem) -> None:
    slots = problem.slots
    if not slots:
        raise InvalidProblem("the problem has no slots")
    for before, after in pairwise(slots):
        if abs(before.end - after.start) > _EPS:
            raise InvalidProblem(f"slots must be contiguous: a gap or overlap at {after.start}")
    if problem.limit_kw <= 0:
        raise InvalidProblem("the contracted limit must be positive")
    names = [a.name for a in problem.appliances]
    if len(set(names)) != len(names):
        raise InvalidProblem("appliance names must be unique")
    b = problem.battery
    if b is not None:
        if not 0 < b.charge_efficiency <= 1 or not 0 < b.discharge_efficiency <= 1:
            raise InvalidProblem("battery efficiencies must be in (0, 1]")
        if not b.min_soc_kwh <= b.initial_soc_kwh <= b.capacity_kwh:
            raise InvalidProblem("the battery's initial charge is outside its limits")
    ev = problem.ev
    if ev is not None and not 0 < ev.efficiency <= 1:
        raise InvalidProblem("EV charge efficiency must be in (0, 1]")
    try:
        ZoneInfo(problem.timezone)
    except (KeyError, ValueError) as exc:
        raise InvalidProblem(f"unknown time zone {problem.timezone!r}") from exc


# --- slot arithmetic shared by the model, the baseline, the brute force and the checks ---


def in_interval(slot: Slot, start: datetime | None, end: datetime | None) -> bool:
    """The whole slot lies inside [start, end] (None: unbounded on that side)."""
    return (start is None or slot.start >= start - _EPS) and (end is None or slot.end <= end + _EPS)


def quiet_mask(problem: Problem, ranges: Sequence[TimeOfDayRange]) -> list[bool]:
    """Slots touching a quiet range in local time (start or last instant inside it)."""
    if not ranges:
        return [False] * len(problem.slots)
    zone = problem.zone
    mask = []
    for slot in problem.slots:
        first = slot.start.astimezone(zone).time()
        last = (slot.end - _EPS).astimezone(zone).time()
        mask.append(any(r.contains(first) or r.contains(last) for r in ranges))
    return mask


def appliance_starts(problem: Problem, appliance: Appliance) -> list[int]:
    """Start slots whose whole programme fits the window and avoids quiet hours."""
    key = f"starts:{appliance.name}"
    cached = problem._cache.get(key)
    if isinstance(cached, list):
        return cached
    slots = problem.slots
    length = len(appliance.profile_kw)
    quiet = quiet_mask(problem, appliance.quiet_hours)
    starts = [
        k
        for k in range(len(slots) - length + 1)
        if in_interval(slots[k], appliance.earliest_start, None)
        and in_interval(slots[k + length - 1], None, appliance.latest_end)
        and not any(quiet[k : k + length])
    ]
    problem._cache[key] = starts
    return starts


def ev_available(problem: Problem) -> list[bool]:
    ev = problem.ev
    if ev is None:
        return [False] * len(problem.slots)
    return [in_interval(s, ev.arrival, ev.departure) for s in problem.slots]


def water_heater_available(problem: Problem) -> list[bool]:
    wh = problem.water_heater
    if wh is None:
        return [False] * len(problem.slots)
    if not wh.windows:
        return [True] * len(problem.slots)
    return [any(in_interval(s, a, b) for a, b in wh.windows) for s in problem.slots]


def profile_load(problem: Problem, appliance: Appliance, start: int) -> list[float]:
    """The appliance's kW in every slot of the horizon when it starts at `start`."""
    load = [0.0] * len(problem.slots)
    for offset, kw in enumerate(appliance.profile_kw):
        load[start + offset] = float(kw)
    return load


def day_slots(
    day: date,
    timezone: str,
    *,
    import_price: Sequence[float] | float = 0.0,
    export_price: Sequence[float] | float = 0.0,
    pv_kw: Sequence[float] | float = 0.0,
    base_load_kw: Sequence[float] | float = 0.0,
    minutes: int = 15,
) -> list[Slot]:
    """The slots of one local day (92 / 96 / 100 quarter-hours), with UTC starts.

    Walks in UTC from local midnight to the next local midnight, so DST days get their
    real length. Series given as sequences must have that length.
    """
    zone = ZoneInfo(timezone)
    begin = datetime.combine(day, time(0), zone).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), zone).astimezone(UTC)
    step = timedelta(minutes=minutes)
    count = int((end - begin) / step)

    def at(series: Sequence[float] | float, i: int) -> float:
        if isinstance(series, int | float):
            return float(series)
        if len(series) != count:
            raise InvalidProblem(f"{day} has {count} slots, a series has {len(series)}")
        return float(series[i])

    return [
        Slot(
            start=begin + i * step,
            duration_h=minutes / 60,
            import_price=at(import_price, i),
            export_price=at(export_price, i),
            pv_kw=at(pv_kw, i),
            base_load_kw=at(base_load_kw, i),
        )
        for i in range(count)
    ]
