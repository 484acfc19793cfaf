"""The household's interruptible loads, planned a day ahead, and the box commands that run them.

A household's rules ("add 20 kWh to the car by 07:30", "heat 6 kWh of water a day between
22:00 and 07:00 or 12:00 and 16:00") become one MILP (apps.scheduling.optimizer) over the
quarter hours from now to the car's departure / the end of the heater's next 24 hours of
windows: the tariff's prices, the PV and base-load forecasts, the programmes already
planned, and the supply limit kept under the 90 % warning line. The chosen kW per quarter
become blocks, and the box switches the device at the blocks' edges:

- the EV charger modulates: `set_power_limit` ({"limit_w": ...}) and `switch_on` at a
  block's start (only the limit where the power changes inside a run), `switch_off` at its
  end;
- the water heater is on/off at its rated power: a quarter planned at part power becomes
  part of the quarter at full power (next to its on neighbour), same energy;
- a device not on at the horizon's start is switched off then, so a car plugged in at 18:00
  waits for the night rate instead of charging at once;
- the home battery (a BatteryRule) is planned over the next 24 hours from its last measured
  charge level (a DeviceReading's soc_pct no older than an hour; none: not planned, and
  the battery stays in self-consumption), within its reserve and capacity, ending at least
  as full as it started. Its blocks are signed kW (+ charging, - discharging into the
  house); the box gets `set_battery` ({"mode": "charge" | "discharge", "power_w": ...}) at
  each block's start and {"mode": "auto"} (self-consumption) where the plan has neither:
  at the horizon's start before the first block, after each run of blocks. Its cost is what
  it changes on the bill on top of the other loads as planned, and the baseline it saves
  against is self-consumption (`_self_consumption`): the battery that covers the house's
  load from its charge and stores only the PV surplus, with the charge level it ends with
  below the plan's bought back at the horizon's cheapest import price.

Commands expire (`not_after`) once the state they set is over, so a box that was offline
never runs a stale order much later. Re-planning the same day withdraws the commands not run
yet (a `cancel` reaches a box that already holds them), counts the energy the earlier plan's
blocks delivered before now, and replaces the plan. When no plan gives every load its energy,
the nearest plan is kept and carried out, with the reasons on the DailyPlan.

The box commands are issued as the household's first owner (command_issue and
command_withdraw check that their user may control the device): the rules are theirs.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from itertools import zip_longest
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils.translation import gettext as _

from apps.devices.models import Device
from apps.fleet import services as fleet_services
from apps.fleet.models import CommandStatus, GatewayCommand
from apps.households import selectors as household_selectors
from apps.households.models import Household, MembershipRole
from apps.scheduling import optimizer as opt
from apps.scheduling import services
from apps.scheduling.models import (
    BatteryRule,
    DailyPlan,
    DailyPlanStatus,
    EvChargingRule,
    WaterHeaterRule,
)
from apps.tariffs.selectors import MissingPrice, NoTariff
from apps.telemetry import selectors as telemetry_selectors
from gateway_agent.tripmodel import WARN_AT

log = logging.getLogger(__name__)

EV, WATER_HEATER, BATTERY = "ev", "water_heater", "battery"
EPS_KW = 0.001  # below 1 W a quarter counts as off
WATER_HEATER_DAY = timedelta(hours=24)  # the heater's daily energy goes in the next 24 h
BATTERY_DAY = timedelta(hours=24)  # the battery is planned for the next 24 h
SOC_MAX_AGE = timedelta(hours=1)  # an older charge level is not planned from
MAX_HORIZON = timedelta(hours=36)
TIE_BREAK = 1e-6  # per kWh and quarter: 0.00014 over 36 h, below any tariff's price step
SWITCH_OFF_GRACE = timedelta(hours=1)  # a last switch_off may still run this late
WAITING = [CommandStatus.PENDING, CommandStatus.SENT, CommandStatus.RECEIVED]


@dataclass(frozen=True)
class Block:
    start: datetime
    end: datetime
    kw: float  # drawn from the house

    def as_json(self) -> list[Any]:
        return [self.start.isoformat(), self.end.isoformat(), self.kw]


@dataclass
class _Load:
    """One rule's load for this plan: what is still to deliver, and when it may be."""

    kind: str
    device: Device
    end: datetime  # the car's departure; the heater's last window's end
    target_kwh: float  # EV: into the car; water heater: drawn
    max_kw: float
    efficiency: float = 1.0
    windows: Sequence[tuple[datetime, datetime]] = ()
    battery: opt.Battery | None = None  # the battery's model (a battery load)
    blocked: str | None = None  # why it cannot be planned now


