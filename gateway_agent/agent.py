"""The agent's run loop: meter -> outbox -> platform, heartbeats, and commands.

One scheduler thread runs every periodic task when it is due on the agent's clock (real,
scaled or manual, see clock.py). A meter whose port blocks (serial, TCP stream, MQTT) is read
in a second thread; a replayed file and the simulated meter are pulled by the scheduler, one
frame per frame interval, so a simulated clock paces them too.

Everything that must not be lost goes through the outbox first: readings, received commands
and their acks. The network is one shared gate: a failure (no answer, 5xx, 401, 429) closes it
for a backoff with full jitter, capped at ten minutes, or for the server's Retry-After; the
meter, the devices and the command executor go on meanwhile, so a command due at 14:00 runs at
14:00 with the link down and its ack leaves when the link returns.

The overload guard (overload.py) sees every meter frame, before one per sample interval is
kept, and switches devices off and on locally; its actions go to the outbox with the readings.
"""

from __future__ import annotations

import logging
import math
import random
import signal
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, MutableMapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast

from gateway_agent import signing
from gateway_agent.backoff import Backoff
from gateway_agent.client import AgentClient, Outcome, Result
from gateway_agent.clock import Clock
from gateway_agent.config import AgentConfig, MeterConfig
from gateway_agent.credentials import CredentialStore
from gateway_agent.devices import DeviceAdapter
from gateway_agent.outbox import Outbox, PendingAck, PendingBatch
from gateway_agent.overload import OverloadGuard
from gateway_agent.protocol import (
    Command,
    CommandAck,
    Credential,
    Heartbeat,
    LoadAction,
    MeterReading,
    ProvisionReply,
)

if TYPE_CHECKING:
    from gateway_agent.simulator.household import SimulatedHousehold

log = logging.getLogger(__name__)

T = TypeVar("T")
BATCHES_PER_TICK = 20  # a backlog drains in bursts, leaving time for the other tasks
EXECUTOR_EVERY_S = 1.0
COMMANDS_KEPT = timedelta(days=7)
SWITCHING = ("switch_on", "switch_off", "start_program")  # commands the guard yields to
SOURCE_RETRY_S = 5.0
SKEW_WARNING_S = 60.0


class _Prefixed(logging.LoggerAdapter[logging.Logger]):
    """Every line names the box: many virtual gateways may share one process."""

    def process(self, msg: Any, kwargs: MutableMapping[str, Any]) -> tuple[Any, Any]:
        return f"[{self.extra['serial'] if self.extra else '?'}] {msg}", kwargs


@dataclass
class AgentStats:
    meter_readings: int = 0  # stored in the outbox
    device_readings: int = 0
    frames_refused: int = 0
    batches_sent: int = 0
    readings_sent: int = 0
    duplicates: int = 0
    batches_dead: int = 0
    acks_sent: int = 0
    commands_received: int = 0
    commands_executed: int = 0
    loads_shed: int = 0
    loads_restored: int = 0


class Link:
    """The network gate shared by every request: closed for a while after a failure."""

    def __init__(self, clock: Clock, backoff: Backoff, logger: _Prefixed) -> None:
        self.clock = clock
        self.backoff = backoff
        self.log = logger
        self.next_try = -math.inf

    def ready(self) -> bool:
        return self.clock.monotonic() >= self.next_try

    def succeeded(self) -> None:
        if self.backoff.failures:
            self.log.info("link back after %d failed tries", self.backoff.failures)
        self.backoff.reset()

    def failed(self, why: str, delay_s: float | None = None) -> None:
        delay = self.backoff.next_delay() if delay_s is None else delay_s
        self.next_try = self.clock.monotonic() + delay
        self.log.warning("%s; next try in %.0f s", why, delay)


