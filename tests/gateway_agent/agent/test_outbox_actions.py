"""The overload guard's actions in the outbox: kept like readings, sent once with a batch."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from pathlib import Path

from gateway_agent.outbox import Outbox
from gateway_agent.protocol import LoadAction, decode_batch
from tests.gateway_agent.agent.test_outbox import SERIAL, T0, device_reading, meter


def action(second: int, kind: str = "shed") -> LoadAction:
    return LoadAction(
        device_id=uuid.UUID(int=7),
        timestamp=T0 + timedelta(seconds=second),
        action="shed" if kind == "shed" else "restore",
        load_va=3600,
        limit_va=3000,
        device_power_w=2000 if kind == "shed" else 0,
        reason="ev_charger: 120% of the limit for 5 s",
    )


def test_actions_survive_a_restart_and_ride_the_next_batch(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path)
    outbox.append_meter(meter(0))
    outbox.append_action(action(1))
    outbox.append_device(device_reading(2))
    outbox.close()

    reopened = Outbox(tmp_path)
    assert reopened.pending_actions() == 1 and reopened.depth() == 2
    batch = reopened.next_batch(SERIAL, 100)
    assert batch is not None and (batch.meter_count, batch.device_count, batch.action_count) == (
        1,
        1,
        1,
    )
    decoded = decode_batch(batch.body)
    assert decoded.actions == [action(1)]
    reopened.confirm(batch.batch_id)
    assert reopened.pending_actions() == 0 and reopened.depth() == 0
    assert reopened.next_batch(SERIAL, 100) is None
    reopened.close()
    assert Outbox(tmp_path).pending_actions() == 0


def test_an_action_goes_out_alone_when_no_reading_waits(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path)
    outbox.append_action(action(0))
    outbox.append_action(action(90, "restore"))
    batch = outbox.next_batch(SERIAL, 100)
    assert batch is not None and (batch.meter_count, batch.action_count) == (0, 2)
    assert [a.action for a in decode_batch(batch.body).actions] == ["shed", "restore"]
    outbox.append_meter(meter(100))
    outbox.confirm(batch.batch_id)
    following = outbox.next_batch(SERIAL, 100)
    assert following is not None and decode_batch(following.body).actions == []


def test_an_action_is_sent_under_the_same_batch_id_after_a_crash(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path)
    outbox.append_meter(meter(0))
    outbox.append_action(action(1))
    first = outbox.next_batch(SERIAL, 100)  # sent; the agent dies before the receipt
    outbox.close()
    reopened = Outbox(tmp_path)
    reopened.append_action(action(2, "restore"))  # after the batch was formed: the next one
    again = reopened.next_batch(SERIAL, 100)
    assert first is not None and again is not None
    assert again.batch_id == first.batch_id and again.body == first.body
    reopened.confirm(again.batch_id)
    following = reopened.next_batch(SERIAL, 100)
    assert following is not None and decode_batch(following.body).actions == [action(2, "restore")]


def test_a_batch_without_actions_is_sent_as_before(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path)
    outbox.append_meter(meter(0))
    batch = outbox.next_batch(SERIAL, 100)
    assert batch is not None and "actions" not in json.loads(batch.body)
    assert json.loads(batch.body)["protocol_version"] == 1


def test_a_wrong_meter_keeps_the_actions_for_the_next_batch(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path)
    outbox.append_meter(meter(0, meter_id="OTHER"))
    outbox.append_action(action(1))
    batch = outbox.next_batch(SERIAL, 100)
    assert batch is not None
    outbox.reject(batch, http_status=403, error="not paired", field="meter_id", meter_only=True)
    (dead,) = outbox.dead_letters()
    assert decode_batch(dead["body"]).actions == []  # type: ignore[arg-type]
    retry = outbox.next_batch(SERIAL, 100)
    assert retry is not None and retry.batch_id != batch.batch_id
    assert decode_batch(retry.body).actions == [action(1)]


def test_a_refused_batch_keeps_its_actions_in_the_dead_letters(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path)
    outbox.append_meter(meter(0))
    outbox.append_action(action(1))
    batch = outbox.next_batch(SERIAL, 100)
    assert batch is not None
    outbox.reject(batch, http_status=422, error="bad", field="actions")
    (dead,) = outbox.dead_letters()
    assert decode_batch(dead["body"]).actions == [action(1)]  # type: ignore[arg-type]
    assert outbox.pending_actions() == 0 and outbox.next_batch(SERIAL, 100) is None
    assert outbox.stored_bytes() == len(batch.body)  # the dead letter only
