"""A simulated household: base load + appliances - PV (+/- battery) = what the meter sees.

The household advances in steps of at most a minute. At each step the occupants' events of
the day (seeded: a washing machine started mid-morning, the car plugged in at dinner time)
happen and the devices move on. Its net power feeds the simulated meter of
`gateway_agent.meters.simulated`, which integrates it into cumulative import and export
registers per tariff period. With a state directory the registers and device states are
saved at every reading and restored on restart, so the meter's registers never go backwards,
as a real meter's do not when the box reboots.

With a supply limit (the configuration's `[overload] limit_va`, or `set_supply`) the supply's
breaker (breaker.py, the trip model the box and the platform use) cuts when overloaded: the
meter shows 0 W and the devices stand still until `reset_breaker()`; `trips` records when.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any, cast
from zoneinfo import ZoneInfo

import msgspec

from gateway_agent import tripmodel
from gateway_agent.config import AgentConfig, DeviceConfig, LocationConfig
from gateway_agent.devices import (
    DeviceAdapter,
    SimulatedAppliance,
    SimulatedBattery,
    SimulatedEVCharger,
    SimulatedPlug,
    SimulatedPV,
    ThermostaticLoad,
)
from gateway_agent.meters.simulated import SimulatedMeter
from gateway_agent.protocol import MeterReading
from gateway_agent.simulator.appliances import programs_for
from gateway_agent.simulator.breaker import SimulatedBreaker
from gateway_agent.simulator.noise import unit
from gateway_agent.simulator.profiles import BaseLoad, PVOutput, ambient_c

Event = tuple[datetime, Callable[[], object]]  # what an occupant does, and when
STEP_S = 60.0
SNAPSHOT_FILE = "simulator.json"
# Daily occupant habits per appliance: (runs per day, earliest hour, window in hours).
HABITS = {
    "washing_machine": (0.5, 8, 12),
    "dishwasher": (0.8, 19, 3),
    "oven": (0.5, 17, 2),
    "tumble_dryer": (0.3, 10, 10),
}


def tariff_registers(protocol: str) -> tuple[str, ...]:
    if protocol.startswith("linky"):
        return ("HCHC", "HCHP")
    return ("1", "2") if protocol.startswith("p1") else ("1",)


def tariff_register(protocol: str, local: datetime) -> str:
    """The register counting now: day/night in Belgium and the Netherlands, HP/HC in France."""
    if protocol.startswith("linky"):
        return "HCHC" if local.hour >= 22 or local.hour < 6 else "HCHP"
    night = local.hour >= 22 or local.hour < 7 or local.weekday() >= 5
    if protocol == "p1-be":
        return "2" if night else "1"
    if protocol == "p1-nl":
        return "1" if night else "2"
    return "1"


class SimulatedHousehold:
    def __init__(self, config: AgentConfig, state_dir: Path | None = None) -> None:
        self.seed = config.simulation.seed
        self.zone = ZoneInfo(config.location.timezone)
        self.location = config.location
        self.protocol = config.meter.protocol
        self.meter_id = config.meter.meter_id
        self.base = BaseLoad(config.simulation.annual_kwh, config.location.timezone, self.seed)
        self.devices: dict[uuid.UUID, DeviceAdapter] = {
            spec.id: self._build_device(spec, config) for spec in config.devices
        }
        self.meter = SimulatedMeter(
            self._power_at,
            seed=self.seed,
            meter_id=config.meter.meter_id,
            registers=tariff_registers(self.protocol),
            tariff_at=lambda moment: tariff_register(self.protocol, moment.astimezone(self.zone)),
            phases=3 if self.protocol == "p1-be" else 1,
        )
        self.breaker = _breaker(config)  # the contract's limit, when the config names it
        self.net_w = 0.0
        self._time: datetime | None = None
        self._events: list[Event] = []
        self._events_day: date | None = None
        self.snapshot_path = state_dir / SNAPSHOT_FILE if state_dir else None
        if self.snapshot_path is not None and self.snapshot_path.exists():
            self.restore(json.loads(self.snapshot_path.read_text()))

    # -- devices ----------------------------------------------------------------------------

    def _build_device(self, spec: DeviceConfig, config: AgentConfig) -> DeviceAdapter:
        if spec.kind == "appliance":
            programs, default = programs_for(spec.appliance, spec.rated_w)
            return SimulatedAppliance(spec.id, spec.rated_w, programs, default, spec.appliance)
        if spec.kind == "pv_inverter":
            pv = PVOutput(
                config.location,
                kwp=spec.kwp,
                tilt_deg=spec.tilt_deg,
                azimuth_deg=spec.azimuth_deg,
                inverter_w=spec.rated_w,
                seed=self.seed,
                clear_sky=config.simulation.clear_sky,
            )
            return SimulatedPV(spec.id, spec.rated_w, pv.power_w)
        if spec.kind == "battery":
            return SimulatedBattery(spec.id, spec.rated_w, spec.capacity_wh or 10_000)
        if spec.kind == "ev_charger":
            return SimulatedEVCharger(spec.id, spec.rated_w, spec.capacity_wh or 60_000)
        if spec.kind == "heat_pump":
            return heat_pump(spec, config.location)
        if spec.kind == "water_heater":
            return water_heater(spec, self.zone, self.seed)
        return SimulatedPlug(spec.id, spec.rated_w, on=True)

    def _loads(self) -> list[DeviceAdapter]:
        return [d for d in self.devices.values() if d.kind not in ("pv_inverter", "battery")]

    # -- time -------------------------------------------------------------------------------

    def advance(self, now: datetime) -> None:
        if self._time is None:
            self._time = now
            for device in self.devices.values():
                device.advance(now)
        while self._time < now:
            step_end = min(now, self._time + timedelta(seconds=STEP_S))
            self._run_events(self._time)
            net = self._net_power(self._time)  # also sets the battery's power for this step
            if self.breaker is not None and not self.breaker.tripped:
                step_end = self.breaker.run(self._time, step_end, max(net, 0.0))  # or the trip
            for device in self.devices.values():
                device.advance(step_end)
            self._time = step_end
            if self.breaker is not None and self.breaker.tripped:
                self._power(False)
        self.net_w = self._net_power(now)

    # -- the supply's breaker ---------------------------------------------------------------

    @property
    def tripped(self) -> bool:
        return self.breaker is not None and self.breaker.tripped

    @property
    def trips(self) -> list[datetime]:
        """When the supply tripped (the breaker's record), oldest first."""
        return self.breaker.trips if self.breaker is not None else []

    def set_supply(self, limit: tripmodel.SupplyLimit | None) -> None:
        """Fit a breaker for `limit` (None: an ideal supply that never trips)."""
        self.breaker = SimulatedBreaker(limit) if limit is not None else None
        self._power(True)

    def reset_breaker(self) -> None:
        """An occupant re-arms the supply."""
        if self.breaker is not None:
            self.breaker.reset()
        self._power(True)

    def _power(self, on: bool) -> None:
        for device in self.devices.values():
            device.powered = on

    def _net_power(self, moment: datetime) -> float:
        if self.tripped:
            return 0.0  # no supply: the loads get nothing, PV and battery disconnect
        net = self.base.power_w(moment) + sum(d.power_w for d in self._loads())
        net -= sum(d.power_w for d in self.devices.values() if d.kind == "pv_inverter")
        for battery in self.devices.values():
            if isinstance(battery, SimulatedBattery):
                net += battery.follow(net)
        return net

    def _power_at(self, moment: datetime) -> float:
        """The meter's view: import (+) or export (-) in W."""
        self.advance(moment)
        return self.net_w

    # -- occupants --------------------------------------------------------------------------

    def _run_events(self, moment: datetime) -> None:
        local_day = moment.astimezone(self.zone).date()
        if local_day != self._events_day:
            self._events_day = local_day
            self._events = [e for e in self._day_events(local_day) if e[0] >= moment]
        while self._events and self._events[0][0] <= moment:
            _, action = self._events.pop(0)
            action()

    def _day_events(self, day: date) -> list[Event]:
        events: list[Event] = []
        day_number = day.toordinal()
        for index, device in enumerate(self.devices.values()):
            stream = 100 + index * 4
            if isinstance(device, SimulatedAppliance) and device.program is None:
                events += self._appliance_event(device, day, day_number, stream)
            if isinstance(device, SimulatedEVCharger):
                events += self._ev_events(device, day, day_number, stream)
        return sorted(events, key=lambda event: event[0])

    def _at(self, day: date, hours: float) -> datetime:
        midnight = datetime.combine(day, time(0), self.zone)
        return midnight + timedelta(hours=hours)

    def _appliance_event(
        self, appliance: SimulatedAppliance, day: date, day_number: int, stream: int
    ) -> list[Event]:
        rate, earliest, window = HABITS.get(appliance.appliance, (0.3, 9, 10))
        if unit(self.seed, stream, day_number) >= rate:
            return []
        hours = earliest + window * unit(self.seed, stream + 1, day_number)
        return [(self._at(day, hours), appliance.start)]  # if it is busy, nothing happens

    def _ev_events(
        self, charger: SimulatedEVCharger, day: date, day_number: int, stream: int
    ) -> list[Event]:
        events: list[Event] = [(self._at(day, 7.5), charger.unplug)]
        if day.weekday() < 5 or unit(self.seed, stream, day_number) < 0.5:
            arrival = 17.5 + 2 * unit(self.seed, stream + 1, day_number)
            soc = 55 + 30 * unit(self.seed, stream + 2, day_number)
            events.append((self._at(day, arrival), lambda: charger.plug_in(soc)))
        return events

    # -- the meter --------------------------------------------------------------------------

    def meter_reading(self, now: datetime) -> MeterReading:
        """One frame of the simulated meter (meters/simulated.py), fed by this household."""
        reading = self.meter.read(now)
        self.save()
        if self.tripped:  # the meter's own noise aside, nothing flows
            phases = len(reading.current_a)
            reading = msgspec.structs.replace(
                reading, import_w=0, export_w=0, current_a=[0.0] * phases
            )
        return reading

    # -- persistence ------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        return {
            "time": self._time.isoformat() if self._time else None,
            "meter": self.meter.snapshot(),
            "devices": {str(key): _device_state(device) for key, device in self.devices.items()},
        }

    def restore(self, saved: dict[str, Any]) -> None:
        self._time = datetime.fromisoformat(saved["time"]) if saved["time"] else None
        self.meter.restore(saved["meter"])
        for key, state in saved["devices"].items():
            device = self.devices.get(uuid.UUID(key))
            if device is not None:
                _restore_device(device, state, self._time)

    def save(self) -> None:
        """Write the state beside the outbox (simulation only: no fsync, a rename is enough)."""
        if self.snapshot_path is None:
            return
        tmp = self.snapshot_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.snapshot()))
        os.replace(tmp, self.snapshot_path)


