"""The planner's outputs, and the one cost formula the solver, baseline and checks share."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from .problem import Problem


@dataclass(frozen=True)
class ApplianceRun:
    name: str
    start_slot: int
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Costs:
    energy_cost: float  # imports at the import price
    export_revenue: float  # exports at the export price
    capacity_cost: float  # rate x (plan's peak import above the month's floor)
    peak_import_kw: float

    @property
    def total(self) -> float:
        return self.energy_cost - self.export_revenue + self.capacity_cost


@dataclass(frozen=True)
class Plan:
    """One value per slot in every list (the battery's charge level has one more: the end)."""

    starts: list[datetime]
    appliances: dict[str, ApplianceRun]
    ev_kw: list[float]
    water_heater_kw: list[float]
    battery_charge_kw: list[float]
    battery_discharge_kw: list[float]
    battery_soc_kwh: list[float]
    grid_import_kw: list[float]
    grid_export_kw: list[float]
    pv_curtailed_kw: list[float]
    costs: Costs
    baseline_cost: float  # the "start now" plan (see baseline.py)
    baseline_overload_slots: int = 0  # slots where "start now" exceeds the limit
    appliance_kw: dict[str, list[float]] = field(default_factory=dict)

    @property
    def total_cost(self) -> float:
        return self.costs.total

    @property
    def saving(self) -> float:
        return self.baseline_cost - self.total_cost

    @property
    def saving_pct(self) -> float:
        if abs(self.baseline_cost) < 1e-12:
            return 0.0
        return 100.0 * self.saving / abs(self.baseline_cost)


@dataclass(frozen=True)
class Relaxation:
    """One constraint the nearest plan had to bend, and by how much."""

    kind: str  # appliance_window | quiet_hours | appliance_skipped | ev_energy |
    # water_heater_energy | battery_final_soc | limit
    subject: str
    amount: float
    unit: str
    message: str


@dataclass(frozen=True)
class Infeasible:
    """No plan satisfies every constraint: why, and the plan that bends them least."""

    reasons: list[str]
    nearest: Plan
    relaxations: list[Relaxation] = field(default_factory=list)


def evaluate_costs(
    problem: Problem, grid_import_kw: Sequence[float], grid_export_kw: Sequence[float]
) -> Costs:
    energy = sum(
        s.import_price * s.duration_h * i
        for s, i in zip(problem.slots, grid_import_kw, strict=True)
    )
    revenue = sum(
        s.export_price * s.duration_h * e
        for s, e in zip(problem.slots, grid_export_kw, strict=True)
    )
    peak = max(grid_import_kw, default=0.0)
    capacity = 0.0
    if problem.capacity is not None:
        cap = problem.capacity
        capacity = cap.rate_per_kw * max(0.0, peak - cap.effective_floor_kw)
    return Costs(energy, revenue, capacity, peak)
