"""The Belgian capacity charge: a high rate spreads load under the month's peak."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from apps.scheduling.optimizer import (
    Appliance,
    CapacityCharge,
    EVCharge,
    Plan,
    Problem,
    Slot,
    check_plan,
    solve,
    start_now,
)

BEGIN = datetime(2026, 2, 2, 0, 0, tzinfo=UTC)


def household(capacity: CapacityCharge | None) -> Problem:
    # Slot 0 is the cheapest: without a capacity charge everything piles into it.
    prices = [0.10, 0.20, 0.20, 0.20, 0.20, 0.20, 0.20, 0.20]
    return Problem(
        slots=[
            Slot(BEGIN + timedelta(minutes=15 * i), p, 0.0, base_load_kw=0.5)
            for i, p in enumerate(prices)
        ],
        limit_kw=9.2,
        appliances=[Appliance("dishwasher", [2.0]), Appliance("dryer", [2.0])],
        ev=EVCharge(1.0, 4.0, efficiency=1.0),
        capacity=capacity,
    )


def test_a_high_capacity_rate_spreads_the_load() -> None:
    cheap = solve(household(None))
    assert isinstance(cheap, Plan)
    assert cheap.appliances["dishwasher"].start_slot == cheap.appliances["dryer"].start_slot == 0
    assert cheap.costs.peak_import_kw == pytest.approx(8.5)

    problem = household(CapacityCharge(rate_per_kw=5.0, floor_kw=2.5))
    spread = solve(problem)
    assert isinstance(spread, Plan)
    assert check_plan(problem, spread) == []
    assert spread.appliances["dishwasher"].start_slot != spread.appliances["dryer"].start_slot
    # 0.5 kW base + one 2 kW programme = 2.5 kW: exactly the floor, nothing to pay.
    assert spread.costs.peak_import_kw == pytest.approx(2.5)
    assert spread.costs.capacity_cost == pytest.approx(0.0)


def test_a_peak_already_set_this_month_is_free_to_use() -> None:
    plan = solve(household(CapacityCharge(rate_per_kw=5.0, floor_kw=9.0)))
    assert isinstance(plan, Plan)
    assert plan.costs.peak_import_kw == pytest.approx(8.5)
    assert plan.costs.capacity_cost == 0.0


def test_the_baseline_pays_the_capacity_charge_on_its_peak() -> None:
    problem = household(CapacityCharge(rate_per_kw=5.0, floor_kw=2.5))
    baseline = start_now(problem)
    # Everything starts at once: 0.5 + 2 + 2 + 4 kW = 8.5 kW, 6 kW over the floor.
    assert baseline.costs.capacity_cost == pytest.approx(5.0 * 6.0)
    plan = solve(problem)
    assert isinstance(plan, Plan)
    assert plan.baseline_cost == pytest.approx(baseline.costs.total)
    assert plan.saving > 25.0
