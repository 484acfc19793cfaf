"""The exact planner: one MILP per household, solved by HiGHS to a zero gap.

Per slot t (length dt) the model balances the house at the meter:

    import - export = base + appliances + EV + water heater + charge - discharge
                      - (PV - curtailed)

- appliances: one binary per allowed start k (window and quiet hours already applied
  when the candidate starts are listed, so those constraints cost no rows), sum = 1; the
  programme's kW enter the balance rows straight from the start binaries;
- EV / water heater: continuous kW in the slots they are available, energy equalities;
- battery: charge level rows soc[t+1] = soc[t] + dt (eff_c charge - discharge / eff_d);
- import <= contracted limit, export <= export limit (and <= what PV and battery give);
- capacity charge: peak >= import[t], peak >= the month's floor; rate x (peak - floor).
  One valid row per appliance tightens the LP bound on the peak (`_add_peak_cuts`).

Objective: sum dt (import_price import - export_price export) + the capacity charge.

Simultaneous charge and discharge (or import and export) is physically meaningless and
wasteful, and an LP picks it only when it pays to burn energy or to trade through the
meter, or as a tie. Rather than 2 binaries per slot in every model, the planner gives
binaries (charge <= Pmax u, discharge <= Pmax (1 - u); import <= Imax v, export <=
Emax (1 - v)) only to the slots where doing both can pay, from the start:

- import and export: the export price is above the import price (and both can flow);
- charge and discharge: the round trip loses energy and the slot has a negative price,
  or PV that cannot be curtailed: burning energy is the only way to be rid of it.

Everywhere else both at once is at best a tie: the solution is repaired after the solve
(charge and discharge cut so the charge level is unchanged, the energy no longer burnt
taken off the import, else exported or curtailed; import and export both cut by the
smaller), which costs nothing more. The model with fewer binaries is a relaxation of the
exact one, so its optimum, repaired into a plan the exact model allows at no extra cost,
is exact. A slot the repair cannot fix (not expected) gets its binary and the model is
re-solved, until none is left; the result is always exact.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from . import diagnose
from .baseline import start_now
from .i18n import _, gettext_noop
from .model import INF, LinearModel, Solution
from .plan import ApplianceRun, Infeasible, Plan, Relaxation, evaluate_costs
from .problem import (
    PlanningError,
    Problem,
    appliance_starts,
    ev_available,
    quiet_mask,
    water_heater_available,
)

# The elastic model's prices for bending a constraint: far above any energy cost, so the
# nearest plan bends as little as possible and only then minimises the bill.
PENALTY_PER_KWH = 1_000.0  # energy short of a target
# Over the contract the meter trips: bending a deadline or a target is always preferred.
PENALTY_OVERLOAD_PER_KWH = 10_000.0
PENALTY_PER_HOUR = 1_000.0  # an appliance run moved outside its window or into quiet hours
PENALTY_SKIP = 1_000_000.0  # an appliance left out (its programme does not fit the horizon)
TOL = 1e-6  # a value above this counts as "on" when checking complementarity
MAX_COMPLEMENTARITY_ROUNDS = 4  # then every slot gets its binary


@dataclass
class _Columns:
    """Column indices of the model's variables (None: not in this model)."""

    imp: list[int]
    exp: list[int]
    curt: list[int | None]
    ev: list[int | None]
    wh: list[int | None]
    charge: Sequence[int | None]
    discharge: Sequence[int | None]
    soc: Sequence[int | None]
    starts: list[dict[int, int]]  # per appliance: start slot -> binary column
    skip: list[int | None] = field(default_factory=list)
    overload: list[int | None] = field(default_factory=list)
    ev_short: int | None = None
    wh_short: int | None = None
    soc_short: int | None = None


def _start_penalty_hours(problem: Problem, index: int, k: int) -> tuple[float, float, float]:
    """(hours early, hours late, hours in quiet time) of a run of appliance `index` at k."""
    a = problem.appliances[index]
    slots = problem.slots
    last = slots[k + len(a.profile_kw) - 1]
    early_h = late_h = 0.0
    if a.earliest_start is not None:
        early_h = max(0.0, (a.earliest_start - slots[k].start).total_seconds() / 3600)
    if a.latest_end is not None:
        late_h = max(0.0, (last.end - a.latest_end).total_seconds() / 3600)
    quiet = quiet_mask(problem, a.quiet_hours)
    quiet_h = sum(slots[t].duration_h for t in range(k, k + len(a.profile_kw)) if quiet[t])
    return early_h, late_h, quiet_h


