"""The simulated meter: deterministic, registers that only increase, valid on the wire."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta
from itertools import pairwise

import msgspec
import pytest

from gateway_agent.meters.simulated import SimulatedMeter
from gateway_agent.protocol import MeterReading

START = datetime(2026, 6, 21, 0, 0, tzinfo=UTC)


def household_minus_pv(at: datetime) -> float:
    """800 W of load, minus a PV bell of 3 kW peak at noon: imports at night, exports at noon."""
    hour = at.hour + at.minute / 60
    pv = 3000 * max(0.0, math.sin(math.pi * (hour - 6) / 12))
    return 800 - pv


def day_night(at: datetime) -> str:
    return "1" if 7 <= at.hour < 22 else "2"


def a_day(seed: int) -> list[MeterReading]:
    meter = SimulatedMeter(household_minus_pv, seed=seed, registers=("1", "2"), tariff_at=day_night)
    return list(meter.readings(START, timedelta(minutes=1), count=24 * 60))


def test_same_seed_same_readings_other_seed_others() -> None:
    assert a_day(7) == a_day(7)
    assert a_day(7) != a_day(8)


def test_registers_only_increase_and_follow_the_power() -> None:
    day = a_day(7)
    for before, after in pairwise(day):
        for name in ("1", "2"):
            assert after.import_wh[name] >= before.import_wh[name]
            assert after.export_wh[name] >= before.export_wh[name]
    first, last = day[0], day[-1]
    exported = sum(last.export_wh.values()) - sum(first.export_wh.values())
    imported = sum(last.import_wh.values()) - sum(first.import_wh.values())
    # load 800 W x 24 h = 19.2 kWh; PV 3 kW x 24/pi h = 22.9 kWh, netted minute by minute
    assert exported > 0 and imported > 0
    assert imported - exported == pytest.approx(19_200 - 22_918, abs=60)
    noon = day[12 * 60]
    assert noon.export_w > 2000 and noon.import_w == 0 and noon.tariff == "1"
    assert day[60].tariff == "2" and day[60].import_w > 700


def test_readings_pass_the_wire_schema() -> None:
    three_phase = SimulatedMeter(household_minus_pv, seed=1, phases=3, meter_id="SIM-1")
    for reading in three_phase.readings(START, timedelta(hours=1), count=24):
        msgspec.json.decode(msgspec.json.encode(reading), type=MeterReading)
        assert len(reading.voltage_v) == len(reading.current_a) == 3
        assert all(207 <= volts <= 253 for volts in reading.voltage_v)


def test_time_must_not_go_back() -> None:
    meter = SimulatedMeter(lambda _at: 100.0, seed=1)
    meter.read(START)
    with pytest.raises(ValueError, match="time went back"):
        meter.read(START - timedelta(seconds=1))


def test_constant_power_for_an_hour() -> None:
    meter = SimulatedMeter(lambda _at: 1000.0, seed=3, noise_w=0.0)
    start, end = meter.read(START), meter.read(START + timedelta(hours=1))
    assert end.import_wh["1"] - start.import_wh["1"] in (999, 1000, 1001)
    assert end.export_wh == start.export_wh


def test_snapshot_and_restore_carry_the_registers_over_a_restart() -> None:
    before = SimulatedMeter(lambda _at: 500.0, seed=4, noise_w=0.0)
    before.read(START)
    first = before.read(START + timedelta(hours=1))
    after = SimulatedMeter(lambda _at: 500.0, seed=99, noise_w=0.0)
    after.restore(json.loads(json.dumps(before.snapshot())))
    second = after.read(START + timedelta(hours=2))
    assert second.import_wh["1"] - first.import_wh["1"] in (499, 500, 501)
