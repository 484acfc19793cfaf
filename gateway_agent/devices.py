"""Device adapters: what the agent reads from and commands on the household's devices.

`DeviceAdapter` is the interface (read a `DeviceReading`, execute a `Command`); the classes
below are simulated devices as small state machines, light enough for the box. Their
realistic inputs (appliance power curves, PV output, heat demand) come from
`gateway_agent.simulator`, which builds them; nothing here imports pandas or pvlib.

Time moves forward through `advance(now)`, which integrates energy with piecewise-constant
power in steps of at most a minute and never across a state change.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from gateway_agent.protocol import BATTERY_MODES, Command, DeviceReading, ParamValue

MAX_STEP_S = 60.0
Status = Literal["started", "done", "failed"]


@dataclass(frozen=True)
class CommandOutcome:
    status: Status
    message: str = ""


@dataclass(frozen=True)
class Phase:
    """One step of an appliance programme: `power_w` for `duration_s`."""

    duration_s: float
    power_w: float
    name: str = ""


class DeviceAdapter:
    """A device the box reads and may command; subclasses are the kinds of device."""

    kind = "device"

    def __init__(self, device_id: uuid.UUID, rated_w: int) -> None:
        self.device_id = device_id
        self.rated_w = rated_w
        self.energy_wh = 0.0  # cumulative, in the device's direction
        self.powered = True  # False while the simulated supply is cut: the device stands still
        self._time: datetime | None = None
        self._finished: list[uuid.UUID] = []

    # -- what subclasses define ------------------------------------------------------------

    @property
    def power_w(self) -> float:
        """Power now, in the device's own direction (see protocol.DeviceReading)."""
        return 0.0

    @property
    def on(self) -> bool | None:
        return None

    @property
    def soc_pct(self) -> float | None:
        return None

    def _seconds_until_change(self) -> float:
        return math.inf

    def _evolve(self, seconds: float) -> None:
        """Move the state machine on by `seconds` (never past a change)."""

    def _switch_on(self) -> CommandOutcome:
        return self._unsupported("switch_on")

    def _switch_off(self) -> CommandOutcome:
        return self._unsupported("switch_off")

    def _start_program(
        self, params: Mapping[str, ParamValue], command_id: uuid.UUID
    ) -> CommandOutcome:
        return self._unsupported("start_program")

    def _set_power_limit(self, params: Mapping[str, ParamValue]) -> CommandOutcome:
        return self._unsupported("set_power_limit")

    def _set_battery(self, params: Mapping[str, ParamValue]) -> CommandOutcome:
        return self._unsupported("set_battery")

    # -- the interface the agent uses -------------------------------------------------------

    def advance(self, now: datetime) -> None:
        if self._time is None:
            self._time = now
            return
        if not self.powered:
            self._time = max(self._time, now)
            return
        remaining = (now - self._time).total_seconds()
        while remaining > 1e-6:
            step = min(remaining, MAX_STEP_S, max(self._seconds_until_change(), 1e-3))
            self.energy_wh += abs(self.power_w) * step / 3600
            self._evolve(step)
            self._time += timedelta(seconds=step)
            remaining -= step

    @property
    def time(self) -> datetime | None:
        return self._time

    def reading(self, now: datetime) -> DeviceReading:
        self.advance(now)
        return DeviceReading(
            device_id=self.device_id,
            timestamp=now,
            power_w=round(self.power_w) if self.powered else 0,
            energy_wh=int(self.energy_wh),
            on=self.on,
            soc_pct=None if self.soc_pct is None else round(self.soc_pct, 1),
        )

    def execute(self, command: Command, now: datetime) -> CommandOutcome:
        self.advance(now)
        if command.kind == "switch_on":
            return self._switch_on()
        if command.kind == "switch_off":
            return self._switch_off()
        if command.kind == "start_program":
            return self._start_program(command.params, command.id)
        if command.kind == "set_battery":
            return self._set_battery(command.params)
        return self._set_power_limit(command.params)

    def pop_finished(self) -> list[uuid.UUID]:
        """Commands whose programme has ended since the last call (their "done" ack)."""
        finished, self._finished = self._finished, []
        return finished

    def _unsupported(self, what: str) -> CommandOutcome:
        return CommandOutcome("failed", f"{what} is not supported by a {self.kind}")


def _limit_param(params: Mapping[str, ParamValue]) -> float | None:
    value = params.get("limit_w")
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        return None
    return float(value)


