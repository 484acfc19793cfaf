"""Simulated households with ground truth: who is home, what runs, when the day happens.

The virtual boxes' simulator (gateway_agent.simulator) draws appliance runs from fixed
daily habits, independent of anyone being home; the attacks need the opposite, load that
follows the occupants. So this module drives its own per-minute schedule from occupancy
and reuses the simulator's parts: the measured appliance programmes
(`simulator.appliances.programs_for`) and the outdoor temperature (`profiles.ambient_c`)
for space heating. The BDEW H0 base load is not reused: it is an average household's
shape, which would paint an occupancy that nobody in this home has.

Ground truth per minute: 0 away, 1 asleep, 2 at home and awake; per day: on a multi-day
absence or not; per appliance: minutes on; routine events (wake, meals, bedtime).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from gateway_agent.simulator.appliances import programs_for
from gateway_agent.simulator.profiles import ambient_c

AWAY, ASLEEP, AWAKE = 0, 1, 2
DAY_MIN = 24 * 60
KINDS = ("commuter", "part_time", "home_worker", "retired")
APPLIANCES = ("ev_charger", "heat_pump", "electric_heating", "dishwasher", "washing_machine")
ROUTINE_EVENTS = ("wake", "breakfast", "lunch", "dinner", "sleep")
LATITUDE = 50.85  # Brussels: only the heating's outdoor temperature depends on it


@dataclass
class Household:
    index: int
    kind: str
    owns: dict[str, bool]
    start: datetime  # UTC, the local midnight the window begins at
    days: list[date]
    zone: ZoneInfo
    power_w: np.ndarray  # per minute, what the meter sees
    state: np.ndarray  # per minute: AWAY, ASLEEP or AWAKE
    appliance_on: dict[str, np.ndarray] = field(default_factory=dict)  # per minute, bool
    absent_day: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))  # per day
    events: list[tuple[int, str, int]] = field(default_factory=list)  # (day, event, minute)
    day_offsets: list[int] = field(default_factory=list)  # first minute of each local day

    def day_span(self, day: int) -> slice:
        end = self.day_offsets[day + 1] if day + 1 < len(self.days) else len(self.power_w)
        return slice(self.day_offsets[day], end)


def window(days: int, zone: ZoneInfo, now: datetime | None = None) -> list[date]:
    """The last `days` complete local days before today (nothing lies in the future)."""
    today = (now or datetime.now(UTC)).astimezone(zone).date()
    return [today - timedelta(days=days - n) for n in range(days)]


def simulate(*, count: int, days: int, seed: int, zone_name: str = "Europe/Brussels",
             now: datetime | None = None) -> list[Household]:  # fmt: skip
    zone = ZoneInfo(zone_name)
    dates = window(days, zone, now)
    return [_household(index, dates, zone, seed) for index in range(count)]


def _local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC)


def _household(index: int, dates: list[date], zone: ZoneInfo, seed: int) -> Household:
    rng = np.random.default_rng([seed, index])
    start = _local_midnight(dates[0], zone)
    end = _local_midnight(dates[-1] + timedelta(days=1), zone)
    minutes = int((end - start).total_seconds() // 60)
    offsets = [int((_local_midnight(d, zone) - start).total_seconds() // 60) for d in dates]
    heating = rng.choice(["heat_pump", "electric_heating", "none"], p=[0.3, 0.2, 0.5])
    owns = {
        "ev_charger": bool(rng.random() < 0.35),
        "heat_pump": heating == "heat_pump",
        "electric_heating": heating == "electric_heating",
        "dishwasher": bool(rng.random() < 0.65),
        "washing_machine": bool(rng.random() < 0.85),
    }
    home = Household(
        index=index, kind=KINDS[index % len(KINDS)], owns=owns, start=start, days=dates,
        zone=zone, power_w=np.zeros(minutes), state=np.full(minutes, AWAY, dtype=np.int8),
        appliance_on={name: np.zeros(minutes, bool) for name in APPLIANCES},
        absent_day=_absences(rng, len(dates)), day_offsets=offsets,
    )  # fmt: skip
    habits = _habits(rng)
    for day in range(len(dates)):
        if not home.absent_day[day]:
            _day(home, day, habits, rng)
    _always_on(home, rng)
    _heating(home, rng)
    return home


def _absences(rng: np.random.Generator, days: int) -> np.ndarray:
    """About half the homes leave once for 2-6 days (a holiday, a family visit)."""
    absent = np.zeros(days, bool)
    if days >= 5 and rng.random() < 0.55:
        length = int(rng.integers(2, min(6, days - 2) + 1))
        first = int(rng.integers(1, days - length + 1))
        absent[first : first + length] = True
    return absent


@dataclass
class Habits:
    wake: float  # minutes after midnight on a working day
    sleep: float
    dinner: float
    activity_w: float  # lights, screens, cooking on the hob while awake at home
    ev_w: float


def _habits(rng: np.random.Generator) -> Habits:
    return Habits(
        wake=rng.normal(6.75 * 60, 30), sleep=rng.normal(23 * 60, 30),
        dinner=rng.normal(19 * 60, 30), activity_w=rng.uniform(150, 400),
        ev_w=float(rng.choice([3700, 7400])),
    )  # fmt: skip


def _outings(home: Household, day: int, wake: int, rng: np.random.Generator) -> list[tuple]:
    """When the last person leaves and the first comes back, in minutes of the day."""
    weekday = home.days[day].weekday() < 5
    kind = home.kind
    if kind == "commuter" and weekday:
        leave = wake + int(rng.uniform(35, 80))
        return [(leave, int(rng.normal(17.75 * 60, 40)))]
    if kind == "part_time" and weekday and rng.random() < 0.6:
        leave = max(wake + 30, int(rng.normal(8.5 * 60, 20)))
        return [(leave, int(rng.normal(13.25 * 60, 30)))]
    trips = int(rng.choice([0, 1, 1, 2])) if kind != "retired" else int(rng.choice([1, 2]))
    outings = []
    for _ in range(trips):
        leave = int(rng.uniform(9 * 60, 18 * 60))
        outings.append((leave, leave + int(rng.uniform(40, 180))))
    return outings


def _day(home: Household, day: int, habits: Habits, rng: np.random.Generator) -> None:
    first = home.day_offsets[day]
    span = home.day_span(day)
    length = span.stop - span.start
    late = 60 if home.days[day].weekday() >= 5 else 0
    wake = int(np.clip(habits.wake + late + rng.normal(0, 20), 4 * 60, 11 * 60))
    sleep = int(np.clip(habits.sleep + rng.normal(0, 25), 21 * 60, length - 5))
    state = np.full(length, ASLEEP, dtype=np.int8)
    state[wake:sleep] = AWAKE
    for leave, back in _outings(home, day, wake, rng):
        state[max(leave, wake) : min(back, sleep)] = AWAY
    home.state[span] = state
    power = home.power_w[span]
    awake = state == AWAKE
    power[awake] += habits.activity_w * rng.lognormal(0, 0.35, int(awake.sum()))
    # Evening lights while someone is up.
    power[16 * 60 : 24 * 60][awake[16 * 60 : 24 * 60]] += 120
    _meals(home, day, state, habits, wake, sleep, rng)
    _kettles(power, state, rng)
    _appliances(home, day, first, state, habits, sleep, rng)
    home.events += [(day, "wake", wake), (day, "sleep", sleep)]


def _run(power: np.ndarray, at: int, minutes: int, watts: float, duty: float = 1.0) -> None:
    """A load switched on at `at` for `minutes`; duty < 1 cycles it (an oven's element)."""
    target = power[at : at + max(minutes, 0)]
    block = np.full(target.size, watts)
    if duty < 1:
        block[(np.arange(block.size) % 4) >= round(4 * duty)] = 0
    target += block


def _meals(home: Household, day: int, state: np.ndarray, habits: Habits, wake: int,
           sleep: int, rng: np.random.Generator) -> None:  # fmt: skip
    power = home.power_w[home.day_span(day)]
    meals = [
        ("breakfast", wake + int(rng.uniform(10, 30)), 8, 1800.0, 1.0),
        ("lunch", int(rng.normal(12.5 * 60, 25)), int(rng.uniform(12, 25)), 1500.0, 0.75),
        ("dinner", int(rng.normal(habits.dinner, 25)), int(rng.uniform(25, 50)), 2000.0, 0.5),
    ]
    for name, at, minutes, watts, duty in meals:
        if name == "dinner" and state[at] != AWAKE:  # late home: dinner once back
            later = np.flatnonzero(state[at:sleep] == AWAKE)
            at = at + int(later[0]) + 20 if later.size else -1
        if at < 0 or at >= sleep or state[at] != AWAKE or (name == "lunch" and rng.random() < 0.3):
            continue
        _run(power, at, minutes, watts, duty)
        home.events.append((day, name, at))


def _kettles(power: np.ndarray, state: np.ndarray, rng: np.random.Generator) -> None:
    awake = np.flatnonzero(state == AWAKE)
    for at in rng.choice(awake, size=min(int(rng.poisson(3)), awake.size), replace=False):
        _run(power, int(at), 3, 2000.0)


def _program_minutes(appliance: str) -> np.ndarray:
    programs, default = programs_for(appliance, 2000)
    watts = [p.power_w for p in programs[default] for _ in range(max(1, round(p.duration_s / 60)))]
    return np.array(watts, float)


def _switch_on(home: Household, name: str, first: int, at: int, watts: np.ndarray) -> None:
    stop = min(first + at + watts.size, home.power_w.size)
    home.power_w[first + at : stop] += watts[: stop - first - at]
    home.appliance_on[name][first + at : stop] = True


def _appliances(home: Household, day: int, first: int, state: np.ndarray, habits: Habits,
                sleep: int, rng: np.random.Generator) -> None:  # fmt: skip
    awake = np.flatnonzero(state[: sleep - 60] == AWAKE)
    if awake.size == 0:
        return
    if home.owns["dishwasher"] and rng.random() < 0.7:
        dinner = [m for d, e, m in home.events if d == day and e == "dinner"]
        at = (dinner[0] + int(rng.uniform(40, 100))) if dinner else int(rng.choice(awake))
        _switch_on(home, "dishwasher", first, at, _program_minutes("dishwasher"))
    if home.owns["washing_machine"] and rng.random() < 0.4:
        at = int(rng.choice(awake))
        _switch_on(home, "washing_machine", first, at, _program_minutes("washing_machine"))
    if home.owns["ev_charger"]:
        returns = np.flatnonzero((state[1:] == AWAKE) & (state[:-1] == AWAY))
        back = [int(r) + 1 for r in returns if r > 15 * 60]
        if back and (home.kind == "commuter" or rng.random() < 0.5):
            minutes = int(rng.uniform(6000, 16000) / habits.ev_w * 60)
            _switch_on(home, "ev_charger", first, back[-1] + 5, np.full(minutes, habits.ev_w))


def _always_on(home: Household, rng: np.random.Generator) -> None:
    """Standby and a fridge cycling: the load of an empty house."""
    minutes = home.power_w.size
    cycle = int(rng.uniform(40, 60))
    fridge = ((np.arange(minutes) + int(rng.integers(cycle))) % cycle) < cycle * 0.4
    home.power_w += rng.uniform(50, 140) + 90 * fridge + rng.normal(0, 4, minutes)


def _heating(home: Household, rng: np.random.Generator) -> None:
    """Space heating, thermostatic: duty follows the cold, set back when nobody is up."""
    name = "heat_pump" if home.owns["heat_pump"] else "electric_heating"
    if not home.owns[name]:
        return
    minutes = np.arange(home.power_w.size)
    times = [home.start + timedelta(minutes=int(m)) for m in minutes[::15]]
    outdoor = np.repeat([ambient_c(t, LATITUDE) for t in times], 15)[: minutes.size]
    setpoint = np.where(home.state == AWAKE, 20.0, 16.5)
    duty = np.clip((setpoint - outdoor) / 22, 0.05, 0.95)
    cycle = 30 if name == "heat_pump" else 12
    on = (minutes % cycle) < duty * cycle
    watts = rng.uniform(1200, 2200) if name == "heat_pump" else rng.uniform(2500, 5000)
    home.power_w += on * watts
    home.appliance_on[name] |= on


def battery_levelled(power_w: np.ndarray, *, capacity_wh: float = 10_000,
                     max_w: float = 5_000) -> np.ndarray:  # fmt: skip
    """What the meter sees behind a load-hiding battery (best-effort levelling).

    The battery aims at a flat meter reading at the running mean of the last 24 hours:
    it discharges above it and charges below it, within its power and charge. No library
    simulates a battery policy this small, so it is a plain loop (one step per minute).
    """
    seen = np.empty_like(power_w)
    stored = capacity_wh / 2
    target = float(np.mean(power_w[:DAY_MIN]))
    for n, load in enumerate(power_w):
        if n >= DAY_MIN and n % 15 == 0:
            target = float(np.mean(power_w[n - DAY_MIN : n]))
        wanted = np.clip(load - target, -max_w, max_w)  # + discharge, - charge
        wanted = (
            min(wanted, stored * 60) if wanted > 0 else max(wanted, (stored - capacity_wh) * 60)
        )
        stored -= wanted / 60
        seen[n] = max(load - wanted, 0.0)
    return seen
