"""`read-meter` end to end, in a subprocess, on real captures (and a pseudo-terminal as the
serial port)."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
import time
import tty
from pathlib import Path
from typing import Any

import pytest

from .samples import REALDATA, sample, sample_path

REPO = Path(__file__).resolve().parents[3]
BAD_CRC = "dsmr/INVALID_CRC_be_fluvius_v171__derived.txt"
ENTRY = "import sys; from gateway_agent.read_meter import main; sys.exit(main(sys.argv[1:]))"


def read_meter(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", ENTRY, *args],
        input=stdin.decode("latin-1") if stdin is not None else None,
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
        check=False,
    )


def json_lines(output: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in output.splitlines()]


@pytest.mark.parametrize(
    ("protocol", "name", "expected"),
    [
        (
            "p1-be",
            "dsmr/be_fluvius_v171_alt__dsmr_parser.txt",
            {
                "timestamp": "2023-11-02T11:15:48Z",
                "meter_id": "1SAG3100721326",
                "import_wh": {"1": 301548, "2": 270014},
                "export_wh": {"1": 5, "2": 0},
                "import_w": 338,
                "export_w": 0,
                "voltage_v": [232.9, 228.1, 228.1],
                "current_a": [0.27, 0.88, 0.52],
                "tariff": "1",
            },
        ),
        (
            "p1-nl",
            "dsmr/nl_dsmr42_kaifa__dsmr_parser.txt",
            {
                "timestamp": "2016-11-13T19:57:57Z",
                "meter_id": "3960221976967177082151037881335713",
                "import_wh": {"1": 1581123, "2": 1435706},
                "export_wh": {"1": 0, "2": 0},
                "import_w": 2027,
                "export_w": 0,
                "current_a": [0.0, 6.0, 2.0],  # DSMR 4.2: no voltages, so no voltage_v
                "tariff": "2",
            },
        ),
        (
            "linky-standard",
            "tic/standard_HC_weekend_monophase_frame__goteleinfo.bin",
            {
                "timestamp": "2019-12-03T11:58:05Z",
                "meter_id": "12345678900",
                "import_wh": {
                    "EAST": 17026175,
                    "EASF01": 4432429,
                    "EASF02": 9236697,
                    "EASF03": 3357049,
                    **{f"EASF{index:02d}": 0 for index in range(4, 11)},
                },
                "export_wh": {},
                "import_w": 519,
                "export_w": 0,
                "voltage_v": [232.0],
                "current_a": [2.0],
                "tariff": "EASF01",
            },
        ),
        (
            "smets2-cad",
            "uk/glow_style_electricitymeter__format_sample_values_ours.json",
            {
                "timestamp": "2026-01-15T18:30:00Z",
                "meter_id": "1200012345678",
                "import_wh": {"total": 8231560},
                "export_wh": {"total": 412118},
                "import_w": 2347,
                "export_w": 0,
            },
        ),
    ],
)
def test_one_reading_per_frame_as_json(protocol: str, name: str, expected: dict[str, Any]) -> None:
    done = read_meter("--protocol", protocol, "--file", str(sample_path(name)))
    assert done.returncode == 0, done.stderr
    assert json_lines(done.stdout) == [expected]
    assert "frames 1, readings 1, refused 0" in done.stderr


def test_linky_historic_has_no_clock_so_the_reader_stamps_it() -> None:
    path = sample_path("tic/historic_tempo_BBR_10frames_real_capture__pyteleinfo.bin")
    done = read_meter("--protocol", "linky-historic", "--file", str(path))
    assert done.returncode == 0, done.stderr
    lines = json_lines(done.stdout)
    assert len(lines) == 10
    assert lines[0]["meter_id"] == "021861348497" and lines[0]["tariff"] == "BBRHCJB"
    assert lines[0]["timestamp"].endswith("Z") and "voltage_v" not in lines[0]


def test_a_corrupt_telegram_is_reported_on_stderr_and_skipped() -> None:
    done = read_meter("--protocol", "p1-be", "--file", str(sample_path(BAD_CRC)))
    assert done.returncode == 0
    assert done.stdout == ""
    assert "read-meter: frame 1 refused: bad CRC" in done.stderr


def test_corrupted_linky_stream_read_from_stdin() -> None:
    stream = sample("tic/standard_tempo_triphase_raw_stream_with_corruption__teleinfo-nom.txt")
    done = read_meter("--protocol", "linky-standard", "-", stdin=stream)
    assert done.returncode == 0, done.stderr
    assert len(json_lines(done.stdout)) == 3
    refused = [line for line in done.stderr.splitlines() if " refused: " in line]
    assert len(refused) == 6
    assert "read-meter: frame 4 refused: bad group: EASF09 (checksum)" in refused
    assert "TIC groups: 14 bad, 2 repaired" in done.stderr


def test_garbage_never_crashes_the_reader() -> None:
    garbage = bytes(range(256)) * 8 + b"/\x02\n{!" * 50
    for protocol in ("p1-nl", "linky-historic", "smets2-cad"):
        done = read_meter("--protocol", protocol, "-", stdin=garbage)
        assert done.returncode == 0, done.stderr
        assert done.stdout == "" and "Traceback" not in done.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["--protocol", "p1-be"],  # no source
        ["--protocol", "p1-xx", "-"],
        ["--protocol", "p1-be", "--file", "a", "-"],
        ["--protocol", "smets2-cad", "--serial", "/dev/ttyUSB0"],
        ["--protocol", "p1-be", "--baud", "9600", "-"],
        ["--protocol", "p1-be", "--count", "0", "-"],
    ],
)
def test_bad_arguments_exit_2(args: list[str]) -> None:
    done = read_meter(*args)
    assert done.returncode == 2
    assert "usage: read-meter" in done.stderr


def test_an_unreadable_file_exits_2(tmp_path: Path) -> None:
    done = read_meter("--protocol", "p1-be", "--file", str(tmp_path / "missing.txt"))
    assert done.returncode == 2
    assert "cannot open" in done.stderr


def test_serial_port_with_the_protocols_settings() -> None:
    """A pseudo-terminal stands in for the P1 port: telegrams are written to its master until
    read-meter has read two frames (it flushes what came before it opened the port)."""
    telegram = sample("dsmr/be_fluvius_sagemcom_single_phase_export__lbrucher.txt")
    master, slave = pty.openpty()
    tty.setraw(master)
    try:
        args = ["--protocol", "p1-be", "--count", "2", "--serial", os.ttyname(slave)]
        process = subprocess.Popen(
            [sys.executable, "-c", ENTRY, *args],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 30
        while process.poll() is None and time.monotonic() < deadline:
            os.write(master, telegram)
            time.sleep(0.2)
        stdout, stderr = process.communicate(timeout=10)
    finally:
        os.close(master)
        os.close(slave)
    assert process.returncode == 0, stderr
    assert json_lines(stdout)[-1]["meter_id"] == "1SAG3105200877"
    assert "frames 2," in stderr


def test_realdata_location_is_relative_to_the_repository() -> None:
    assert REALDATA.resolve() == (REPO.parent / "shared" / "realdata").resolve()
