"""The meter-to-outbox path stays light: no pandas, pvlib, demandlib or Django on the box."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import gateway_agent

ROOT = Path(__file__).resolve().parents[3]
HEAVY = ("pandas", "numpy", "pvlib", "demandlib", "django")
PACKAGE = Path(gateway_agent.__file__).parent


def heavy_modules_after(code: str) -> str:
    probe = (
        f"{code}\nimport sys\nprint(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return result.stdout.strip().splitlines()[-1]


def test_importing_the_agent_imports_nothing_heavy() -> None:
    assert heavy_modules_after("import gateway_agent.agent, gateway_agent.__main__") == "[]"


def test_an_agent_reading_a_p1_capture_imports_nothing_heavy(tmp_path: Path) -> None:
    code = f"""
import random
from datetime import UTC, datetime
from pathlib import Path
from gateway_agent.agent import Agent
from gateway_agent.clock import ManualClock
from gateway_agent.config import parse
capture = Path({str(tmp_path / "p1.txt")!r})
capture.write_bytes(b"/garbage only\\r\\n")
config = parse({{"server_url": "http://127.0.0.1:9", "serial": "HEB-1", "claim_code": "CLAIMCODE",
    "state_dir": {str(tmp_path / "state")!r}, "timeout_s": 1,
    "meter": {{"source": "file", "path": str(capture), "loop": True}}}})
agent = Agent(config, clock=ManualClock(datetime(2025, 1, 1, tzinfo=UTC)), rng=random.Random(0))
agent.step(30)
agent.close()
"""
    assert heavy_modules_after(code) == "[]"


def test_heavy_libraries_are_imported_only_inside_the_simulator() -> None:
    for path in PACKAGE.rglob("*.py"):
        if "simulator" in path.relative_to(PACKAGE).parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert name.split(".")[0] not in HEAVY, f"{path} imports {name}"
                assert name.split(".")[0] not in ("apps", "config"), f"{path} imports {name}"
