"""VirtualGateway: the real agent with a simulated household, in-process, in threads."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from gateway_agent.config import DeviceConfig
from gateway_agent.simulator.virtual import VirtualGateway
from tests.gateway_agent.agent.contract_server import ContractServer

START = datetime(2025, 6, 21, 9, 0, tzinfo=UTC)


def devices() -> list[DeviceConfig]:
    return [
        DeviceConfig(id=uuid.uuid4(), kind="pv_inverter", rated_w=3600, kwp=4.0),
        DeviceConfig(id=uuid.uuid4(), kind="appliance", rated_w=2000, appliance="dishwasher"),
        DeviceConfig(id=uuid.uuid4(), kind="battery", rated_w=2500, capacity_wh=8000),
    ]


def gateway_for(server: ContractServer, **overrides: object) -> VirtualGateway:
    params: dict[str, object] = {
        "household_id": server.state.household_id,
        "devices": devices(),
        "seed": 11,
        "speed": 600.0,
        "start": START,
        **overrides,
    }
    return VirtualGateway.create(
        server.url,
        server.state.serial,
        server.state.claim_code,
        **params,  # type: ignore[arg-type]
    )


def test_a_virtual_gateway_provisions_and_steps_through_simulated_time(
    server: ContractServer,
) -> None:
    gateway = gateway_for(server)
    state_dir = gateway.config.state_dir
    server.state.claimed = False
    assert not gateway.provision()
    server.state.claimed = True
    assert gateway.provision()
    gateway.step(600)
    assert gateway.now() == datetime(2025, 6, 21, 9, 10, tzinfo=UTC)
    assert len(server.state.meter) >= 50
    assert {r.device_id for r in server.state.devices} == {d.id for d in gateway.config.devices}
    pv = gateway.config.devices[0].id
    assert any(r.power_w > 1000 for r in server.state.devices if r.device_id == pv)
    assert gateway.stats.batches_sent >= 10
    gateway.close()
    assert not state_dir.exists()  # a temporary state directory is removed


def test_another_household_than_expected_is_an_error(server: ContractServer) -> None:
    gateway = gateway_for(server, household_id=uuid.uuid4())
    with pytest.raises(ValueError, match="expected"):
        gateway.provision()
    gateway.close()


def test_many_gateways_run_side_by_side_in_threads() -> None:
    servers = [ContractServer(f"HEB-VIRT-{i:04d}", f"CLAIM-{i:04d}-XYZ") for i in range(3)]
    for server in servers:
        server.__enter__()
    gateways = [gateway_for(server, seed=i) for i, server in enumerate(servers)]
    try:
        for gateway in gateways:
            assert gateway.provision()
            gateway.start()
        for server in servers:
            assert server.wait_for(lambda s: len(s.meter) >= 20, timeout_s=30)
    finally:
        for gateway in gateways:
            gateway.stop()
        for server in servers:
            server.__exit__()
    for server in servers:
        stamps = [r.timestamp for r in server.state.meter]
        assert len(stamps) == len(set(stamps))
