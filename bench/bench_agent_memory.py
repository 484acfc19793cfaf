"""The agent's resident memory while it reads a P1 meter and uploads: must stay under 50 MB.

Starts the real agent (`python -m gateway_agent run`) on a clock running 60 times faster, so
ten simulated minutes pass in ten seconds. Its meter is a P1 telegram file replayed in a loop
(one telegram per simulated second, every one kept), uploading to a stand-in of the platform's
agent API in this process (signatures verified, batches deduplicated). The agent's RSS
(children included) is sampled all along; its kernel-kept peak (VmHWM) counts where there is
one. The bare interpreter's RSS is measured in the same run for comparison.

When ../shared/realdata is missing, a synthetic e-MUCS telegram (valid CRC) is replayed
instead: the simulated meter would bring the simulator's pandas along, which is not what a
box reading its meter runs.

Last line: {"bench": "agent_memory", "rss_mb": ..., "limit_mb": 50, ...}; exit 1 at >= 50 MB.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.gateway_agent.agent.agent_process import start_agent  # noqa: E402
from tests.gateway_agent.agent.contract_server import ContractServer  # noqa: E402

LIMIT_MB = 50
SIMULATED_S = 600
SPEED = 60
SERIAL = "HEB-BENCH-0001"
CLAIM_CODE = "BENCH-CLAIM-CODE"
REAL_TELEGRAM = ROOT.parent / "shared/realdata/dsmr/be_fluvius_v171_3phase_2gas__dsmr_parser.txt"

CONFIG = """
server_url = "{url}"
serial = "{serial}"
claim_code = "{claim_code}"
state_dir = "state"

[meter]
protocol = "p1-be"
source = "file"
path = "{telegram}"
loop = true
frame_interval_s = 1
sample_every_s = 0

[intervals]
upload_every_s = 60
heartbeat_every_s = 300
commands_every_s = 60

[simulation]
speed = {speed}
start = 2025-06-21T10:00:00Z
run_for_s = {simulated_s}
"""


def crc16_arc(data: bytes) -> int:
    """The CRC a P1 telegram ends with (CRC-16/ARC over '/' .. '!')."""
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def synthetic_telegram() -> bytes:
    lines = [
        "/FLU5\\253769484_A",
        "",
        "0-0:96.1.4(50217)",
        "0-0:96.1.1(3153414733313031303231363035)",
        "0-0:1.0.0(250621120000S)",
        "1-0:1.8.1(001234.567*kWh)",
        "1-0:1.8.2(002345.678*kWh)",
        "1-0:2.8.1(000123.456*kWh)",
        "1-0:2.8.2(000045.678*kWh)",
        "0-0:96.14.0(0001)",
        "1-0:1.7.0(01.234*kW)",
        "1-0:2.7.0(00.000*kW)",
        "1-0:32.7.0(231.2*V)",
        "1-0:31.7.0(005.40*A)",
        "!",
    ]
    body = "\r\n".join(lines).encode()
    return body + f"{crc16_arc(body):04X}\r\n".encode()


def telegram_file(workdir: Path) -> tuple[Path, str]:
    if REAL_TELEGRAM.exists():
        return REAL_TELEGRAM, "p1 capture (shared/realdata, Fluvius V1.7.1)"
    path = workdir / "synthetic_p1.txt"
    path.write_bytes(synthetic_telegram())
    return path, "synthetic p1 telegram"


def rss_mb(process: psutil.Process) -> float:
    """Resident memory of the process and its children, MB (10^6 bytes)."""
    total = process.memory_info().rss
    for child in process.children(recursive=True):
        try:
            total += child.memory_info().rss
        except psutil.NoSuchProcess:
            continue
    return total / 1e6


def high_water_mb(pid: int) -> float:
    """The kernel's peak RSS of the process (Linux VmHWM), 0 where unknown."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024 / 1e6
    return 0.0


def bare_interpreter_mb() -> float:
    probe = subprocess.run(
        [
            sys.executable,
            "-c",
            "import os, psutil; print(psutil.Process(os.getpid()).memory_info().rss)",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(probe.stdout) / 1e6


def pending_readings(state_dir: Path) -> int:
    with sqlite3.connect(state_dir / "outbox.sqlite3") as db:
        return int(db.execute("SELECT COUNT(*) FROM readings").fetchone()[0])


def run_agent(workdir: Path, server: ContractServer, telegram: Path) -> dict[str, float]:
    config = workdir / "agent.toml"
    config.write_text(
        CONFIG.format(
            url=server.url,
            serial=SERIAL,
            claim_code=CLAIM_CODE,
            telegram=telegram,
            speed=SPEED,
            simulated_s=SIMULATED_S,
        )
    )
    started = time.monotonic()
    agent = start_agent(config)
    process = psutil.Process(agent.pid)
    peak = hwm = 0.0
    deadline = started + SIMULATED_S / SPEED * 6 + 30
    while agent.poll() is None and time.monotonic() < deadline:
        try:
            peak = max(peak, rss_mb(process))
            hwm = max(hwm, high_water_mb(agent.pid))
        except psutil.NoSuchProcess:
            break
        time.sleep(0.02)
    if agent.poll() is None:
        agent.kill()
        raise SystemExit("the agent did not finish its simulated ten minutes in time")
    return {"peak": max(peak, hwm), "real_s": time.monotonic() - started, "exit": agent.returncode}


def main() -> int:
    with (
        tempfile.TemporaryDirectory(prefix="heb-bench-agent-") as tmp,
        ContractServer(SERIAL, CLAIM_CODE) as server,
    ):
        workdir = Path(tmp)
        telegram, source = telegram_file(workdir)
        measured = run_agent(workdir, server, telegram)
        state = server.state
        figures = {
            "bench": "agent_memory",
            "rss_mb": round(measured["peak"], 1),
            "limit_mb": LIMIT_MB,
            "rss_to_limit": round(measured["peak"] / LIMIT_MB, 3),
            "bare_python_mb": round(bare_interpreter_mb(), 1),
            "simulated_s": SIMULATED_S,
            "speed": SPEED,
            "real_s": round(measured["real_s"], 1),
            "readings": len(state.meter),
            "readings_pending": pending_readings(workdir / "state"),
            "batches": len(state.batches),
            "duplicates": state.duplicates,
            "bad_signatures": state.bad_signatures,
            "meter_source": source,
            "agent_exit": measured["exit"],
        }
    print(json.dumps(figures))
    ok = figures["rss_mb"] < LIMIT_MB and measured["exit"] == 0 and figures["readings"] > 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
