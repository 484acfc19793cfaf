"""The outbox: nothing lost, nothing sent twice under a new id, nothing dropped silently."""

from __future__ import annotations

import sqlite3
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import msgspec
import pytest

from gateway_agent.outbox import Outbox
from gateway_agent.protocol import (
    Command,
    CommandAck,
    DeviceReading,
    MeterReading,
    TelemetryBatch,
    decode_batch,
)

SERIAL = "HEB-TEST-0001"
T0 = datetime(2025, 1, 1, tzinfo=UTC)


def meter(second: int, meter_id: str = "M1") -> MeterReading:
    return MeterReading(
        timestamp=T0 + timedelta(seconds=second), meter_id=meter_id, import_wh={"1": 1000 + second}
    )


def device_reading(second: int) -> DeviceReading:
    return DeviceReading(
        device_id=uuid.UUID(int=1), timestamp=T0 + timedelta(seconds=second), power_w=100
    )


def seconds(batch: TelemetryBatch) -> list[int]:
    return [int((r.timestamp - T0).total_seconds()) for r in batch.meter]


def test_readings_survive_reopening(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path)
    for second in range(5):
        outbox.append_meter(meter(second))
    outbox.close()

    reopened = Outbox(tmp_path)
    assert reopened.depth() == 5
    batch = reopened.next_batch(SERIAL, 100)
    assert batch is not None
    assert seconds(decode_batch(batch.body)) == [0, 1, 2, 3, 4]


def test_batches_go_oldest_first_and_respect_the_size(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path)
    for second in range(7):
        outbox.append_meter(meter(second))
    sent = []
    while (batch := outbox.next_batch(SERIAL, 3)) is not None:
        sent.append(seconds(decode_batch(batch.body)))
        outbox.confirm(batch.batch_id)
    assert sent == [[0, 1, 2], [3, 4, 5], [6]]
    assert outbox.depth() == 0


def test_a_batch_id_is_kept_across_a_crash_between_send_and_receipt(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path)
    for second in range(3):
        outbox.append_meter(meter(second))
    first = outbox.next_batch(SERIAL, 10)
    assert first is not None
    # ... the batch was sent, and the process died before confirm(): no close, no commit.
    del outbox
    outbox_after_crash = Outbox(tmp_path)
    outbox_after_crash.append_meter(meter(3))  # read after the restart: not in the old batch

    again = outbox_after_crash.next_batch(SERIAL, 10)
    assert again is not None
    assert again.batch_id == first.batch_id
    assert again.body == first.body  # the same bytes: the platform answers "duplicate"
    outbox_after_crash.confirm(again.batch_id)
    following = outbox_after_crash.next_batch(SERIAL, 10)
    assert following is not None and following.batch_id != first.batch_id
    assert seconds(decode_batch(following.body)) == [3]


def test_the_batch_body_is_a_valid_telemetry_batch(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path)
    outbox.append_meter(meter(0))
    outbox.append_device(device_reading(0))
    batch = outbox.next_batch(SERIAL, 10)
    assert batch is not None
    decoded = decode_batch(batch.body)
    assert decoded.serial == SERIAL
    assert decoded.batch_id == batch.batch_id
    assert decoded.meter == [meter(0)]
    assert decoded.devices == [device_reading(0)]


def test_a_refused_batch_moves_to_the_dead_letters_and_the_queue_goes_on(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path)
    for second in range(4):
        outbox.append_meter(meter(second))
    bad = outbox.next_batch(SERIAL, 2)
    assert bad is not None
    outbox.reject(bad, http_status=422, error="import_wh went down", field="$.meter[0]")

    dead = outbox.dead_letters()
    assert len(dead) == 1
    assert dead[0]["ref"] == str(bad.batch_id)
    assert dead[0]["body"] == bad.body  # kept as sent
    assert dead[0]["http_status"] == 422
    following = outbox.next_batch(SERIAL, 10)
    assert following is not None
    assert seconds(decode_batch(following.body)) == [2, 3]


