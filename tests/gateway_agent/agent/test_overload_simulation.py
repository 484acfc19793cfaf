"""The overload guard in the running agent, against the simulated household's breaker.

The burst (gateway_agent.simulator.scenarios): on a 3 kVA Linky contract, at 22:00 the water
heater reheats, the car is plugged in and a washing machine heats its water.
"""

from __future__ import annotations

import random
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from gateway_agent import tripmodel
from gateway_agent.agent import Agent
from gateway_agent.clock import ManualClock
from gateway_agent.config import parse
from gateway_agent.devices import SimulatedEVCharger, SimulatedPlug
from gateway_agent.protocol import Command, LoadAction, SupplyLimitMessage, decode_batch
from gateway_agent.simulator.breaker import SimulatedBreaker
from gateway_agent.simulator.household import SimulatedHousehold
from gateway_agent.simulator.scenarios import (
    BURST_START,
    EV_CHARGER_ID,
    WATER_HEATER_ID,
    overload_burst_config,
    start_overload_burst,
)
from tests.gateway_agent.agent.conftest import START, device
from tests.gateway_agent.agent.contract_server import ContractServer

SERIAL = "HEB-FR-BURST-1"
CLAIM_CODE = "BURST-CLAIM-CODE"


@pytest.fixture
def burst_server() -> Any:
    with ContractServer(SERIAL, CLAIM_CODE) as running:
        yield running


def burst_agent(state_dir: Path, server_url: str, **overload: Any) -> Agent:
    config = parse(overload_burst_config(str(state_dir), server_url, overload=overload))
    return Agent(config, clock=ManualClock(BURST_START), rng=random.Random(0))


def sequence(actions: list[LoadAction]) -> list[tuple[str, uuid.UUID]]:
    return [(action.action, action.device_id) for action in actions]


# -- the simulated breaker ---------------------------------------------------------------------


def test_the_simulated_breaker_follows_the_trip_model() -> None:
    breaker = SimulatedBreaker(tripmodel.linky_limit(3))
    start = BURST_START
    # a kettle's two minutes on top of 2 kVA: 4.2 kVA, 140 %, do not trip from cold ...
    assert breaker.run(start, start + timedelta(seconds=120), 4200) == start + timedelta(
        seconds=120
    )
    assert not breaker.tripped
    breaker.reset()
    # ... five minutes do, exactly when the model says
    expected = tripmodel.seconds_to_trip(0.0, 1.4, tripmodel.CURVES["linky"])
    cut = breaker.run(start, start + timedelta(minutes=5), 4200)
    assert breaker.tripped and breaker.trips == [cut]
    assert (cut - start).total_seconds() == pytest.approx(expected)
    assert breaker.run(cut, cut + timedelta(minutes=5), 0) == cut + timedelta(minutes=5)
    assert breaker.trips == [cut]  # tripped until reset
    breaker.reset()
    assert not breaker.tripped and breaker.theta == 0.0
    # at the subscribed power (or up to 114 % of it) a Linky holds for ever
    assert breaker.run(start, start + timedelta(hours=6), 3300) == start + timedelta(hours=6)
    assert not breaker.tripped


def test_without_the_guard_the_burst_trips_the_3_kva_linky(tmp_path: Path) -> None:
    config = parse(overload_burst_config(str(tmp_path), "http://127.0.0.1:9"))
    household = SimulatedHousehold(config, tmp_path)
    household.set_supply(tripmodel.linky_limit(3))
    household.meter_reading(BURST_START)
    start_overload_burst(household)
    charger = household.devices[EV_CHARGER_ID]
    assert isinstance(charger, SimulatedEVCharger)
    readings = [household.meter_reading(BURST_START + timedelta(seconds=s)) for s in range(600)]
    assert len(household.trips) == 1
    tripped_after = (household.trips[0] - BURST_START).total_seconds()
    assert 120 < tripped_after < 180  # 4.1 kVA, 137 %: in two and a half minutes
    assert min(r.import_w for r in readings if r.timestamp < household.trips[0]) > 3500
    after = [r for r in readings if r.timestamp > household.trips[0]]
    assert after and all(r.import_w == 0 and r.current_a == [0.0] for r in after)
    charged = charger.car_wh
    household.meter_reading(BURST_START + timedelta(minutes=20))
    assert charger.car_wh == charged  # no supply, no charging
    household.reset_breaker()
    household.meter_reading(BURST_START + timedelta(minutes=21))
    assert charger.car_wh > charged


def test_the_agent_without_the_guard_lets_it_trip(tmp_path: Path, burst_server: Any) -> None:
    agent = burst_agent(tmp_path, burst_server.url, limit_va=3000, enabled=False)
    assert agent.household is not None and agent.household.breaker is not None
    agent.step(60)
    start_overload_burst(agent.household)
    agent.step(600)
    assert len(agent.household.trips) == 1
    assert agent.outbox.pending_actions() == 0 and agent.stats.loads_shed == 0
    agent.close()


# -- the guard in the agent --------------------------------------------------------------------