class SimulatedPlug(DeviceAdapter):
    """A smart plug with a constant load behind it."""

    kind = "smart_plug"

    def __init__(self, device_id: uuid.UUID, rated_w: int, on: bool = False) -> None:
        super().__init__(device_id, rated_w)
        self._on = on

    @property
    def power_w(self) -> float:
        return float(self.rated_w) if self._on else 0.0

    @property
    def on(self) -> bool:
        return self._on

    def _switch_on(self) -> CommandOutcome:
        self._on = True
        return CommandOutcome("done")

    def _switch_off(self) -> CommandOutcome:
        self._on = False
        return CommandOutcome("done")


class SimulatedAppliance(DeviceAdapter):
    """A washing machine, dishwasher, oven or dryer: idle, or running a programme's phases."""

    kind = "appliance"

    def __init__(
        self,
        device_id: uuid.UUID,
        rated_w: int,
        programs: Mapping[str, Sequence[Phase]],
        default_program: str,
        appliance: str = "appliance",
    ) -> None:
        super().__init__(device_id, rated_w)
        self.appliance = appliance  # washing_machine, dishwasher, ...
        self.programs = programs
        self.default_program = default_program
        self.program: str | None = None
        self._phases: Sequence[Phase] = ()
        self._phase = 0
        self._phase_elapsed = 0.0
        self._command: uuid.UUID | None = None
        self.runs_completed = 0

    @property
    def running(self) -> bool:
        return self.program is not None

    @property
    def power_w(self) -> float:
        return self._phases[self._phase].power_w if self.running else 0.0

    @property
    def on(self) -> bool:
        return self.running

    def start(self, program: str | None = None, command_id: uuid.UUID | None = None) -> bool:
        """Start a programme (an occupant pressing start, or a command); False if busy."""
        name = program or self.default_program
        if self.running or name not in self.programs:
            return False
        self.program, self._phases = name, self.programs[name]
        self._phase, self._phase_elapsed, self._command = 0, 0.0, command_id
        return True

    def _seconds_until_change(self) -> float:
        if not self.running:
            return math.inf
        return self._phases[self._phase].duration_s - self._phase_elapsed

    def _evolve(self, seconds: float) -> None:
        if not self.running:
            return
        self._phase_elapsed += seconds
        if self._phase_elapsed >= self._phases[self._phase].duration_s - 1e-6:
            self._phase, self._phase_elapsed = self._phase + 1, 0.0
            if self._phase >= len(self._phases):
                self._finish()

    def _finish(self) -> None:
        if self._command is not None:
            self._finished.append(self._command)
        self.program, self._phases, self._command = None, (), None
        self.runs_completed += 1

    def _start_program(
        self, params: Mapping[str, ParamValue], command_id: uuid.UUID
    ) -> CommandOutcome:
        program = params.get("program", self.default_program)
        if not isinstance(program, str) or program not in self.programs:
            return CommandOutcome("failed", f"unknown programme {program!r}")
        if not self.start(program, command_id):
            return CommandOutcome("failed", f"busy with programme {self.program}")
        return CommandOutcome("started", program)

    def _switch_on(self) -> CommandOutcome:
        if self.running:
            return CommandOutcome("done", "already running")
        self.start()
        return CommandOutcome("done", self.default_program)

    def _switch_off(self) -> CommandOutcome:
        if self.running:
            self._finish()
        return CommandOutcome("done")