def test_a_wrong_meter_kills_only_the_meter_readings(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path)
    outbox.append_meter(meter(0, meter_id="OTHER"))
    outbox.append_device(device_reading(1))
    batch = outbox.next_batch(SERIAL, 10)
    assert batch is not None
    outbox.reject(batch, http_status=403, error="not paired", field="meter_id", meter_only=True)

    (dead,) = outbox.dead_letters()
    dead_batch = msgspec.json.decode(dead["body"], type=TelemetryBatch)  # type: ignore[arg-type]
    assert [r.meter_id for r in dead_batch.meter] == ["OTHER"] and dead_batch.devices == []
    retry = outbox.next_batch(SERIAL, 10)
    assert retry is not None and retry.batch_id != batch.batch_id
    assert decode_batch(retry.body).devices == [device_reading(1)]


def test_when_full_device_readings_are_refused_before_meter_readings(tmp_path: Path) -> None:
    size = len(msgspec.json.encode(meter(0)))
    outbox = Outbox(tmp_path, max_bytes=size * 10)
    accepted_devices = sum(outbox.append_device(device_reading(s)) for s in range(20))
    accepted_meter = sum(outbox.append_meter(meter(s)) for s in range(20))

    assert outbox.refused.device > 0  # refused, counted (and logged), not dropped unseen
    assert accepted_devices + outbox.refused.device == 20
    assert accepted_meter > 0
    assert outbox.stored_bytes() <= size * 10 * 1.1


def test_when_full_a_meter_reading_per_quarter_hour_still_fits(tmp_path: Path) -> None:
    size = len(msgspec.json.encode(meter(0)))
    outbox = Outbox(tmp_path, max_bytes=size * 20)
    for second in range(20):
        assert outbox.append_meter(meter(second))
    assert not outbox.append_device(device_reading(20))
    assert outbox.append_meter(meter(900))  # a new quarter hour: into the reserve
    assert not outbox.append_meter(meter(901))  # same quarter hour: refused, counted
    assert outbox.refused.meter == 1


def test_the_database_is_in_wal_mode_and_checks_itself(tmp_path: Path) -> None:
    Outbox(tmp_path).close()
    db = sqlite3.connect(tmp_path / "outbox.sqlite3")
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_an_unreadable_database_is_kept_aside_and_a_new_one_started(tmp_path: Path) -> None:
    (tmp_path / "outbox.sqlite3").write_bytes(b"this is no database" * 100)
    outbox = Outbox(tmp_path)
    assert outbox.depth() == 0
    assert list(tmp_path.glob("outbox.sqlite3.corrupt-*"))


def test_commands_are_stored_once_with_a_received_ack(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path)
    command = Command(id=uuid.uuid4(), kind="switch_on", device_id=uuid.uuid4())
    assert outbox.store_commands([command], T0) == [command]
    assert outbox.store_commands([command], T0) == []  # listed again: not run twice
    pending = outbox.next_ack()
    assert pending is not None and pending.ack.status == "received"
    outbox.ack_sent(pending)
    assert outbox.next_ack() is None


def test_a_command_runs_only_from_its_not_before(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path)
    later = Command(id=uuid.uuid4(), kind="switch_on", not_before=T0 + timedelta(hours=1))
    outbox.store_commands([later], T0)
    assert outbox.due_commands(T0) == []
    assert outbox.due_commands(T0 + timedelta(hours=1)) == [later]
    outbox.advance_command(CommandAck(later.id, "done", T0 + timedelta(hours=1)), "finished")
    assert outbox.due_commands(T0 + timedelta(hours=2)) == []
    assert outbox.command_state(later.id) == "finished"


@pytest.mark.parametrize("kill_after", ["append", "form", "confirm"])
def test_every_step_is_one_transaction(tmp_path: Path, kill_after: str) -> None:
    """Whatever the last committed step, reopening gives a consistent queue."""
    outbox = Outbox(tmp_path)
    outbox.append_meter(meter(0))
    if kill_after in ("form", "confirm"):
        batch = outbox.next_batch(SERIAL, 10)
        assert batch is not None
        if kill_after == "confirm":
            outbox.confirm(batch.batch_id)
    del outbox
    reopened = Outbox(tmp_path)
    assert reopened.depth() == (0 if kill_after == "confirm" else 1)
