"""`python -m gateway_agent run` as a real process, for the subprocess test and the memory bench."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[3]


def start_agent(config: Path, **popen: Any) -> subprocess.Popen[bytes]:
    """The agent on `config`, logging warnings and up; `popen` adds Popen's own arguments."""
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gateway_agent",
            "--log-level",
            "WARNING",
            "run",
            "--config",
            str(config),
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        **popen,
    )
