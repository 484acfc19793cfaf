"""`python -m gateway_agent run` for real: killed with SIGKILL midway, restarted, and every
reading it stored reaches the platform exactly once."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
from datetime import datetime
from pathlib import Path

import msgspec

from gateway_agent.protocol import MeterReading
from tests.gateway_agent.agent import agent_process
from tests.gateway_agent.agent.conftest import CLAIM_CODE, SERIAL
from tests.gateway_agent.agent.contract_server import ContractServer, PlatformState

CONFIG = """
server_url = "{url}"
serial = "{serial}"
claim_code = "{claim_code}"
state_dir = "state"
timeout_s = 5

[meter]
source = "simulated"
protocol = "p1-be"
sample_every_s = 1

[intervals]
upload_every_s = 10
heartbeat_every_s = 60
commands_every_s = 30

[simulation]
speed = 50
start = 2025-06-21T10:00:00Z
seed = 9
"""


def start_agent(config: Path) -> subprocess.Popen[bytes]:
    return agent_process.start_agent(config, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def stored_but_unsent(state_dir: Path) -> set[datetime]:
    with sqlite3.connect(state_dir / "outbox.sqlite3") as db:
        rows = db.execute("SELECT body FROM readings WHERE kind = 0").fetchall()
    return {msgspec.json.decode(body, type=MeterReading).timestamp for (body,) in rows}


def received(state: PlatformState) -> list[datetime]:
    return [reading.timestamp for reading in state.meter]


def test_a_killed_agent_loses_nothing_and_duplicates_nothing(
    tmp_path: Path, server: ContractServer
) -> None:
    config = tmp_path / "agent.toml"
    config.write_text(CONFIG.format(url=server.url, serial=SERIAL, claim_code=CLAIM_CODE))
    state_dir = tmp_path / "state"

    first = start_agent(config)
    try:
        assert server.wait_for(lambda s: len(s.batches) >= 5, timeout_s=60), "no uploads"
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    waiting_at_the_kill = stored_but_unsent(state_dir)
    batches_before = len(server.state.batches)

    second = start_agent(config)
    try:
        assert server.wait_for(
            lambda s: (
                waiting_at_the_kill <= set(received(s)) and len(s.batches) >= batches_before + 5
            ),
            timeout_s=60,
        ), "the readings stored before the kill did not arrive"
    finally:
        second.send_signal(signal.SIGTERM)
        _, errors = second.communicate(timeout=20)
    assert second.returncode == 0, errors.decode()

    arrived = received(server.state)
    assert len(arrived) == len(set(arrived))  # exactly once
    assert waiting_at_the_kill <= set(arrived)  # nothing lost
    assert not stored_but_unsent(state_dir) & set(arrived)
    assert len(arrived) > 60
