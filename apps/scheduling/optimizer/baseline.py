"""The "start now" plan the saving is measured against.

What a household does without the planner: every appliance starts at its earliest
allowed start, the EV charges at full power from arrival until full, the water heater
heats at full power from the start of its windows, the battery stays idle. It ignores
the contracted limit (that is the point of comparing), so it may overload: the number of
slots it would is reported beside its cost.
"""

from __future__ import annotations

from collections.abc import Sequence

from .plan import ApplianceRun, Plan, evaluate_costs
from .problem import Problem, appliance_starts, ev_available, in_interval, water_heater_available


def _fill_at_full_power(
    problem: Problem, available: Sequence[bool], max_kw: float, energy_kwh: float, eff: float
) -> list[float]:
    """Full power in available slots, in time order, until the energy is delivered."""
    power = [0.0] * len(problem.slots)
    remaining = energy_kwh
    for t, slot in enumerate(problem.slots):
        if remaining <= 1e-12:
            break
        if available[t]:
            power[t] = min(max_kw, remaining / (eff * slot.duration_h))
            remaining -= power[t] * eff * slot.duration_h
    return power


def _earliest_start(problem: Problem, index: int) -> int | None:
    appliance = problem.appliances[index]
    allowed = appliance_starts(problem, appliance)
    if allowed:
        return allowed[0]
    # No allowed start (an infeasible problem): the first start at or after the earliest
    # that fits in the horizon, so the nearest plan still has a baseline to compare with.
    last = len(problem.slots) - len(appliance.profile_kw)
    for k in range(last + 1):
        if in_interval(problem.slots[k], appliance.earliest_start, None):
            return k
    return None


def start_now(problem: Problem) -> Plan:
    slots = problem.slots
    n = len(slots)
    load = [s.base_load_kw for s in slots]
    runs: dict[str, ApplianceRun] = {}
    appliance_kw: dict[str, list[float]] = {}
    for index, appliance in enumerate(problem.appliances):
        k = _earliest_start(problem, index)
        if k is None:
            continue
        end = slots[k + len(appliance.profile_kw) - 1].end
        runs[appliance.name] = ApplianceRun(appliance.name, k, slots[k].start, end)
        kw = [0.0] * n
        for offset, p in enumerate(appliance.profile_kw):
            kw[k + offset] = float(p)
            load[k + offset] += float(p)
        appliance_kw[appliance.name] = kw

    ev_kw = [0.0] * n
    if problem.ev is not None:
        ev = problem.ev
        ev_kw = _fill_at_full_power(
            problem, ev_available(problem), ev.max_kw, ev.target_kwh, ev.efficiency
        )
    wh_kw = [0.0] * n
    if problem.water_heater is not None:
        wh = problem.water_heater
        wh_kw = _fill_at_full_power(
            problem, water_heater_available(problem), wh.max_kw, wh.energy_kwh, 1.0
        )

    grid_import, grid_export, curtailed = [], [], []
    for t, slot in enumerate(slots):
        net = load[t] + ev_kw[t] + wh_kw[t] - slot.pv_kw
        surplus = max(0.0, -net)
        cap = surplus if problem.export_limit_kw is None else min(surplus, problem.export_limit_kw)
        grid_import.append(max(0.0, net))
        grid_export.append(cap)
        curtailed.append(surplus - cap)

    costs = evaluate_costs(problem, grid_import, grid_export)
    soc = problem.battery.initial_soc_kwh if problem.battery is not None else 0.0
    return Plan(
        starts=[s.start for s in slots],
        appliances=runs,
        ev_kw=ev_kw,
        water_heater_kw=wh_kw,
        battery_charge_kw=[0.0] * n,
        battery_discharge_kw=[0.0] * n,
        battery_soc_kwh=[soc] * (n + 1),
        grid_import_kw=grid_import,
        grid_export_kw=grid_export,
        pv_curtailed_kw=curtailed,
        costs=costs,
        baseline_cost=costs.total,
        baseline_overload_slots=sum(i > problem.limit_kw + 1e-9 for i in grid_import),
        appliance_kw=appliance_kw,
    )