class SimulatedEVCharger(DeviceAdapter):
    """A wallbox: charges a plugged-in car at its rated power until the session's energy is in.

    Power tapers above 80 % state of charge, as a car's battery management does.
    """

    kind = "ev_charger"

    def __init__(self, device_id: uuid.UUID, rated_w: int, battery_wh: int) -> None:
        super().__init__(device_id, rated_w)
        self.battery_wh = battery_wh
        self.car_wh = 0.0  # energy in the car's battery; None-like when unplugged
        self.plugged = False
        self.enabled = True  # switch_off pauses charging (smart charging)
        self.limit_w: float | None = None

    def plug_in(self, soc_pct: float) -> None:
        self.plugged, self.car_wh = True, self.battery_wh * soc_pct / 100

    def unplug(self) -> None:
        self.plugged = False

    @property
    def soc_pct(self) -> float | None:
        return 100 * self.car_wh / self.battery_wh if self.plugged else None

    @property
    def on(self) -> bool:
        return self.enabled

    @property
    def power_w(self) -> float:
        if not (self.plugged and self.enabled) or self.car_wh >= self.battery_wh:
            return 0.0
        soc = self.car_wh / self.battery_wh
        taper = 1.0 if soc < 0.8 else max(0.1, (1.0 - soc) / 0.2)
        ceiling = self.rated_w if self.limit_w is None else min(self.rated_w, self.limit_w)
        return ceiling * taper

    def _evolve(self, seconds: float) -> None:
        self.car_wh = min(self.battery_wh, self.car_wh + self.power_w * 0.92 * seconds / 3600)

    def _switch_on(self) -> CommandOutcome:
        self.enabled = True
        return CommandOutcome("done")

    def _switch_off(self) -> CommandOutcome:
        self.enabled = False
        return CommandOutcome("done")

    def _start_program(
        self, params: Mapping[str, ParamValue], command_id: uuid.UUID
    ) -> CommandOutcome:
        return self._switch_on()

    def _set_power_limit(self, params: Mapping[str, ParamValue]) -> CommandOutcome:
        self.limit_w = _limit_param(params)
        return CommandOutcome("done", f"limit {self.limit_w} W")


class ThermostaticLoad(DeviceAdapter):
    """A heat pump or water heater: heats between two set points; the DSO may block it.

    `heat_demand_w(t)` is the thermal power leaving the store (house losses, hot water drawn);
    `cop` turns electric into thermal power (about 3 for a heat pump, 1 for a resistance).
    """

    def __init__(
        self,
        device_id: uuid.UUID,
        rated_w: int,
        *,
        kind: str,
        capacity_wh_per_k: float,
        low_c: float,
        high_c: float,
        cop: float,
        heat_demand_w: Callable[[datetime], float],
        start_c: float | None = None,
    ) -> None:
        super().__init__(device_id, rated_w)
        self.kind = kind
        self.capacity_wh_per_k = capacity_wh_per_k
        self.low_c, self.high_c, self.cop = low_c, high_c, cop
        self.heat_demand_w = heat_demand_w
        self.temperature_c = high_c if start_c is None else start_c
        self.enabled = True
        self.heating = False

    @property
    def power_w(self) -> float:
        return float(self.rated_w) if self.heating else 0.0

    @property
    def on(self) -> bool:
        return self.enabled

    def _evolve(self, seconds: float) -> None:
        assert self._time is not None
        thermal_w = self.power_w * self.cop - self.heat_demand_w(self._time)
        self.temperature_c += thermal_w * seconds / 3600 / self.capacity_wh_per_k
        if not self.enabled or self.temperature_c >= self.high_c:
            self.heating = False
        elif self.temperature_c <= self.low_c:
            self.heating = True

    def _switch_on(self) -> CommandOutcome:
        self.enabled = True
        return CommandOutcome("done")

    def _switch_off(self) -> CommandOutcome:
        self.enabled, self.heating = False, False
        return CommandOutcome("done")


class SimulatedPV(DeviceAdapter):
    """A PV inverter: AC output from a profile, capped by its rating and any curtailment."""

    kind = "pv_inverter"

    def __init__(
        self, device_id: uuid.UUID, rated_w: int, ac_power_w: Callable[[datetime], float]
    ) -> None:
        super().__init__(device_id, rated_w)
        self.ac_power_w = ac_power_w
        self.enabled = True
        self.limit_w: float | None = None

    @property
    def power_w(self) -> float:
        if not self.enabled or self._time is None:
            return 0.0
        ceiling = self.rated_w if self.limit_w is None else min(self.rated_w, self.limit_w)
        return min(max(self.ac_power_w(self._time), 0.0), ceiling)

    @property
    def on(self) -> bool:
        return self.enabled

    def _switch_on(self) -> CommandOutcome:
        self.enabled = True
        return CommandOutcome("done")

    def _switch_off(self) -> CommandOutcome:
        self.enabled = False
        return CommandOutcome("done", "curtailed to 0 W")

    def _set_power_limit(self, params: Mapping[str, ParamValue]) -> CommandOutcome:
        self.limit_w = _limit_param(params)
        return CommandOutcome("done", f"limit {self.limit_w} W")