def daily_plan(*, household: Household, day: date, now: datetime) -> list[DailyPlan]:
    """Plan the household's active EV charging and water heater rules from `now` and send
    the box its commands; re-running for the same day replaces that day's plans."""
    ev_rules = list(
        EvChargingRule.objects.active().filter(household=household).select_related("device")
    )
    wh_rules = list(
        WaterHeaterRule.objects.active().filter(household=household).select_related("device")
    )
    battery_rules = list(
        BatteryRule.objects.active().filter(household=household).select_related("device")
    )
    if not ev_rules and not wh_rules and not battery_rules:
        return []
    start = services.ceil_quarter(now)
    previous = {p.device_id: p for p in DailyPlan.objects.filter(household=household, day=day)}
    evs = [_ev_load(household, r, start, previous.get(r.device_id)) for r in ev_rules]
    heaters = [_heater_load(household, r, start, previous.get(r.device_id)) for r in wh_rules]
    batteries = [_battery_load(r, start, now) for r in battery_rules]
    user = _acting_user(household)
    plans: list[DailyPlan] = []
    earlier: dict[datetime, float] = {}  # loads planned in the rounds before
    # A problem holds one EV, one water heater and one battery: they share the limit. More
    # of any (rare) are planned in further rounds, on top of the loads planned before.
    for group in zip_longest(evs, heaters, batteries):
        loads = [load for load in group if load is not None]
        with transaction.atomic():
            plans.extend(_plan_round(household, day, start, loads, earlier, user))
    return plans


def _plan_round(
    household: Household,
    day: date,
    start: datetime,
    loads: list[_Load],
    earlier: dict[datetime, float],
    user: Any,
) -> list[DailyPlan]:
    blocked = _why_not(loads, user)
    for load in loads:
        if load.device.pk in blocked:
            _withdraw(household, day, load.device, start, user)
    ready = [load for load in loads if load.device.pk not in blocked]
    out = [
        _record(household, day, load, start, DailyPlanStatus.NOT_PLANNED, [blocked[load.device.pk]])
        for load in loads
        if load.device.pk in blocked
    ]
    if not ready:
        return out
    end = min(max(load.end for load in ready), start + MAX_HORIZON)
    try:
        context = services.planning_context(household=household, start=start, end=end)
    except (NoTariff, MissingPrice) as error:
        # Keep what was planned with the prices known then; say why nothing new was.
        reason = services.price_reason(error)
        for load in ready:
            kept = DailyPlan.objects.filter(household=household, day=day, device=load.device)
            if not kept.exclude(status=DailyPlanStatus.NOT_PLANNED).exists():
                status = DailyPlanStatus.NOT_PLANNED
                out.append(_record(household, day, load, start, status, [reason]))
        return out
    slots = services.with_extra_load(
        services.with_planned_loads(context.slots, context.planned), earlier
    )
    ev = next((load for load in ready if load.kind == EV), None)
    heater = next((load for load in ready if load.kind == WATER_HEATER), None)
    battery = next((load for load in ready if load.kind == BATTERY), None)
    problem = opt.Problem(
        slots=_sooner_on_ties(slots),
        limit_kw=WARN_AT * household.supply_limit().limit_va / 1000,
        ev=_ev_model(ev, start) if ev else None,
        water_heater=_heater_model(heater) if heater else None,
        battery=battery.battery if battery else None,
        timezone=household.timezone,
    )
    result = opt.solve(problem)
    plan = result.nearest if isinstance(result, opt.Infeasible) else result
    for load in ready:
        if load.kind == BATTERY:
            out.append(
                _plan_battery(household, day, start, load, slots, problem, plan, result, user)
            )
            for slot, value in zip(slots, _battery_kw(plan), strict=True):
                # Only its charging adds to the load the next rounds plan around.
                earlier[slot.start] = earlier.get(slot.start, 0.0) + max(value, 0.0)
            continue
        kw = plan.ev_kw if load.kind == EV else plan.water_heater_kw
        alone = opt.Problem(
            slots=slots, limit_kw=problem.limit_kw, timezone=household.timezone,
            ev=problem.ev if load.kind == EV else None,
            water_heater=problem.water_heater if load.kind == WATER_HEATER else None,
        )  # fmt: skip
        without = _cost(alone, [0.0] * len(slots))
        expected = _cost(alone, kw) - without
        if_now = opt.start_now(alone).baseline_cost - without
        reasons = _reasons(result, load) if isinstance(result, opt.Infeasible) else []
        status = DailyPlanStatus.INFEASIBLE if reasons else DailyPlanStatus.PLANNED
        blocks = _blocks(slots, kw, modulating=load.kind == EV, max_kw=load.max_kw)
        _withdraw(household, day, load.device, start, user)
        daily = _record(household, day, load, start, status, reasons, blocks, expected, if_now)
        daily.commands.set(_issue(load, blocks, user, start, load.end))
        out.append(daily)
        for slot, value in zip(slots, kw, strict=True):
            earlier[slot.start] = earlier.get(slot.start, 0.0) + value
    return out


