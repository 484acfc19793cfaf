"""A charger charges at its minimum rate or not at all (no 80 W top-up quarters)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from apps.scheduling.optimizer import EVCharge, Plan, Problem, Slot, check_plan, solve

START = datetime(2026, 12, 2, 21, 0, tzinfo=UTC)


def night(prices: list[float]) -> list[Slot]:
    return [
        Slot(START + timedelta(minutes=15 * t), import_price=p, export_price=0.0)
        for t, p in enumerate(prices)
    ]


def test_the_last_quarter_is_charged_at_the_minimum_or_not_at_all() -> None:
    # 5 kWh into the car at 0.9: 5.56 kWh drawn; 7.4 kW gives 1.85 kWh a quarter, so three
    # full quarters leave 0.0 and a free solver would spread the rest thin.
    ev = EVCharge(target_kwh=5.0, max_kw=7.4, efficiency=0.9, min_kw=1.4)
    problem = Problem(slots=night([0.30, 0.10, 0.10, 0.10, 0.10, 0.30]), limit_kw=9.2, ev=ev)
    plan = solve(problem)
    assert isinstance(plan, Plan)
    assert check_plan(problem, plan) == []
    assert all(kw == 0 or kw >= 1.4 - 1e-6 for kw in plan.ev_kw), plan.ev_kw
    assert sum(plan.ev_kw) * 0.25 * 0.9 == __import__("pytest").approx(5.0)
    assert plan.ev_kw[0] == plan.ev_kw[-1] == 0  # only the cheap quarters


def test_check_plan_names_a_quarter_under_the_minimum() -> None:
    ev = EVCharge(target_kwh=1.0, max_kw=7.4, efficiency=1.0, min_kw=1.4)
    problem = Problem(slots=night([0.1] * 4), limit_kw=9.2, ev=ev)
    plan = solve(problem)
    assert isinstance(plan, Plan)
    thin = Plan(**{**plan.__dict__, "ev_kw": [1.0, 1.0, 1.0, 1.0]})
    assert any("under its 1.4 kW minimum" in e for e in check_plan(problem, thin))
