"""The household's standing rules for its interruptible loads: create, change, delete.

A rule is "add 20 kWh to the car by 07:30 every night" (EvChargingRule), "heat 6 kWh
of water a day between 22:00 and 07:00" (WaterHeaterRule) or "plan the 10 kWh home battery
with the tariff, never below 10 %" (BatteryRule), one per device. Whoever may
control the household's devices may set them; every change re-plans the household's
current day at once (apps.scheduling.daily.daily_plan), so the box follows the new rule
tonight rather than after the nightly run.

A rule switched off or deleted has no plan any more: the commands of its plans the box has
not run yet are withdrawn and the day's plan is removed. Should the box already have run
some of them (the charger held off until the night rate, or at a lower power), the device
is handed back to itself: its rated power and `switch_on`, as without smart charging; a
battery gets `set_battery` "auto", its self-consumption.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from apps.core.permissions import Action
from apps.devices.models import Device, DeviceKind
from apps.fleet import services as fleet_services
from apps.fleet.models import CommandStatus, GatewayCommand
from apps.households.models import Household
from apps.scheduling import daily
from apps.scheduling.models import BatteryRule, DailyPlan, EvChargingRule, WaterHeaterRule

Rule = EvChargingRule | WaterHeaterRule | BatteryRule
RuleModel = type[EvChargingRule] | type[WaterHeaterRule] | type[BatteryRule]

MAX_WINDOWS = 3
RELEASE_GRACE = timedelta(hours=1)  # a hand-back not delivered by then is dropped
WAITING = [CommandStatus.PENDING, CommandStatus.SENT, CommandStatus.RECEIVED]
RAN = [CommandStatus.STARTED, CommandStatus.DONE]
FIELDS: dict[str, tuple[str, ...]] = {
    DeviceKind.EV_CHARGER: ("departure", "energy_kwh", "max_kw", "efficiency", "active"),
    DeviceKind.WATER_HEATER: ("energy_kwh", "windows", "max_kw", "active"),
    DeviceKind.BATTERY: (
        "capacity_kwh", "max_charge_kw", "max_discharge_kw", "charge_efficiency",
        "discharge_efficiency", "reserve_pct", "active",
    ),
}  # fmt: skip


def rule_model(device: Device) -> RuleModel | None:
    """The rule a device of this kind takes; None: no rule for it."""
    if device.kind == DeviceKind.EV_CHARGER:
        return EvChargingRule
    if device.kind == DeviceKind.WATER_HEATER:
        return WaterHeaterRule
    if device.kind == DeviceKind.BATTERY:
        return BatteryRule
    return None


def rule_get(*, device: Device) -> Rule | None:
    model = rule_model(device)
    return None if model is None else model.objects.filter(device=device).first()


def household_day(*, household: Household, now: datetime) -> date:
    """The household's current day, in its own time zone (the day daily_plan is run for)."""
    return now.astimezone(ZoneInfo(household.timezone)).date()


def rule_create(*, user: Any, device: Device, now: datetime, **values: Any) -> Rule:
    """A rule for `device` (an EV charger, a water heater or a battery that has none),
    planned at once."""
    _require_control(user, device)
    model = rule_model(device)
    if model is None:
        raise ValidationError(
            {"device": _("Only an EV charger, a water heater or a home battery takes a rule.")}
        )
    if rule_get(device=device) is not None:
        raise ValidationError({"device": _("This device already has a rule: change it instead.")})
    rule = model(household=device.household, device=device)
    return _save(rule, user=user, now=now, values=values)


def rule_update(*, user: Any, rule: Rule, now: datetime, **values: Any) -> Rule:
    """Change a rule; the household's day is planned again (switched off: stood down)."""
    _require_control(user, rule.device)
    return _save(rule, user=user, now=now, values=values)


def rule_delete(*, user: Any, rule: Rule, now: datetime) -> None:
    """Delete a rule: its plan and waiting commands go, the other rules are planned again."""
    _require_control(user, rule.device)
    household, device = rule.household, rule.device
    with transaction.atomic():
        _stand_down(household, device, user, now)
        rule.delete()
    daily.daily_plan(household=household, day=household_day(household=household, now=now), now=now)


def _save(rule: Rule, *, user: Any, now: datetime, values: dict[str, Any]) -> Rule:
    allowed = FIELDS[rule.device.kind]
    unknown = set(values) - set(allowed)
    if unknown:
        raise TypeError(f"unexpected rule fields: {', '.join(sorted(unknown))}")
    for name, value in values.items():
        setattr(rule, name, value)
    _check_values(rule)
    rule.full_clean()
    household = rule.household
    with transaction.atomic():
        rule.save()
        if not rule.active:
            _stand_down(household, rule.device, user, now)
    # Re-plans every active rule of the household: they share the supply's limit.
    daily.daily_plan(household=household, day=household_day(household=household, now=now), now=now)
    return rule


def _check_values(rule: Rule) -> None:
    errors: dict[str, str] = {}
    if isinstance(rule, BatteryRule):
        if rule.capacity_kwh is None or Decimal(rule.capacity_kwh) <= 0:
            errors["capacity_kwh"] = _("Give a capacity above 0 kWh.")
    elif rule.energy_kwh is None or Decimal(rule.energy_kwh) <= 0:
        errors["energy_kwh"] = _("Give an energy above 0 kWh.")
    if isinstance(rule, WaterHeaterRule):
        windows = rule.windows
        if isinstance(windows, list) and len(windows) > MAX_WINDOWS:
            errors["windows"] = _("Give at most %(n)d time ranges.") % {"n": MAX_WINDOWS}
        elif isinstance(windows, list):
            for item in windows:
                try:
                    begin, end = (time.fromisoformat(str(value)) for value in item)
                except (TypeError, ValueError):
                    break  # the model's validator names the expected form
                if begin == end:
                    errors["windows"] = _("A time range must start and end at different times.")
    if errors:
        raise ValidationError(errors)


def _require_control(user: Any, device: Device) -> None:
    allowed = Device.objects.restrict(user, Action.CONTROL_DEVICES).filter(pk=device.pk)
    if not allowed.exists():
        raise PermissionDenied(_("You may not control this device."))


def _stand_down(household: Household, device: Device, user: Any, now: datetime) -> None:
    """No plan for `device` from today on: its waiting commands withdrawn, and the device
    handed back to itself if the box has already run some of them."""
    today = household_day(household=household, now=now)
    plans = DailyPlan.objects.filter(household=household, device=device).filter(
        Q(day__gte=today) | Q(horizon_end__gt=now)  # and last evening's, still running
    )
    commands = GatewayCommand.objects.filter(pk__in=plans.values("commands"))
    ran = commands.filter(status__in=RAN).exists()
    for command in commands.filter(status__in=WAITING).order_by("not_before"):
        fleet_services.command_withdraw(user=user, command=command)
    plans.delete()
    if ran and device.gateway_id is not None:
        until = now + RELEASE_GRACE
        if device.kind == DeviceKind.BATTERY:
            fleet_services.command_issue(
                user=user, device=device, kind="set_battery", params={"mode": "auto"},
                not_before=now, not_after=until,
            )  # fmt: skip
            return
        if device.kind == DeviceKind.EV_CHARGER:
            fleet_services.command_issue(
                user=user, device=device, kind="set_power_limit",
                params={"limit_w": device.rated_power_w}, not_before=now, not_after=until,
            )  # fmt: skip
        fleet_services.command_issue(
            user=user, device=device, kind="switch_on", not_before=now, not_after=until
        )