def _plan_battery(
    household: Household,
    day: date,
    start: datetime,
    load: _Load,
    slots: list[opt.Slot],
    problem: opt.Problem,
    plan: opt.Plan,
    result: opt.Plan | opt.Infeasible,
    user: Any,
) -> DailyPlan:
    assert load.battery is not None
    kw = _battery_kw(plan)
    others = [e + w for e, w in zip(plan.ev_kw, plan.water_heater_kw, strict=True)]
    bill = opt.Problem(slots=slots, limit_kw=problem.limit_kw, timezone=household.timezone)
    without = _cost(bill, others)
    expected = _cost(bill, [o + k for o, k in zip(others, kw, strict=True)]) - without
    own, left_kwh = _self_consumption(slots, others, load.battery)
    refill = min(s.import_price for s in slots) / load.battery.charge_efficiency
    shortfall = plan.battery_soc_kwh[-1] - left_kwh
    if_now = _cost(bill, [o + k for o, k in zip(others, own, strict=True)]) - without
    if_now += shortfall * refill
    reasons = _reasons(result, load) if isinstance(result, opt.Infeasible) else []
    status = DailyPlanStatus.INFEASIBLE if reasons else DailyPlanStatus.PLANNED
    blocks = _blocks(slots, kw, modulating=True, max_kw=load.max_kw)
    _withdraw(household, day, load.device, start, user)
    daily = _record(household, day, load, start, status, reasons, blocks, expected, if_now)
    daily.commands.set(_issue_battery(load, blocks, user, start, load.end))
    return daily


def _battery_kw(plan: opt.Plan) -> list[float]:
    """The battery's kW per slot, signed: + charging, - discharging into the house."""
    return [c - d for c, d in zip(plan.battery_charge_kw, plan.battery_discharge_kw, strict=True)]


def _self_consumption(
    slots: Sequence[opt.Slot], others: Sequence[float], battery: opt.Battery
) -> tuple[list[float], float]:
    """What the battery does with no plan (the box's default, the saving's baseline): it
    covers the house's load net of PV from its charge down to the reserve, and stores the
    PV surplus up to full, within its powers. Its signed kW per slot, and the kWh left."""
    soc = battery.initial_soc_kwh
    powers = []
    for slot, other in zip(slots, others, strict=True):
        net = slot.base_load_kw + other - slot.pv_kw
        hours = slot.duration_h
        if net > 0:
            room = max(0.0, soc - battery.min_soc_kwh) * battery.discharge_efficiency / hours
            power = -min(net, battery.max_discharge_kw, room)
            soc += power * hours / battery.discharge_efficiency
        else:
            room = max(0.0, battery.capacity_kwh - soc) / battery.charge_efficiency / hours
            power = min(-net, battery.max_charge_kw, room)
            soc += power * hours * battery.charge_efficiency
        powers.append(power)
    return powers, soc


# The loads ------------------------------------------------------------------------------


