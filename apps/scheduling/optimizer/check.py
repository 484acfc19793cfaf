"""Every constraint, checked on a finished plan without the solver.

Recomputes loads, the battery's charge level, the meter balance and the costs from the
plan's own numbers and the problem, so a modelling slip in milp.py shows up here. Used
by the tests and the benchmark; cheap enough to run on every plan before it is sent.
"""

from __future__ import annotations

from .plan import Plan, evaluate_costs
from .problem import (
    Problem,
    appliance_starts,
    ev_available,
    profile_load,
    water_heater_available,
)


def check_plan(problem: Problem, plan: Plan, tol: float = 1e-6) -> list[str]:
    """The constraints `plan` breaks, as messages; empty when it is valid."""
    errors: list[str] = []
    slots = problem.slots
    n = len(slots)
    series = {
        "ev_kw": plan.ev_kw,
        "water_heater_kw": plan.water_heater_kw,
        "battery_charge_kw": plan.battery_charge_kw,
        "battery_discharge_kw": plan.battery_discharge_kw,
        "grid_import_kw": plan.grid_import_kw,
        "grid_export_kw": plan.grid_export_kw,
        "pv_curtailed_kw": plan.pv_curtailed_kw,
    }
    for name, values in series.items():
        if len(values) != n:
            return [f"{name} has {len(values)} values for {n} slots"]
        if any(v < -tol for v in values):
            errors.append(f"{name} goes negative")

    load = [s.base_load_kw for s in slots]
    for appliance in problem.appliances:
        run = plan.appliances.get(appliance.name)
        if run is None:
            errors.append(f"{appliance.name} is not planned")
            continue
        if run.start_slot not in appliance_starts(problem, appliance):
            errors.append(f"{appliance.name} starts outside its window or in quiet hours")
            continue
        for t, kw in enumerate(profile_load(problem, appliance, run.start_slot)):
            load[t] += kw

    def energy_ok(
        label: str, kw: list[float], ok: list[bool], cap: float, eff: float, target: float
    ) -> None:
        for t in range(n):
            if kw[t] > tol and not ok[t]:
                errors.append(f"{label} draws power in slot {t}, outside its availability")
            if kw[t] > cap + tol:
                errors.append(f"{label} exceeds its {cap} kW in slot {t}")
        got = sum(kw[t] * eff * slots[t].duration_h for t in range(n))
        if abs(got - target) > 1e-5:
            errors.append(f"{label} gets {got:.6f} kWh instead of {target}")

    if problem.ev is not None:
        ev = problem.ev
        energy_ok("EV", plan.ev_kw, ev_available(problem), ev.max_kw, ev.efficiency, ev.target_kwh)
        floor = min(ev.min_kw, ev.max_kw)
        for t, v in enumerate(plan.ev_kw):
            if tol < v < floor - tol:
                errors.append(f"EV charges at {v:.3f} kW in slot {t}, under its {floor} kW minimum")
    elif any(v > tol for v in plan.ev_kw):
        errors.append("EV power without an EV")
    if problem.water_heater is not None:
        wh = problem.water_heater
        energy_ok(
            "water heater",
            plan.water_heater_kw,
            water_heater_available(problem),
            wh.max_kw,
            1.0,
            wh.energy_kwh,
        )
    elif any(v > tol for v in plan.water_heater_kw):
        errors.append("water heater power without a water heater")

    b = problem.battery
    charge, discharge = plan.battery_charge_kw, plan.battery_discharge_kw
    if b is None:
        if any(v > tol for v in charge + discharge):
            errors.append("battery power without a battery")
    else:
        soc = b.initial_soc_kwh
        for t, s in enumerate(slots):
            if charge[t] > b.max_charge_kw + tol or discharge[t] > b.max_discharge_kw + tol:
                errors.append(f"battery power over its limits in slot {t}")
            if charge[t] > tol and discharge[t] > tol:
                errors.append(f"battery charges and discharges at once in slot {t}")
            soc += s.duration_h * (
                charge[t] * b.charge_efficiency - discharge[t] / b.discharge_efficiency
            )
            if soc < b.min_soc_kwh - 1e-5 or soc > b.capacity_kwh + 1e-5:
                errors.append(f"battery charge level {soc:.4f} kWh out of bounds after slot {t}")
            if abs(soc - plan.battery_soc_kwh[t + 1]) > 1e-5:
                errors.append(f"reported battery level disagrees after slot {t}")
        if soc < b.final_target_kwh - 1e-5:
            errors.append(f"battery ends at {soc:.4f} kWh, below {b.final_target_kwh}")

    for t, s in enumerate(slots):
        imp, exp, curt = plan.grid_import_kw[t], plan.grid_export_kw[t], plan.pv_curtailed_kw[t]
        net = load[t] + plan.ev_kw[t] + plan.water_heater_kw[t] + charge[t] - discharge[t]
        net -= s.pv_kw - curt
        if abs((imp - exp) - net) > 1e-5:
            errors.append(f"meter balance off by {imp - exp - net:.6f} kW in slot {t}")
        if imp > problem.limit_kw + tol:
            errors.append(f"import {imp:.4f} kW over the {problem.limit_kw} kW limit in slot {t}")
        if net > problem.limit_kw + tol:
            errors.append(f"house load net of PV and battery over the limit in slot {t}")
        if problem.export_limit_kw is not None and exp > problem.export_limit_kw + tol:
            errors.append(f"export over the limit in slot {t}")
        if imp > tol and exp > tol:
            errors.append(f"imports and exports at once in slot {t}")
        if curt > s.pv_kw + tol or (curt > tol and not problem.allow_pv_curtailment):
            errors.append(f"curtails PV it may not in slot {t}")

    costs = evaluate_costs(problem, plan.grid_import_kw, plan.grid_export_kw)
    if abs(costs.total - plan.total_cost) > 1e-6:
        errors.append(f"reported cost {plan.total_cost} differs from {costs.total}")
    return errors
