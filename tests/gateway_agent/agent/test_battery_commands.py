"""The home battery's `set_battery` command: charge, discharge, back to self-consumption.

Device tests drive SimulatedBattery directly; the agent tests run a simulated household
on a manual clock against the contract server (no sleeping, no real time).
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
import pytest

from gateway_agent import protocol
from gateway_agent.agent import Agent
from gateway_agent.clock import ManualClock
from gateway_agent.devices import SimulatedBattery, SimulatedPlug
from gateway_agent.protocol import Command, ParamValue
from tests.gateway_agent.agent.conftest import device
from tests.gateway_agent.agent.contract_server import ContractServer

T0 = datetime(2025, 6, 21, 10, 0, tzinfo=UTC)
NIGHT = datetime(2025, 6, 21, 21, 30, tzinfo=UTC)  # 23:30 in Brussels


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def set_battery(**params: ParamValue) -> Command:
    return Command(id=uuid.uuid4(), kind="set_battery", device_id=uuid.uuid4(), params=params)


def battery(
    soc_pct: float = 50, rated_w: int = 3000, capacity_wh: int = 10_000
) -> SimulatedBattery:
    unit = SimulatedBattery(uuid.uuid4(), rated_w=rated_w, capacity_wh=capacity_wh, soc_pct=soc_pct)
    unit.advance(at(0))
    return unit


# The wire format ------------------------------------------------------------------------


def test_set_battery_is_a_command_kind_on_the_wire() -> None:
    command = set_battery(mode="charge", power_w=2000)
    decoded = msgspec.json.decode(protocol.encode(command), type=Command)
    assert decoded.kind == "set_battery" and decoded.params == {"mode": "charge", "power_w": 2000}
    with pytest.raises(msgspec.ValidationError):
        msgspec.json.decode(
            b'{"id": "%s", "kind": "set_batery"}' % str(uuid.uuid4()).encode(), type=Command
        )


# The device -----------------------------------------------------------------------------


def test_charge_draws_the_power_asked_whatever_the_house_does() -> None:
    unit = battery()
    outcome = unit.execute(set_battery(mode="charge", power_w=2000), at(0))
    assert (outcome.status, outcome.message) == ("done", "charge at 2000 W")
    assert unit.follow(500) == 2000  # importing already: the grid gives it
    assert unit.follow(-800) == 2000  # 800 W of PV surplus go in first, the grid the rest
    unit.advance(at(3600))
    assert unit.stored_wh == pytest.approx(5000 + 2000 * 0.95)


def test_discharge_covers_the_load_up_to_the_power_and_never_exports() -> None:
    unit = battery()
    unit.execute(set_battery(mode="discharge", power_w=1500), at(0))
    assert unit.follow(2500) == -1500  # up to the power asked
    assert unit.follow(600) == -600  # only the load: nothing goes out to the grid
    assert unit.follow(-1000) == 0  # exporting already: nothing to cover
    unit.follow(600)
    unit.advance(at(3600))
    assert unit.stored_wh == pytest.approx(5000 - 600 / 0.95)


def test_auto_goes_back_to_self_consumption() -> None:
    unit = battery()
    unit.execute(set_battery(mode="charge", power_w=2000), at(0))
    outcome = unit.execute(set_battery(mode="auto"), at(1))
    assert (outcome.status, outcome.message) == ("done", "self-consumption")
    assert unit.follow(-1200) == 1200 and unit.follow(700) == -700


def test_the_rated_power_and_a_power_limit_cap_the_mode() -> None:
    unit = battery(rated_w=3000)
    outcome = unit.execute(set_battery(mode="charge", power_w=5000), at(0))
    assert outcome.message == "charge at 5000 W (capped at 3000 W)"
    assert unit.follow(0) == 3000
    unit.execute(Command(id=uuid.uuid4(), kind="set_power_limit", params={"limit_w": 1000}), at(1))
    assert unit.follow(0) == 1000
    unit.execute(set_battery(mode="discharge", power_w=5000), at(2))
    assert unit.follow(4000) == -1000


def test_the_charge_level_bounds_hold_in_every_mode() -> None:
    unit = battery(soc_pct=99, rated_w=3000, capacity_wh=10_000)
    unit.execute(set_battery(mode="charge", power_w=3000), at(0))
    unit.follow(0)
    unit.advance(at(3600))
    assert unit.soc_pct == 100  # full, not beyond
    assert unit.follow(0) == 0  # full: charges no more
    unit.execute(set_battery(mode="discharge", power_w=3000), at(3600))
    for minute in range(1, 6 * 60):
        unit.follow(3000)
        unit.advance(at(3600 + minute * 60))
    assert unit.soc_pct == pytest.approx(100 * unit.MIN_SOC)  # the floor, not below
    assert unit.follow(3000) == 0


def test_switched_off_it_does_nothing_whatever_the_mode() -> None:
    unit = battery()
    unit.execute(set_battery(mode="charge", power_w=2000), at(0))
    unit.execute(Command(id=uuid.uuid4(), kind="switch_off"), at(1))
    assert unit.follow(0) == 0


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({}, "params.mode"),
        ({"mode": "boost", "power_w": 100}, "params.mode"),
        ({"mode": 1, "power_w": 100}, "params.mode"),
        ({"mode": "charge"}, "params.power_w"),
        ({"mode": "charge", "power_w": -5}, "params.power_w"),
        ({"mode": "discharge", "power_w": "2000"}, "params.power_w"),
        ({"mode": "discharge", "power_w": 1500.5}, "params.power_w"),
        ({"mode": "charge", "power_w": True}, "params.power_w"),
        ({"mode": "auto", "power_w": -1}, "params.power_w"),
        ({"mode": "auto", "limit_w": 1}, "limit_w"),
    ],
)
def test_a_bad_param_fails_naming_it_and_changes_nothing(
    params: dict[str, ParamValue], named: str
) -> None:
    unit = battery()
    unit.execute(set_battery(mode="charge", power_w=2000), at(0))
    outcome = unit.execute(set_battery(**params), at(1))
    assert outcome.status == "failed" and named in outcome.message
    assert (unit.mode, unit.mode_power_w) == ("charge", 2000)


def test_another_device_refuses_set_battery() -> None:
    outcome = SimulatedPlug(uuid.uuid4(), 100).execute(set_battery(mode="auto"), at(0))
    assert (outcome.status, outcome.message) == (
        "failed", "set_battery is not supported by a smart_plug"
    )  # fmt: skip


# The agent ------------------------------------------------------------------------------


def agent_at(make_config: Any, start: datetime, **sections: Any) -> Agent:
    return Agent(make_config(**sections), clock=ManualClock(start), rng=random.Random(0))


def test_told_to_charge_at_night_the_meter_shows_the_grid_charging_it_offline_too(
    server: ContractServer, make_config: Any
) -> None:
    spec = device("battery", 3000, capacity_wh=10_000)
    agent = agent_at(make_config, NIGHT, devices=[spec])
    unit = agent.devices[uuid.UUID(spec["id"])]
    assert isinstance(unit, SimulatedBattery) and agent.household is not None
    due = NIGHT + timedelta(minutes=30)
    charge = Command(
        id=uuid.uuid4(), kind="set_battery", device_id=unit.device_id,
        params={"mode": "charge", "power_w": 2500}, not_before=due,
        not_after=due + timedelta(hours=2),
    )  # fmt: skip
    auto = Command(
        id=uuid.uuid4(), kind="set_battery", device_id=unit.device_id,
        params={"mode": "auto"}, not_before=due + timedelta(hours=1),
        not_after=due + timedelta(hours=3),
    )  # fmt: skip
    server.queue_command(charge)
    server.queue_command(auto)
    agent.step(120)  # polled, stored, "received" acked
    server.state.offline = True

    agent.step(25 * 60)  # self-consumption: the battery covers the night's base load
    night_reading = agent.household.meter_reading(agent.clock.now())
    assert night_reading.import_w < 150 and unit.power_w < 0
    soc_before = unit.soc_pct

    agent.step(10 * 60)  # past not_before, with the link down
    assert unit.mode == "charge" and unit.power_w == 2500
    reading = agent.household.meter_reading(agent.clock.now())
    assert reading.import_w >= 2500  # the grid charges it, on top of the base load
    assert reading.tariff == "2"  # the Belgian night register
    agent.step(30 * 60)
    assert unit.soc_pct > soc_before + 100 * 2500 * 0.95 * 0.5 / 10_000 - 1

    agent.step(30 * 60)  # the auto command: self-consumption again
    assert unit.mode == "auto" and unit.power_w <= 0
    assert agent.household.meter_reading(agent.clock.now()).import_w < 150

    server.state.offline = False
    agent.step(15 * 60)
    done = {a.command_id: a for a in server.state.acks if a.status == "done"}
    assert done[charge.id].message == "charge at 2500 W"
    assert timedelta(0) <= done[charge.id].timestamp - due <= timedelta(seconds=2)
    assert done[auto.id].message == "self-consumption"
    agent.close()


def test_a_bad_set_battery_is_acked_failed_naming_the_param(
    server: ContractServer, make_config: Any
) -> None:
    spec = device("battery", 3000, capacity_wh=10_000)
    agent = agent_at(make_config, NIGHT, devices=[spec])
    bad = Command(
        id=uuid.uuid4(), kind="set_battery", device_id=uuid.UUID(spec["id"]),
        params={"mode": "charge", "power_w": -100},
    )  # fmt: skip
    server.queue_command(bad)
    agent.step(180)
    [failed] = [a for a in server.state.acks if a.command_id == bad.id and a.status == "failed"]
    assert "params.power_w" in failed.message
    assert agent.devices[uuid.UUID(spec["id"])].mode == "auto"  # type: ignore[attr-defined]
    agent.close()


def test_the_mode_survives_a_restart_of_the_box(server: ContractServer, make_config: Any) -> None:
    spec = device("battery", 3000, capacity_wh=10_000)
    agent = agent_at(make_config, NIGHT, devices=[spec])
    command = Command(
        id=uuid.uuid4(), kind="set_battery", device_id=uuid.UUID(spec["id"]),
        params={"mode": "charge", "power_w": 2000},
    )  # fmt: skip
    server.queue_command(command)
    agent.step(180)
    agent.close()
    again = agent_at(make_config, NIGHT + timedelta(seconds=180), devices=[spec])
    unit = again.devices[uuid.UUID(spec["id"])]
    assert isinstance(unit, SimulatedBattery)
    assert (unit.mode, unit.mode_power_w) == ("charge", 2000)
    again.close()