def _bounds(problem: Problem) -> tuple[list[float], list[float]]:
    """Physical upper bounds on import and export per slot (also the big-M's)."""
    b = problem.battery
    appliance_peak = sum(max(a.profile_kw) for a in problem.appliances)
    extra = appliance_peak
    extra += problem.ev.max_kw if problem.ev is not None else 0.0
    extra += problem.water_heater.max_kw if problem.water_heater is not None else 0.0
    extra += b.max_charge_kw if b is not None else 0.0
    give = b.max_discharge_kw if b is not None else 0.0
    imp = [s.base_load_kw + extra for s in problem.slots]
    exp = [s.pv_kw + give for s in problem.slots]
    if problem.export_limit_kw is not None:
        exp = [min(e, problem.export_limit_kw) for e in exp]
    return imp, exp


def candidate_modes(problem: Problem) -> tuple[set[int], set[int]]:
    """(battery, grid) slots that get a complementarity binary from the start (see above)."""
    slots = problem.slots
    imp_max, exp_max = _bounds(problem)
    grid = {
        t
        for t, s in enumerate(slots)
        if s.export_price > s.import_price and imp_max[t] > 0 and exp_max[t] > 0
    }
    b = problem.battery
    battery: set[int] = set()
    if (
        b is not None
        and b.max_charge_kw > 0
        and b.max_discharge_kw > 0
        and b.charge_efficiency * b.discharge_efficiency < 1
    ):
        battery = {
            t
            for t, s in enumerate(slots)
            if s.import_price < 0
            or s.export_price < 0
            or (s.pv_kw > 0 and not problem.allow_pv_curtailment)
        }
    return battery, grid


def build(
    problem: Problem,
    *,
    elastic: bool,
    battery_modes: set[int] | None = None,
    grid_modes: set[int] | None = None,
) -> tuple[LinearModel, _Columns]:
    slots = problem.slots
    n = len(slots)
    m = LinearModel()
    imp_max, exp_max = _bounds(problem)

    # Grid: the strict model caps import at the contract; the elastic one lets it exceed
    # the contract through a priced overload column.
    imp = [
        m.var(
            0.0,
            imp_max[t] if elastic else min(imp_max[t], problem.limit_kw),
            s.import_price * s.duration_h,
        )
        for t, s in enumerate(slots)
    ]
    exp = [m.var(0.0, exp_max[t], -s.export_price * s.duration_h) for t, s in enumerate(slots)]
    # Curtailment is free when allowed; in the elastic model it is the PV surplus the
    # export limit cannot take, priced like an overload when it is not allowed.
    curt: list[int | None] = [None] * n
    for t, s in enumerate(slots):
        if s.pv_kw > 0 and (problem.allow_pv_curtailment or elastic):
            cost = 0.0 if problem.allow_pv_curtailment else PENALTY_PER_KWH * s.duration_h
            curt[t] = m.var(0.0, s.pv_kw, cost)
    cols = _Columns(imp, exp, curt, [None] * n, [None] * n, [None] * n, [None] * n, [], [])

    overload: list[int | None] = [None] * n
    if elastic:
        for t, s in enumerate(slots):
            if imp_max[t] > problem.limit_kw:
                over = m.var(0.0, INF, PENALTY_OVERLOAD_PER_KWH * s.duration_h)
                m.row([(imp[t], 1.0), (over, -1.0)], -INF, problem.limit_kw)
                overload[t] = over
    cols.overload = overload

    _add_appliances(problem, m, cols, elastic)
    _add_energy_loads(problem, m, cols, elastic)
    _add_battery(problem, m, cols, elastic)

    # The meter balance, one row per slot; appliances enter through their start binaries.
    for t, s in enumerate(slots):
        terms = [(imp[t], 1.0), (exp[t], -1.0)]
        for col, sign in (
            (cols.ev[t], -1.0),
            (cols.wh[t], -1.0),
            (cols.charge[t], -1.0),
            (cols.discharge[t], 1.0),
            (curt[t], -1.0),
        ):
            if col is not None:
                terms.append((col, sign))
        for index, appliance in enumerate(problem.appliances):
            for offset, p in enumerate(appliance.profile_kw):
                col = cols.starts[index].get(t - offset)
                if col is not None:
                    terms.append((col, -float(p)))
        rhs = s.base_load_kw - s.pv_kw
        m.row(terms, rhs, rhs)

    if problem.capacity is not None and problem.capacity.rate_per_kw > 0:
        cap = problem.capacity
        floor = cap.effective_floor_kw
        peak = m.var(floor, INF, cap.rate_per_kw)
        m.offset -= cap.rate_per_kw * floor
        for t in range(n):
            m.row([(imp[t], 1.0), (peak, -1.0)], -INF, 0.0)
        _add_peak_cuts(problem, m, cols, peak, floor)

    _add_complementarity(problem, m, cols, battery_modes or set(), grid_modes or set())
    return m, cols


