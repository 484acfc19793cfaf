"""The real agent process against a real server on loopback, through a link that drops.

The box is claimed, provisioned over HTTP and paired; then the link is cut for a while
and the agent is killed (SIGKILL) and restarted midway. At the end, every meter reading
the agent read is either stored on the platform or still waiting in its outbox, never
both, never twice, and the readings form one unbroken series except while the agent was
dead (a dead agent reads nothing; the meter's registers are cumulative, so no energy is lost).
"""

from __future__ import annotations

import itertools
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec
import pytest

from apps.fleet import services
from apps.fleet.models import Gateway
from apps.telemetry.models import MeterReading
from gateway_agent.protocol import MeterReading as WireReading
from tests.conftest import World
from tests.linkcut import LinkCutter

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]
CLAIM_CODE = "E2ECLAIM2345"
METER_ID = "SIM-E2E-0001"
SPEED = 30  # simulated seconds per real second
STEP = timedelta(seconds=10)  # the agent reads its simulated meter every 10 s (or a little later)


def wait_until(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def stored_times() -> list[datetime]:
    return list(MeterReading.objects.order_by("time").values_list("time", flat=True))


def outbox_times(state_dir: Path) -> list[datetime]:
    """Meter readings the agent read but has not had confirmed yet."""
    path = state_dir / "outbox.sqlite3"
    if not path.exists():
        return []
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        bodies = [row[0] for row in db.execute("SELECT body FROM readings WHERE kind = 0")]
    return [msgspec.json.decode(body, type=WireReading).timestamp for body in bodies]


@pytest.fixture
def claimed_box(world: World) -> Gateway:
    gateway = services.gateway_register(
        tenant=world.home_tenant, serial="HEB-BE-E2E01", claim_code=CLAIM_CODE
    )
    gateway = services.gateway_claim(
        user=world.users["installer"], household=world.household,
        serial=gateway.serial, claim_code=CLAIM_CODE,
    )  # fmt: skip
    pairing = services.pairing_request(user=world.users["installer"], gateway=gateway)
    services.pairing_approve(user=world.users["dso_staff"], pairing=pairing, meter_id=METER_ID)
    return gateway


@pytest.fixture
def link(live_server: Any) -> Iterator[LinkCutter]:
    port = int(live_server.url.rsplit(":", 1)[1])
    cutter = LinkCutter(port)
    cutter.restore()
    yield cutter
    cutter.close()


def write_config(tmp_path: Path, server_url: str) -> Path:
    # Three hours ago: at SPEED the simulated clock stays in the past for the whole test.
    start = (datetime.now(UTC) - timedelta(hours=3)).replace(microsecond=0)
    config = tmp_path / "agent.toml"
    config.write_text(
        f"""
server_url = "{server_url}"
serial = "HEB-BE-E2E01"
claim_code = "{CLAIM_CODE}"
state_dir = "{tmp_path / "state"}"

[meter]
protocol = "p1-be"
source = "simulated"
meter_id = "{METER_ID}"
frame_interval_s = 1.0
sample_every_s = 10.0

[intervals]
upload_every_s = 30
heartbeat_every_s = 60
commands_every_s = 60

[simulation]
speed = {SPEED}
start = {start.isoformat().replace("+00:00", "Z")}
seed = 3
"""
    )
    return config


def start_agent(config: Path, log: Path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO")}
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "gateway_agent", "run", "--config", str(config)],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip


def test_every_reading_arrives_exactly_once_through_outages_and_a_crash(
    claimed_box: Gateway, link: LinkCutter, tmp_path: Path
) -> None:
    config, log = write_config(tmp_path, link.url), tmp_path / "agent.log"
    agent = start_agent(config, log)
    try:
        wait_until(lambda: len(stored_times()) >= 10, 60, f"first uploads ({log.read_text()})")

        link.cut()  # DSL down: the agent keeps reading into its outbox
        cut_at = len(stored_times())
        time.sleep(6)
        assert len(stored_times()) == cut_at, "nothing can arrive while the link is cut"
        assert len(outbox_times(tmp_path / "state")) > 0
        link.restore()
        wait_until(lambda: len(stored_times()) > cut_at + 10, 60, "the backlog after the outage")

        agent.send_signal(signal.SIGKILL)  # a power cut, mid-upload or mid-write
        agent.wait(timeout=10)
        agent = start_agent(config, log)
        restarted_at = len(stored_times())
        wait_until(lambda: len(stored_times()) > restarted_at + 10, 60, "uploads after restart")

        agent.send_signal(signal.SIGTERM)
        assert agent.wait(timeout=30) == 0, log.read_text()
    finally:
        if agent.poll() is None:
            agent.kill()

    stored, waiting = stored_times(), outbox_times(tmp_path / "state")
    assert len(set(stored)) == len(stored), "a reading was stored twice"
    assert not set(stored) & set(waiting), "a reading is both stored and still queued"
    series = sorted(stored + waiting)
    steps = [b - a for a, b in itertools.pairwise(series)]
    assert all(step >= STEP for step in steps), "readings closer than the meter's period"
    # A missing reading would leave a step of two periods or more. There is one such gap
    # at most: while the killed agent was down (it reads nothing meanwhile).
    gaps = [step for step in steps if step >= 2 * STEP]
    assert len(gaps) <= 1, gaps
    assert claimed_box.credentials.filter(delivered_at__isnull=False).count() == 1
    assert link.connections >= 2