class Agent:
    def __init__(
        self,
        config: AgentConfig,
        *,
        clock: Clock,
        client: AgentClient | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.config = config
        self.clock = clock
        self.log = _Prefixed(log, {"serial": config.serial})
        self.stop_event = threading.Event()
        config.state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.outbox = Outbox(config.state_dir, max_bytes=int(config.outbox.max_mb * 1_000_000))
        self.credentials = CredentialStore(config.state_dir)
        self.client = client or AgentClient(
            config.server_url, config.serial, timeout_s=config.timeout_s, ca_file=config.ca_file
        )
        self.link = Link(clock, Backoff(base_s=2.0, cap_s=600.0, rng=rng), self.log)
        self.household = _build_household(config) if config.simulated else None
        self.devices: dict[uuid.UUID, DeviceAdapter] = (
            self.household.devices if self.household else {}
        )
        self.guard = OverloadGuard(config.overload, self.devices, config.state_dir)
        self._device_lock = threading.RLock()  # the guard may act from the meter's thread
        self.stats = AgentStats()
        self.pairing = "none"
        self.paired_meter_id: str | None = None
        self.last_meter_id: str | None = None
        self.latency_ms: int | None = None
        self.started = clock.monotonic()
        self._last_kept = -math.inf  # clock seconds of the last meter reading kept
        self._meter = _MeterPull(self) if _pulled(config.meter) else None
        self._reader: threading.Thread | None = None
        self._task_table = self._tasks()
        self._due: dict[str, float] = dict.fromkeys(self._task_table, self.started)
        self._fail_interrupted_programmes()

    # -- running ----------------------------------------------------------------------------

    def run(self) -> int:
        """Run until stopped (SIGTERM, `stop()`, or simulation.run_for_s); returns 0."""
        self._start_reader()
        end = self.started + (self.config.simulation.run_for_s or math.inf)
        try:
            self.run_until(end)
        finally:
            self.close()
        return 0

    def run_until(self, end: float) -> None:
        """Run due tasks until the clock reaches `end` (clock seconds) or a stop."""
        while not self.stop_event.is_set():
            self.run_due()
            now = self.clock.monotonic()
            if now >= end:
                return
            self.clock.wait(self.stop_event, max(0.0, min(self._next_due(), end) - now))

    def step(self, seconds: float) -> None:
        """Advance `seconds` of agent time (meant for a ManualClock: no real waiting)."""
        self.run_until(self.clock.monotonic() + seconds)

    def stop(self) -> None:
        self.stop_event.set()

    def install_signal_handlers(self) -> None:
        """SIGTERM/SIGINT finish the task in hand (each outbox write is one transaction)."""
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: self.stop())

    def close(self) -> None:
        self.stop()
        if self._reader is not None:
            self._reader.join(timeout=3)
        if self.household is not None:
            self.household.save()
        self.client.close()
        self.outbox.close()
        self.log.info("stopped; %d readings wait in the outbox", self.outbox.depth())

    # -- scheduling -------------------------------------------------------------------------

    def _tasks(self) -> dict[str, tuple[float, Callable[[], None], bool]]:
        """name -> (period in clock seconds, task, needs the network)."""
        intervals = self.config.intervals
        tasks: dict[str, tuple[float, Callable[[], None], bool]] = {
            "provision": (60.0, self._provision, True),
            "heartbeat": (intervals.heartbeat_every_s, self._heartbeat, True),
            "upload": (intervals.upload_every_s, self._upload, True),
            "acks": (intervals.upload_every_s, self._send_acks, True),
            "commands": (intervals.commands_every_s, self._poll_commands, True),
            "executor": (EXECUTOR_EVERY_S, self._execute_due_commands, False),
        }
        if self.devices:
            tasks["devices"] = (intervals.device_every_s, self._sample_devices, False)
        if _pulled(self.config.meter):
            tasks["meter"] = (self._meter_period(), self._pull_meter, False)
        return tasks

    def run_due(self) -> None:
        for name, (period, task, networked) in self._task_table.items():
            now = self.clock.monotonic()
            if now < self._due[name] or not self._applicable(name, networked):
                continue
            if networked and not self.link.ready():
                continue
            self._due[name] = now + period
            try:
                task()
            except Exception:  # one broken task must not stop the meter or the others
                self.log.exception("task %s failed", name)

    def _applicable(self, name: str, networked: bool) -> bool:
        """Provisioning runs until there is a key; the other network tasks need one."""
        return not networked or (name == "provision") != self.credentials.provisioned

    def _next_due(self) -> float:
        times = [
            max(self._due[name], self.link.next_try) if networked else self._due[name]
            for name, (_, _, networked) in self._task_table.items()
            if self._applicable(name, networked)
        ]
        return min(times)

    def seconds_until_due(self) -> float:
        """Clock seconds until the next task is due (0 when one is due now)."""
        return max(0.0, self._next_due() - self.clock.monotonic())

    def _soon(self, name: str) -> None:
        self._due[name] = self.clock.monotonic()

    # -- the meter --------------------------------------------------------------------------

    def _meter_period(self) -> float:
        meter = self.config.meter
        if meter.source == "simulated" and not self.config.overload.enabled:
            return max(meter.frame_interval_s, meter.sample_every_s)
        return meter.frame_interval_s  # the simulated meter: see _MeterPull.pull

    def _pull_meter(self) -> None:
        assert self._meter is not None
        self._meter.pull()

    def _start_reader(self) -> None:
        if _pulled(self.config.meter):
            return
        self._reader = threading.Thread(target=self._read_port, name="meter", daemon=True)
        self._reader.start()

    def _read_port(self) -> None:
        from gateway_agent.meters import read_frames

        meter = self.config.meter
        while not self.stop_event.is_set():
            try:
                with blocking_chunks(meter) as chunks:
                    for result in read_frames(meter.protocol, chunks, now=self.clock.now):
                        if self.stop_event.is_set():
                            return
                        self.on_frame(result)
            except Exception as error:  # a port that went away: reopen it
                self.log.error("meter source %s failed: %s", meter.source, error)
            self.clock.wait(self.stop_event, SOURCE_RETRY_S)

    def on_frame(self, result: object, *, sampled: bool = False) -> None:
        """One reader result: a reading to keep (one per sample interval), or a refusal.

        `sampled`: the source already produces one reading per sample interval.
        """
        if not isinstance(result, MeterReading):
            self.stats.frames_refused += 1
            refused = self.stats.frames_refused
            if refused in (1, 10, 100) or refused % 1000 == 0:
                self.log.warning(
                    "meter frame refused (%d so far): %s", self.stats.frames_refused, result
                )
            return
        self.last_meter_id = result.meter_id
        self._guard(result)
        if not sampled and not self.keep_reading_now():
            return
        if self.outbox.append_meter(result):
            self.stats.meter_readings += 1

    def keep_reading_now(self) -> bool:
        """One reading per sample interval: a frame is kept once `sample_every_s` has passed
        since the last one kept, so two kept readings are never closer than that, whatever
        the scheduler's jitter."""
        every = self.config.meter.sample_every_s
        now = self.clock.monotonic()
        if every > 0 and now - self._last_kept < every:
            return False
        self._last_kept = now
        return True

    # -- devices and commands (local: they run with the link down) ---------------------------

    def _guard(self, reading: MeterReading) -> None:
        """Every frame to the overload guard; its actions into the outbox."""
        if not self.guard.active:
            return
        with self._device_lock:
            actions = self.guard.observe(reading, self.clock.monotonic(), self.clock.now())
        for action in actions:
            self._record_action(action)

    def _record_action(self, action: LoadAction) -> None:
        self.outbox.append_action(action)
        if action.action == "shed":
            self.stats.loads_shed += 1
        else:
            self.stats.loads_restored += 1
        self.log.log(
            logging.WARNING if action.action == "shed" else logging.INFO,
            "overload guard: %s %s at %d VA of %d VA (%s)",
            action.action,
            action.device_id,
            action.load_va,
            action.limit_va,
            action.reason,
        )
        self._soon("upload")

    def _sample_devices(self) -> None:
        now = self._advance_household()
        for device in self.devices.values():
            if self.outbox.append_device(device.reading(now)):
                self.stats.device_readings += 1

    def _advance_household(self) -> datetime:
        now = self.clock.now()
        if self.household is not None:
            self.household.advance(now)
        return now

    def _execute_due_commands(self) -> None:
        now = self._advance_household()
        for command in self.outbox.due_commands(now):
            self._execute(command, now)
        for device in self.devices.values():
            for command_id in device.pop_finished():
                self.outbox.advance_command(CommandAck(command_id, "done", now), "finished")
                self._soon("acks")

    def _execute(self, command: Command, now: datetime) -> None:
        device = self.devices.get(command.device_id) if command.device_id else None
        if command.kind == "cancel":
            ack, state = self._cancel(command, now), "finished"
        elif command.not_after is not None and now > command.not_after:
            ack, state = CommandAck(command.id, "expired", now, "not_after passed"), "finished"
        elif device is None:
            ack, state = (
                CommandAck(command.id, "failed", now, "no such device on this box"),
                "finished",
            )
        else:
            with self._device_lock:
                if command.kind in SWITCHING:
                    self.guard.forget(device.device_id)
                outcome = device.execute(command, now)
            ack = CommandAck(command.id, outcome.status, now, outcome.message[:200])
            state = "running" if outcome.status == "started" else "finished"
        self.outbox.advance_command(ack, state)
        self.stats.commands_executed += 1
        self.log.info(
            "command %s %s on %s: %s", command.kind, ack.status, command.device_id, ack.message
        )
        self._soon("acks")

    def _cancel(self, command: Command, now: datetime) -> CommandAck:
        """Withdraw a command not run yet (a re-planned or cancelled programme): it is
        acknowledged "expired" and never runs; one already running or done is left alone."""
        raw = command.params.get("command_id")
        try:
            target = uuid.UUID(str(raw))
        except ValueError:
            return CommandAck(command.id, "failed", now, "params.command_id is not a command id")
        state = self.outbox.command_state(target)
        if state != "pending":
            why = "no such command on this box" if state is None else f"that command is {state}"
            return CommandAck(command.id, "failed", now, why)
        self.outbox.advance_command(
            CommandAck(target, "expired", now, "cancelled by the platform"), "finished"
        )
        return CommandAck(command.id, "done", now, f"cancelled {target}")

    def _fail_interrupted_programmes(self) -> None:
        """A programme running when the agent stopped has no state any more: say so."""
        now = self.clock.now()
        for command in self.outbox.running_commands():
            ack = CommandAck(command.id, "failed", now, "the agent restarted during the programme")
            self.outbox.advance_command(ack, "finished")
        self.outbox.prune_commands(now - COMMANDS_KEPT)

    # -- the network ------------------------------------------------------------------------

    def _signed(self, call: Callable[[Credential], Result[T]]) -> Result[T]:
        """A signed call with the current key; after a rotation, the old key if the new fails."""
        current = self.credentials.current
        assert current is not None
        result = call(current)
        if result.outcome is Outcome.UNAUTHORIZED and (previous := self.credentials.fallback()):
            self.log.warning("new key %s refused; trying the previous key", current.key_id)
            result = call(previous)
        elif result.ok:
            self.credentials.confirm_current()
        if result.latency_ms is not None:
            self.latency_ms = result.latency_ms
        self._note_link(result)
        return result

    def _note_link(self, result: Result[Any]) -> None:
        outcome = result.outcome
        if outcome is Outcome.RETRY or outcome is Outcome.NOT_FOUND:
            self.link.failed(f"platform unreachable or failing ({result.status or result.error})")
        elif outcome is Outcome.RATE_LIMITED:
            self.link.failed("rate limited (429)", result.retry_after_s)
        elif outcome is Outcome.UNAUTHORIZED:
            self.link.failed(
                f"KEY REFUSED (401 {result.error}): the box needs re-provisioning by an "
                "installer; readings are kept in the outbox"
            )
            self.log.error("key refused by the platform: %s", result.error)
        else:
            self.link.succeeded()

    def provision(self) -> Result[ProvisionReply]:
        """One provisioning attempt; the key is stored when the platform hands it over."""
        result = provision_once(self.client, self.credentials, self.config.claim_code)
        if result.ok and result.value is not None:
            self.log.info("provisioned: household %s", result.value.household_id)
            self.link.succeeded()
            for name in ("heartbeat", "commands", "upload", "acks"):
                self._soon(name)
        elif result.outcome is Outcome.FORBIDDEN:
            self.link.failed(f"not claimed yet ({result.error or 403})")
        elif result.outcome is Outcome.CONFLICT:
            self.log.error("the platform delivered this box's key before and this box lost it")
            self.link.failed("provisioning refused (409): an installer must re-provision the box")
        else:
            self._note_link(result)
        return result

    def _provision(self) -> None:
        self.provision()

    def _heartbeat(self) -> None:
        heartbeat = Heartbeat(
            serial=self.config.serial,
            firmware_version=self.config.firmware_version,
            uptime_s=int(self.clock.monotonic() - self.started),
            connectivity=cast(Literal["dsl", "3g"], self.config.connectivity),
            latency_ms=self.latency_ms,
            outbox_depth=self.outbox.depth(),
            meter_id=self.last_meter_id,
        )
        result = self._signed(lambda credential: self.client.heartbeat(heartbeat, credential))
        reply = result.value
        if not result.ok or reply is None:
            return
        if (reply.pairing, reply.paired_meter_id) != (self.pairing, self.paired_meter_id):
            self.log.info("pairing %s, meter %s", reply.pairing, reply.paired_meter_id)
        self.pairing, self.paired_meter_id = reply.pairing, reply.paired_meter_id
        self._check_wall_clock(reply.server_time)
        if reply.pending_commands:
            self._soon("commands")
        if reply.new_credential is not None:
            self.credentials.rotate(reply.new_credential)
        if reply.supply is not None:
            self.guard.set_platform_supply(reply.supply)

    def _check_wall_clock(self, server_time: datetime) -> None:
        """Signatures carry the wall clock: past 5 minutes off, every request is refused."""
        skew = abs(time.time() - server_time.timestamp())
        if skew > SKEW_WARNING_S:
            self.log.warning(
                "the box's clock is %.0f s off the platform's; beyond %d s signatures fail",
                skew,
                signing.MAX_CLOCK_SKEW_S,
            )

    def _upload(self) -> None:
        max_readings = self.config.intervals.max_batch_readings
        for _ in range(BATCHES_PER_TICK):
            if not self.link.ready():
                return
            batch = self.outbox.next_batch(self.config.serial, max_readings)
            if batch is None:
                return
            sent = self._send(batch)
            if sent is None:
                return  # the link is closed for a while
            if sent and batch.meter_count + batch.device_count < max_readings:
                return  # that was the tail of the queue

    def _send(self, batch: PendingBatch) -> bool | None:
        """Send one batch: True receipted, False dead-lettered, None to try again later."""
        result = self._signed(lambda credential: self.client.send_batch(batch.body, credential))
        if result.ok:
            self.outbox.confirm(batch.batch_id)
            self.stats.batches_sent += 1
            self.stats.readings_sent += batch.meter_count + batch.device_count
            if result.value is not None and result.value.duplicate:
                self.stats.duplicates += 1
                self.log.info("batch %s was already stored: not written twice", batch.batch_id)
            return True
        if result.outcome in (Outcome.REJECTED, Outcome.WRONG_METER):
            meter_only = result.outcome is Outcome.WRONG_METER
            self.outbox.reject(
                batch,
                http_status=result.status,
                error=result.error,
                field=result.field,
                meter_only=meter_only,
            )
            self.stats.batches_dead += 1
            return False
        return None

    def _send_acks(self) -> None:
        while self.link.ready() and (pending := self.outbox.next_ack()) is not None:
            if not self._send_ack(pending):
                return

    def _send_ack(self, pending: PendingAck) -> bool:
        result = self._signed(
            lambda credential: self.client.send_ack(
                pending.ack.command_id, pending.body, credential
            )
        )
        if result.ok:
            self.outbox.ack_sent(pending)
            self.stats.acks_sent += 1
            return True
        if result.outcome in (Outcome.REJECTED, Outcome.NOT_FOUND, Outcome.FORBIDDEN):
            self.outbox.reject_ack(
                pending, http_status=result.status, error=result.error, field=result.field
            )
            return True
        return False

    def _poll_commands(self) -> None:
        result = self._signed(self.client.fetch_commands)
        if not result.ok or result.value is None:
            return
        new = self.outbox.store_commands(result.value.commands, self.clock.now())
        if new:
            self.stats.commands_received += len(new)
            self.log.info("%d new commands", len(new))
            self._soon("executor")
            self._soon("acks")


