"""An independent exact optimum for small problems, to check the MILP against.

Enumeration, not branch and bound over the MILP: every combination of allowed appliance
starts is tried. What is left once the starts are fixed (EV, water heater, battery, grid,
capacity peak) is continuous, so it is an LP, solved exactly by HiGHS's simplex. The only
non-convex part of that remainder is "never charge and discharge (import and export) in
the same slot"; it is enumerated too, lazily: when the LP's optimum does both in some
slot, the slot is split into its two modes (one side forced to 0) and each is solved in
turn. Every exact plan lies in one of the branches and every leaf is exact, so the
minimum over leaves is the exact optimum. An LP bound above the best leaf prunes.

The LP is written here again, with highspy's expression API rather than the array
builder of milp.py, so one modelling slip cannot hide in both.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import highspy

from .model import _new_highs
from .problem import Problem, appliance_starts, ev_available, water_heater_available

TOL = 1e-6


class _Remainder:
    """The continuous part of the problem for fixed appliance loads."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        h = self.h = _new_highs()
        h.setOptionValue("output_flag", False)
        slots = problem.slots
        n = len(slots)
        exp_ub = highspy.kHighsInf if problem.export_limit_kw is None else problem.export_limit_kw
        self.imp = [
            h.addVariable(0, problem.limit_kw, s.import_price * s.duration_h) for s in slots
        ]
        self.exp = [h.addVariable(0, exp_ub, -s.export_price * s.duration_h) for s in slots]
        curt_ok = problem.allow_pv_curtailment
        self.curt = [h.addVariable(0, s.pv_kw if curt_ok else 0.0) for s in slots]
        ev, wh, b = problem.ev, problem.water_heater, problem.battery
        ev_ok, wh_ok = ev_available(problem), water_heater_available(problem)
        self.ev = [h.addVariable(0, ev.max_kw if ev and ev_ok[t] else 0.0) for t in range(n)]
        self.wh = [h.addVariable(0, wh.max_kw if wh and wh_ok[t] else 0.0) for t in range(n)]
        self.ch = [h.addVariable(0, b.max_charge_kw if b else 0.0) for _ in range(n)]
        self.dis = [h.addVariable(0, b.max_discharge_kw if b else 0.0) for _ in range(n)]
        if ev is not None:
            h.addConstr(
                sum(self.ev[t] * (ev.efficiency * slots[t].duration_h) for t in range(n))
                == ev.target_kwh
            )
        if wh is not None:
            h.addConstr(sum(self.wh[t] * slots[t].duration_h for t in range(n)) == wh.energy_kwh)
        if b is not None:
            level: Any = b.initial_soc_kwh  # becomes a highspy expression
            for t, s in enumerate(slots):
                # The level after slot t as an expression of every slot up to t.
                level = level + self.ch[t] * (b.charge_efficiency * s.duration_h)
                level = level - self.dis[t] * (s.duration_h / b.discharge_efficiency)
                h.addConstr(level >= b.min_soc_kwh)
                h.addConstr(level <= b.capacity_kwh)
            h.addConstr(level >= b.final_target_kwh)
        self.offset = 0.0
        if problem.capacity is not None and problem.capacity.rate_per_kw > 0:
            floor = problem.capacity.effective_floor_kw
            peak = h.addVariable(floor, highspy.kHighsInf, problem.capacity.rate_per_kw)
            self.offset = -problem.capacity.rate_per_kw * floor
            for t in range(n):
                h.addConstr(self.imp[t] <= peak)
        self.balance = []
        for t in range(n):
            flows = self.imp[t] - self.exp[t] - self.ev[t] - self.wh[t] - self.ch[t]
            flows = flows + self.dis[t] - self.curt[t]
            self.balance.append(h.addConstr(flows == 0.0))

    def set_load(self, fixed_kw: list[float]) -> None:
        """Base load minus PV plus the appliances, the right-hand side of each balance."""
        for t, s in enumerate(self.problem.slots):
            rhs = s.base_load_kw - s.pv_kw + fixed_kw[t]
            self.h.changeRowBounds(self.balance[t].index, rhs, rhs)

    def _solve(self) -> float | None:
        self.h.run()
        if self.h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return None
        return self.h.getInfo().objective_function_value + self.offset

    def _both_on(self) -> tuple[highspy.highs_var, highspy.highs_var] | None:
        value = self.h.getSolution().col_value
        for a, b in itertools.chain(
            zip(self.ch, self.dis, strict=True), zip(self.imp, self.exp, strict=True)
        ):
            if value[a.index] > TOL and value[b.index] > TOL:
                return a, b
        return None

    def best(self, incumbent: float) -> float:
        """Exact optimum of this remainder (or `incumbent` if it cannot beat it)."""
        bound = self._solve()
        if bound is None or bound >= incumbent - 1e-9:
            return incumbent
        pair = self._both_on()
        if pair is None:
            return bound
        for var in pair:  # the slot's two modes: this side off, then the other
            lp = self.h.getLp()
            lower, upper = lp.col_lower_[var.index], lp.col_upper_[var.index]
            self.h.changeColBounds(var.index, 0.0, 0.0)
            incumbent = self.best(incumbent)
            self.h.changeColBounds(var.index, lower, upper)
        return incumbent


def brute_force_cost(problem: Problem) -> float | None:
    """The exact optimal cost by enumeration, or None when no plan exists."""
    n = len(problem.slots)
    remainder = _Remainder(problem)
    choices = [appliance_starts(problem, a) for a in problem.appliances]
    best = math.inf
    for combo in itertools.product(*choices):
        load = [0.0] * n
        for appliance, k in zip(problem.appliances, combo, strict=True):
            for offset, kw in enumerate(appliance.profile_kw):
                load[k + offset] += kw
        remainder.set_load(load)
        best = remainder.best(best)
    return None if math.isinf(best) else best
