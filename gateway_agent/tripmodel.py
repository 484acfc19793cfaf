"""When does the supply trip? One model of the meter's breaker, used by the box and the platform.

Both a Linky's power control and a thermal breaker or fuse behave as a first-order thermal
replica (IEC 60255-149): with `r` the load over the reference (subscribed kVA, or the fuse's
rated current), the state `theta` follows `dtheta/dt = (r**2 - theta) / tau` and the supply
trips when `theta` reaches `trip_level`. A brief peak barely moves `theta`; a sustained
overrun trips after a delay that shrinks with the size of the overrun.

Linky: every second the meter filters the apparent power `X` as
`Y = B * X**2 + (1 - B) * Y_prev` with B = 0.008 and cuts when the filtered value passes about
1.3 times the subscribed power's square (Enedis' power-control description, as relayed by
capfile.com). That is this model with tau = 1 / B = 125 s and trip_level = 1.3 (a steady
load trips above sqrt(1.3) = 1.14 times the subscribed power).
Breakers and fuses (UK cut-out fuse, Belgian main breaker): they hold 1.13 times their rating
for an hour and trip at 1.45 times within it; trip_level = 1.13**2 with a ten-minute tau puts
1.45 In at about nine minutes, inside that band, and errs towards warning early.

Written by hand: no library models a supply breaker's trip curve, and the box must stay light.
Pure Python on the standard library, so the platform imports it too.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

LimitKind = Literal["linky", "fuse"]
NOMINAL_VOLTAGE_V = 230.0
WARN_AT = 0.9  # warn the household at 90 % of its limit


@dataclass(frozen=True)
class TripCurve:
    tau_s: float
    trip_level: float  # theta at which the supply trips


CURVES: dict[str, TripCurve] = {
    "linky": TripCurve(tau_s=125.0, trip_level=1.3),
    "fuse": TripCurve(tau_s=600.0, trip_level=1.13**2),
}


@dataclass(frozen=True)
class SupplyLimit:
    """The household's limit as apparent power (VA) over all phases, and its breaker's curve."""

    limit_va: float
    kind: LimitKind = "linky"
    phases: int = 1

    @property
    def curve(self) -> TripCurve:
        return CURVES[self.kind]

    @property
    def sustained_va(self) -> float:
        """The highest load that never trips, however long it lasts."""
        return self.limit_va * math.sqrt(self.curve.trip_level)

    def ratio(self, load_va: float) -> float:
        return max(0.0, load_va) / self.limit_va

    def reading_ratio(
        self, import_w: float, voltage_v: Sequence[float], current_a: Sequence[float]
    ) -> float:
        """A meter reading's load over the limit. A Linky limits the total apparent power;
        each phase's fuse trips on its own current, so there the worst phase counts."""
        if self.kind == "fuse" and current_a:
            rated_a = self.limit_va / NOMINAL_VOLTAGE_V / self.phases
            return max(max(current_a) / rated_a, self.ratio(import_w))
        return self.ratio(load_va(import_w, voltage_v, current_a))


def linky_limit(subscribed_kva: float) -> SupplyLimit:
    return SupplyLimit(limit_va=subscribed_kva * 1000.0, kind="linky")


def fuse_limit(rated_a: float, phases: int = 1) -> SupplyLimit:
    return SupplyLimit(limit_va=rated_a * NOMINAL_VOLTAGE_V * phases, kind="fuse", phases=phases)


def advance(theta: float, ratio: float, seconds: float, curve: TripCurve) -> float:
    """The thermal state after `seconds` at a constant load `ratio` (exact solution)."""
    if seconds <= 0:
        return theta
    target = ratio * ratio
    return target + (theta - target) * math.exp(-seconds / curve.tau_s)


def seconds_to_trip(theta: float, ratio: float, curve: TripCurve) -> float:
    """Seconds until the supply trips if the load stays at `ratio` (inf: never; 0: tripped)."""
    if theta >= curve.trip_level:
        return 0.0
    target = ratio * ratio
    if target <= curve.trip_level:
        return math.inf
    return curve.tau_s * math.log((target - theta) / (target - curve.trip_level))


def load_va(import_w: float, voltage_v: Sequence[float], current_a: Sequence[float]) -> float:
    """The apparent power a meter reading shows: sum of V x I per phase where the meter sends
    them (what the breaker sees), else the active import power (power factor taken as 1)."""
    if current_a:
        volts = list(voltage_v) or [NOMINAL_VOLTAGE_V] * len(current_a)
        apparent = sum(
            i * (volts[n] if n < len(volts) else NOMINAL_VOLTAGE_V) for n, i in enumerate(current_a)
        )
        return max(apparent, float(import_w))
    return float(import_w)
