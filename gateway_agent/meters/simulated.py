"""A simulated meter, for demos and the agent's simulator: deterministic from a seed.

It is driven by a net power function passed in (W; positive import, negative export: the
household's load minus its PV). Registers integrate that power and only ever increase; a
small seeded noise makes the readings look measured. No pandas or numpy: a box can run it.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from gateway_agent.protocol import MeterReading

PowerFunction = Callable[[datetime], float]
NOMINAL_VOLTAGE = 230.0


class SimulatedMeter:
    """`read(at)`, with times that never go back, is one meter frame; `readings` a series."""

    def __init__(
        self,
        power_w: PowerFunction,
        *,
        seed: int,
        meter_id: str | None = None,
        registers: tuple[str, ...] = ("1",),
        tariff_at: Callable[[datetime], str] | None = None,
        phases: int = 1,
        noise_w: float = 5.0,
    ) -> None:
        if phases not in (1, 3):
            raise ValueError("a meter has 1 or 3 phases")
        self._power_w = power_w
        self._rng = random.Random(seed)
        self.meter_id = meter_id or f"SIM-{seed}"
        self._registers = registers
        self._tariff_at = tariff_at or (lambda _at: registers[0])
        self._phases = phases
        self._noise_w = noise_w
        # float Wh: 53 bits keep a 10 MWh register exact to the micro-Wh, no drift over years
        self._import_wh = {
            name: float(self._rng.randrange(1_000_000, 20_000_000)) for name in registers
        }
        self._export_wh = {name: float(self._rng.randrange(0, 2_000_000)) for name in registers}
        self._last: tuple[datetime, float] | None = None

    def read(self, at: datetime) -> MeterReading:
        if at.tzinfo is None:
            raise ValueError("a simulated reading needs an aware datetime")
        at = at.astimezone(UTC)
        power = self._power_w(at) + self._rng.gauss(0.0, self._noise_w)
        if self._last is not None:
            self._integrate(at, power)
        self._last = (at, power)
        voltages = [self._voltage() for _ in range(self._phases)]
        return MeterReading(
            timestamp=at,
            meter_id=self.meter_id,
            import_wh={name: math.floor(wh) for name, wh in self._import_wh.items()},
            export_wh={name: math.floor(wh) for name, wh in self._export_wh.items()},
            import_w=round(max(power, 0.0)),
            export_w=round(max(-power, 0.0)),
            voltage_v=voltages,
            current_a=[round(abs(power) / self._phases / volts, 2) for volts in voltages],
            tariff=self._tariff(at),
        )

    def readings(
        self, start: datetime, interval: timedelta = timedelta(seconds=10), count: int | None = None
    ) -> Iterator[MeterReading]:
        """One reading every `interval` from `start`, forever unless `count` is given."""
        step = 0
        while count is None or step < count:
            yield self.read(start + step * interval)
            step += 1

    def snapshot(self) -> dict[str, Any]:
        """Registers and last frame as JSON-ready values: a restarted box finds them again,
        as it would find a real meter's."""
        last = [self._last[0].isoformat(), self._last[1]] if self._last else None
        registers = {"import_wh": dict(self._import_wh), "export_wh": dict(self._export_wh)}
        return {**registers, "last": last}

    def restore(self, snapshot: dict[str, Any]) -> None:
        self._import_wh = {name: float(wh) for name, wh in snapshot["import_wh"].items()}
        self._export_wh = {name: float(wh) for name, wh in snapshot["export_wh"].items()}
        last = snapshot["last"]
        self._last = (datetime.fromisoformat(last[0]), float(last[1])) if last else None

    def _integrate(self, at: datetime, power: float) -> None:
        """Trapezoid between the last reading and this one, into the register that ran."""
        assert self._last is not None
        then, before = self._last
        if at < then:
            raise ValueError(f"time went back: {at.isoformat()} after {then.isoformat()}")
        hours = (at - then).total_seconds() / 3600
        register = self._tariff(then)
        self._import_wh[register] += (max(before, 0.0) + max(power, 0.0)) / 2 * hours
        self._export_wh[register] += (max(-before, 0.0) + max(-power, 0.0)) / 2 * hours

    def _tariff(self, at: datetime) -> str:
        register = self._tariff_at(at)
        if register not in self._registers:
            raise ValueError(f"tariff_at gave {register!r}, not one of {self._registers}")
        return register

    def _voltage(self) -> float:
        volts = NOMINAL_VOLTAGE + self._rng.gauss(0.0, 1.5)
        return round(min(max(volts, 207.0), 253.0), 1)  # EN 50160: 230 V +/- 10 %
