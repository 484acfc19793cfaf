"""The run loop on a manual clock against the contract server: no sleeping, no real time."""

from __future__ import annotations

import random
import uuid
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from gateway_agent.agent import Agent
from gateway_agent.clock import ManualClock
from gateway_agent.devices import SimulatedPlug
from gateway_agent.protocol import Command
from tests.gateway_agent.agent.conftest import START, device
from tests.gateway_agent.agent.contract_server import ContractServer, new_credential

P1_FILE = Path(__file__).resolve().parents[4] / "shared/realdata/dsmr"
P1_TELEGRAM = P1_FILE / "be_fluvius_v171_3phase_2gas__dsmr_parser.txt"


def make_agent(make_config: Any, **sections: Any) -> Agent:
    return Agent(make_config(**sections), clock=ManualClock(START), rng=random.Random(0))


def timestamps(server: ContractServer) -> list[Any]:
    return [reading.timestamp for reading in server.state.meter]


def test_readings_flow_to_the_platform_once_each(server: ContractServer, make_config: Any) -> None:
    agent = make_agent(make_config)
    agent.step(600)
    agent.step(60)  # the upload after the last readings
    sent = timestamps(server)
    assert len(sent) == len(set(sent)) >= 60
    assert sent == sorted(sent)
    assert server.state.heartbeats and server.state.heartbeats[0].serial == agent.config.serial
    assert agent.outbox.depth() <= 6
    agent.close()


def test_readings_wait_out_an_outage_and_arrive_exactly_once(
    server: ContractServer, make_config: Any
) -> None:
    agent = make_agent(make_config)
    agent.step(120)
    server.state.offline = True
    agent.step(1800)
    assert agent.outbox.depth() > 150  # kept while the link was down
    server.state.offline = False
    agent.step(1200)  # the backoff (at most 10 min) runs out, then the backlog drains
    sent = timestamps(server)
    assert len(sent) == len(set(sent))
    assert len(sent) >= 300
    assert agent.outbox.depth() <= 6
    agent.close()


def test_a_command_runs_at_not_before_with_the_link_down_and_is_acked_later(
    server: ContractServer, make_config: Any
) -> None:
    plug = device("smart_plug", 1000)
    agent = make_agent(make_config, devices=[plug])
    plug_device = agent.devices[uuid.UUID(plug["id"])]
    assert isinstance(plug_device, SimulatedPlug)
    plug_device._on = False
    due = agent.clock.now() + timedelta(minutes=30)
    command = Command(
        id=uuid.uuid4(), kind="switch_on", device_id=plug_device.device_id, not_before=due
    )
    server.queue_command(command)
    agent.step(120)  # polled, stored, "received" acked
    assert [a.status for a in server.state.acks] == ["received"]

    server.state.offline = True
    agent.step(27 * 60)
    assert not plug_device.on  # a minute before its time
    agent.step(120)
    assert plug_device.on  # at its time, offline
    assert [a.status for a in server.state.acks] == ["received"]

    server.state.offline = False
    agent.step(15 * 60)
    done = [a for a in server.state.acks if a.command_id == command.id and a.status == "done"]
    assert len(done) == 1
    assert timedelta(0) <= done[0].timestamp - due <= timedelta(seconds=2)
    agent.close()


def test_a_programme_is_started_then_reported_done(
    server: ContractServer, make_config: Any
) -> None:
    washer = device("appliance", 2000, appliance="washing_machine")
    agent = make_agent(make_config, devices=[washer])
    command = Command(
        id=uuid.uuid4(),
        kind="start_program",
        device_id=uuid.UUID(washer["id"]),
        params={"program": "cotton_40"},
    )
    server.queue_command(command)
    agent.step(2 * 3600)
    statuses = [a.status for a in server.state.acks if a.command_id == command.id]
    assert statuses == ["received", "started", "done"]
    agent.close()


def test_a_cancel_withdraws_a_planned_programme_but_not_one_that_ran(
    server: ContractServer, make_config: Any
) -> None:
    washer = device("appliance", 2000, appliance="washing_machine")
    agent = make_agent(make_config, devices=[washer])
    washer_id = uuid.UUID(washer["id"])
    at_night = Command(
        id=uuid.uuid4(), kind="start_program", device_id=washer_id,
        params={"program": "eco"}, not_before=agent.clock.now() + timedelta(hours=3),
    )  # fmt: skip
    now = Command(id=uuid.uuid4(), kind="start_program", device_id=washer_id)
    server.queue_command(at_night)
    server.queue_command(now)
    agent.step(120)  # both stored; the one for now has started
    cancels = [
        Command(id=uuid.uuid4(), kind="cancel", params={"command_id": str(target)})
        for target in (at_night.id, now.id, uuid.uuid4())
    ]
    for cancel in cancels:
        server.queue_command(cancel)
    agent.step(4 * 3600)  # well past the night programme's time
    final = {a.command_id: (a.status, a.message) for a in server.state.acks
             if a.status != "received"}  # fmt: skip
    assert final[at_night.id] == ("expired", "cancelled by the platform")
    assert final[cancels[0].id][0] == "done"
    assert final[cancels[1].id] == ("failed", "that command is running") or final[
        cancels[1].id
    ] == ("failed", "that command is finished")
    assert final[cancels[2].id] == ("failed", "no such command on this box")
    assert agent.devices[washer_id].runs_completed == 1  # only the programme that ran
    agent.close()


