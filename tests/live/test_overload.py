"""The overload predictor: the trip model, the levels, and a recorded household's power trace."""

from __future__ import annotations

import csv
import math
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from apps.live.overload import Level, Load, Thermal, assess
from gateway_agent.tripmodel import (
    CURVES,
    advance,
    fuse_limit,
    linky_limit,
    seconds_to_trip,
)
from tests.gateway_agent.meters.samples import sample_path

T0 = datetime(2026, 11, 28, 18, 0, tzinfo=UTC)
ECO_TRACE = "load/eco_household2_15min_power_2012-06__adem_train_90.csv"


# The trip model -------------------------------------------------------------------------


def test_a_sustained_overrun_trips_a_3_kva_linky_after_about_two_minutes() -> None:
    limit = linky_limit(3)
    assert seconds_to_trip(0.0, limit.ratio(4300), limit.curve) == pytest.approx(125, abs=1)
    assert seconds_to_trip(0.0, limit.ratio(3300), limit.curve) == math.inf  # tolerated
    assert limit.sustained_va == pytest.approx(3000 * math.sqrt(1.3))


def test_a_fuse_holds_its_conventional_current_and_trips_at_1_45_times_within_the_hour() -> None:
    fuse = fuse_limit(40)
    assert seconds_to_trip(0.0, 1.12, fuse.curve) == math.inf
    assert 0 < seconds_to_trip(0.0, 1.45, fuse.curve) < 3600


@given(
    theta=st.floats(0, 1.2),
    ratio=st.floats(1.2, 4),
    kind=st.sampled_from(sorted(CURVES)),
)
def test_the_time_to_trip_is_when_the_state_reaches_the_trip_level(
    theta: float, ratio: float, kind: str
) -> None:
    curve = CURVES[kind]
    seconds = seconds_to_trip(theta, ratio, curve)
    assert advance(theta, ratio, seconds, curve) == pytest.approx(curve.trip_level, rel=1e-9)


def test_a_phase_fuse_trips_on_its_own_current_and_a_linky_on_the_total() -> None:
    three_phase = fuse_limit(25, phases=3)
    assert three_phase.reading_ratio(6000, [230, 230, 230], [26.0, 0.5, 0.5]) == pytest.approx(
        26 / 25
    )
    linky = linky_limit(6)
    # V x I where the meter sends them: the apparent power the Linky limits.
    assert linky.reading_ratio(5000, [230.0], [26.0]) == pytest.approx(230 * 26 / 6000)
    assert linky.reading_ratio(5000, [], []) == pytest.approx(5000 / 6000)


# Levels and advice ----------------------------------------------------------------------


def test_below_90_percent_all_is_well() -> None:
    result = assess(limit=linky_limit(3), thermal=Thermal(), load_va=2600, now=T0)
    assert result.level is Level.OK
    assert result.switch_off == ()


def test_at_90_percent_the_household_is_warned_and_told_what_to_switch_off() -> None:
    running = [
        Load("kettle", "Kettle", 2000),
        Load("heater", "Water heater", 1200, controllable=True),
        Load("tv", "TV", 100),
    ]
    result = assess(limit=linky_limit(3), thermal=Thermal(), load_va=2800, now=T0, running=running)
    assert result.level is Level.WARNING
    assert result.trip_in_s == math.inf
    # The controllable water heater first: it alone brings the load under 90 %.
    assert [d.name for d in result.switch_off] == ["Water heater"]


def test_an_overrun_is_critical_with_the_minutes_left() -> None:
    running = [Load("ev", "EV charger", 3700, controllable=True), Load("oven", "Oven", 2200)]
    result = assess(limit=linky_limit(6), thermal=Thermal(), load_va=7500, now=T0, running=running)
    assert result.level is Level.CRITICAL
    assert result.trip_in_s == pytest.approx(125 * math.log(1.5625 / (1.5625 - 1.3)), rel=1e-6)
    assert [d.name for d in result.switch_off] == ["EV charger"]


def test_a_scheduled_appliance_that_would_trip_the_supply_is_named_to_postpone() -> None:
    dishwasher = Load(
        "dw", "Dishwasher", 2000, controllable=True, starts_at=T0 + timedelta(minutes=10)
    )
    later = Load("wm", "Washing machine", 2000, starts_at=T0 + timedelta(hours=2))
    result = assess(
        limit=linky_limit(6), thermal=Thermal(), load_va=5200, now=T0, scheduled=[dishwasher, later]
    )
    assert result.trip_in_s == math.inf  # not at this rate ...
    assert result.level is Level.CRITICAL  # ... but once the dishwasher starts
    assert 600 < result.scheduled_trip_in_s < 900
    assert [d.name for d in result.postpone] == ["Dishwasher"]


