"""The MILP is exact (it equals enumeration) and its plans break no constraint."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from apps.scheduling.optimizer import Infeasible, Plan, Problem, check_plan, solve
from apps.scheduling.optimizer.bruteforce import brute_force_cost

from .instances import problems

PROPERTY = settings(
    max_examples=120,
    deadline=None,
    database=None,  # leave no .hypothesis directory in the checkout
    suppress_health_check=[HealthCheck.too_slow],
)


@PROPERTY
@given(problems())
def test_the_milp_optimum_equals_the_brute_force_optimum(problem: Problem) -> None:
    expected = brute_force_cost(problem)
    result = solve(problem)
    if expected is None:
        assert isinstance(result, Infeasible)
        assert result.reasons
    else:
        assert isinstance(result, Plan), getattr(result, "reasons", None)
        assert result.total_cost == pytest.approx(expected, abs=1e-6)


@PROPERTY
@given(problems())
def test_a_plan_never_breaks_a_constraint(problem: Problem) -> None:
    result = solve(problem)
    if isinstance(result, Plan):
        assert check_plan(problem, result) == []
        assert result.saving == pytest.approx(result.baseline_cost - result.total_cost)
    else:
        # The nearest plan bends only the constraints it names.
        assert result.relaxations or result.reasons