def provision_once(
    client: AgentClient, credentials: CredentialStore, claim_code: str
) -> Result[ProvisionReply]:
    """Ask for the box's key with its claim code; store it (0600) when it comes."""
    result = client.provision(claim_code)
    if result.ok and result.value is not None:
        credentials.save_provisioned(result.value.credential, result.value.household_id)
    return result


class _MeterPull:
    """A meter the scheduler pulls one frame at a time: a replayed file or the simulator."""

    def __init__(self, agent: Agent) -> None:
        self.agent = agent
        self.frames: Iterator[object] | None = None
        self.replay: FileReplay | None = None

    def pull(self) -> None:
        agent = self.agent
        if agent.household is not None and agent.config.meter.source == "simulated":
            self._pull_simulated(agent, agent.household)
            return
        if self.frames is None:
            from gateway_agent.meters import read_frames

            meter = agent.config.meter
            assert meter.path is not None
            self.replay = FileReplay(meter.path, loop=meter.loop)
            self.frames = read_frames(meter.protocol, self.replay.chunks(), now=agent.clock.now)
        result = next(self.frames, None)
        if result is None:
            return  # the file is played out
        assert self.replay is not None
        self.replay.results += 1
        agent.on_frame(result)

    def _pull_simulated(self, agent: Agent, household: SimulatedHousehold) -> None:
        """Every frame while the overload guard watches, else only the frames kept (making
        frames only to drop them costs a simulated fleet dearly)."""
        if agent.guard.active:
            agent.on_frame(household.meter_reading(agent.clock.now()))
            return
        if agent.keep_reading_now():  # the rule on_frame applies, so a switch keeps no extra
            agent.on_frame(household.meter_reading(agent.clock.now()), sampled=True)