def test_the_thermal_state_remembers_a_recent_overrun() -> None:
    limit = linky_limit(3)
    hot = Thermal()
    hot.update(T0, limit.ratio(4000), limit)
    hot.update(T0 + timedelta(seconds=90), limit.ratio(4000), limit)
    fresh = assess(limit=limit, thermal=Thermal(), load_va=4000, now=T0)
    warm = assess(limit=limit, thermal=hot, load_va=4000, now=T0 + timedelta(seconds=90))
    assert warm.trip_in_s < fresh.trip_in_s - 60


def test_a_late_reading_does_not_move_the_state_back() -> None:
    limit = linky_limit(3)
    thermal = Thermal()
    thermal.update(T0, 1.5, limit)
    thermal.update(T0 + timedelta(seconds=60), 1.5, limit)
    before = thermal.theta
    thermal.update(T0 + timedelta(seconds=30), 0.0, limit)
    assert (thermal.theta, thermal.time) == (before, T0 + timedelta(seconds=60))


# A recorded household ------------------------------------------------------------------


def eco_trace() -> list[tuple[datetime, float]]:
    """ECO household 2 (Switzerland), June 2012: 15-min mean power of its three phases."""
    with sample_path(ECO_TRACE).open() as f:
        rows = list(csv.reader(f))
    trace = []
    for row in rows[1:]:
        phases = [float(v) for v in row[1:4] if v]
        trace.append((datetime.fromisoformat(row[0]).astimezone(UTC), sum(phases)))
    return trace


def linky_reference_trips(powers: list[float], limit_va: float) -> list[int]:
    """The seconds at which a Linky cuts, with its filter as Enedis describes it, run second by
    second: Y = B X^2 + (1 - B) Y, cut when Y passes 1.3 times the subscribed power squared.
    Independent of tripmodel's closed form. After a cut the supply is re-armed (Y = 0)."""
    b, threshold = 0.008, 1.3 * limit_va**2
    y, trips = 0.0, []
    for second, x in enumerate(powers):
        y = b * x * x + (1 - b) * y
        if y >= threshold:
            trips.append(second)
            y = 0.0
    return trips


def test_on_a_recorded_trace_every_trip_is_predicted_ahead_and_the_countdown_holds() -> None:
    """The household's June on a 2 kVA Linky (its peaks reach 3 kW). Readings every minute
    (15-min means held, as the box would see a steady load); the reference cuts at the
    second. The first reading after the load step that causes each cut must predict it as
    critical, with a countdown right to the minute; most cuts are announced minutes ahead."""
    trace = eco_trace()
    limit = linky_limit(2)
    per_second = [p for _, p in trace for _ in range(900)]
    trips = linky_reference_trips(per_second, limit.limit_va)
    assert len(trips) >= 3, "the trace must overload this contract a few times"

    thermal, predictions = Thermal(), []
    for minute in range(len(per_second) // 60):
        power = per_second[minute * 60]
        now = T0 + timedelta(minutes=minute)
        thermal.update(now, limit.ratio(power), limit)
        result = assess(limit=limit, thermal=thermal, load_va=power, now=now)
        predictions.append((minute * 60, power, result))
        if any(minute * 60 <= t < minute * 60 + 60 for t in trips):
            thermal = Thermal(time=now, ratio=limit.ratio(power))  # the supply was cut

    first_cuts = ahead = 0
    for previous, trip in zip([-1, *trips], trips, strict=False):
        step = trip  # the start of the steady load that causes this cut
        while step > previous + 1 and per_second[step - 1] == per_second[trip]:
            step -= 1
        seen = [(s, r) for s, _, r in predictions if step <= s < trip]
        assert seen, f"no reading between the load step at {step} s and the cut at {trip} s"
        second, result = seen[0]
        assert result.level is Level.CRITICAL, f"the cut at {trip} s was not predicted"
        assert abs(second + result.trip_in_s - trip) <= 60, "the countdown is off by > 1 min"
        if step > previous + 1:  # not a re-armed supply cut again by the same load
            first_cuts += 1
            ahead += trip - second >= 120
    assert ahead >= first_cuts / 2, "most cuts are announced at least two minutes ahead"

    false_alarms = [
        s for s, p, r in predictions
        if p < 0.9 * limit.limit_va and r.level != "ok" and r.trip_in_s == math.inf
    ]  # fmt: skip
    assert not false_alarms, "below 90 % of a cool breaker the household is never warned"
    assert sum(r.level != "ok" for _, _, r in predictions) > len(trips)
