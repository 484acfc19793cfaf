"""Clocks: a scaled one runs X times faster, a manual one only when told."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine

from gateway_agent.clock import ManualClock, RealClock, ScaledClock

START = datetime(2025, 6, 21, 8, 0, tzinfo=UTC)


def test_a_scaled_clock_runs_speed_times_faster() -> None:
    with time_machine.travel(0, tick=False) as traveller:
        clock = ScaledClock(speed=60, start=START)
        traveller.shift(10)  # ten real seconds
        assert clock.monotonic() == pytest.approx(600)
        assert clock.now() - START == timedelta(minutes=10)


def test_a_scaled_clock_waits_a_fraction_of_the_simulated_time() -> None:
    clock = ScaledClock(speed=1000)
    stop = threading.Event()
    stop.set()  # a set event returns at once: no real waiting in tests
    assert clock.wait(stop, 600) is True


def test_a_restarted_scaled_clock_continues_the_same_timeline(tmp_path: Path) -> None:
    anchor = tmp_path / "clock.json"
    with time_machine.travel(0, tick=False) as traveller:
        first = ScaledClock(speed=100, start=START, anchor_file=anchor)
        traveller.shift(3)
        before_restart = first.now()
        traveller.shift(2)  # down for two real seconds
        second = ScaledClock(speed=100, start=START + timedelta(days=9), anchor_file=anchor)
        assert second.now() - before_restart == timedelta(seconds=200)


def test_a_manual_clock_moves_only_when_told_and_wait_moves_it() -> None:
    clock = ManualClock(START)
    assert clock.now() == START
    clock.advance(30)
    assert clock.monotonic() == 30
    assert clock.wait(threading.Event(), 90) is False
    assert clock.now() - START == timedelta(minutes=2)
    with pytest.raises(ValueError):
        clock.advance(-1)


def test_a_manual_clock_needs_an_aware_start() -> None:
    with pytest.raises(ValueError):
        ManualClock(datetime(2025, 1, 1))


def test_the_real_clock_is_aware_utc() -> None:
    assert RealClock().now().tzinfo is UTC
