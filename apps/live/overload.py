"""Will the supply trip? The overload predictor, on live power plus what is running or scheduled.

Pure functions over gateway_agent.tripmodel, the breaker model the box's guard also uses, so
the warning the household reads and the shedding the box does agree on when a trip comes.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from gateway_agent.tripmodel import WARN_AT, SupplyLimit, advance, seconds_to_trip

HORIZON = timedelta(minutes=30)  # how far ahead running and scheduled loads are projected
MAX_GAP_S = 300.0  # a reading older than this says nothing about the load since


class Level(StrEnum):
    OK = "ok"
    WARNING = "warning"  # at 90 % of the limit, now or within the horizon
    CRITICAL = "critical"  # the supply trips within the horizon at this rate


@dataclass(frozen=True)
class Load:
    """A device drawing power now, or scheduled to start."""

    device_id: str
    name: str
    power_w: float
    controllable: bool = False
    starts_at: datetime | None = None  # None: running now


@dataclass
class Thermal:
    """The breaker's thermal state after the last reading."""

    theta: float = 0.0
    time: datetime | None = None
    ratio: float = 0.0

    def update(self, time: datetime, ratio: float, limit: SupplyLimit) -> None:
        """Take one reading: the previous load held until now, then this one."""
        if self.time is not None and time <= self.time:
            return  # a late reading: the state has moved past it
        if self.time is not None:
            held = min((time - self.time).total_seconds(), MAX_GAP_S)
            self.theta = advance(self.theta, self.ratio, held, limit.curve)
        self.time, self.ratio = time, ratio


@dataclass(frozen=True)
class Assessment:
    level: Level
    load_va: float
    limit_va: float
    trip_in_s: float  # at this rate (inf: never)
    switch_off: tuple[Load, ...] = ()  # running loads that bring the load under 90 %
    scheduled_trip_in_s: float = math.inf  # with the scheduled loads added
    postpone: tuple[Load, ...] = field(default=())  # scheduled loads that cause the trip

    @property
    def load_pct(self) -> float:
        return 100 * self.load_va / self.limit_va


def assess(
    *,
    limit: SupplyLimit,
    thermal: Thermal,
    load_va: float,
    now: datetime,
    running: Sequence[Load] = (),
    scheduled: Sequence[Load] = (),
) -> Assessment:
    """The level at `now` and which devices to switch off or postpone."""
    ratio = limit.ratio(load_va)
    trip_in = seconds_to_trip(thermal.theta, ratio, limit.curve)
    horizon_s = HORIZON.total_seconds()
    upcoming = [s for s in scheduled if s.starts_at is not None and s.starts_at < now + HORIZON]
    projected_trip = _trip_with(limit, thermal.theta, load_va, now, upcoming, horizon_s)
    peak_va = load_va + sum(s.power_w for s in upcoming)
    if trip_in <= horizon_s or projected_trip <= horizon_s:
        level = Level.CRITICAL
    elif load_va >= WARN_AT * limit.limit_va or peak_va >= WARN_AT * limit.limit_va:
        level = Level.WARNING
    else:
        level = Level.OK
    return Assessment(
        level=level,
        load_va=load_va,
        limit_va=limit.limit_va,
        trip_in_s=trip_in,
        switch_off=_to_switch_off(load_va - WARN_AT * limit.limit_va, running),
        scheduled_trip_in_s=projected_trip,
        postpone=tuple(upcoming) if projected_trip < trip_in else (),
    )


def _trip_with(
    limit: SupplyLimit,
    theta: float,
    load_va: float,
    now: datetime,
    upcoming: Iterable[Load],
    horizon_s: float,
) -> float:
    """Seconds to a trip when each scheduled load adds its power from its start (inf: none)."""
    steps = sorted(
        (max(0.0, (s.starts_at - now).total_seconds()), s.power_w)
        for s in upcoming
        if s.starts_at is not None
    )
    elapsed = 0.0
    for start, power in [*steps, (horizon_s, 0.0)]:
        span = min(start, horizon_s) - elapsed
        ratio = limit.ratio(load_va)
        within = seconds_to_trip(theta, ratio, limit.curve)
        if within <= span:
            return elapsed + within
        theta = advance(theta, ratio, span, limit.curve)
        elapsed += span
        load_va += power
    return math.inf


def _to_switch_off(excess_va: float, running: Sequence[Load]) -> tuple[Load, ...]:
    """The fewest running loads whose power covers the excess: controllable ones first
    (the box or the household can switch them), then the largest."""
    if excess_va <= 0:
        return ()
    chosen: list[Load] = []
    for load in sorted(running, key=lambda d: (not d.controllable, -d.power_w)):
        if load.power_w <= 0:
            continue
        chosen.append(load)
        excess_va -= load.power_w
        if excess_va <= 0:
            break
    return tuple(chosen)
