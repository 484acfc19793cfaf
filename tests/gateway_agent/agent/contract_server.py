"""A small stand-in for the platform's agent API, on the standard library's http.server.

It answers the contract the agent is written against (provision, heartbeat, telemetry,
commands, acks), verifies every signature with gateway_agent.signing, deduplicates batches by
id, and can be told to fail (offline, 5xx, 429, a rotated key). Used by the agent's unit tests
and by bench/bench_agent_memory.py; the real end-to-end test runs against Django.
"""

from __future__ import annotations

import base64
import secrets
import socket
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import msgspec

from gateway_agent import signing
from gateway_agent.protocol import (
    BatchReceipt,
    Command,
    CommandAck,
    CommandList,
    Credential,
    DeviceReading,
    ErrorReply,
    Heartbeat,
    HeartbeatReply,
    LoadAction,
    MeterReading,
    ProvisionReply,
    ProvisionRequest,
    SupplyLimitMessage,
    decode_batch,
)

PREFIX = "/api/agent/v1/"


def new_credential() -> Credential:
    secret = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")
    return Credential(key_id=uuid.uuid4().hex[:12], secret=secret, valid_from=datetime.now(UTC))


@dataclass
class PlatformState:
    serial: str
    claim_code: str
    household_id: uuid.UUID = field(default_factory=uuid.uuid4)
    claimed: bool = True
    delivered: bool = False
    keys: dict[str, bytes] = field(default_factory=dict)  # key_id -> secret, the valid ones
    paired_meter_id: str | None = None
    batches: dict[uuid.UUID, int] = field(default_factory=dict)  # batch id -> times received
    meter: list[MeterReading] = field(default_factory=list)
    devices: list[DeviceReading] = field(default_factory=list)
    actions: list[LoadAction] = field(default_factory=list)  # the overload guard's
    duplicates: int = 0
    heartbeats: list[Heartbeat] = field(default_factory=list)
    commands: list[Command] = field(default_factory=list)
    acks: list[CommandAck] = field(default_factory=list)
    rotate_to: Credential | None = None  # handed out at the next heartbeat
    supply: SupplyLimitMessage | None = None  # the contract's limit, in every heartbeat reply
    bad_signatures: int = 0
    requests: int = 0
    # fault injection: a queue of canned answers (status, error, field, headers), or "drop"
    faults: list[Any] = field(default_factory=list)
    offline: bool = False


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], OSError):  # a client killed mid-request is normal
            super().handle_error(request, client_address)


