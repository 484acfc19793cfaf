"""Benchmark runner: `make bench` runs every bench/bench_*.py, `make bench BENCH=name` one.

Each benchmark is a script run in its own process (so one cannot warm another's caches)
whose last stdout line is one JSON object with a "bench" key. The runner echoes
each benchmark's output and fails if a benchmark fails or breaks that contract.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent


def available() -> dict[str, Path]:
    return {path.stem.removeprefix("bench_"): path for path in sorted(BENCH_DIR.glob("bench_*.py"))}


def last_json_line(output: str) -> dict | None:
    lines = [line for line in output.splitlines() if line.strip()]
    if not lines:
        return None
    try:
        figures = json.loads(lines[-1])
    except json.JSONDecodeError:
        return None
    return figures if isinstance(figures, dict) and "bench" in figures else None


def run_one(name: str, path: Path) -> bool:
    print(f"== bench {name}", flush=True)
    result = subprocess.run(
        [sys.executable, str(path)], cwd=BENCH_DIR.parent, stdout=subprocess.PIPE, text=True
    )
    sys.stdout.write(result.stdout)
    if result.returncode != 0:
        print(f"bench {name} failed with exit code {result.returncode}", file=sys.stderr)
        return False
    if last_json_line(result.stdout) is None:
        print(f"bench {name} did not end with a JSON object with a 'bench' key", file=sys.stderr)
        return False
    return True


def main(argv: list[str]) -> int:
    benches = available()
    wanted = [name for name in argv if name] or list(benches)
    unknown = [name for name in wanted if name not in benches]
    if unknown:
        print(
            f"unknown benchmark {', '.join(unknown)}; known: {', '.join(benches)}", file=sys.stderr
        )
        return 2
    failed = [name for name in wanted if not run_one(name, benches[name])]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
