"""What the planner page shows: the appliance form, the last plan's result, the plans;
the car's night charging, the water heater and the home battery, their rules and plans.

The planner itself is apps.scheduling (plan_appliance, plan_cancel); this module only
turns its PlanRequests into sentences in the household's time ("Starts tonight at 23:15,
done by 01:00") and money rounded to the cent in the tenant's currency.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import QuerySet
from django.utils import formats
from django.utils.translation import gettext as _

from apps.core.permissions import Action
from apps.devices.models import Device, DeviceKind
from apps.energy.costs import rounded
from apps.households.models import Household
from apps.portal.forms import BatteryRuleForm, EvRuleForm, WaterHeaterRuleForm, windows_text
from apps.scheduling.models import (
    ApplianceProgram,
    BatteryRule,
    DailyPlan,
    DailyPlanStatus,
    EvChargingRule,
    PlanRequest,
    PlanStatus,
    SchedulingPreferences,
    WaterHeaterRule,
)

HISTORY = 20  # finished plans listed under the active ones
DEFAULT_DONE_BY = time(7, 0)  # tomorrow morning, as the apps of the field propose
EVENING = 18  # from this hour "today" is "tonight" (and so is early tomorrow morning)
EARLY_MORNING = 6  # asked after NOON
NOON = 12

BADGE = {  # the status badge's class (static/css/app.css)
    PlanStatus.PLANNED: "wait",
    PlanStatus.STARTED: "run",
    PlanStatus.DONE: "ok",
    PlanStatus.FAILED: "off",
    PlanStatus.CANCELLED: "",
    PlanStatus.INFEASIBLE: "off",
}


def program_choices(*, user: Any, household: Household) -> QuerySet[ApplianceProgram]:
    """The programmes the user may start in this household (none: read-only)."""
    return (
        ApplianceProgram.objects.restrict(user, Action.CONTROL_DEVICES)
        .filter(device__household=household)
        .select_related("device")
        .order_by("device__name", "name")
    )


def may_control(*, user: Any, household: Household) -> bool:
    return Household.objects.restrict(user, Action.CONTROL_DEVICES).filter(pk=household.pk).exists()


def default_done_by(now: datetime, zone: ZoneInfo) -> datetime:
    """Tomorrow 07:00 at home, naive (the datetime-local input's wall-clock value)."""
    tomorrow = now.astimezone(zone).date() + timedelta(days=1)
    return datetime.combine(tomorrow, DEFAULT_DONE_BY)


def _hm(moment: datetime) -> str:
    return formats.time_format(moment, "H:i")


def start_sentence(start: datetime, end: datetime, *, now: datetime, zone: ZoneInfo) -> str:
    """ "Starts tonight at 23:15, done by 01:00" in the household's zone."""
    local, finish, today = start.astimezone(zone), end.astimezone(zone), now.astimezone(zone)
    values = {"start": _hm(local), "end": _hm(finish)}
    days = (local.date() - today.date()).days
    if (days == 0 and local.hour >= EVENING) or (
        days == 1 and local.hour < EARLY_MORNING and today.hour >= NOON
    ):
        return _("Starts tonight at %(start)s, done by %(end)s") % values
    if days == 0:
        return _("Starts today at %(start)s, done by %(end)s") % values
    if days == 1:
        return _("Starts tomorrow at %(start)s, done by %(end)s") % values
    values["day"] = formats.date_format(local, "l j F")
    return _("Starts on %(day)s at %(start)s, done by %(end)s") % values


def _cents(amount: Decimal | None) -> Decimal | None:
    return None if amount is None else rounded(amount)


@dataclass
class PlanRow:
    """A plan as the page shows it (money rounded to the cent, times in the home's zone)."""

    plan: PlanRequest
    badge: str
    end: datetime | None  # when the programme ends, at its planned start
    expected_cost: Decimal | None
    cost_if_now: Decimal | None
    saving: Decimal | None
    sentence: str  # the planned start, or the nearest proposal of an infeasible plan

    @property
    def surcharge(self) -> Decimal | None:
        """How much more than starting now (quiet hours or the limit may cost a little)."""
        return -self.saving if self.saving is not None and self.saving < 0 else None

    @property
    def cancellable(self) -> bool:
        return self.plan.status == PlanStatus.PLANNED


def plan_row(plan: PlanRequest, *, now: datetime, zone: ZoneInfo) -> PlanRow:
    end = sentence = None
    if plan.planned_start is not None:
        end = plan.planned_start + timedelta(minutes=plan.program.duration_minutes)
        sentence = start_sentence(plan.planned_start, end, now=now, zone=zone)
    return PlanRow(
        plan=plan, badge=BADGE.get(PlanStatus(plan.status), ""), end=end,
        expected_cost=_cents(plan.expected_cost), cost_if_now=_cents(plan.cost_if_now),
        saving=_cents(plan.saving), sentence=sentence or "",
    )  # fmt: skip


def plan_rows(*, user: Any, household: Household, now: datetime, zone: ZoneInfo) -> list[PlanRow]:
    """The active plans, soonest first, then the last HISTORY others, newest first."""
    plans = (
        PlanRequest.objects.restrict(user, Action.VIEW)
        .filter(household=household)
        .select_related("program__device")
    )
    active = list(plans.active().order_by("planned_start", "created_at"))
    done = list(plans.exclude(pk__in=[p.pk for p in active]).order_by("-created_at")[:HISTORY])
    return [plan_row(plan, now=now, zone=zone) for plan in active + done]


def quiet_hours(*, household: Household) -> SchedulingPreferences | None:
    return SchedulingPreferences.objects.filter(household=household).first()


def context(
    *, user: Any, household: Household, now: datetime, result_id: Any = None
) -> dict[str, Any]:
    """Everything but the forms: the plans, the result card, the quiet hours."""
    zone = ZoneInfo(household.timezone)
    rows = plan_rows(user=user, household=household, now=now, zone=zone)
    result = None
    if result_id:
        result = next((row for row in rows if str(row.plan.pk) == str(result_id)), None)
        if result is None:  # older than the listed ones
            plan = (
                PlanRequest.objects.restrict(user, Action.VIEW)
                .filter(household=household, pk=result_id)
                .select_related("program__device")
                .first()
            )
            result = plan_row(plan, now=now, zone=zone) if plan else None
    return {
        "household": household,
        "currency": household.tenant.currency,
        "rows": rows,
        "result": result,
        "preferences": quiet_hours(household=household),
    }


# Interruptible loads: the car's night charging, the water heater, the home battery -------

LOAD_KINDS = (DeviceKind.EV_CHARGER, DeviceKind.WATER_HEATER, DeviceKind.BATTERY)
Rule = EvChargingRule | WaterHeaterRule | BatteryRule
RuleForm = EvRuleForm | WaterHeaterRuleForm | BatteryRuleForm
DAILY_BADGE = {
    DailyPlanStatus.PLANNED: "ok",
    DailyPlanStatus.INFEASIBLE: "wait",
    DailyPlanStatus.NOT_PLANNED: "off",
}


def _kw(value: float) -> str:
    """7.4, 3.7, 0.25 (a small top-up keeps its two decimals)."""
    return formats.number_format(value, 1 if value >= 1 else 2)


def _amount(value: Decimal) -> str:
    """20, 7.5, 12.25: the rule's kWh without trailing zeros."""
    exponent = value.normalize().as_tuple().exponent
    places = max(0, -exponent) if isinstance(exponent, int) else 0
    return formats.number_format(value, places)


def _when(moment: datetime, *, now: datetime, zone: ZoneInfo) -> str:
    """ "tonight at 23:00", "tomorrow at 07:30", "on Friday 4 December at 07:30"."""
    local, today = moment.astimezone(zone), now.astimezone(zone)
    values = {"time": _hm(local)}
    days = (local.date() - today.date()).days
    if days == 0:
        if local.hour >= EVENING:
            return _("tonight at %(time)s") % values
        return _("today at %(time)s") % values
    if days == 1:
        return _("tomorrow at %(time)s") % values
    values["day"] = formats.date_format(local, "l j F")
    return _("on %(day)s at %(time)s") % values


@dataclass
class DailyPlanRow:
    """A load's plan for the night / day as the page shows it."""

    plan: DailyPlan
    badge: str
    blocks: list[str]  # "23:00-02:15 at 7.4 kW" (an en dash)
    drawn_kwh: float  # from the house (a battery: charged)
    stored_kwh: float  # into the car (after the charger's losses) or the water
    given_kwh: float  # a battery: given back to the house
    ready_by: str  # "tomorrow at 07:30"
    finished: bool  # its horizon is over: the last plan, shown until the next one
    expected_cost: Decimal | None
    cost_if_now: Decimal | None
    saving: Decimal | None

    @property
    def blocks_text(self) -> str:
        return ", ".join(self.blocks)

    @property
    def surcharge(self) -> Decimal | None:
        return -self.saving if self.saving is not None and self.saving < 0 else None


def _block_text(a: datetime, b: datetime, kw: float, *, battery: bool) -> str:
    # The en dash stays out of the msgids: gettext's extraction mangles a \u escape.
    values = {"span": f"{_hm(a)}\u2013{_hm(b)}", "kw": _kw(abs(kw))}
    if not battery:
        return _("%(span)s at %(kw)s kW") % values
    if kw > 0:
        return _("%(span)s charging at %(kw)s kW") % values
    return _("%(span)s giving back %(kw)s kW") % values


def daily_plan_row(
    plan: DailyPlan, *, efficiency: float, now: datetime, zone: ZoneInfo, battery: bool = False
) -> DailyPlanRow:
    blocks = []
    charged = given = 0.0
    for start, end, kw in plan.blocks:
        a = datetime.fromisoformat(start).astimezone(zone)
        b = datetime.fromisoformat(end).astimezone(zone)
        blocks.append(_block_text(a, b, kw, battery=battery))
        hours = (b - a).total_seconds() / 3600
        charged += max(kw, 0.0) * hours
        given += max(-kw, 0.0) * hours
    drawn = charged if battery else plan.energy_kwh
    return DailyPlanRow(
        plan=plan, badge=DAILY_BADGE.get(DailyPlanStatus(plan.status), ""), blocks=blocks,
        drawn_kwh=round(drawn, 1), stored_kwh=round(drawn * efficiency, 1),
        given_kwh=round(given, 1),
        ready_by=_when(plan.horizon_end, now=now, zone=zone), finished=plan.horizon_end <= now,
        expected_cost=_cents(plan.expected_cost), cost_if_now=_cents(plan.cost_if_now),
        saving=_cents(plan.saving),
    )  # fmt: skip


@dataclass
class LoadCard:
    """One EV charger, water heater or battery: its rule, the form to set it, its plan."""

    device: Device
    rule: Rule | None
    form: RuleForm | None  # None: read-only
    plan: DailyPlanRow | None

    @property
    def is_ev(self) -> bool:
        return self.device.kind == DeviceKind.EV_CHARGER

    @property
    def is_battery(self) -> bool:
        return self.device.kind == DeviceKind.BATTERY

    @property
    def capacity(self) -> str:
        return _amount(self.rule.capacity_kwh) if isinstance(self.rule, BatteryRule) else ""

    @property
    def discharge_power(self) -> str:
        """The battery's discharging kW: the rule's, or its rated power."""
        if isinstance(self.rule, BatteryRule):
            return _kw(self.rule.discharge_kw)
        return _kw(self.device.rated_power_w / 1000)

    @property
    def windows(self) -> str:
        return windows_text(self.rule.windows) if isinstance(self.rule, WaterHeaterRule) else ""

    @property
    def energy(self) -> str:
        if isinstance(self.rule, EvChargingRule | WaterHeaterRule):
            return _amount(self.rule.energy_kwh)
        return ""

    @property
    def power(self) -> str:
        """The rule's power (a battery's: charging), or the device's rated power."""
        if isinstance(self.rule, BatteryRule):
            return _kw(self.rule.charge_kw)
        kw = self.rule.power_kw if self.rule else self.device.rated_power_w / 1000
        return _kw(kw)


def rule_prefix(device: Device) -> str:
    """The form's prefix: unique per device, so several forms share the page."""
    return f"rule-{device.pk.hex[:12]}"


def rule_form(device: Device, rule: Rule | None, data: Any = None) -> RuleForm | None:
    """The form for a device's rule (filled with it), None for a device taking no rule."""
    prefix = rule_prefix(device)
    if device.kind == DeviceKind.EV_CHARGER:
        ev = rule if isinstance(rule, EvChargingRule) else None
        initial: dict[str, Any] = {
            "departure": ev.departure if ev else DEFAULT_DONE_BY,
            "energy_kwh": ev.energy_kwh if ev else None,
            "max_kw": ev.max_kw if ev else None,
            "active": ev.active if ev else True,
        }
        return EvRuleForm(data, prefix=prefix, initial=initial)
    if device.kind == DeviceKind.WATER_HEATER:
        heater = rule if isinstance(rule, WaterHeaterRule) else None
        initial = {"active": True}
        if heater:
            initial = {
                "energy_kwh": heater.energy_kwh, "windows": windows_text(heater.windows),
                "max_kw": heater.max_kw, "active": heater.active,
            }  # fmt: skip
        return WaterHeaterRuleForm(data, prefix=prefix, initial=initial)
    if device.kind == DeviceKind.BATTERY:
        battery = rule if isinstance(rule, BatteryRule) else None
        initial = {"reserve_pct": 10, "active": True}
        if battery:
            initial = {
                "capacity_kwh": battery.capacity_kwh, "max_charge_kw": battery.max_charge_kw,
                "max_discharge_kw": battery.max_discharge_kw,
                "reserve_pct": battery.reserve_pct, "active": battery.active,
            }  # fmt: skip
        return BatteryRuleForm(data, prefix=prefix, initial=initial)
    return None


def load_cards(
    *, user: Any, household: Household, now: datetime, can_control: bool,
    forms: dict[Any, Any] | None = None,
) -> list[LoadCard]:  # fmt: skip
    """The household's EV chargers, water heaters and batteries, with rules and plans.

    The plan shown is the newest one still running (its horizon not over), else the newest.
    `forms` holds a submitted form to show again with its errors.
    """
    zone = ZoneInfo(household.timezone)
    devices = list(
        Device.objects.restrict(user, Action.VIEW)
        .filter(household=household, kind__in=LOAD_KINDS)
        .order_by("kind", "name")
    )
    ev_rules = {r.device_id: r for r in EvChargingRule.objects.filter(device__in=devices)}
    wh_rules = {r.device_id: r for r in WaterHeaterRule.objects.filter(device__in=devices)}
    battery_rules = {r.device_id: r for r in BatteryRule.objects.filter(device__in=devices)}
    plans: dict[Any, DailyPlan] = {}
    for plan in (
        DailyPlan.objects.restrict(user, Action.VIEW)
        .filter(household=household, device__in=devices)
        .order_by("-day", "-updated_at")
    ):
        shown = plans.get(plan.device_id)
        if shown is None or (shown.horizon_end <= now < plan.horizon_end):
            plans[plan.device_id] = plan
    cards = []
    for device in devices:
        rule: Rule | None = (
            ev_rules.get(device.pk) or wh_rules.get(device.pk) or battery_rules.get(device.pk)
        )
        form = None
        if can_control:
            form = (forms or {}).get(device.pk) or rule_form(device, rule)
        shown = plans.get(device.pk)
        efficiency = float(rule.efficiency) if isinstance(rule, EvChargingRule) else 1.0
        battery = device.kind == DeviceKind.BATTERY
        row = None
        if shown:
            row = daily_plan_row(shown, efficiency=efficiency, now=now, zone=zone, battery=battery)
        cards.append(LoadCard(device=device, rule=rule, form=form, plan=row))
    return cards


def load_sections(cards: list[LoadCard]) -> list[dict[str, Any]]:
    """ "Car charging", "Hot water" then "Home battery", each with its devices (a section
    without: left out)."""
    sections = [
        {
            "id": "car-charging", "title": _("Car charging"),
            "cards": [c for c in cards if c.is_ev],
            "intro": _("Every night your box charges the car when the energy is cheapest, "
                       "ready by the time you leave."),
        },
        {
            "id": "hot-water", "title": _("Hot water"),
            "cards": [c for c in cards if not c.is_ev and not c.is_battery],
            "intro": _("Your box heats the day's hot water in the cheapest of the hours you "
                       "allow."),
        },
        {
            "id": "home-battery", "title": _("Home battery"),
            "cards": [c for c in cards if c.is_battery],
            "intro": _("Your box charges the battery when energy is cheapest and gives it back "
                       "to the house when it is dear, never below the reserve you set."),
        },
    ]  # fmt: skip
    return [section for section in sections if section["cards"]]