class SimulatedBattery(DeviceAdapter):
    """A home battery: self-consumption by default, or charging / discharging as told.

    The household calls `follow(net_w)` with its load net of PV (+ import, - export) before
    advancing; power is + charging, - discharging. Round-trip efficiency about 90 %.

    Modes (the `set_battery` command): "auto" charges from surplus and discharges into the
    load (self-consumption); "charge" charges at `mode_power_w` whatever the house does (the
    PV surplus goes in first, the grid gives the rest); "discharge" covers the house's load
    up to `mode_power_w` and never exports. Always within the rated power, any
    `set_power_limit`, and the charge level's bounds (MIN_SOC to full).
    """

    kind = "battery"
    MIN_SOC = 0.05
    ONE_WAY_EFFICIENCY = 0.95

    def __init__(
        self, device_id: uuid.UUID, rated_w: int, capacity_wh: int, soc_pct: float = 50.0
    ) -> None:
        super().__init__(device_id, rated_w)
        self.capacity_wh = capacity_wh
        self.stored_wh = capacity_wh * soc_pct / 100
        self.enabled = True
        self.limit_w: float | None = None
        self.mode = "auto"
        self.mode_power_w = 0.0
        self._setpoint_w = 0.0

    @property
    def soc_pct(self) -> float:
        return 100 * self.stored_wh / self.capacity_wh

    @property
    def on(self) -> bool:
        return self.enabled

    @property
    def power_w(self) -> float:
        return self._setpoint_w

    def follow(self, net_w: float) -> float:
        """Set the power this mode gives for `net_w`, within limits; returns it (+ charge)."""
        ceiling = self.rated_w if self.limit_w is None else min(self.rated_w, self.limit_w)
        if not self.enabled:
            wanted = 0.0
        elif self.mode == "charge":
            wanted = min(ceiling, self.mode_power_w)
        elif self.mode == "discharge":
            wanted = -min(ceiling, self.mode_power_w, max(net_w, 0.0))
        else:
            wanted = max(-ceiling, min(ceiling, -net_w))
        if wanted > 0 and self.stored_wh >= self.capacity_wh:
            wanted = 0.0
        if wanted < 0 and self.stored_wh <= self.capacity_wh * self.MIN_SOC:
            wanted = 0.0
        self._setpoint_w = wanted
        return wanted

    def _evolve(self, seconds: float) -> None:
        power = self._setpoint_w
        factor = self.ONE_WAY_EFFICIENCY if power > 0 else 1 / self.ONE_WAY_EFFICIENCY
        self.stored_wh += power * factor * seconds / 3600
        floor = self.capacity_wh * self.MIN_SOC
        self.stored_wh = min(self.capacity_wh, max(floor, self.stored_wh))

    def reading(self, now: datetime) -> DeviceReading:
        reading = super().reading(now)
        return DeviceReading(
            device_id=reading.device_id,
            timestamp=reading.timestamp,
            power_w=reading.power_w,
            on=reading.on,
            soc_pct=reading.soc_pct,
        )  # no cumulative energy: a battery counts in both directions

    def _switch_on(self) -> CommandOutcome:
        self.enabled = True
        return CommandOutcome("done")

    def _switch_off(self) -> CommandOutcome:
        self.enabled, self._setpoint_w = False, 0.0
        return CommandOutcome("done")

    def _set_power_limit(self, params: Mapping[str, ParamValue]) -> CommandOutcome:
        self.limit_w = _limit_param(params)
        return CommandOutcome("done", f"limit {self.limit_w} W")

    def _set_battery(self, params: Mapping[str, ParamValue]) -> CommandOutcome:
        unknown = sorted(set(params) - {"mode", "power_w"})
        if unknown:
            return CommandOutcome("failed", f"unknown params: {', '.join(unknown)}")
        mode = params.get("mode")
        if not isinstance(mode, str) or mode not in BATTERY_MODES:
            return CommandOutcome(
                "failed", f"params.mode must be one of {', '.join(BATTERY_MODES)}, not {mode!r}"
            )
        power = params.get("power_w")
        needed = mode != "auto" or power is not None
        if needed and (isinstance(power, bool) or not isinstance(power, int) or power < 0):
            return CommandOutcome(
                "failed", f"params.power_w must be a whole number of W >= 0, not {power!r}"
            )
        self.mode, self.mode_power_w = mode, float(power or 0) if mode != "auto" else 0.0
        if mode == "auto":
            return CommandOutcome("done", "self-consumption")
        ceiling = self.rated_w if self.limit_w is None else min(self.rated_w, self.limit_w)
        capped = f" (capped at {ceiling:.0f} W)" if self.mode_power_w > ceiling else ""
        return CommandOutcome("done", f"{mode} at {self.mode_power_w:.0f} W{capped}")
