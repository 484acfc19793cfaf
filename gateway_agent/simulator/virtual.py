"""`VirtualGateway`: a whole simulated Home Energy Box in-process, for load and demo runs.

It is the real agent (outbox, signed client, command executor) with a simulated household
and meter, on a manual clock: `step(seconds)` moves simulated time on at once (as fast as the
server answers), `run()` paces the same clock at `speed` times real time. Each gateway owns
its state directory, clock, outbox and HTTP connection; what is shared (the H0 year, the PV
clear-sky days) is computed once under a lock, so many gateways can run in threads:

    gateway = VirtualGateway.create(server_url, serial, claim_code, devices=[...], seed=7)
    gateway.provision()        # one attempt; True once the installer has claimed the box
    gateway.step(600)          # ten simulated minutes
    thread = gateway.start()   # or: run in the background at `speed`
    gateway.stop()
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from gateway_agent.agent import Agent, AgentStats
from gateway_agent.client import Outcome
from gateway_agent.clock import ManualClock
from gateway_agent.config import (
    AgentConfig,
    DeviceConfig,
    IntervalsConfig,
    LocationConfig,
    MeterConfig,
    SimulationConfig,
)


class VirtualGateway:
    def __init__(
        self,
        config: AgentConfig,
        *,
        household_id: uuid.UUID | None = None,
        start: datetime | None = None,
        cleanup_state: bool = False,
    ) -> None:
        """`config.simulation.speed` paces `run()`; `household_id`, when given, is checked
        against the one the platform answers at provisioning."""
        self.config = config
        self.expected_household_id = household_id
        self.clock = ManualClock(start or config.simulation.start or datetime.now(UTC))
        self.agent = Agent(config, clock=self.clock)
        self._cleanup_state = cleanup_state
        self._thread: threading.Thread | None = None
        self._closed = False

    @classmethod
    def create(
        cls,
        server_url: str,
        serial: str,
        claim_code: str,
        *,
        household_id: uuid.UUID | None = None,
        devices: Sequence[DeviceConfig] = (),
        seed: int = 0,
        speed: float = 60.0,
        start: datetime | None = None,
        state_dir: Path | None = None,
        meter_id: str | None = None,
        protocol: str = "p1-be",
        location: LocationConfig | None = None,
        intervals: IntervalsConfig | None = None,
        annual_kwh: float = 3500.0,
    ) -> VirtualGateway:
        """A gateway from plain parameters; without `state_dir` a temporary one is used
        and removed by `close()`."""
        cleanup = state_dir is None
        state = state_dir or Path(tempfile.mkdtemp(prefix=f"heb-{serial}-"))
        config = AgentConfig(
            server_url=server_url.rstrip("/"),
            serial=serial,
            claim_code=claim_code,
            state_dir=state,
            meter=MeterConfig(
                protocol=protocol,
                source="simulated",
                meter_id=meter_id or f"SIM{serial.replace('-', '')[-20:]}",
            ),
            devices=tuple(devices),
            location=location or LocationConfig(),
            intervals=intervals or IntervalsConfig(),
            simulation=SimulationConfig(speed=speed, start=start, seed=seed, annual_kwh=annual_kwh),
        )
        return cls(config, household_id=household_id, start=start, cleanup_state=cleanup)

    # -- what a management command calls ---------------------------------------------------

    @property
    def serial(self) -> str:
        return self.config.serial

    @property
    def provisioned(self) -> bool:
        return self.agent.credentials.provisioned

    @property
    def stats(self) -> AgentStats:
        return self.agent.stats

    @property
    def outbox_depth(self) -> int:
        return self.agent.outbox.depth()

    def now(self) -> datetime:
        return self.clock.now()

    def provision(self) -> bool:
        """One provisioning attempt; True when the key is stored (now or before).

        Raises ValueError if the platform names another household than the one expected.
        """
        if self.provisioned:
            return True
        result = self.agent.provision()
        if result.outcome is not Outcome.OK or result.value is None:
            return False
        answered = result.value.household_id
        if self.expected_household_id is not None and answered != self.expected_household_id:
            raise ValueError(
                f"{self.serial}: provisioned into household {answered}, "
                f"expected {self.expected_household_id}"
            )
        return True

    def step(self, seconds: float) -> None:
        """Move simulated time on by `seconds`, doing everything due meanwhile, at once."""
        self.agent.step(seconds)

    def run(self, duration_s: float | None = None) -> None:
        """Run in the calling thread at `speed` x real time, for `duration_s` simulated
        seconds or until `stop()`."""
        speed = self.config.simulation.speed
        stop = self.agent.stop_event
        sim_start, real_start = self.clock.monotonic(), time.monotonic()
        end = sim_start + duration_s if duration_s is not None else float("inf")
        while not stop.is_set():
            target = min(end, sim_start + (time.monotonic() - real_start) * speed)
            self.agent.run_until(target)
            if target >= end:
                return
            ahead = self.agent.seconds_until_due()
            stop.wait(min(max(ahead, 0.0), 60.0) / speed + 0.001)

    def start(self, duration_s: float | None = None) -> threading.Thread:
        """`run()` in a daemon thread."""
        self._thread = threading.Thread(
            target=self.run, args=(duration_s,), name=f"gateway-{self.serial}", daemon=True
        )
        self._thread.start()
        return self._thread

    def stop(self, timeout_s: float = 10.0) -> None:
        """Stop `run()`, wait for its thread, and close the agent."""
        self.agent.stop()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout_s)
        self.close()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self.agent.close()
        if self._cleanup_state:
            shutil.rmtree(self.config.state_dir, ignore_errors=True)
