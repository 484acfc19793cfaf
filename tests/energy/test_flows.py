"""Flows and selectors: PV self-consumption, battery, the untracked remainder, gaps."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from apps.energy import selectors
from tests.energy.helpers import device, meter, store
from tests.factories import DeviceFactory, HouseholdFactory

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 6, 10, 10, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


@pytest.fixture
def home() -> Any:
    return HouseholdFactory(timezone="Europe/Brussels")


def one_hour(home: Any, **meter_power: Any) -> None:
    store(meter(home, T0 - HOUR, T0 + 2 * HOUR, **meter_power), roll=home)


def flows_at(home: Any, resolution: str = "1h") -> Any:
    return selectors.flows_series(household=home, start=T0, end=T0 + HOUR, resolution=resolution)[0]


def test_pv_battery_and_untracked_remainder(home: Any) -> None:
    pv = DeviceFactory(household=home, kind="pv_inverter")
    battery = DeviceFactory(household=home, kind="battery")
    boiler = DeviceFactory(household=home, kind="water_heater")
    span = (T0 - HOUR, T0 + 2 * HOUR)
    store(
        device(pv.pk, home, *span, power_w=lambda t: 3000)
        + device(battery.pk, home, *span, power_w=lambda t: 500)  # charging
        + device(boiler.pk, home, *span, power_w=lambda t: 1000)
    )
    one_hour(home, import_w=lambda t: 200, export_w=lambda t: 1200)
    flows = flows_at(home)
    assert (flows.grid_import_wh, flows.grid_export_wh, flows.pv_wh) == (200, 1200, 3000)
    assert (flows.battery_charge_wh, flows.battery_discharge_wh) == (500, 0)
    assert flows.house_consumption_wh == 200 + 3000 - 1200 - 500
    assert flows.self_consumed_wh == 1800
    assert flows.self_consumption_ratio == pytest.approx(0.6)
    assert flows.self_sufficiency == pytest.approx(1 - 200 / 1500)
    assert flows.devices == {boiler.pk: 1000}
    assert (flows.untracked_wh, flows.clamped, flows.complete, flows.gaps) == (500, False, True, ())


def test_battery_discharge_is_negative_power(home: Any) -> None:
    battery = DeviceFactory(household=home, kind="battery")
    store(device(battery.pk, home, T0 - HOUR, T0 + 2 * HOUR, power_w=lambda t: -600))
    one_hour(home, import_w=lambda t: 100)
    flows = flows_at(home)
    assert (flows.battery_charge_wh, flows.battery_discharge_wh) == (0, 600)
    assert flows.house_consumption_wh == 700
    assert flows.self_consumption_ratio is None  # no PV: no ratio rather than 0/0


def test_untracked_is_never_negative(home: Any) -> None:
    heater = DeviceFactory(household=home, kind="heat_pump")
    store(device(heater.pk, home, T0 - HOUR, T0 + 2 * HOUR, power_w=lambda t: 1250))
    one_hour(home, import_w=lambda t: 1200)  # the plug reads a little high
    flows = flows_at(home)
    assert (flows.untracked_wh, flows.clamped) == (0, True)


def test_gaps_are_reported_and_nothing_is_estimated(home: Any) -> None:
    plug = DeviceFactory(household=home, kind="smart_plug")
    readings = device(plug.pk, home, T0 - HOUR, T0 + 2 * HOUR, power_w=lambda t: 100)
    hole = (T0 + timedelta(minutes=20), T0 + timedelta(minutes=40))
    store([r for r in readings if not hole[0] < r.time < hole[1]])
    one_hour(home)
    flows = flows_at(home)
    assert flows.house_consumption_wh == 1200  # the meter is complete
    assert flows.untracked_wh is None and not flows.complete
    assert flows.gaps == (str(plug.pk),)
    later = selectors.flows_series(
        household=home, start=T0 + 3 * HOUR, end=T0 + 4 * HOUR, resolution="15m"
    )
    assert len(later) == 4  # no data at all: four gap quarters, not zeros that look measured
    assert all(f.gaps[0] == "meter" and f.house_consumption_wh is None for f in later)


def test_series_fill_missing_periods_as_gaps(home: Any) -> None:
    one_hour(home)
    rows = selectors.household_series(household=home, start=T0, end=T0 + 4 * HOUR, resolution="1h")
    assert [r.start for r in rows] == [T0 + n * HOUR for n in range(4)]
    assert [r.complete for r in rows] == [True, True, False, False]
    assert rows[3].gap_quarters == 4 and rows[3].pk is None


def test_period_bounds_follow_the_local_calendar() -> None:
    home = HouseholdFactory(timezone="Europe/Brussels")
    zone = ZoneInfo("Europe/Brussels")

    def local(*args: int) -> datetime:
        return datetime(*args, tzinfo=zone).astimezone(UTC)

    bounds = selectors.period_bounds
    assert bounds(household=home, period="day", containing=date(2026, 3, 29)) == (
        local(2026, 3, 29),
        local(2026, 3, 30),
    )
    assert bounds(household=home, period="week", containing=date(2026, 10, 29)) == (
        local(2026, 10, 26),  # a Monday
        local(2026, 11, 2),
    )
    assert bounds(household=home, period="month", containing=date(2026, 12, 5)) == (
        local(2026, 12, 1),
        local(2027, 1, 1),
    )
    assert bounds(household=home, period="year", containing=date(2026, 5, 5)) == (
        local(2026, 1, 1),
        local(2027, 1, 1),
    )