def test_a_late_command_expires_and_an_unknown_device_fails(
    server: ContractServer, make_config: Any
) -> None:
    agent = make_agent(make_config)
    late = Command(
        id=uuid.uuid4(), kind="switch_on", device_id=uuid.uuid4(), not_after=agent.clock.now()
    )
    stray = Command(id=uuid.uuid4(), kind="switch_off", device_id=uuid.uuid4())
    server.queue_command(late)
    server.queue_command(stray)
    agent.clock.advance(1)
    agent.step(120)
    final = {a.command_id: a.status for a in server.state.acks if a.status != "received"}
    assert final == {late.id: "expired", stray.id: "failed"}
    agent.close()


def test_a_refused_batch_is_dead_lettered_and_the_queue_goes_on(
    server: ContractServer, make_config: Any
) -> None:
    agent = make_agent(make_config, intervals={"max_batch_readings": 6})
    agent.step(60)
    server.state.faults.append((422, "import went backwards", "$.meter[0].import_wh", {}))
    agent.step(600)
    (dead,) = agent.outbox.dead_letters()
    assert dead["http_status"] == 422 and dead["field"] == "$.meter[0].import_wh"
    assert len(server.state.meter) >= 50  # the batches after it went through
    agent.close()


def test_readings_of_an_unpaired_meter_are_dead_lettered_and_device_readings_go_on(
    server: ContractServer, make_config: Any
) -> None:
    agent = make_agent(make_config, devices=[device("smart_plug", 60)])
    server.state.paired_meter_id = "SOME-OTHER-METER"
    agent.step(600)
    assert server.state.meter == []
    assert len(server.state.devices) >= 9
    assert agent.outbox.dead_letters() and agent.outbox.depth() <= 6
    agent.close()


def test_a_revoked_key_keeps_the_data_and_backs_off(
    server: ContractServer, make_config: Any, caplog: pytest.LogCaptureFixture
) -> None:
    agent = make_agent(make_config)
    agent.step(60)
    keys = dict(server.state.keys)
    server.state.keys.clear()
    agent.step(3600)
    assert "KEY REFUSED" in caplog.text
    assert server.state.bad_signatures < 30  # backed off, did not hammer
    assert agent.outbox.depth() > 300
    server.state.keys.update(keys)  # the installer sorted it out
    agent.step(1200)
    assert agent.outbox.depth() <= 6
    agent.close()


def test_a_rotated_key_is_used_at_once_and_the_old_one_then_forgotten(
    server: ContractServer, make_config: Any
) -> None:
    agent = make_agent(make_config)
    agent.step(60)
    rotated = new_credential()
    server.state.rotate_to = rotated
    agent.step(300)  # the next heartbeat hands it over
    current = agent.credentials.current
    assert current is not None and current.key_id == rotated.key_id
    assert agent.credentials.previous is None  # the new key worked: the old one is gone
    assert server.state.bad_signatures == 0
    agent.close()


def test_a_rotation_the_platform_does_not_honour_falls_back_to_the_old_key(
    server: ContractServer, make_config: Any
) -> None:
    agent = make_agent(make_config)
    agent.step(60)
    agent.credentials.rotate(new_credential())  # a key the platform does not know
    before = len(server.state.meter)
    agent.step(600)
    assert len(server.state.meter) > before
    assert agent.credentials.fallback() is not None  # kept until a new key works
    agent.close()


def test_rate_limiting_is_honoured(server: ContractServer, make_config: Any) -> None:
    agent = make_agent(make_config)
    agent.step(60)
    server.state.faults.append((429, "slow down", None, {"Retry-After": "900"}))
    agent.step(60)
    requests = server.state.requests
    agent.step(800)
    assert server.state.requests == requests  # quiet for the whole Retry-After
    agent.step(300)
    assert server.state.requests > requests
    agent.close()


def test_an_unclaimed_box_keeps_reading_and_uploads_once_claimed(
    server: ContractServer, make_config: Any
) -> None:
    server.state.claimed = False
    agent = make_agent(make_config)
    agent.step(1800)
    assert not agent.credentials.provisioned
    assert agent.outbox.depth() >= 180
    server.state.claimed = True
    agent.step(1800)
    assert agent.credentials.provisioned
    assert len(server.state.meter) >= 300  # the readings from before the claim too
    agent.close()


@pytest.mark.skipif(not P1_TELEGRAM.exists(), reason="../shared/realdata is not there")
def test_a_p1_capture_replays_one_telegram_per_frame_interval(
    server: ContractServer, make_config: Any
) -> None:
    agent = make_agent(
        make_config,
        meter={
            "source": "file",
            "path": str(P1_TELEGRAM),
            "loop": True,
            "sample_every_s": 0,
            "frame_interval_s": 1,
        },
        intervals={"heartbeat_every_s": 60},
    )
    agent.step(120)
    agent.step(60)
    assert 120 <= len(server.state.meter) <= 181
    assert Counter(r.meter_id for r in server.state.meter).most_common(1)[0][0] == "1SAG3101021605"
    assert server.state.heartbeats[-1].meter_id == "1SAG3101021605"
    agent.close()
