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

from .i18n import _
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
    return _("%(first)s and %(last)s") % {"first": ", ".join(names[:-1]), "last": names[-1]}


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
            message = _(
                "the %(name)s cannot finish by %(time)s: "
                "its programme needs %(need)s but the window is %(window)s"
            ) % {
                "name": name, "time": clock(problem, appliance.latest_end),
                "need": hours(need), "window": hours(window_h),
            }  # fmt: skip
        else:
            message = _(
                "the %(name)s cannot run in the planning horizon: its programme needs "
                "%(need)s but only %(window)s remain after its earliest start"
            ) % {"name": name, "need": hours(need), "window": hours(window_h)}
    else:
        quiet = ", ".join(str(r) for r in appliance.quiet_hours)
        message = _(
            "the %(name)s may not run in its quiet hours (%(quiet)s) and its %(need)s "
            "programme fits nowhere else in its window"
        ) % {"name": name, "quiet": quiet, "need": hours(need)}
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
    values = {"what": what, "target": kwh(target), "kw": kw(max_kw), "most": kwh(reachable)}
    if by is not None:
        message = _(
            "the %(what)s cannot get %(target)s by %(time)s at %(kw)s: "
            "at most %(most)s in the time it is available"
        ) % {**values, "time": clock(problem, by)}
    else:
        message = (
            _(
                "the %(what)s cannot get %(target)s in its windows at %(kw)s: "
                "at most %(most)s in the time it is available"
            )
            % values
        )
    return Issue(key, message)


def _battery_issue(problem: Problem) -> Issue | None:
    b = problem.battery
    if b is None:
        return None
    target = b.final_target_kwh
    if target > b.capacity_kwh + 1e-9:
        return Issue(
            ("battery", "final"),
            _("the battery cannot end with %(target)s: its capacity is %(capacity)s")
            % {"target": kwh(target), "capacity": kwh(b.capacity_kwh)},
        )
    reachable = b.initial_soc_kwh + sum(
        b.max_charge_kw * b.charge_efficiency * s.duration_h for s in problem.slots
    )
    if target > reachable + 1e-9:
        return Issue(
            ("battery", "final"),
            _("the battery cannot charge from %(start)s to %(target)s within the horizon at %(kw)s")
            % {"start": kwh(b.initial_soc_kwh), "target": kwh(target), "kw": kw(b.max_charge_kw)},
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
        _(
            "the contracted %(limit)s limit cannot carry the base load alone in "
            "%(where)s (up to %(peak)s net of PV)"
        )
        % {
            "limit": kw(problem.limit_kw),
            "where": where,
            "peak": kw(max(need[t] for t in over) + help_kw),
        },
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
        _(
            "the contracted %(limit)s limit cannot carry the base load plus the "
            "%(name)s (%(kw)s) at any allowed start"
        )
        % {
            "limit": kw(problem.limit_kw),
            "name": appliance.name,
            "kw": kw(max(appliance.profile_kw)),
        },
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