class FileReplay:
    """A capture file's bytes, in chunks, again and again with `loop` (while it has frames)."""

    def __init__(self, path: Any, loop: bool) -> None:
        self.path = path
        self.loop = loop
        self.results = 0  # the puller counts reader results, so an empty pass ends the loop

    def chunks(self) -> Iterator[bytes]:
        from gateway_agent.meters.sources import open_file

        while True:
            before = self.results
            yield from open_file(self.path)
            if not self.loop or self.results == before:
                return


def _pulled(meter: MeterConfig) -> bool:
    return meter.source in ("file", "simulated")


def _build_household(config: AgentConfig) -> SimulatedHousehold:
    from gateway_agent.simulator import build_household  # pandas & co. only when simulating

    return build_household(config, config.state_dir)


@contextmanager
def blocking_chunks(meter: MeterConfig) -> Iterator[Iterable[bytes]]:
    """Bytes from a port that blocks (meters/sources.py): a serial port, a TCP stream
    (ser2net, through pyserial's socket:// URL) or stdin, and MQTT messages (a CAD)."""
    from gateway_agent.meters import sources

    if meter.source == "mqtt":
        # A minute without a message ends the iteration: the reader reconnects (a watchdog).
        with sources.MqttSource(
            meter.host, meter.port or 1883, meter.topic, idle_timeout=60
        ) as messages:
            yield messages
        return
    if meter.source == "stream" and not meter.host:
        yield sources.stream_chunks(sys.stdin.buffer)
        return
    default = sources.SERIAL_DEFAULTS.get(meter.protocol, sources.SERIAL_DEFAULTS["p1-be"])
    settings = sources.SerialSettings(meter.baud, default.bytesize, default.parity)
    device = f"socket://{meter.host}:{meter.port}" if meter.source == "stream" else meter.device
    yield sources.open_serial(device, settings)