def _add_peak_cuts(
    problem: Problem, m: LinearModel, cols: _Columns, peak: int, floor: float
) -> None:
    """Valid rows that tighten the LP relaxation of the capacity peak.

    Whichever start an appliance gets, the peak is at least the import its run alone
    forces in its highest slot: base load plus the programme, less PV and the battery's
    full discharge. As one row per appliance, peak >= sum_k start_k * max(need_k, floor),
    fractional starts can no longer spread a programme thin to shave the peak (the LP's
    usual escape), and no integer plan is cut off.
    """
    slots = problem.slots
    give = problem.battery.max_discharge_kw if problem.battery is not None else 0.0
    for index, appliance in enumerate(problem.appliances):
        terms = [(peak, 1.0)]
        for k, col in cols.starts[index].items():
            need = max(
                slots[k + offset].base_load_kw + float(p) - slots[k + offset].pv_kw - give
                for offset, p in enumerate(appliance.profile_kw)
            )
            if need > floor:
                terms.append((col, floor - need))
        if len(terms) > 1:
            m.row(terms, floor, INF)


def _add_appliances(problem: Problem, m: LinearModel, cols: _Columns, elastic: bool) -> None:
    n = len(problem.slots)
    for index, appliance in enumerate(problem.appliances):
        length = len(appliance.profile_kw)
        starts: dict[int, int] = {}
        skip = None
        if elastic:
            for k in range(n - length + 1):
                early, late, quiet = _start_penalty_hours(problem, index, k)
                starts[k] = m.binary(PENALTY_PER_HOUR * (early + late + quiet))
            skip = m.binary(PENALTY_SKIP)
        else:
            for k in appliance_starts(problem, appliance):
                starts[k] = m.binary()
        terms = [(c, 1.0) for c in starts.values()]
        if skip is not None:
            terms.append((skip, 1.0))
        m.row(terms, 1.0, 1.0)  # exactly one start (or, elastic only, left out)
        cols.starts.append(starts)
        cols.skip.append(skip)


def _add_energy_loads(problem: Problem, m: LinearModel, cols: _Columns, elastic: bool) -> None:
    slots = problem.slots
    if problem.ev is not None and problem.ev.target_kwh > 0:
        ev = problem.ev
        for t, ok in enumerate(ev_available(problem)):
            if ok:
                power = cols.ev[t] = m.var(0.0, ev.max_kw)
                if ev.min_kw > 0:  # semi-continuous: off, or at least the charger's minimum
                    on = m.binary()
                    m.row([(power, 1.0), (on, -ev.max_kw)], -INF, 0.0)
                    m.row([(power, 1.0), (on, -min(ev.min_kw, ev.max_kw))], 0.0, INF)
        terms = [
            (c, ev.efficiency * slots[t].duration_h) for t, c in enumerate(cols.ev) if c is not None
        ]
        if elastic:
            cols.ev_short = m.var(0.0, INF, PENALTY_PER_KWH)
            terms.append((cols.ev_short, 1.0))
        m.row(terms, ev.target_kwh, ev.target_kwh)
    if problem.water_heater is not None and problem.water_heater.energy_kwh > 0:
        wh = problem.water_heater
        for t, ok in enumerate(water_heater_available(problem)):
            if ok:
                cols.wh[t] = m.var(0.0, wh.max_kw)
        terms = [(c, slots[t].duration_h) for t, c in enumerate(cols.wh) if c is not None]
        if elastic:
            cols.wh_short = m.var(0.0, INF, PENALTY_PER_KWH)
            terms.append((cols.wh_short, 1.0))
        m.row(terms, wh.energy_kwh, wh.energy_kwh)


