"""The benchmark runner's contract, and the restrict benchmark on a small fleet."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import run  # noqa: E402  (bench/run.py)


def bench(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "bench/run.py", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=300,
    )


def test_an_unknown_benchmark_is_refused_with_the_known_names() -> None:
    result = bench("no_such_bench")
    assert result.returncode == 2
    assert "unknown benchmark no_such_bench" in result.stderr
    assert "restrict" in result.stderr


def test_only_a_last_line_json_object_with_a_bench_key_counts_as_figures() -> None:
    assert run.last_json_line('warming up\n{"bench": "x", "p50_ms": 1}\n') == {
        "bench": "x",
        "p50_ms": 1,
    }
    assert run.last_json_line('{"bench": "x"}\ndone\n') is None
    assert run.last_json_line('{"p50_ms": 1}') is None
    assert run.last_json_line("") is None


def test_restrict_is_one_query_for_every_role() -> None:
    result = bench("restrict", BENCH_HOUSEHOLDS="60")
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert figures["bench"] == "restrict"
    assert figures["households"] == 60
    assert figures["max_queries_per_call"] == 1
    rows = {role: f["rows"] for role, f in figures["roles"].items()}
    assert rows["platform_admin"] == 60
    assert rows["dso_staff"] == 20  # one tenant of three
    assert rows["household_owner"] == rows["household_member"] == 1
    assert rows["third_party"] == 0


def test_ingest_bench_runs_on_postgresql() -> None:
    """Keeps the benchmark in step with the schema (its COPY baseline once fell behind)."""
    from tests.conftest import service_unavailable

    if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        service_unavailable("DATABASE_URL does not point at PostgreSQL")
    result = bench("ingest", BENCH_GATEWAYS="2", BENCH_BATCHES="2")
    assert result.returncode == 0, result.stdout[-2000:]
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert figures["bench"] == "ingest" and figures["batches"] == 2
    assert figures["api_rows_per_s"] > 0 and figures["copy_rows_per_s"] > 0


def test_live_latency_bench_delivers_every_frame_across_two_servers() -> None:
    """Two uvicorn processes, 40 sockets on PostgreSQL and Redis: no frame may be lost."""
    from tests.conftest import service_unavailable

    if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        service_unavailable("DATABASE_URL does not point at PostgreSQL")
    if not os.environ.get("REDIS_URL"):
        service_unavailable("REDIS_URL is not set")
    result = bench("live_latency", BENCH_SOCKETS="40", BENCH_BATCHES="20", BENCH_DRAIN_S="20")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert set(figures) == {"bench", "sockets", "p50_ms", "p99_ms", "dropped"}
    assert figures["bench"] == "live_latency" and figures["sockets"] == 40
    assert figures["dropped"] == 0
    assert 0 < figures["p50_ms"] <= figures["p99_ms"]


def test_schedule_bench_plans_on_the_demo_tariffs_and_agrees_with_brute_force() -> None:
    result = bench("schedule", BENCH_HOUSEHOLDS="14", BENCH_SMALL="10")
    assert result.returncode == 0, result.stdout[-2000:]
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert figures["bench"] == "schedule" and figures["households"] == 14
    assert figures["optimal_matches_bruteforce"] is True
    assert figures["plans_breaking_a_constraint"] == 0
    assert figures["saving_vs_now_pct"] >= 0
    assert {"median_solve_ms", "households_per_min"} <= figures.keys()


def test_reports_bench_reads_each_comparison_group_once() -> None:
    """120 households: each candidate group (48 narrow, 16 without the heating type, 4
    regions, the tenant) is read once, not once per household."""
    from tests.conftest import service_unavailable

    if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        service_unavailable("DATABASE_URL does not point at PostgreSQL")
    result = bench("reports", BENCH_HOUSEHOLDS="120", BENCH_SOLO="3")
    assert result.returncode == 0, result.stdout[-2000:]
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert list(figures)[:3] == ["bench", "households", "ms_per_household"]
    assert figures["bench"] == "reports" and figures["households"] == 120
    assert figures["compared"] == 120
    assert figures["group_reads"] <= 48 + 16 + 4 + 1
    assert figures["ms_per_household"] > 0 and figures["compare_ms_per_household"] > 0