def _ev_load(
    household: Household, rule: EvChargingRule, start: datetime, previous: DailyPlan | None
) -> _Load:
    zone = ZoneInfo(household.timezone)
    local_day = start.astimezone(zone).date()
    departure = datetime.combine(local_day, rule.departure, zone)
    if departure <= start:
        departure = datetime.combine(local_day + timedelta(days=1), rule.departure, zone)
    efficiency = float(rule.efficiency)
    delivered = _drawn_before(previous, start) * efficiency
    return _Load(
        kind=EV, device=rule.device, end=departure,
        target_kwh=max(0.0, float(rule.energy_kwh) - delivered),
        max_kw=rule.power_kw, efficiency=efficiency,
    )  # fmt: skip


def _heater_load(
    household: Household, rule: WaterHeaterRule, start: datetime, previous: DailyPlan | None
) -> _Load:
    # Re-planned the same day: the same 24 hours as the first plan, minus what it heated.
    running = previous is not None and previous.horizon_end > start
    until = previous.horizon_end if running and previous else start + WATER_HEATER_DAY
    windows = _windows(rule.window_times(), start, until, ZoneInfo(household.timezone))
    return _Load(
        kind=WATER_HEATER, device=rule.device,
        end=windows[-1][1] if windows else start + timedelta(minutes=15),
        target_kwh=max(0.0, float(rule.energy_kwh) - _drawn_before(previous, start))
        if windows else 0.0,
        max_kw=rule.power_kw, windows=windows,
    )  # fmt: skip


def _battery_load(rule: BatteryRule, start: datetime, now: datetime) -> _Load:
    """The battery from its last charge level (no older than SOC_MAX_AGE) to 24 h on."""
    capacity = float(rule.capacity_kwh)
    measured = telemetry_selectors.device_latest_soc(
        device_id=rule.device_id, since=now - SOC_MAX_AGE
    )
    load = _Load(
        kind=BATTERY, device=rule.device, end=start + BATTERY_DAY, target_kwh=0.0,
        max_kw=max(rule.charge_kw, rule.discharge_kw),
    )  # fmt: skip
    if measured is None:
        reason = _(
            "No charge level from the battery in the last hour: it is not planned and stays "
            "in self-consumption."
        )
        return replace(load, blocked=reason)
    initial = min(max(measured[1], 0.0), 100.0) * capacity / 100
    model = opt.Battery(
        capacity_kwh=capacity,
        max_charge_kw=rule.charge_kw,
        max_discharge_kw=rule.discharge_kw,
        initial_soc_kwh=initial,
        charge_efficiency=float(rule.charge_efficiency),
        discharge_efficiency=float(rule.discharge_efficiency),
        # Below its reserve already: not lower than now (the plan ends at least as full).
        min_soc_kwh=min(rule.reserve_kwh, initial),
    )
    return replace(load, target_kwh=initial, battery=model)


def _windows(
    ranges: Sequence[tuple[time, time]], start: datetime, until: datetime, zone: ZoneInfo
) -> list[tuple[datetime, datetime]]:
    """The local time ranges as instants inside [start, until), merged, in time order."""
    found = []
    first = start.astimezone(zone).date() - timedelta(days=1)
    last = until.astimezone(zone).date()
    day = first
    while day <= last:
        for begin, end in ranges:
            a = datetime.combine(day, begin, zone)
            b = datetime.combine(day + timedelta(days=1) if end <= begin else day, end, zone)
            a, b = max(a, start), min(b, until)
            if a < b:
                found.append((a, b))
        day += timedelta(days=1)
    found.sort()
    merged: list[tuple[datetime, datetime]] = []
    for a, b in found:
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


def _drawn_before(previous: DailyPlan | None, start: datetime) -> float:
    """kWh the same day's earlier plan drew before `start` (its blocks already run)."""
    if previous is None or previous.horizon_end <= start:
        return 0.0
    total = 0.0
    for begin, end, kw in previous.blocks:
        a, b = datetime.fromisoformat(begin), min(datetime.fromisoformat(end), start)
        if a < b:
            total += kw * (b - a).total_seconds() / 3600
    return total


# The slowest a charger charges (IEC 61851: 6 A on one phase): no 80 W top-up blocks.
EV_MIN_KW = 1.4
QUARTER_H = 0.25


def _ev_target(load: _Load) -> float:
    """What is left to charge: under 50 Wh nothing; a remainder smaller than a quarter at
    the charger's minimum rounds up to that quarter (it cannot charge slower)."""
    if load.target_kwh < 0.05:
        return 0.0
    return max(load.target_kwh, EV_MIN_KW * QUARTER_H * load.efficiency)