def _add_battery(problem: Problem, m: LinearModel, cols: _Columns, elastic: bool) -> None:
    b = problem.battery
    n = len(problem.slots)
    if b is None:
        cols.soc = [None] * (n + 1)
        return
    charge = [m.var(0.0, b.max_charge_kw) for _ in range(n)]
    discharge = [m.var(0.0, b.max_discharge_kw) for _ in range(n)]
    target = b.final_target_kwh
    soc = [m.var(b.initial_soc_kwh, b.initial_soc_kwh)]
    for t in range(n):
        # The strict model holds the final level as a bound; the elastic one as a row
        # with a shortfall column, below.
        last = t == n - 1
        lower = b.min_soc_kwh
        if last and not elastic:
            lower = min(max(target, b.min_soc_kwh), b.capacity_kwh)
        soc.append(m.var(lower, b.capacity_kwh))
    for t, s in enumerate(problem.slots):
        m.row(
            [
                (soc[t + 1], 1.0),
                (soc[t], -1.0),
                (charge[t], -b.charge_efficiency * s.duration_h),
                (discharge[t], s.duration_h / b.discharge_efficiency),
            ],
            0.0,
            0.0,
        )
    cols.charge, cols.discharge, cols.soc = charge, discharge, soc
    if elastic:
        cols.soc_short = m.var(0.0, INF, PENALTY_PER_KWH)
        m.row([(soc[n], 1.0), (cols.soc_short, 1.0)], target, INF)


def _add_complementarity(
    problem: Problem, m: LinearModel, cols: _Columns, battery_modes: set[int], grid_modes: set[int]
) -> None:
    b = problem.battery
    for t in sorted(battery_modes):
        if b is None:
            break
        charge, discharge = cols.charge[t], cols.discharge[t]
        assert charge is not None and discharge is not None  # every slot has both
        u = m.binary()  # 1: may charge, 0: may discharge
        m.row([(charge, 1.0), (u, -b.max_charge_kw)], -INF, 0.0)
        m.row([(discharge, 1.0), (u, b.max_discharge_kw)], -INF, b.max_discharge_kw)
    imp_max, exp_max = _bounds(problem)
    for t in sorted(grid_modes):
        # The tightest big-M's: the column bounds (the strict model's import stops at
        # the contract).
        imp_ub = imp_max[t] if cols.overload[t] is not None else min(imp_max[t], problem.limit_kw)
        if imp_ub <= 0 or exp_max[t] <= 0:
            continue  # one side cannot flow: nothing to exclude
        v = m.binary()  # 1: may import, 0: may export
        m.row([(cols.imp[t], 1.0), (v, -imp_ub)], -INF, 0.0)
        m.row([(cols.exp[t], 1.0), (v, exp_max[t])], -INF, exp_max[t])


def _repair(problem: Problem, x: np.ndarray, cols: _Columns) -> tuple[set[int], set[int]]:
    """Undo charge-and-discharge and import-and-export where that costs nothing more.

    Changes `x` in place; returns the (battery, grid) slots it could not repair.
    """
    slots = problem.slots
    _, exp_max = _bounds(problem)
    b = problem.battery
    bad_battery: set[int] = set()
    bad_grid: set[int] = set()
    for t, s in enumerate(slots):
        imp, exp, curt = cols.imp[t], cols.exp[t], cols.curt[t]
        charge, discharge = cols.charge[t], cols.discharge[t]
        if (
            b is not None
            and charge is not None
            and discharge is not None
            and x[charge] > TOL
            and x[discharge] > TOL
        ):
            # Cut both so the charge level is unchanged: the round trip's loss is
            # energy the house no longer draws, taken off the import (paid for at
            # a non-negative price), else exported (at a non-negative price), else
            # curtailed (when that is free).
            round_trip = b.charge_efficiency * b.discharge_efficiency
            cut = min(float(x[charge]), float(x[discharge]) / round_trip)
            freed = cut * (1.0 - round_trip)
            less_import = min(float(x[imp]), freed) if s.import_price >= 0 else 0.0
            rest = freed - less_import
            more_export = 0.0
            if rest > 0 and s.export_price >= 0 and x[imp] - less_import <= 0:
                more_export = min(max(exp_max[t] - float(x[exp]), 0.0), rest)
            rest -= more_export
            more_curtailed = 0.0
            if rest > 0 and curt is not None and problem.allow_pv_curtailment:
                more_curtailed = min(max(s.pv_kw - float(x[curt]), 0.0), rest)
            rest -= more_curtailed
            if rest > 1e-9:
                bad_battery.add(t)
            else:
                if x[charge] <= x[discharge] / round_trip:
                    x[charge], x[discharge] = 0.0, max(x[discharge] - cut * round_trip, 0.0)
                else:
                    x[charge], x[discharge] = max(x[charge] - cut, 0.0), 0.0
                x[imp] = max(x[imp] - less_import, 0.0)
                x[exp] += more_export
                if curt is not None:
                    x[curt] += more_curtailed
        if x[imp] > TOL and x[exp] > TOL:
            if s.import_price >= s.export_price:
                both = min(float(x[imp]), float(x[exp]))
                x[imp], x[exp] = max(x[imp] - both, 0.0), max(x[exp] - both, 0.0)
            else:
                bad_grid.add(t)
        over = cols.overload[t] if cols.overload else None
        if over is not None:
            x[over] = max(float(x[imp]) - problem.limit_kw, 0.0)
    return bad_battery, bad_grid


