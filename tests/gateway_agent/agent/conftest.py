"""Fixtures for the agent's tests: a contract server and configurations pointing at it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from gateway_agent.config import AgentConfig, parse
from tests.gateway_agent.agent.contract_server import ContractServer

SERIAL = "HEB-TEST-0001"
CLAIM_CODE = "CLAIM-CODE-1"
START = datetime(2025, 6, 21, 10, 0, tzinfo=UTC)  # a simulated start, never asserted on


@pytest.fixture
def server() -> Iterator[ContractServer]:
    with ContractServer(SERIAL, CLAIM_CODE) as running:
        yield running


def config_data(state_dir: Path, server_url: str, **sections: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "server_url": server_url,
        "serial": SERIAL,
        "claim_code": CLAIM_CODE,
        "state_dir": str(state_dir),
        "timeout_s": 5,
        "meter": {"source": "simulated", "protocol": "p1-be", "sample_every_s": 10},
        "intervals": {"upload_every_s": 60, "heartbeat_every_s": 300, "commands_every_s": 60},
        "simulation": {"seed": 3, "annual_kwh": 3500},
    }
    for name, value in sections.items():
        if isinstance(value, dict) and isinstance(data.get(name), dict):
            data[name] = {**data[name], **value}
        else:
            data[name] = value
    return data


@pytest.fixture
def make_config(tmp_path: Path, server: ContractServer) -> Any:
    def make(**sections: Any) -> AgentConfig:
        return parse(config_data(tmp_path / "state", server.url, **sections))

    return make


def device(kind: str, rated_w: int, **extra: Any) -> dict[str, Any]:
    return {"id": str(uuid.uuid4()), "kind": kind, "rated_w": rated_w, **extra}