def _ev_model(load: _Load, start: datetime) -> opt.EVCharge:
    return opt.EVCharge(
        target_kwh=_ev_target(load),
        max_kw=load.max_kw, arrival=start, departure=load.end,
        efficiency=load.efficiency, name=load.device.name, min_kw=EV_MIN_KW,
    )  # fmt: skip


def _heater_model(load: _Load) -> opt.WaterHeater:
    return opt.WaterHeater(
        energy_kwh=load.target_kwh, max_kw=load.max_kw, windows=list(load.windows),
        name=load.device.name,
    )  # fmt: skip


def _acting_user(household: Household) -> Any:
    owner = (
        household_selectors.member_list(household=household)
        .filter(role=MembershipRole.OWNER, user__is_active=True)
        .select_related("user")
        .order_by("created_at")
        .first()
    )
    return owner.user if owner else None


def _why_not(loads: list[_Load], user: Any) -> dict[Any, str]:
    blocked = {}
    for load in loads:
        if user is None:
            blocked[load.device.pk] = _("The household has no owner the box could act for.")
        elif load.device.gateway_id is None:
            blocked[load.device.pk] = _("This device is not connected to a box.")
        elif load.blocked:
            blocked[load.device.pk] = load.blocked
    return blocked


def _sooner_on_ties(slots: list[opt.Slot]) -> list[opt.Slot]:
    """Slots at one price are a tie the solver breaks at random, which scatters the load
    over the night (a switch every quarter). A price nudge growing with time, far below
    any real price step, makes it take the earliest of equal slots: long blocks, and the
    energy in early. Costs are reported with the real prices."""
    return [replace(s, import_price=s.import_price + TIE_BREAK * t) for t, s in enumerate(slots)]


# From kW per quarter to blocks and commands ---------------------------------------------


def _blocks(
    slots: Sequence[opt.Slot], kw: Sequence[float], *, modulating: bool, max_kw: float
) -> list[Block]:
    """Contiguous time at one power. A device that only switches runs a quarter planned
    at part power for that part of the quarter at full power, beside its on neighbour."""
    on = [abs(value) > EPS_KW for value in kw]  # a battery's discharge is negative
    pieces: list[Block] = []
    for t, slot in enumerate(slots):
        if not on[t]:
            continue
        if modulating:
            pieces.append(Block(slot.start, slot.end, round(kw[t], 3)))
            continue
        share = min(kw[t] / max_kw, 1.0)
        length = timedelta(seconds=round(slot.duration_h * 3600 * share))
        before = t > 0 and kw[t - 1] >= max_kw - EPS_KW
        after = t + 1 < len(slots) and on[t + 1]
        if share >= 1.0 - 1e-6 or before or not after:
            pieces.append(Block(slot.start, slot.start + length, round(max_kw, 3)))
        else:  # leans on the next quarter's run
            pieces.append(Block(slot.end - length, slot.end, round(max_kw, 3)))
    blocks: list[Block] = []
    for piece in pieces:
        last = blocks[-1] if blocks else None
        if last and last.end == piece.start and round(last.kw * 1000) == round(piece.kw * 1000):
            blocks[-1] = Block(last.start, piece.end, last.kw)
        else:
            blocks.append(piece)
    return blocks


def _runs(blocks: list[Block]) -> list[list[Block]]:
    """Blocks that touch form one run: the device stays on across them."""
    runs: list[list[Block]] = []
    for block in blocks:
        if runs and runs[-1][-1].end == block.start:
            runs[-1].append(block)
        else:
            runs.append([block])
    return runs


def _issue(
    load: _Load, blocks: list[Block], user: Any, start: datetime, end: datetime
) -> list[GatewayCommand]:
    issued: list[GatewayCommand] = []

    def issue(kind: str, at: datetime, until: datetime, params: dict | None = None) -> None:
        issued.append(
            fleet_services.command_issue(
                user=user,
                device=load.device,
                kind=kind,
                params=params,
                not_before=at,
                not_after=until,
            )
        )

    def limit(block: Block) -> dict[str, Any]:
        return {"limit_w": round(block.kw * 1000)}

    runs = _runs(blocks)
    if not runs or runs[0][0].start > start:
        issue("switch_off", start, runs[0][0].start if runs else end + SWITCH_OFF_GRACE)
    for index, run in enumerate(runs):
        run_start, run_end = run[0].start, run[-1].end
        if load.kind == EV:
            issue("set_power_limit", run_start, run_end, limit(run[0]))
        issue("switch_on", run_start, run_end)
        if load.kind == EV:
            for block in run[1:]:
                issue("set_power_limit", block.start, run_end, limit(block))
        following = runs[index + 1][0].start if index + 1 < len(runs) else None
        issue("switch_off", run_end, following or run_end + SWITCH_OFF_GRACE)
    return issued