def test_with_the_guard_the_burst_is_shed_in_time_offline_and_comes_back(
    tmp_path: Path, burst_server: Any
) -> None:
    agent = burst_agent(tmp_path, burst_server.url, limit_va=3000)
    household = agent.household
    assert household is not None and agent.guard.active
    agent.step(60)
    burst_server.state.offline = True  # the guard is local: it needs no link
    start_overload_burst(household)
    agent.step(600)

    assert household.trips == []
    assert agent.outbox.pending_actions() == 2
    heater = household.devices[WATER_HEATER_ID]
    charger = household.devices[EV_CHARGER_ID]
    assert not charger.on and not heater.on
    # the charger within seconds of the burst, the heater within seconds of the washing
    # machine's heater (after its three-minute fill)
    shed_charger, shed_heater = [entry.device_id for entry in agent.guard.shed]
    assert (shed_charger, shed_heater) == (EV_CHARGER_ID, WATER_HEATER_ID)
    batch = agent.outbox.next_batch(SERIAL, 100_000)  # what goes out when the link is back
    assert batch is not None and batch.action_count >= 1
    decoded = decode_batch(batch.body)
    assert sequence(decoded.actions)[0] == ("shed", EV_CHARGER_ID)
    first = decoded.actions[0]
    assert first.limit_va == 3000 and first.load_va > 3500 and first.device_power_w == 2000
    assert (
        timedelta(0)
        < first.timestamp - (BURST_START + timedelta(seconds=60))
        <= timedelta(seconds=8)
    )

    burst_server.state.offline = False
    agent.step(55 * 60)  # the washing machine heats for 15 minutes, the water heater reheats
    assert household.trips == []
    sent = burst_server.state.actions
    assert sequence(sent) == [
        ("shed", EV_CHARGER_ID),
        ("shed", WATER_HEATER_ID),
        ("restore", WATER_HEATER_ID),
        ("restore", EV_CHARGER_ID),
    ]  # each exactly once, last shed first back
    assert charger.on and heater.on and charger.power_w > 0
    assert agent.outbox.pending_actions() == 0 and agent.guard.shed == []
    assert sent[2].timestamp - sent[1].timestamp >= timedelta(seconds=60)
    assert agent.stats.loads_shed == agent.stats.loads_restored == 2
    assert burst_server.state.duplicates == 0
    agent.close()


def test_a_command_on_a_shed_device_makes_the_guard_forget_it(
    server: ContractServer, make_config: Any
) -> None:
    charger_spec, plug_spec = device("ev_charger", 1500), device("smart_plug", 1200)
    config = make_config(devices=[charger_spec, plug_spec], overload={"limit_va": 3000})
    agent = Agent(config, clock=ManualClock(START), rng=random.Random(0))
    charger = agent.devices[uuid.UUID(charger_spec["id"])]
    plug = agent.devices[uuid.UUID(plug_spec["id"])]
    assert isinstance(charger, SimulatedEVCharger) and isinstance(plug, SimulatedPlug)
    charger.plug_in(40)
    agent.step(60)
    assert [entry.device_id for entry in agent.guard.shed] == [charger.device_id]
    server.queue_command(Command(id=uuid.uuid4(), kind="switch_off", device_id=charger.device_id))
    agent.step(120)  # polled and run: the plan wants it off
    assert agent.guard.shed == []
    plug.execute(Command(id=uuid.uuid4(), kind="switch_off"), agent.clock.now())  # room now
    agent.step(600)
    assert not charger.on
    assert [action.action for action in server.state.actions] == ["shed"]
    agent.close()


def test_the_platform_s_limit_is_kept_and_guards_after_a_restart_with_no_link(
    server: ContractServer, make_config: Any
) -> None:
    charger_spec, plug_spec = device("ev_charger", 1500), device("smart_plug", 1500)
    config = make_config(devices=[charger_spec, plug_spec])  # no [overload] limit
    agent = Agent(config, clock=ManualClock(START), rng=random.Random(0))
    charger_id, plug_id = uuid.UUID(charger_spec["id"]), uuid.UUID(plug_spec["id"])
    charger = agent.devices[charger_id]
    assert isinstance(charger, SimulatedEVCharger)
    charger.plug_in(40)
    agent.step(120)
    assert agent.guard.limit is None and agent.stats.loads_shed == 0  # idle: no limit known

    server.state.supply = SupplyLimitMessage(limit_va=3000, kind="linky")
    agent.step(300)  # the next heartbeat brings it
    assert agent.guard.limit == tripmodel.linky_limit(3)
    assert agent.stats.loads_shed == 1 and not charger.on
    agent.close()

    server.state.offline = True
    restarted = Agent(config, clock=ManualClock(START + timedelta(hours=1)))
    assert restarted.guard.limit == tripmodel.linky_limit(3)
    assert [entry.device_id for entry in restarted.guard.shed] == [charger_id]
    restarted_charger = restarted.devices[charger_id]
    assert not restarted_charger.on  # the simulated devices' state came back too
    restarted.devices[plug_id].execute(
        Command(id=uuid.uuid4(), kind="switch_off"), restarted.clock.now()
    )
    restarted.step(120)  # its minimum off time counts from the restart
    assert restarted_charger.on and restarted.stats.loads_restored == 1
    restarted.devices[plug_id].execute(
        Command(id=uuid.uuid4(), kind="switch_on"), restarted.clock.now()
    )
    restarted.step(60)
    assert not restarted_charger.on and restarted.stats.loads_shed == 1  # offline, at once
    assert restarted.outbox.pending_actions() == 2
    restarted.close()
