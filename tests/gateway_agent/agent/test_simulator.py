"""Simulator profiles: energies over a day within what real homes and panels do."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from gateway_agent.config import LocationConfig, parse
from gateway_agent.simulator.household import SimulatedHousehold
from gateway_agent.simulator.profiles import BaseLoad, PVOutput, daily_energy_kwh

BRUSSELS = LocationConfig(latitude=50.85, longitude=4.35, altitude_m=60, timezone="Europe/Brussels")


def test_a_4_kwp_system_yields_25_to_32_kwh_on_a_clear_june_day_in_brussels() -> None:
    pv = PVOutput(
        BRUSSELS, kwp=4.0, tilt_deg=35, azimuth_deg=180, inverter_w=3600, seed=1, clear_sky=True
    )
    assert 25 <= daily_energy_kwh(pv.power_w, date(2025, 6, 21), "Europe/Brussels") <= 32
    noon = datetime(2025, 6, 21, 11, 45, tzinfo=UTC)
    assert 2500 < pv.power_w(noon) <= 3600
    assert pv.power_w(datetime(2025, 6, 21, 1, 0, tzinfo=UTC)) == 0


def test_clouds_take_energy_away_deterministically() -> None:
    def cloudy(seed: int) -> PVOutput:
        return PVOutput(BRUSSELS, kwp=4, tilt_deg=35, azimuth_deg=180, inverter_w=3600, seed=seed)

    days = [date(2025, 6, day) for day in range(1, 15)]
    yields = [daily_energy_kwh(cloudy(5).power_w, day, step_s=600) for day in days]
    assert yields == [daily_energy_kwh(cloudy(5).power_w, day, step_s=600) for day in days]
    assert min(yields) < 20 and max(yields) > 24  # some grey days, some clear ones


def test_a_winter_day_yields_far_less_than_a_summer_day() -> None:
    pv = PVOutput(
        BRUSSELS, kwp=4, tilt_deg=35, azimuth_deg=180, inverter_w=3600, seed=1, clear_sky=True
    )
    december = daily_energy_kwh(pv.power_w, date(2025, 12, 21), step_s=300)
    assert 3 < december < 15


@pytest.mark.parametrize(
    ("day", "low", "high"), [(date(2025, 1, 15), 1.0, 1.35), (date(2025, 7, 15), 0.7, 1.0)]
)
def test_the_bdew_base_load_gives_annual_over_365_with_its_seasonal_factor(
    day: date, low: float, high: float
) -> None:
    load = BaseLoad(annual_kwh=3650, timezone="Europe/Brussels", seed=2)
    energy = daily_energy_kwh(load.power_w, day, "Europe/Brussels")
    assert low * 10 <= energy <= high * 10  # 3650 kWh a year is 10 kWh a day on average


def test_the_base_load_has_an_evening_peak_and_a_night_trough() -> None:
    load = BaseLoad(annual_kwh=3500, timezone="Europe/Brussels", seed=2)
    evening = load.mean_power_w(datetime(2025, 1, 15, 18, 30, tzinfo=UTC))
    night = load.mean_power_w(datetime(2025, 1, 15, 2, 30, tzinfo=UTC))
    assert evening > 2 * night


def household_config(state_dir: Path, **simulation: object) -> object:
    return parse(
        {
            "server_url": "http://127.0.0.1:1",
            "serial": "HEB-SIM-0001",
            "claim_code": "CLAIMCODE",
            "state_dir": str(state_dir),
            "meter": {"source": "simulated", "protocol": "p1-be"},
            "simulation": {"seed": 4, "clear_sky": True, **simulation},
            "devices": [
                {"id": str(uuid.uuid4()), "kind": "pv_inverter", "rated_w": 3600, "kwp": 4.0},
                {"id": str(uuid.uuid4()), "kind": "appliance", "rated_w": 2000},
            ],
        }
    )


def test_the_meter_sees_base_plus_appliances_minus_pv(tmp_path: Path) -> None:
    household = SimulatedHousehold(household_config(tmp_path), tmp_path)  # type: ignore[arg-type]
    start = datetime(2025, 6, 18, 0, 0, tzinfo=UTC)  # a Wednesday
    first = household.meter_reading(start)
    readings = [household.meter_reading(start + timedelta(minutes=m)) for m in range(0, 1441, 15)]
    last = readings[-1]
    imported = sum(last.import_wh.values()) - sum(first.import_wh.values())
    exported = sum(last.export_wh.values()) - sum(first.export_wh.values())
    assert exported > 10_000  # a sunny June day with a 4 kWp system exports most of its yield
    assert 2_000 < imported < 15_000
    assert any(r.export_w > 0 for r in readings) and any(r.import_w > 0 for r in readings)
    for earlier, later in itertools.pairwise(readings):
        for register, value in later.import_wh.items():
            assert value >= earlier.import_wh[register]  # cumulative: never backwards


def test_a_restarted_household_continues_its_registers(tmp_path: Path) -> None:
    config = household_config(tmp_path)
    start = datetime(2025, 6, 18, 20, 0, tzinfo=UTC)
    before = SimulatedHousehold(config, tmp_path).meter_reading(start + timedelta(hours=1))  # type: ignore[arg-type]
    after = SimulatedHousehold(config, tmp_path).meter_reading(start + timedelta(hours=2))  # type: ignore[arg-type]
    assert all(after.import_wh[r] >= v for r, v in before.import_wh.items())
    assert sum(after.import_wh.values()) - sum(before.import_wh.values()) < 5_000
