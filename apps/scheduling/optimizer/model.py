"""A thin column/row builder over highspy's array API.

The planner's models are small (a few hundred columns) but are built for every
household, so rows are collected in Python lists and handed to HiGHS in one addRows
call: per-row calls into highspy, or its expression API, cost more than the solve.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterable
from dataclasses import dataclass

import highspy
import numpy as np

from .problem import PlanningError, SolverTimeLimit

INF = highspy.kHighsInf

# Measured on the benchmark's households (a few hundred binaries, a few hundred rows):
# HiGHS's presolve, its RINS / RENS / root-reduced-cost heuristics and a parallel search
# cost more than they save on models this small, up to 4x at the tail. None of them
# changes the answer: the gaps stay zero, so the optimum is still proven.
SOLVER_OPTIONS: dict[str, bool | int | str] = {
    "presolve": "off",
    "mip_heuristic_run_rins": False,
    "mip_heuristic_run_rens": False,
    "mip_heuristic_run_root_reduced_cost": False,
    # Not "threads": HiGHS's thread pool is global to the process and fixed by its first
    # run, so other HiGHS users (the brute force, other apps) would make it an error.
    "parallel": "off",
}

_banner_lock = threading.Lock()
_banner_shown = False


def _new_highs() -> highspy.Highs:
    """A Highs instance, keeping HiGHS's copyright banner off stdout.

    HiGHS prints it from C++ on the first construction in a process, before any option
    can be set, so that one construction runs with file descriptor 1 pointed at
    /dev/null (the benchmark's last stdout line must stay its JSON).
    """
    global _banner_shown
    if _banner_shown:
        return highspy.Highs()
    with _banner_lock:
        if _banner_shown:
            return highspy.Highs()
        sys.stdout.flush()
        saved = os.dup(1)
        try:
            with open(os.devnull, "w") as null:
                os.dup2(null.fileno(), 1)
                h = highspy.Highs()
        finally:
            os.dup2(saved, 1)
            os.close(saved)
        _banner_shown = True
        return h


@dataclass(frozen=True)
class Solution:
    values: np.ndarray
    objective: float


class LinearModel:
    def __init__(self) -> None:
        self.cost: list[float] = []
        self.lower: list[float] = []
        self.upper: list[float] = []
        self.integer: list[int] = []
        self.row_lower: list[float] = []
        self.row_upper: list[float] = []
        self.row_starts: list[int] = []
        self.row_index: list[int] = []
        self.row_value: list[float] = []
        self.offset = 0.0

    def var(self, lower: float = 0.0, upper: float = INF, cost: float = 0.0) -> int:
        self.cost.append(cost)
        self.lower.append(lower)
        self.upper.append(upper)
        return len(self.cost) - 1

    def binary(self, cost: float = 0.0) -> int:
        index = self.var(0.0, 1.0, cost)
        self.integer.append(index)
        return index

    def row(self, terms: Iterable[tuple[int, float]], lower: float, upper: float) -> None:
        self.row_starts.append(len(self.row_index))
        for index, value in terms:
            if value != 0.0:
                self.row_index.append(index)
                self.row_value.append(value)
        self.row_lower.append(lower)
        self.row_upper.append(upper)

    def solve(self, *, time_limit_s: float) -> Solution | None:
        """The optimum, or None when infeasible. Exact: MIP gaps are zero."""
        h = _new_highs()
        h.setOptionValue("output_flag", False)
        h.setOptionValue("mip_rel_gap", 0.0)
        h.setOptionValue("mip_abs_gap", 0.0)
        h.setOptionValue("time_limit", float(time_limit_s))
        for name, value in SOLVER_OPTIONS.items():
            h.setOptionValue(name, value)
        n = len(self.cost)
        h.addCols(
            n,
            np.asarray(self.cost, dtype=np.float64),
            np.asarray(self.lower, dtype=np.float64),
            np.asarray(self.upper, dtype=np.float64),
            0,
            np.zeros(0, dtype=np.int32),
            np.zeros(0, dtype=np.int32),
            np.zeros(0, dtype=np.float64),
        )
        if self.row_lower:
            h.addRows(
                len(self.row_lower),
                np.asarray(self.row_lower, dtype=np.float64),
                np.asarray(self.row_upper, dtype=np.float64),
                len(self.row_index),
                np.asarray(self.row_starts, dtype=np.int32),
                np.asarray(self.row_index, dtype=np.int32),
                np.asarray(self.row_value, dtype=np.float64),
            )
        if self.integer:
            h.changeColsIntegrality(
                len(self.integer),
                np.asarray(self.integer, dtype=np.int32),
                np.full(len(self.integer), highspy.HighsVarType.kInteger.value, dtype=np.uint8),
            )
        run_status = h.run()
        status = h.getModelStatus()
        if status == highspy.HighsModelStatus.kOptimal:
            values = np.asarray(h.getSolution().col_value, dtype=np.float64)
            return Solution(values, h.getInfo().objective_function_value + self.offset)
        if status == highspy.HighsModelStatus.kInfeasible:
            return None
        if status == highspy.HighsModelStatus.kTimeLimit:
            raise SolverTimeLimit(
                f"HiGHS did not prove a plan optimal within {time_limit_s:g} s "
                f"({n} variables, {len(self.integer)} binary); raise time_limit_s or "
                "shorten the horizon"
            )
        raise PlanningError(
            f"HiGHS stopped with status {h.modelStatusToString(status)} (run: {run_status})"
        )
