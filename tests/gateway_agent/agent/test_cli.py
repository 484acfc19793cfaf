"""The command line: exit codes an installer and systemd can rely on."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway_agent.__main__ import main
from tests.gateway_agent.agent.conftest import CLAIM_CODE, SERIAL
from tests.gateway_agent.agent.contract_server import ContractServer
from tests.gateway_agent.agent.test_agent import P1_TELEGRAM


def write_config(tmp_path: Path, url: str, extra: str = "") -> Path:
    path = tmp_path / "agent.toml"
    path.write_text(
        f'server_url = "{url}"\nserial = "{SERIAL}"\nclaim_code = "{CLAIM_CODE}"\n'
        f'state_dir = "state"\ntimeout_s = 5\n{extra}'
    )
    return path


def test_provision_stores_the_key_once_claimed(
    tmp_path: Path, server: ContractServer, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, server.url)
    server.state.claimed = False
    assert main(["provision", "--config", str(config)]) == 1
    assert "not claimed yet" in capsys.readouterr().err
    server.state.claimed = True
    assert main(["provision", "--config", str(config)]) == 0
    assert str(server.state.household_id) in capsys.readouterr().out
    assert (tmp_path / "state" / "credential.json").exists()
    assert main(["provision", "--config", str(config)]) == 0  # already: no second request
    assert "already provisioned" in capsys.readouterr().out


def test_a_bad_configuration_exits_2_naming_the_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, "http://127.0.0.1:9", "[meter]\nbaud = 'fast'\n")
    assert main(["run", "--config", str(config)]) == 2
    assert "meter.baud" in capsys.readouterr().err


@pytest.mark.skipif(not P1_TELEGRAM.exists(), reason="../shared/realdata is not there")
def test_read_meter_is_dispatched_to_the_meter_tool(capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["read-meter", "--protocol", "p1-be", "--file", str(P1_TELEGRAM)])
    assert status == 0
    assert "1SAG3101021605" in capsys.readouterr().out