def _optimise(
    problem: Problem, *, elastic: bool, deadline: float, time_limit_s: float
) -> tuple[Solution, _Columns] | None:
    """Solve, with complementarity binaries where they can matter (see above)."""
    battery_modes, grid_modes = candidate_modes(problem)
    for round_ in range(MAX_COMPLEMENTARITY_ROUNDS + 1):
        model, cols = build(
            problem, elastic=elastic, battery_modes=battery_modes, grid_modes=grid_modes
        )
        remaining = max(deadline - time.monotonic(), 0.001)
        solution = model.solve(time_limit_s=min(remaining, time_limit_s))
        if solution is None:
            return None
        x = solution.values.copy()
        bad_battery, bad_grid = _repair(problem, x, cols)
        if not bad_battery and not bad_grid:
            return Solution(x, solution.objective), cols
        if round_ == MAX_COMPLEMENTARITY_ROUNDS - 1:
            bad_battery, bad_grid = set(range(len(problem.slots))), set(range(len(problem.slots)))
        battery_modes |= bad_battery
        grid_modes |= bad_grid
    raise PlanningError("complementarity binaries did not settle")  # unreachable in practice


def _clean(values: np.ndarray) -> list[float]:
    return [0.0 if abs(v) < 1e-9 else float(v) for v in values]


def _series(x: np.ndarray, columns: Sequence[int | None]) -> list[float]:
    return _clean(np.array([x[c] if c is not None else 0.0 for c in columns]))


def to_plan(
    problem: Problem, x: np.ndarray, cols: _Columns, baseline_cost: float, overloads: int
) -> Plan:
    slots = problem.slots
    runs: dict[str, ApplianceRun] = {}
    appliance_kw: dict[str, list[float]] = {}
    for index, appliance in enumerate(problem.appliances):
        chosen = [k for k, c in cols.starts[index].items() if x[c] > 0.5]
        if not chosen:
            continue  # left out of an elastic plan
        k = chosen[0]
        end = slots[k + len(appliance.profile_kw) - 1].end
        runs[appliance.name] = ApplianceRun(appliance.name, k, slots[k].start, end)
        kw = [0.0] * len(slots)
        for offset, p in enumerate(appliance.profile_kw):
            kw[k + offset] = float(p)
        appliance_kw[appliance.name] = kw
    imp = _series(x, list(cols.imp))
    exp = _series(x, list(cols.exp))
    b = problem.battery
    soc = _series(x, cols.soc) if b is not None else [0.0] * (len(slots) + 1)
    return Plan(
        starts=[s.start for s in slots],
        appliances=runs,
        ev_kw=_series(x, cols.ev),
        water_heater_kw=_series(x, cols.wh),
        battery_charge_kw=_series(x, cols.charge),
        battery_discharge_kw=_series(x, cols.discharge),
        battery_soc_kwh=soc,
        grid_import_kw=imp,
        grid_export_kw=exp,
        pv_curtailed_kw=_series(x, cols.curt),
        costs=evaluate_costs(problem, imp, exp),
        baseline_cost=baseline_cost,
        baseline_overload_slots=overloads,
        appliance_kw=appliance_kw,
    )


