"""Device state machines: power, energy and what each command does."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from gateway_agent.devices import (
    Phase,
    SimulatedAppliance,
    SimulatedBattery,
    SimulatedEVCharger,
    SimulatedPlug,
    SimulatedPV,
    ThermostaticLoad,
)
from gateway_agent.protocol import Command, CommandKind
from gateway_agent.simulator.appliances import energy_wh, programs_for

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def command(kind: CommandKind, **params: Any) -> Command:
    return Command(id=uuid.uuid4(), kind=kind, device_id=uuid.uuid4(), params=params)


def test_a_plug_counts_energy_while_on() -> None:
    plug = SimulatedPlug(uuid.uuid4(), rated_w=100)
    plug.advance(at(0))
    assert plug.execute(command("switch_on"), at(0)).status == "done"
    plug.advance(at(3600))
    plug.execute(command("switch_off"), at(3600))
    reading = plug.reading(at(7200))
    assert reading.energy_wh == 100
    assert (reading.power_w, reading.on) == (0, False)


def test_a_washing_machine_heats_first_then_tumbles_and_reports_done() -> None:
    programs, default = programs_for("washing_machine", 2000)
    machine = SimulatedAppliance(uuid.uuid4(), 2000, programs, default, "washing_machine")
    machine.advance(at(0))
    start = command("start_program", program="cotton_40")
    outcome = machine.execute(start, at(0))
    assert outcome.status == "started"
    assert machine.reading(at(5 * 60)).power_w == 2000  # heating the water
    assert machine.reading(at(25 * 60)).power_w < 300  # the drum
    duration = sum(phase.duration_s for phase in programs["cotton_40"])
    machine.advance(at(duration + 1))
    assert not machine.running
    assert machine.pop_finished() == [start.id]
    assert machine.energy_wh == pytest.approx(energy_wh(programs["cotton_40"]), rel=0.01)


def test_a_busy_appliance_refuses_another_programme_and_switch_off_aborts() -> None:
    machine = SimulatedAppliance(uuid.uuid4(), 2000, {"p": [Phase(600, 2000)]}, "p")
    machine.advance(at(0))
    assert machine.execute(command("start_program"), at(0)).status == "started"
    assert machine.execute(command("start_program"), at(1)).status == "failed"
    assert machine.execute(command("start_program", program="nope"), at(1)).status == "failed"
    assert machine.execute(command("switch_off"), at(2)).status == "done"
    assert machine.reading(at(3)).power_w == 0


def test_an_ev_charger_charges_pauses_and_obeys_a_limit() -> None:
    charger = SimulatedEVCharger(uuid.uuid4(), rated_w=7400, battery_wh=60_000)
    charger.advance(at(0))
    charger.plug_in(soc_pct=50)
    assert charger.reading(at(1)).power_w == 7400
    charger.execute(command("set_power_limit", limit_w=3700), at(2))
    assert charger.reading(at(3)).power_w == 3700
    charger.execute(command("switch_off"), at(4))
    assert charger.reading(at(5)).power_w == 0
    charger.execute(command("switch_on"), at(6))
    charger.execute(command("set_power_limit"), at(7))  # no limit_w: the limit is lifted
    assert charger.reading(at(8)).power_w == 7400
    charger.advance(at(12 * 3600))
    assert charger.soc_pct == pytest.approx(100, abs=0.5)
    assert charger.reading(at(12 * 3600 + 1)).power_w < 100


def test_a_water_heater_cycles_between_its_set_points_and_can_be_blocked() -> None:
    heater = ThermostaticLoad(
        uuid.uuid4(),
        2400,
        kind="water_heater",
        capacity_wh_per_k=232,
        low_c=52,
        high_c=60,
        cop=1,
        heat_demand_w=lambda _: 800.0,
        start_c=55,
    )
    heater.advance(at(0))
    powers = [heater.reading(at(minute * 60)).power_w for minute in range(1, 600)]
    assert 0 in powers and 2400 in powers
    assert 51 < heater.temperature_c < 61
    heater.execute(command("switch_off"), at(600 * 60))
    heater.advance(at(700 * 60))
    assert heater.power_w == 0 and heater.temperature_c < 52


def test_a_pv_inverter_clips_at_its_rating_and_can_be_curtailed() -> None:
    pv = SimulatedPV(uuid.uuid4(), rated_w=3000, ac_power_w=lambda _: 3500.0)
    pv.advance(at(0))
    assert pv.reading(at(1)).power_w == 3000
    pv.execute(command("set_power_limit", limit_w=1000), at(2))
    assert pv.reading(at(3)).power_w == 1000
    pv.execute(command("switch_off"), at(4))
    assert pv.reading(at(5)).power_w == 0


def test_a_battery_stores_surplus_and_stops_when_full() -> None:
    battery = SimulatedBattery(uuid.uuid4(), rated_w=2500, capacity_wh=5000, soc_pct=50)
    battery.advance(at(0))
    assert battery.follow(-4000) == 2500  # 4 kW exported: charge at most 2.5 kW
    battery.advance(at(2 * 3600))
    assert battery.soc_pct == 100
    assert battery.follow(-4000) == 0
    assert battery.follow(1500) == -1500  # importing: discharge into the load
    reading = battery.reading(at(2 * 3600 + 1))
    assert reading.energy_wh is None and reading.soc_pct == 100


def test_an_unsupported_command_fails_with_a_reason() -> None:
    outcome = SimulatedPlug(uuid.uuid4(), 100).execute(command("set_power_limit"), at(0))
    assert outcome.status == "failed"
    assert "set_power_limit" in outcome.message
