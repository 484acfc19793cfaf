"""UK SMETS2 through a Glow-style consumer access device: JSON payloads, file and MQTT."""

from __future__ import annotations

import json
import os
import socket
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlparse

import pytest

from gateway_agent.meters import ReadStats, read_frames
from gateway_agent.meters.smets2 import GLOW_TOPIC
from gateway_agent.meters.sources import MqttSource
from tests.conftest import service_unavailable

from .samples import READ_AT, only_reading, read_all, read_at, readings, refusals, sample

GLOW_SAMPLE = "uk/glow_style_electricitymeter__format_sample_values_ours.json"
MQTT_URL = os.environ.get("MQTT_URL", "mqtt://127.0.0.1:1883")


def glow_payload(**changes: Any) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(sample(GLOW_SAMPLE))
    meter = document["electricitymeter"]
    for path, value in changes.items():
        *parents, key = path.split("__")
        target = meter
        for parent in parents:
            target = target[parent]
        if value is None:
            del target[key]
        else:
            target[key] = value
    return document


def line(document: dict[str, Any]) -> bytes:
    return json.dumps(document).encode() + b"\n"


def test_glow_sample_payload() -> None:
    reading = only_reading("smets2-cad", sample(GLOW_SAMPLE))
    assert reading.meter_id == "1200012345678"  # the MPAN core
    assert reading.timestamp == datetime(2026, 1, 15, 18, 30, tzinfo=UTC)
    assert reading.import_wh == {"total": 8_231_560}  # 8231.56 kWh, exactly
    assert reading.export_wh == {"total": 412_118}
    assert (reading.import_w, reading.export_w) == (2347, 0)
    assert reading.voltage_v == [] and reading.tariff is None


def test_negative_power_is_export() -> None:
    reading = only_reading("smets2-cad", line(glow_payload(power__value=-1.25)))
    assert (reading.import_w, reading.export_w) == (0, 1250)


def test_power_in_watts_and_no_export_register() -> None:
    document = glow_payload(power__value=512, power__units="W", energy__export=None)
    reading = only_reading("smets2-cad", line(document))
    assert reading.import_w == 512 and reading.export_wh == {}


def test_payload_without_timestamp_takes_the_readers_clock() -> None:
    assert only_reading("smets2-cad", line(glow_payload(timestamp=None))).timestamp == READ_AT


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"energy__import__mpan": "read pending"}, "no MPAN"),
        ({"timestamp": "2026-01-15T18:30:00"}, "with a zone"),
        ({"energy__import__units": "MWh"}, "unknown units"),
        ({"energy__import__cumulative": -1}, "negative"),
        ({"energy__import__cumulative": "8231.56"}, "not a number"),
        ({"power": None}, "'power'"),
    ],
)
def test_payloads_that_are_refused(changes: dict[str, Any], reason: str) -> None:
    [error] = read_all("smets2-cad", line(glow_payload(**changes)))
    assert reason in str(error)


def test_json_lines_with_a_broken_one_and_a_pretty_printed_document() -> None:
    good = line(glow_payload())
    pretty = json.dumps(glow_payload(power__value=0.5), indent=2).encode() + b"\n"
    stream = good + b"not json\n\n" + b'{"electricitymeter": {"energy"\n' + pretty + good[:40]
    stats = ReadStats()
    results = read_all("smets2-cad", stream, stats)
    assert [type(result).__name__ for result in results] == [
        "MeterReading",
        "FrameError",  # "not json"
        "FrameError",  # the line cut short, seen when the next document begins
        "MeterReading",  # the document over several lines
        "FrameError",  # the last document cut by the end of the input
    ]
    assert readings(results)[1].import_w == 500
    assert "cut short by the end" in refusals(results)[-1].reason
    assert (stats.readings, stats.refused) == (2, 3)


@pytest.fixture
def mqtt_broker() -> tuple[str, int]:
    """The Mosquitto broker of this machine; fails (not skips) in CI when it is missing."""
    url = urlparse(MQTT_URL)
    host, port = url.hostname or "127.0.0.1", url.port or 1883
    try:
        with socket.create_connection((host, port), timeout=2):
            pass
    except OSError as error:
        service_unavailable(f"no MQTT broker at {host}:{port} ({error}); start one or set MQTT_URL")
    return host, port


def test_live_payload_through_the_mqtt_source(mqtt_broker: tuple[str, int]) -> None:
    import paho.mqtt.publish as publish

    host, port = mqtt_broker
    topic = GLOW_TOPIC.replace("+", f"heb-test-{uuid.uuid4().hex[:12]}")
    payload = sample(GLOW_SAMPLE)
    with MqttSource(host, port, topic, idle_timeout=10, max_messages=1) as source:
        publish.single(topic, payload, hostname=host, port=port)
        results = list(read_frames("smets2-cad", source, now=read_at))
    assert results == [only_reading("smets2-cad", payload)]


def test_an_unreachable_broker_fails_at_once() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(OSError):
        MqttSource("127.0.0.1", port, GLOW_TOPIC)
