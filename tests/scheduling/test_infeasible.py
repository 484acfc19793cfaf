"""No plan: the reasons name the constraint, and the nearest plan bends only that."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from apps.scheduling.optimizer import (
    Appliance,
    Battery,
    EVCharge,
    Infeasible,
    Plan,
    Problem,
    Slot,
    SolverTimeLimit,
    TimeOfDayRange,
    WaterHeater,
    solve,
)

BRUSSELS = ZoneInfo("Europe/Brussels")
START = datetime(2026, 1, 14, 18, 0, tzinfo=BRUSSELS)  # 18:00 local, 17:00 UTC


def slots(hours: int = 16, base: float = 0.5, price: float = 0.3) -> list[Slot]:
    begin = START.astimezone(UTC)
    return [
        Slot(begin + timedelta(minutes=15 * i), price, 0.05, base_load_kw=base)
        for i in range(hours * 4)
    ]


def at(hour: int, minute: int = 0) -> datetime:
    day = START.date() + timedelta(days=1 if hour < 18 else 0)
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=BRUSSELS)


def problem(**kwargs: object) -> Problem:
    defaults: dict[str, object] = {
        "slots": slots(),
        "limit_kw": 9.2,
        "timezone": "Europe/Brussels",
    }
    return Problem(**{**defaults, **kwargs})  # type: ignore[arg-type]


def test_a_programme_longer_than_its_window() -> None:
    dishwasher = Appliance("dishwasher", [1.8] * 10, at(5), at(7))
    result = solve(problem(appliances=[dishwasher]))
    assert isinstance(result, Infeasible)
    assert result.reasons[0] == (
        "the dishwasher cannot finish by 07:00: its programme needs 2.5 h but the window is 2 h"
    )
    # The nearest plan still runs it, as little outside the window as possible.
    run = result.nearest.appliances["dishwasher"]
    assert run.end - run.start == timedelta(hours=2.5)
    assert [r.kind for r in result.relaxations] == ["appliance_window"]
    assert result.relaxations[0].amount == pytest.approx(0.5)


def test_an_ev_that_cannot_get_its_energy_by_departure() -> None:
    ev = EVCharge(40.0, 7.4, arrival=at(3), departure=at(7, 30), efficiency=1.0)
    result = solve(problem(ev=ev))
    assert isinstance(result, Infeasible)
    assert result.reasons[0].startswith("the EV cannot get 40 kWh by 07:30 at 7.4 kW")
    assert "at most 33.3 kWh" in result.reasons[0]
    # Nearest: full power for the whole stay.
    assert sum(result.nearest.ev_kw) / 4 == pytest.approx(33.3)
    assert max(result.nearest.ev_kw) == pytest.approx(7.4)


def test_quiet_hours_that_leave_no_room() -> None:
    washer = Appliance(
        "washing machine",
        [2.0, 0.3, 0.3, 0.5],
        at(22),
        at(7, 30),
        quiet_hours=[TimeOfDayRange(time(22), time(7))],
    )
    result = solve(problem(appliances=[washer]))
    assert isinstance(result, Infeasible)
    assert "the washing machine may not run in its quiet hours (22:00-07:00)" in result.reasons[0]
    assert {r.kind for r in result.relaxations} <= {"quiet_hours", "appliance_window"}


def test_a_base_load_the_contract_cannot_carry() -> None:
    heavy = slots(base=0.5)
    heavy[4:6] = [
        Slot(s.start, s.import_price, s.export_price, base_load_kw=3.4) for s in heavy[4:6]
    ]
    result = solve(problem(slots=heavy, limit_kw=3.0))
    assert isinstance(result, Infeasible)
    assert result.reasons == [
        "the contracted 3 kW limit cannot carry the base load alone in 19:00-19:30 "
        "(up to 3.4 kW net of PV)"
    ]
    assert [r.kind for r in result.relaxations] == ["limit"]


def test_the_battery_can_carry_what_the_contract_cannot() -> None:
    heavy = slots(base=0.5)
    heavy[4:6] = [
        Slot(s.start, s.import_price, s.export_price, base_load_kw=3.4) for s in heavy[4:6]
    ]
    battery = Battery(5.0, 2.0, 2.0, 2.0)
    plan = solve(problem(slots=heavy, limit_kw=3.0, battery=battery))
    assert isinstance(plan, Plan)
    assert max(plan.grid_import_kw) <= 3.0 + 1e-9


def test_loads_that_fit_alone_but_not_together_name_the_contract() -> None:
    # Two 2 kW programmes that must both run 18:00-18:15 under a 3 kW contract.
    oven = Appliance("oven", [2.0], at(18), at(18, 15))
    dryer = Appliance("dryer", [2.0], at(18), at(18, 15))
    ev = EVCharge(10.0, 3.0, arrival=at(18), departure=at(20), efficiency=1.0)
    result = solve(problem(appliances=[oven, dryer], ev=ev, limit_kw=3.0))
    assert isinstance(result, Infeasible)
    text = " | ".join(result.reasons)
    assert "under the contracted 3 kW limit" in text
    kinds = {r.kind for r in result.relaxations}
    assert "appliance_window" in kinds and "ev_energy" in kinds
    # The nearest plan never overloads: it bends deadlines and targets instead.
    assert max(result.nearest.grid_import_kw) <= 3.0 + 1e-9


def test_an_appliance_the_contract_cannot_carry_at_any_start() -> None:
    kettle = Appliance("sauna", [4.0, 4.0], at(18), at(22))
    result = solve(problem(appliances=[kettle], limit_kw=3.0))
    assert isinstance(result, Infeasible)
    assert result.reasons[0] == (
        "the contracted 3 kW limit cannot carry the base load plus the sauna (4 kW) at any "
        "allowed start"
    )
    assert any(r.kind == "limit" for r in result.relaxations)


def test_a_water_heater_with_too_short_windows() -> None:
    heater = WaterHeater(12.0, 2.4, [(at(1), at(5))])
    result = solve(problem(water_heater=heater))
    assert isinstance(result, Infeasible)
    assert result.reasons[0].startswith(
        "the water heater cannot get 12 kWh in its windows at 2.4 kW: at most 9.6 kWh"
    )


def test_a_battery_asked_to_end_fuller_than_it_can() -> None:
    battery = Battery(10.0, 1.0, 1.0, 0.0, final_soc_kwh=12.0)
    result = solve(problem(battery=battery))
    assert isinstance(result, Infeasible)
    assert result.reasons[0] == "the battery cannot end with 12 kWh: its capacity is 10 kWh"
    assert result.nearest.battery_soc_kwh[-1] == pytest.approx(10.0)


def test_a_programme_longer_than_the_horizon_is_left_out_of_the_nearest_plan() -> None:
    endless = Appliance("kiln", [1.0] * 80)
    result = solve(problem(appliances=[endless]))
    assert isinstance(result, Infeasible)
    assert "kiln" not in result.nearest.appliances
    assert [r.kind for r in result.relaxations] == ["appliance_skipped"]


def test_the_time_limit_is_a_clear_error() -> None:
    many = [Appliance(f"a{i}", [1.0, 2.0, 0.5, 1.5], at(18), at(9)) for i in range(6)]
    prices = [
        Slot(s.start, 0.2 + 0.1 * ((i * 7) % 5), 0.05, base_load_kw=0.5)
        for i, s in enumerate(slots())
    ]
    with pytest.raises(SolverTimeLimit, match="did not prove a plan optimal within"):
        solve(problem(slots=prices, appliances=many, limit_kw=4.0), time_limit_s=1e-6)