class ContractServer:
    """Serve the contract on 127.0.0.1 in a thread; `with ContractServer(...) as server:`."""

    def __init__(self, serial: str = "HEB-TEST-0001", claim_code: str = "CLAIM-CODE-1") -> None:
        self.state = PlatformState(serial=serial, claim_code=claim_code)
        self.changed = threading.Condition()
        handler = type("Handler", (_Handler,), {"server_state": self})
        self.httpd = _Server(("127.0.0.1", 0), handler)
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> ContractServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def wait_for(self, condition: Callable[[PlatformState], bool], timeout_s: float = 20) -> bool:
        """Block until `condition(state)` holds after some request, or the timeout."""
        with self.changed:
            return self.changed.wait_for(lambda: condition(self.state), timeout_s)

    def notify(self) -> None:
        with self.changed:
            self.changed.notify_all()

    def queue_command(self, command: Command) -> None:
        with self.changed:
            self.state.commands.append(command)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the agent's client uses it
    server_state: ContractServer

    def setup(self) -> None:
        super().setup()
        # headers and body leave in two writes: without this, Nagle and the client's delayed
        # ACK add 40 ms to every answer
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        return  # quiet tests

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def _handle(self, method: str) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        owner = self.server_state
        with owner.changed:
            state = owner.state
            state.requests += 1
            if state.offline or (state.faults and state.faults[0] == "drop"):
                if state.faults:
                    state.faults.pop(0)
                self.close_connection = True
                self.connection.close()
                return
            answer = self._fault(state) or self._route(state, method, body)
            owner.changed.notify_all()
        status, payload, headers = answer
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _fault(self, state: PlatformState) -> tuple[int, bytes, dict[str, str]] | None:
        if not state.faults:
            return None
        status, error, field_name, headers = state.faults.pop(0)
        return status, msgspec.json.encode(ErrorReply(error, field_name)), headers

    def _route(
        self, state: PlatformState, method: str, body: bytes
    ) -> tuple[int, bytes, dict[str, str]]:
        endpoint = self.path.removeprefix(PREFIX)
        if endpoint == "provision/" and method == "POST":
            return self._provision(state, body)
        if not self._signed_by_a_valid_key(state, method, body):
            state.bad_signatures += 1
            return _error(401, "bad signature or unknown key")
        if endpoint == "heartbeat/" and method == "POST":
            return self._heartbeat(state, body)
        if endpoint == "telemetry/" and method == "POST":
            return self._telemetry(state, body)
        if endpoint == "commands/" and method == "GET":
            acked = {ack.command_id for ack in state.acks}
            pending = [command for command in state.commands if command.id not in acked]
            return 200, msgspec.json.encode(CommandList(pending)), {}
        if endpoint.startswith("commands/") and endpoint.endswith("/ack/") and method == "POST":
            return self._ack(state, body)
        return _error(404, "no such endpoint")

    def _signed_by_a_valid_key(self, state: PlatformState, method: str, body: bytes) -> bool:
        headers = self.headers
        secret = state.keys.get(headers.get(signing.KEY_HEADER, ""))
        try:
            timestamp = int(headers.get(signing.TIMESTAMP_HEADER, ""))
        except ValueError:
            return False
        if secret is None or abs(time.time() - timestamp) > signing.MAX_CLOCK_SKEW_S:
            return False
        return headers.get(signing.GATEWAY_HEADER) == state.serial and signing.signature_matches(
            secret,
            headers.get(signing.SIGNATURE_HEADER, ""),
            method,
            self.path,
            timestamp,
            headers.get(signing.NONCE_HEADER, ""),
            body,
        )

    def _provision(self, state: PlatformState, body: bytes) -> tuple[int, bytes, dict[str, str]]:
        request = msgspec.json.decode(body, type=ProvisionRequest)
        if not state.claimed or request.claim_code != state.claim_code:
            return _error(403, "not claimed")
        if state.delivered:
            return _error(409, "credential already delivered")
        credential = new_credential()
        state.keys[credential.key_id] = _secret(credential)
        state.delivered = True
        return 200, msgspec.json.encode(ProvisionReply(credential, state.household_id)), {}

    def _heartbeat(self, state: PlatformState, body: bytes) -> tuple[int, bytes, dict[str, str]]:
        heartbeat = msgspec.json.decode(body, type=Heartbeat)
        state.heartbeats.append(heartbeat)
        rotated, state.rotate_to = state.rotate_to, None
        if rotated is not None:
            state.keys[rotated.key_id] = _secret(rotated)
        acked = {ack.command_id for ack in state.acks}
        reply = HeartbeatReply(
            server_time=datetime.now(UTC),
            pairing="approved" if state.paired_meter_id else "none",
            paired_meter_id=state.paired_meter_id,
            pending_commands=sum(1 for c in state.commands if c.id not in acked),
            new_credential=rotated,
            supply=state.supply,
        )
        return 200, msgspec.json.encode(reply), {}

    def _telemetry(self, state: PlatformState, body: bytes) -> tuple[int, bytes, dict[str, str]]:
        try:
            batch = decode_batch(body)
        except msgspec.ValidationError as error:
            return _error(400, str(error), str(error).rpartition("at `")[2].rstrip("`") or None)
        if state.paired_meter_id and any(
            reading.meter_id != state.paired_meter_id for reading in batch.meter
        ):
            return _error(403, "readings from a meter this box is not paired with", "meter_id")
        if batch.batch_id in state.batches:
            state.batches[batch.batch_id] += 1
            state.duplicates += 1
            return 200, msgspec.json.encode(BatchReceipt(batch.batch_id, duplicate=True)), {}
        state.batches[batch.batch_id] = 1
        state.meter.extend(batch.meter)
        state.devices.extend(batch.devices)
        state.actions.extend(batch.actions)
        receipt = BatchReceipt(batch.batch_id, False, len(batch.meter), len(batch.devices))
        return 201, msgspec.json.encode(receipt), {}

    def _ack(self, state: PlatformState, body: bytes) -> tuple[int, bytes, dict[str, str]]:
        ack = msgspec.json.decode(body, type=CommandAck)
        if not any(command.id == ack.command_id for command in state.commands):
            return _error(404, "no such command")
        state.acks.append(ack)
        return 200, b"{}", {}


def _secret(credential: Credential) -> bytes:
    text = credential.secret
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _error(
    status: int, error: str, field_name: str | None = None
) -> tuple[int, bytes, dict[str, str]]:
    return status, msgspec.json.encode(ErrorReply(error, field_name)), {}
