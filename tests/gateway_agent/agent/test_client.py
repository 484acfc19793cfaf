"""The signed client against a stand-in of the platform's agent API."""

from __future__ import annotations

import socket
import uuid
from datetime import UTC, datetime
from email.message import Message
from email.utils import format_datetime
from typing import cast

import msgspec
import pytest

from gateway_agent.client import AgentClient, Outcome, interpret, retry_after_seconds
from gateway_agent.protocol import (
    BatchReceipt,
    Command,
    Credential,
    Heartbeat,
    MeterReading,
    TelemetryBatch,
)
from tests.gateway_agent.agent.conftest import CLAIM_CODE, SERIAL
from tests.gateway_agent.agent.contract_server import ContractServer

READING = MeterReading(timestamp=datetime.now(UTC), meter_id="M1", import_wh={"1": 10})


def provisioned(server: ContractServer) -> tuple[AgentClient, Credential]:
    client = AgentClient(server.url, SERIAL, timeout_s=5)
    result = client.provision(CLAIM_CODE)
    assert result.ok and result.value is not None
    return client, result.value.credential


def batch(*readings: MeterReading) -> bytes:
    return msgspec.json.encode(TelemetryBatch(uuid.uuid4(), SERIAL, meter=list(readings)))


def heartbeat() -> Heartbeat:
    return Heartbeat(serial=SERIAL, firmware_version="0.1.0", uptime_s=1, connectivity="dsl")


def test_provisioning_waits_for_the_claim_and_happens_once(server: ContractServer) -> None:
    client = AgentClient(server.url, SERIAL, timeout_s=5)
    server.state.claimed = False
    assert client.provision(CLAIM_CODE).outcome is Outcome.FORBIDDEN
    server.state.claimed = True
    assert client.provision("WRONG-CODE").outcome is Outcome.FORBIDDEN
    first = client.provision(CLAIM_CODE)
    assert first.ok and first.value is not None
    assert first.value.household_id == server.state.household_id
    assert client.provision(CLAIM_CODE).outcome is Outcome.CONFLICT


def test_signed_requests_are_accepted_and_a_wrong_key_is_not(server: ContractServer) -> None:
    client, credential = provisioned(server)
    reply = client.heartbeat(heartbeat(), credential)
    assert reply.ok and reply.value is not None and reply.value.pairing == "none"
    forged = Credential(credential.key_id, "Zm9yZ2VkLXNlY3JldA", credential.valid_from)
    assert client.heartbeat(heartbeat(), forged).outcome is Outcome.UNAUTHORIZED
    assert server.state.bad_signatures == 1


def test_a_batch_sent_twice_is_stored_once(server: ContractServer) -> None:
    client, credential = provisioned(server)
    body = batch(READING)
    first = client.send_batch(body, credential)
    again = client.send_batch(body, credential)
    assert (first.status, again.status) == (201, 200)
    assert isinstance(again.value, BatchReceipt) and again.value.duplicate
    assert len(server.state.meter) == 1


def test_a_bad_batch_is_rejected_naming_the_field(server: ContractServer) -> None:
    client, credential = provisioned(server)
    body = batch(READING).replace(b'"import_wh":{"1":10}', b'"import_wh":{"1":-10}')
    result = client.send_batch(body, credential)
    assert result.outcome is Outcome.REJECTED
    assert result.field is not None and "import_wh" in result.field


def test_readings_of_an_unpaired_meter_are_a_wrong_meter(server: ContractServer) -> None:
    client, credential = provisioned(server)
    server.state.paired_meter_id = "ANOTHER"
    assert client.send_batch(batch(READING), credential).outcome is Outcome.WRONG_METER


def test_rate_limits_and_server_errors_say_when_to_retry(server: ContractServer) -> None:
    client, credential = provisioned(server)
    server.state.faults += [(429, "slow down", None, {"Retry-After": "7"}), (503, "busy", None, {})]
    limited = client.send_batch(batch(READING), credential)
    assert limited.outcome is Outcome.RATE_LIMITED and limited.retry_after_s == 7
    assert client.send_batch(batch(READING), credential).outcome is Outcome.RETRY


def test_a_dropped_connection_is_a_retry_and_the_next_request_reconnects(
    server: ContractServer,
) -> None:
    client, credential = provisioned(server)
    server.state.faults += ["drop", "drop"]
    assert client.send_batch(batch(READING), credential).outcome is Outcome.RETRY
    assert client.send_batch(batch(READING), credential).ok


def test_commands_are_listed_and_acked(server: ContractServer) -> None:
    client, credential = provisioned(server)
    command = Command(id=uuid.uuid4(), kind="switch_on", device_id=uuid.uuid4())
    server.queue_command(command)
    listed = client.fetch_commands(credential)
    assert listed.ok and listed.value is not None and listed.value.commands == [command]
    from gateway_agent.protocol import CommandAck

    assert client.ack(CommandAck(command.id, "done", datetime.now(UTC)), credential).ok
    unknown = CommandAck(uuid.uuid4(), "done", datetime.now(UTC))
    assert client.ack(unknown, credential).outcome is Outcome.NOT_FOUND


def test_no_answer_in_time_is_a_retry() -> None:
    with socket.socket() as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        client = AgentClient(f"http://127.0.0.1:{port}", SERIAL, timeout_s=0.3)
        assert client.provision(CLAIM_CODE).outcome is Outcome.RETRY


def test_a_refused_connection_is_a_retry() -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    client = AgentClient(f"http://127.0.0.1:{port}", SERIAL, timeout_s=1)
    assert client.provision(CLAIM_CODE).outcome is Outcome.RETRY


@pytest.mark.parametrize(
    ("status", "payload", "outcome"),
    [
        (400, b'{"error": "bad", "field": "$.meter"}', Outcome.REJECTED),
        (422, b"not json", Outcome.REJECTED),
        (401, b'{"error": "expired"}', Outcome.UNAUTHORIZED),
        (403, b'{"error": "unpaired", "field": "meter_id"}', Outcome.WRONG_METER),
        (403, b'{"error": "not claimed"}', Outcome.FORBIDDEN),
        (500, b"<html>oops</html>", Outcome.RETRY),
        (502, b"", Outcome.RETRY),
        (201, b"<html>a captive portal</html>", Outcome.RETRY),
    ],
)
def test_every_answer_maps_to_one_outcome(status: int, payload: bytes, outcome: Outcome) -> None:
    assert interpret(status, cast("object", Message()), payload, BatchReceipt).outcome is outcome  # type: ignore[arg-type]


def test_retry_after_may_be_seconds_or_a_date() -> None:
    assert retry_after_seconds("120") == 120
    assert retry_after_seconds(None) is None
    assert retry_after_seconds("soon") is None
    in_the_past = format_datetime(datetime(2000, 1, 1, tzinfo=UTC), usegmt=True)
    assert retry_after_seconds(in_the_past) == 0