def _issue_battery(
    load: _Load, blocks: list[Block], user: Any, start: datetime, end: datetime
) -> list[GatewayCommand]:
    """`set_battery` at each block's start (charge / discharge at its power), and "auto"
    (self-consumption) where the plan has neither: before the first block, after a run."""
    issued: list[GatewayCommand] = []

    def issue(at: datetime, until: datetime, params: dict[str, Any]) -> None:
        issued.append(
            fleet_services.command_issue(
                user=user,
                device=load.device,
                kind="set_battery",
                params=params,
                not_before=at,
                not_after=until,
            )
        )

    auto = {"mode": "auto"}
    runs = _runs(blocks)
    if not runs or runs[0][0].start > start:
        issue(start, runs[0][0].start if runs else end + SWITCH_OFF_GRACE, auto)
    for index, run in enumerate(runs):
        for block in run:
            mode = "charge" if block.kw > 0 else "discharge"
            issue(block.start, block.end, {"mode": mode, "power_w": round(abs(block.kw) * 1000)})
        run_end = run[-1].end
        following = runs[index + 1][0].start if index + 1 < len(runs) else None
        issue(run_end, following or run_end + SWITCH_OFF_GRACE, auto)
    return issued


def _withdraw(household: Household, day: date, device: Device, start: datetime, user: Any) -> None:
    """Take back the commands not run yet: all of this day's plan, and those of other
    days' plans for this device that were due from `start` on."""
    if user is None:
        return
    plans = DailyPlan.objects.filter(household=household, device=device)
    same_day = GatewayCommand.objects.filter(pk__in=plans.filter(day=day).values("commands"))
    later = GatewayCommand.objects.filter(
        pk__in=plans.exclude(day=day).values("commands"), not_before__gte=start
    )
    for command in (same_day | later).filter(status__in=WAITING).order_by("not_before"):
        fleet_services.command_withdraw(user=user, command=command)


# Recording ------------------------------------------------------------------------------


def _record(
    household: Household,
    day: date,
    load: _Load,
    start: datetime,
    status: str,
    reasons: list[str],
    blocks: Sequence[Block] = (),
    expected: float | None = None,
    if_now: float | None = None,
) -> DailyPlan:
    plan, _created = DailyPlan.objects.update_or_create(
        household=household, day=day, device=load.device,
        defaults={
            "status": status, "horizon_start": start, "horizon_end": load.end,
            "target_kwh": Decimal(str(round(load.target_kwh, 3))),
            "blocks": [block.as_json() for block in blocks],
            "expected_cost": None if expected is None else services.money_rounded(expected),
            "cost_if_now": None if if_now is None else services.money_rounded(if_now),
            "reasons": reasons,
        },
    )  # fmt: skip
    if status == DailyPlanStatus.NOT_PLANNED:
        plan.commands.clear()
    return plan


def _reasons(result: opt.Infeasible, load: _Load) -> list[str]:
    """Why this load's plan is not what was asked: the reasons naming it or the limit; none
    when only the other load of the problem was bent."""
    name = load.device.name
    bent = result.relaxations
    if bent and not any(r.subject == name or r.kind == "limit" for r in bent):
        return []
    mine = [reason for reason in result.reasons if name in reason or "limit" in reason]
    return mine or list(result.reasons)


def _cost(problem: opt.Problem, kw: Sequence[float]) -> float:
    """The bill of the problem's slots with `kw` on top of the base load (no export cap)."""
    imports, exports = [], []
    for slot, value in zip(problem.slots, kw, strict=True):
        net = slot.base_load_kw + value - slot.pv_kw
        imports.append(max(net, 0.0))
        exports.append(max(-net, 0.0))
    return opt.evaluate_costs(problem, imports, exports).total
