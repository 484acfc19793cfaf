"""The agent's entry point: protocols, refusals, the wire schema, and a light import."""

from __future__ import annotations

import io
import subprocess
import sys
from datetime import UTC, datetime

import pytest
from msgspec.structs import replace

from gateway_agent.meters import (
    PROTOCOLS,
    FrameCounter,
    FrameError,
    FrameRefused,
    ReadStats,
    checked,
    make_reader,
    read_frames,
)
from gateway_agent.meters.sources import SERIAL_DEFAULTS, open_file, stream_chunks
from gateway_agent.protocol import MeterReading

from .samples import read_at, sample_path

READING = MeterReading(
    timestamp=datetime(2026, 1, 15, 12, tzinfo=UTC), meter_id="m1", import_wh={"1": 5}
)


def test_protocol_names() -> None:
    assert PROTOCOLS == ("p1-be", "p1-nl", "linky-historic", "linky-standard", "smets2-cad")
    assert set(SERIAL_DEFAULTS) == set(PROTOCOLS) - {"smets2-cad"}
    assert str(SERIAL_DEFAULTS["linky-historic"]) == "1200 7E1"
    assert str(SERIAL_DEFAULTS["linky-standard"]) == "9600 7E1"
    assert str(SERIAL_DEFAULTS["p1-be"]) == "115200 8N1"


def test_unknown_protocol() -> None:
    with pytest.raises(ValueError, match="unknown meter protocol"):
        make_reader("p2-be", now=read_at)


def test_readings_are_held_to_the_wire_schema() -> None:
    assert checked(READING) is READING
    with pytest.raises(FrameRefused, match="time zone"):
        checked(replace(READING, timestamp=datetime(2026, 1, 15, 12)))
    with pytest.raises(FrameRefused, match="out of range"):
        checked(replace(READING, current_a=[1500.0]))


def test_a_parser_bug_becomes_a_frame_error_not_a_crash() -> None:
    def broken() -> MeterReading:
        raise KeyError("oops")

    stats = ReadStats()
    error = FrameCounter("p1-be", stats).outcome(broken)
    assert isinstance(error, FrameError)
    assert error.reason == "unreadable frame (KeyError: 'oops')"
    assert (stats.frames, stats.refused) == (1, 1)


def test_push_reader_and_sources_give_the_same_results() -> None:
    path = sample_path("tic/historic_tempo_BBR_raw_stream_truncated__teleinfo-nom.txt")
    from_file = list(read_frames("linky-historic", open_file(path, chunk_size=16), now=read_at))
    stream = stream_chunks(io.BytesIO(path.read_bytes()), chunk_size=5)
    from_stream = list(read_frames("linky-historic", stream, now=read_at))
    reader = make_reader("linky-historic", now=read_at)
    pushed = [*reader.feed(path.read_bytes()), *reader.close()]
    assert from_file == from_stream == pushed
    assert [type(result).__name__ for result in pushed] == [
        "FrameError",
        "MeterReading",
        "FrameError",
    ]


def test_importing_the_meters_stays_light() -> None:
    """The box has < 50 MB: no pandas/numpy/pvlib/Django, and the heavy protocol libraries
    (dsmr-parser with cryptography, paho-mqtt, pyserial) only when their protocol is used."""
    code = (
        "import sys, gateway_agent.meters, gateway_agent.meters.tic, gateway_agent.meters.smets2,"
        " gateway_agent.meters.simulated, gateway_agent.meters.sources, gateway_agent.read_meter;"
        " print(sorted({m.split('.')[0] for m in sys.modules} & {'pandas', 'numpy', 'pvlib',"
        " 'django', 'dsmr_parser', 'cryptography', 'paho', 'serial'}))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
