"""Exact household energy planner: appliances, EV, water heater and battery in 15-min slots.

Pure Python on HiGHS (no Django): build a `Problem`, call `solve(problem)`, get a `Plan`
or an `Infeasible` naming the constraints that cannot all hold, with the nearest plan.
"""

from .baseline import start_now
from .check import check_plan
from .milp import solve
from .plan import ApplianceRun, Costs, Infeasible, Plan, Relaxation, evaluate_costs
from .problem import (
    Appliance,
    Battery,
    CapacityCharge,
    EVCharge,
    InvalidProblem,
    PlanningError,
    Problem,
    Slot,
    SolverTimeLimit,
    TimeOfDayRange,
    WaterHeater,
    day_slots,
)

__all__ = [
    "Appliance",
    "ApplianceRun",
    "Battery",
    "CapacityCharge",
    "Costs",
    "EVCharge",
    "Infeasible",
    "InvalidProblem",
    "Plan",
    "PlanningError",
    "Problem",
    "Relaxation",
    "Slot",
    "SolverTimeLimit",
    "TimeOfDayRange",
    "WaterHeater",
    "check_plan",
    "day_slots",
    "evaluate_costs",
    "solve",
    "start_now",
]