def solve(problem: Problem, *, time_limit_s: float = 30.0) -> Plan | Infeasible:
    """The cheapest plan that breaks no constraint, or why there is none.

    Raises SolverTimeLimit when HiGHS cannot prove optimality within `time_limit_s`
    (the whole call, the re-solves included).
    """
    deadline = time.monotonic() + time_limit_s
    baseline = start_now(problem)
    issues = diagnose.precheck(problem)
    if not issues:
        found = _optimise(problem, elastic=False, deadline=deadline, time_limit_s=time_limit_s)
        if found is not None:
            solution, cols = found
            return to_plan(
                problem,
                solution.values,
                cols,
                baseline.costs.total,
                baseline.baseline_overload_slots,
            )
    found = _optimise(problem, elastic=True, deadline=deadline, time_limit_s=time_limit_s)
    if found is None:  # every elastic constraint has a slack: this means a modelling bug
        raise PlanningError("even the relaxed model has no solution")
    solution, cols = found
    nearest = to_plan(
        problem, solution.values, cols, baseline.costs.total, baseline.baseline_overload_slots
    )
    relaxations = relaxations_of(problem, solution.values, cols, nearest)
    reasons = diagnose.reasons(issues, relaxations)
    if not reasons:
        reasons = [_("no plan meets every constraint (the solver found it infeasible)")]
    return Infeasible(reasons=reasons, nearest=nearest, relaxations=relaxations)


IN_QUIET_HOURS = gettext_noop(
    "the %(name)s runs %(hours)s in its quiet hours (%(ranges)s) in the nearest plan"
)


def relaxations_of(problem: Problem, x: np.ndarray, cols: _Columns, plan: Plan) -> list[Relaxation]:
    """Every constraint the elastic optimum bent, with a message naming it."""
    out: list[Relaxation] = []
    clock, hours, kw, kwh = diagnose.clock, diagnose.hours, diagnose.kw, diagnose.kwh
    # Appliances, EV, water heater and battery only compete through the contracted limit:
    # one bent without a pre-check naming it was bent to stay under that limit.
    shared = _("alongside the other loads under the contracted %(limit)s limit") % {
        "limit": kw(problem.limit_kw)
    }
    for index, a in enumerate(problem.appliances):
        run = plan.appliances.get(a.name)
        if run is None:
            need = diagnose.programme_hours(problem, a)
            out.append(
                Relaxation(
                    "appliance_skipped",
                    a.name,
                    need,
                    "h",
                    _(
                        "the %(name)s does not fit in the planning horizon: its "
                        "programme needs %(need)s; the nearest plan leaves it out"
                    )
                    % {"name": a.name, "need": hours(need)},
                )
            )
            continue
        early, late, quiet = _start_penalty_hours(problem, index, run.start_slot)
        if late > TOL and a.latest_end is not None:
            out.append(
                Relaxation(
                    "appliance_window",
                    a.name,
                    late,
                    "h",
                    _(
                        "the %(name)s cannot finish by %(time)s %(shared)s: "
                        "the nearest plan ends it at %(end)s, %(late)s late"
                    )
                    % {
                        "name": a.name,
                        "time": clock(problem, a.latest_end),
                        "shared": shared,
                        "end": clock(problem, run.end),
                        "late": hours(late),
                    },
                )
            )
        if early > TOL and a.earliest_start is not None:
            out.append(
                Relaxation(
                    "appliance_window",
                    a.name,
                    early,
                    "h",
                    _(
                        "the %(name)s cannot start after %(time)s %(shared)s: "
                        "the nearest plan starts it at %(start)s, %(early)s early"
                    )
                    % {
                        "name": a.name,
                        "time": clock(problem, a.earliest_start),
                        "shared": shared,
                        "start": clock(problem, run.start),
                        "early": hours(early),
                    },
                )
            )
        if quiet > TOL:
            ranges = ", ".join(str(r) for r in a.quiet_hours)
            out.append(
                Relaxation(
                    "quiet_hours",
                    a.name,
                    quiet,
                    "h",
                    _(IN_QUIET_HOURS) % {"name": a.name, "hours": hours(quiet), "ranges": ranges},
                )
            )
    if cols.ev_short is not None and x[cols.ev_short] > TOL and problem.ev is not None:
        ev = problem.ev
        short = float(x[cols.ev_short])
        values = {
            "name": ev.name,
            "target": kwh(ev.target_kwh),
            "kw": kw(ev.max_kw),
            "shared": shared,
            "given": kwh(ev.target_kwh - short),
        }
        if ev.departure is not None:
            message = _(
                "the %(name)s cannot get %(target)s by %(time)s at %(kw)s %(shared)s: "
                "the nearest plan gives it %(given)s"
            ) % {**values, "time": clock(problem, ev.departure)}
        else:
            message = (
                _(
                    "the %(name)s cannot get %(target)s at %(kw)s %(shared)s: "
                    "the nearest plan gives it %(given)s"
                )
                % values
            )
        out.append(Relaxation("ev_energy", ev.name, short, "kWh", message))
    if cols.wh_short is not None and x[cols.wh_short] > TOL and problem.water_heater is not None:
        wh = problem.water_heater
        short = float(x[cols.wh_short])
        out.append(
            Relaxation(
                "water_heater_energy",
                wh.name,
                short,
                "kWh",
                _(
                    "the %(name)s cannot get %(target)s in its windows at %(kw)s %(shared)s: "
                    "the nearest plan gives it %(given)s"
                )
                % {
                    "name": wh.name,
                    "target": kwh(wh.energy_kwh),
                    "kw": kw(wh.max_kw),
                    "shared": shared,
                    "given": kwh(wh.energy_kwh - short),
                },
            )
        )
    if cols.soc_short is not None and x[cols.soc_short] > TOL and problem.battery is not None:
        b = problem.battery
        short = float(x[cols.soc_short])
        out.append(
            Relaxation(
                "battery_final_soc",
                "final",
                short,
                "kWh",
                _("the battery cannot end with %(target)s: the nearest plan leaves it at %(left)s")
                % {"target": kwh(b.final_target_kwh), "left": kwh(b.final_target_kwh - short)},
            )
        )
    out.extend(_limit_relaxations(problem, x, cols, plan))
    out.extend(_export_relaxations(problem, x, cols))
    return out


