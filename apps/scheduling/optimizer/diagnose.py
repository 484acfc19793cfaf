"""Why a problem has no plan, in words a household understands.

Two sources, merged by `reasons`:
- pre-checks catch the obvious, single-constraint impossibilities before any solve
  (a programme longer than its window, an EV that cannot get its energy even at full
  power, a base load the contracted limit cannot carry even with the battery flat out);
- the elastic re-solve (milp.py) bends deadlines, energy targets and the limit at a big
  price per unit; each bent constraint becomes a `Relaxation` with its own message. That
  catches combinations no single check sees (two appliances and the EV sharing 3 kW).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from .plan import Relaxation
from .problem import (
    Appliance,
    Problem,
    appliance_starts,
    ev_available,
    in_interval,
    water_heater_available,
)


@dataclass(frozen=True)
class Issue:
    key: tuple[str, str]  # (what, which): ("appliance", "dishwasher"), ("limit", "base")
    message: str
    slots: frozenset[int] = field(default_factory=frozenset)


# --- formatting ---


def clock(problem: Problem, moment: datetime) -> str:
    return f"{moment.astimezone(problem.zone):%H:%M}"


def hours(value: float) -> str:
    return f"{round(value, 2):g} h"


def kw(value: float) -> str:
    return f"{round(value, 2):g} kW"


def kwh(value: float) -> str:
    return f"{round(value, 2):g} kWh"


def period(problem: Problem, first: int, last: int) -> str:
    slots = problem.slots
    return f"{clock(problem, slots[first].start)}-{clock(problem, slots[last].end)}"


def runs(indices: Sequence[int]) -> list[tuple[int, int]]:
    """Consecutive slot indices grouped into (first, last) runs."""
    groups: list[tuple[int, int]] = []
    for t in sorted(indices):
        if groups and groups[-1][1] == t - 1:
            groups[-1] = (groups[-1][0], t)
        else:
            groups.append((t, t))
    return groups


def and_join(names: Sequence[str]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def programme_hours(problem: Problem, appliance: Appliance) -> float:
    return len(appliance.profile_kw) * problem.slots[0].duration_h


# --- pre-checks ---


def _appliance_issue(problem: Problem, appliance: Appliance) -> Issue | None:
    if appliance_starts(problem, appliance):
        return None
    name = appliance.name
    need = programme_hours(problem, appliance)
    window = [
        t
        for t, s in enumerate(problem.slots)
        if in_interval(s, appliance.earliest_start, appliance.latest_end)
    ]
    longest = max((b - a + 1 for a, b in runs(window)), default=0)
    window_h = longest * problem.slots[0].duration_h
    if longest < len(appliance.profile_kw):
        if appliance.latest_end is not None:
            message = (
                f"the {name} cannot finish by {clock(problem, appliance.latest_end)}: "
                f"its programme needs {hours(need)} but the window is {hours(window_h)}"
            )
        else:
            message = (
                f"the {name} cannot run in the planning horizon: its programme needs "
                f"{hours(need)} but only {hours(window_h)} remain after its earliest start"
            )
    else:
        quiet = ", ".join(str(r) for r in appliance.quiet_hours)
        message = (
            f"the {name} may not run in its quiet hours ({quiet}) and its {hours(need)} "
            f"programme fits nowhere else in its window"
        )
    return Issue(("appliance", name), message)


def _energy_issue(
    problem: Problem,
    key: tuple[str, str],
    available: Sequence[bool],
    target: float,
    max_kw: float,
    efficiency: float,
    what: str,
    by: datetime | None,
) -> Issue | None:
    reachable = sum(
        max_kw * efficiency * s.duration_h
        for s, ok in zip(problem.slots, available, strict=True)
        if ok
    )
    if target <= reachable + 1e-9:
        return None
    deadline = f" by {clock(problem, by)}" if by is not None else " in its windows"
    return Issue(
        key,
        f"the {what} cannot get {kwh(target)}{deadline} at {kw(max_kw)}: "
        f"at most {kwh(reachable)} in the time it is available",
    )


def _battery_issue(problem: Problem) -> Issue | None:
    b = problem.battery
    if b is None:
        return None
    target = b.final_target_kwh
    if target > b.capacity_kwh + 1e-9:
        return Issue(
            ("battery", "final"),
            f"the battery cannot end with {kwh(target)}: its capacity is {kwh(b.capacity_kwh)}",
        )
    reachable = b.initial_soc_kwh + sum(
        b.max_charge_kw * b.charge_efficiency * s.duration_h for s in problem.slots
    )
    if target > reachable + 1e-9:
        return Issue(
            ("battery", "final"),
            f"the battery cannot charge from {kwh(b.initial_soc_kwh)} to {kwh(target)} "
            f"within the horizon at {kw(b.max_charge_kw)}",
        )
    return None


def _battery_help_kw(problem: Problem) -> float:
    return problem.battery.max_discharge_kw if problem.battery is not None else 0.0


def _base_load_issue(problem: Problem) -> Issue | None:
    """Slots where even with nothing planned and the battery flat out the limit is exceeded."""
    help_kw = _battery_help_kw(problem)
    need = [s.base_load_kw - s.pv_kw - help_kw for s in problem.slots]
    over = [t for t, n in enumerate(need) if n > problem.limit_kw + 1e-9]
    if not over:
        return None
    where = ", ".join(period(problem, a, b) for a, b in runs(over))
    return Issue(
        ("limit", "base"),
        f"the contracted {kw(problem.limit_kw)} limit cannot carry the base load alone in "
        f"{where} (up to {kw(max(need[t] for t in over) + help_kw)} net of PV)",
        frozenset(over),
    )


def _appliance_limit_issue(problem: Problem, appliance: Appliance) -> Issue | None:
    """Every allowed start overloads on the appliance and base load alone."""
    starts = appliance_starts(problem, appliance)
    if not starts:
        return None
    help_kw = _battery_help_kw(problem)
    slots = problem.slots

    def overloads(k: int) -> bool:
        return any(
            slots[k + i].base_load_kw + p - slots[k + i].pv_kw - help_kw > problem.limit_kw + 1e-9
            for i, p in enumerate(appliance.profile_kw)
        )

    if not all(overloads(k) for k in starts):
        return None
    return Issue(
        ("limit", appliance.name),
        f"the contracted {kw(problem.limit_kw)} limit cannot carry the base load plus the "
        f"{appliance.name} ({kw(max(appliance.profile_kw))}) at any allowed start",
    )


def precheck(problem: Problem) -> list[Issue]:
    issues: list[Issue | None] = [_base_load_issue(problem)]
    for appliance in problem.appliances:
        issues.append(_appliance_issue(problem, appliance))
        issues.append(_appliance_limit_issue(problem, appliance))
    if problem.ev is not None:
        ev = problem.ev
        issues.append(
            _energy_issue(
                problem,
                ("ev", ev.name),
                ev_available(problem),
                ev.target_kwh,
                ev.max_kw,
                ev.efficiency,
                ev.name,
                ev.departure,
            )
        )
    if problem.water_heater is not None:
        wh = problem.water_heater
        issues.append(
            _energy_issue(
                problem,
                ("water_heater", wh.name),
                water_heater_available(problem),
                wh.energy_kwh,
                wh.max_kw,
                1.0,
                wh.name,
                None,
            )
        )
    issues.append(_battery_issue(problem))
    return [i for i in issues if i is not None]


# --- merging ---

_GROUP = {
    "appliance_window": "appliance",
    "quiet_hours": "appliance",
    "appliance_skipped": "appliance",
    "ev_energy": "ev",
    "water_heater_energy": "water_heater",
    "battery_final_soc": "battery",
}


def reasons(issues: Sequence[Issue], relaxations: Sequence[Relaxation]) -> list[str]:
    """Pre-check messages first (they say why), then what else the nearest plan bent."""
    covered = {i.key for i in issues}
    base_slots = frozenset().union(*(i.slots for i in issues if i.key == ("limit", "base")))
    out = [i.message for i in issues]
    for r in relaxations:
        if r.kind == "limit":
            # Overloads the base load alone explains were already named by the pre-check.
            if r.subject and set(map(int, r.subject.split(","))) <= base_slots:
                continue
        elif (_GROUP.get(r.kind, r.kind), r.subject) in covered:
            continue
        if r.message not in out:
            out.append(r.message)
    return out