_STATE_FIELDS = (
    "energy_wh", "stored_wh", "car_wh", "plugged", "temperature_c", "enabled",
    "mode", "mode_power_w",  # a battery told to charge goes on charging after a restart
)  # fmt: skip


def _device_state(device: DeviceAdapter) -> dict[str, Any]:
    return {name: getattr(device, name) for name in _STATE_FIELDS if hasattr(device, name)}


def _restore_device(device: DeviceAdapter, state: dict[str, Any], moment: datetime | None) -> None:
    for name, value in state.items():
        if name in _STATE_FIELDS and hasattr(device, name):
            setattr(device, name, value)
    if moment is not None:
        device.advance(moment)


def _breaker(config: AgentConfig) -> SimulatedBreaker | None:
    overload = config.overload
    if overload.limit_va is None:
        return None
    kind = cast(tripmodel.LimitKind, overload.kind)
    limit = tripmodel.SupplyLimit(limit_va=overload.limit_va, kind=kind, phases=overload.phases)
    return SimulatedBreaker(limit)


def heat_pump(spec: DeviceConfig, location: LocationConfig) -> ThermostaticLoad:
    """Space heating: losses proportional to the indoor-outdoor difference, sized so that the
    heat pump runs 80 % of the time at -8 °C (a usual design point)."""
    cop = 3.0
    loss_w_per_k = 0.8 * spec.rated_w * cop / (20 - -8)

    def demand(moment: datetime) -> float:
        return loss_w_per_k * max(0.0, 20 - ambient_c(moment, location.latitude))

    return ThermostaticLoad(
        spec.id,
        spec.rated_w,
        kind="heat_pump",
        capacity_wh_per_k=1500,
        low_c=20.0,
        high_c=21.0,
        cop=cop,
        heat_demand_w=demand,
        start_c=20.5,
    )


def water_heater(spec: DeviceConfig, zone: ZoneInfo, seed: int) -> ThermostaticLoad:
    """A 200 l tank: standby losses, showers in the morning, washing up in the evening."""
    draws = ((6.75, 0.5, 4000.0), (19.5, 0.5, 2500.0))  # (local hour, hours, thermal W)

    def demand(moment: datetime) -> float:
        local = moment.astimezone(zone)
        hour = local.hour + local.minute / 60
        day_number = local.toordinal()
        total = 50.0
        for index, (start, length, watts) in enumerate(draws):
            shifted = start + (unit(seed, 30 + index, day_number) - 0.5) * 0.66
            if shifted <= hour < shifted + length:
                total += watts
        return total

    return ThermostaticLoad(
        spec.id,
        spec.rated_w,
        kind="water_heater",
        capacity_wh_per_k=200 * 1.163,
        low_c=52.0,
        high_c=60.0,
        cop=1.0,
        heat_demand_w=demand,
        start_c=58.0,
    )
