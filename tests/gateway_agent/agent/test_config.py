"""Configuration: defaults, and errors that name the bad key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gateway_agent.config import ConfigError, load, parse

EXAMPLE = Path(__file__).resolve().parents[3] / "gateway_agent" / "example.toml"


def minimal(**extra: Any) -> dict[str, Any]:
    return {
        "server_url": "https://heb.example.org/",
        "serial": "HEB-BE-00001",
        "claim_code": "K7Q2-M9XW-4RTA",
        "state_dir": "state",
        **extra,
    }


def test_the_example_file_loads() -> None:
    config = load(EXAMPLE)
    assert config.meter.protocol == "p1-be"
    assert config.intervals.upload_every_s == 60
    assert not config.simulated


def test_defaults_follow_the_contract() -> None:
    config = parse(minimal(), base_dir=Path("/etc/heb"))
    assert config.server_url == "https://heb.example.org"
    assert config.state_dir == Path("/etc/heb/state")
    assert (config.intervals.upload_every_s, config.intervals.heartbeat_every_s) == (60, 300)
    assert config.intervals.commands_every_s == 60
    assert config.simulation.speed == 1.0


def test_simulated_devices_switch_the_simulator_on() -> None:
    device = {"id": "6f1c2a40-1d7e-4c1a-9a55-0d4b8f1f2c01", "kind": "battery", "rated_w": 2500}
    assert parse(minimal(devices=[device])).simulated
    assert parse(minimal(meter={"source": "simulated"})).simulated


@pytest.mark.parametrize(
    ("data", "named"),
    [
        ({"serial": None}, "serial"),
        ({"server_url": "heb.example.org"}, "server_url"),
        ({"meter": {"baud": "fast"}}, "meter.baud"),
        ({"meter": {"protocol": "p2"}}, "meter.protocol"),
        ({"meter": {"bud": 9600}}, "meter.bud: unknown key (did you mean 'baud'?)"),
        ({"meter": {"source": "file"}}, "meter.path"),
        ({"meter": {"source": "mqtt", "host": "h", "port": 1883}}, "meter.topic"),
        ({"intervals": {"upload_every_s": 0}}, "intervals.upload_every_s"),
        ({"intervals": {"max_batch_readings": 50_000}}, "intervals.max_batch_readings"),
        ({"devices": [{"id": "x", "kind": "battery", "rated_w": 1}]}, "devices[0].id"),
        (
            {"devices": [{"id": "6f1c2a40-1d7e-4c1a-9a55-0d4b8f1f2c01", "kind": "toaster"}]},
            "devices[0].kind",
        ),
        ({"location": {"timezone": "Mars/Olympus"}}, "location.timezone"),
        ({"simulation": {"start": "yesterday"}}, "simulation.start"),
        ({"surprise": 1}, "surprise: unknown key"),
    ],
)
def test_a_bad_value_is_named(data: dict[str, Any], named: str) -> None:
    values = minimal(**data)
    if values.get("serial") is None:
        del values["serial"]
    with pytest.raises(ConfigError) as error:
        parse(values)
    assert named in str(error.value)


def test_a_file_that_is_not_toml_is_named(tmp_path: Path) -> None:
    path = tmp_path / "agent.toml"
    path.write_text("server_url = \n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load(path)
