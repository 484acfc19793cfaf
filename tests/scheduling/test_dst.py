"""Windows in Brussels local time map to the right UTC slots across both DST changes."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from apps.scheduling.optimizer import (
    Appliance,
    EVCharge,
    Plan,
    Problem,
    TimeOfDayRange,
    check_plan,
    day_slots,
    solve,
)
from apps.scheduling.optimizer.problem import appliance_starts

BRUSSELS = ZoneInfo("Europe/Brussels")


def local(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), BRUSSELS)


def night_prices(day: date) -> list[float]:
    """Two-rate time of use: 0.20 by night (22:00-07:00 local), 0.35 by day."""
    slots = day_slots(day, "Europe/Brussels")
    return [0.20 if not 7 <= s.start.astimezone(BRUSSELS).hour < 22 else 0.35 for s in slots]


def two_days(first: date) -> list:
    second = date.fromordinal(first.toordinal() + 1)
    return [
        *day_slots(first, "Europe/Brussels", import_price=night_prices(first), base_load_kw=0.3),
        *day_slots(second, "Europe/Brussels", import_price=night_prices(second), base_load_kw=0.3),
    ]


@pytest.mark.parametrize(
    ("day", "quarters"),
    [(date(2026, 3, 29), 92), (date(2026, 6, 10), 96), (date(2026, 10, 25), 100)],
)
def test_a_local_day_has_its_real_number_of_quarter_hours(day: date, quarters: int) -> None:
    slots = day_slots(day, "Europe/Brussels")
    assert len(slots) == quarters
    assert slots[0].start.astimezone(BRUSSELS) == local(day, 0)
    assert slots[-1].end.astimezone(BRUSSELS) == local(date.fromordinal(day.toordinal() + 1), 0)


@pytest.mark.parametrize(
    ("evening", "night_quarters"),
    [(date(2026, 3, 28), 32), (date(2026, 6, 9), 36), (date(2026, 10, 24), 40)],
)
def test_a_22_to_07_window_gets_the_nights_real_length(evening: date, night_quarters: int) -> None:
    morning = date.fromordinal(evening.toordinal() + 1)
    problem = Problem(
        slots=two_days(evening),
        limit_kw=9.2,
        timezone="Europe/Brussels",
        appliances=[
            # The same night twice: as an absolute window, and as quiet hours 07:00-22:00
            # over a horizon that holds just that night (noon to noon).
            Appliance("by window", [1.0], local(evening, 22), local(morning, 7)),
            Appliance(
                "by quiet hours",
                [1.0],
                local(evening, 12),
                local(morning, 12),
                quiet_hours=[TimeOfDayRange(time(7), time(22))],
            ),
        ],
    )
    for appliance in problem.appliances:
        assert len(appliance_starts(problem, appliance)) == night_quarters
    # A 2-hour programme has night_quarters - 7 starts that finish inside the night.
    two_hours = Appliance("long", [1.0] * 8, local(evening, 22), local(morning, 7))
    assert len(appliance_starts(problem, two_hours)) == night_quarters - 7


@pytest.mark.parametrize("day", [date(2026, 3, 29), date(2026, 10, 25)])
def test_dst_days_are_planned_in_full(day: date) -> None:
    slots = day_slots(day, "Europe/Brussels", import_price=night_prices(day), base_load_kw=0.3)
    problem = Problem(
        slots=slots,
        limit_kw=5.0,
        timezone="Europe/Brussels",
        appliances=[
            Appliance("dishwasher", [2.0, 0.3, 0.3, 2.0, 0.5], latest_end=local(day, 12)),
            Appliance(
                "washing machine",
                [2.0, 0.3, 0.3, 0.5],
                quiet_hours=[TimeOfDayRange(time(22), time(7))],
            ),
        ],
        # 00:00-07:00 local is 6 h on 29 March: 6 h x 3.7 kW x 0.9 = 19.98 kWh at most.
        ev=EVCharge(15.0, 3.7, arrival=local(day, 0), departure=local(day, 7)),
    )
    plan = solve(problem)
    assert isinstance(plan, Plan)
    assert len(plan.grid_import_kw) == len(slots)
    assert check_plan(problem, plan) == []
    # The dishwasher takes the night rate; the washing machine, barred from the night,
    # runs in the day: its start is on or after 07:00 local even on the DST days.
    dishwasher = plan.appliances["dishwasher"].start.astimezone(BRUSSELS)
    assert dishwasher.hour < 7
    washer = plan.appliances["washing machine"]
    assert washer.start.astimezone(BRUSSELS).hour >= 7
    assert washer.end.astimezone(BRUSSELS) <= local(day, 22)
    assert plan.saving >= -1e-9