def _limit_relaxations(
    problem: Problem, x: np.ndarray, cols: _Columns, plan: Plan
) -> list[Relaxation]:
    over = [t for t, c in enumerate(cols.overload) if c is not None and x[c] > TOL]
    out = []
    for first, last in diagnose.runs(over):
        span = range(first, last + 1)
        loads = [
            _("the %(name)s") % {"name": name}
            for name, kw_ in plan.appliance_kw.items()
            if any(kw_[t] > TOL for t in span)
        ]
        for label, series in (
            (problem.ev.name if problem.ev else "", plan.ev_kw),
            (problem.water_heater.name if problem.water_heater else "", plan.water_heater_kw),
            (_("battery charging"), plan.battery_charge_kw),
        ):
            if any(series[t] > TOL for t in span):
                loads.append(_("the %(name)s") % {"name": label})
        what = (
            _("the base load plus %(loads)s") % {"loads": diagnose.and_join(loads)}
            if loads
            else _("the base load")
        )
        worst = max(float(x[c]) for c in (cols.overload[t] for t in span) if c is not None)
        out.append(
            Relaxation(
                "limit",
                ",".join(str(t) for t in span),
                worst,
                "kW",
                _(
                    "the contracted %(limit)s limit cannot carry %(what)s in %(period)s: "
                    "the nearest plan goes up to %(over)s over"
                )
                % {
                    "limit": diagnose.kw(problem.limit_kw),
                    "what": what,
                    "period": diagnose.period(problem, first, last),
                    "over": diagnose.kw(worst),
                },
            )
        )
    return out


def _export_relaxations(problem: Problem, x: np.ndarray, cols: _Columns) -> list[Relaxation]:
    if problem.allow_pv_curtailment:
        return []
    spilled = [t for t, c in enumerate(cols.curt) if c is not None and x[c] > TOL]
    limit = problem.export_limit_kw
    return [
        Relaxation(
            "export_limit",
            ",".join(map(str, range(a, b + 1))),
            0.0,
            "kW",
            _(
                "the export limit of %(limit)s cannot take the PV surplus in %(period)s "
                "and PV curtailment is not allowed"
            )
            % {"limit": diagnose.kw(limit or 0.0), "period": diagnose.period(problem, a, b)},
        )
        for a, b in diagnose.runs(spilled)
    ]
