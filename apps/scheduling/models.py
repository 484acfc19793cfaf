"""What the household asks the planner, and what it planned.

An appliance's programmes carry their power profile per quarter hour (what the MILP plans
with); a plan request is "run this programme, done by then": the planner picks the start,
the box starts it through a command, and the request follows the command's acks.
"""

from __future__ import annotations

from datetime import datetime, time
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.core.models import UUIDModel
from apps.households.querysets import HouseholdOwnedQuerySet


class ApplianceProgramQuerySet(HouseholdOwnedQuerySet["ApplianceProgram"]):
    household_field = "device__household"


class ApplianceProgram(UUIDModel):
    device = models.ForeignKey("devices.Device", on_delete=models.CASCADE, related_name="programs")
    name = models.CharField(_("programme"), max_length=60)
    # Average power per quarter hour of the programme, in W: (2000, 300, 300, 500) is an
    # hour with a heating phase first.
    profile_w = models.JSONField(_("power profile (W per quarter hour)"))

    objects = ApplianceProgramQuerySet.as_manager()

    class Meta:
        ordering = ["device", "name"]
        constraints = [
            models.UniqueConstraint(fields=["device", "name"], name="program_unique_name")
        ]

    def __str__(self) -> str:
        return f"{self.device} · {self.name}"

    @property
    def duration_minutes(self) -> int:
        return 15 * len(self.profile_w)

    @property
    def energy_wh(self) -> int:
        return round(sum(self.profile_w) / 4)


class SchedulingPreferences(models.Model):
    """The household's rules for the planner."""

    household = models.OneToOneField(
        "households.Household", on_delete=models.CASCADE, related_name="scheduling_preferences"
    )
    quiet_start = models.TimeField(_("quiet hours from"), null=True, blank=True)
    quiet_end = models.TimeField(_("quiet hours until"), null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.household} preferences"


class PlanStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    STARTED = "started", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")
    INFEASIBLE = "infeasible", _("Not possible")


class PlanRequestQuerySet(HouseholdOwnedQuerySet["PlanRequest"]):
    def active(self) -> PlanRequestQuerySet:
        return self.filter(status__in=[PlanStatus.PLANNED, PlanStatus.STARTED])


class PlanRequest(UUIDModel):
    household = models.ForeignKey(
        "households.Household", on_delete=models.CASCADE, related_name="plan_requests"
    )
    program = models.ForeignKey(ApplianceProgram, on_delete=models.CASCADE, related_name="+")
    earliest_start = models.DateTimeField()
    done_by = models.DateTimeField()
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    status = models.CharField(max_length=12, choices=PlanStatus.choices)
    planned_start = models.DateTimeField(null=True, blank=True)
    # Money in the tariff's currency, VAT excluded: the programme's energy at the planned
    # start, and if started at once (the saving is the difference).
    expected_cost = models.DecimalField(max_digits=8, decimal_places=4, null=True, blank=True)
    cost_if_now = models.DecimalField(max_digits=8, decimal_places=4, null=True, blank=True)
    reasons = models.JSONField(default=list, blank=True)  # why infeasible / what was relaxed
    command = models.ForeignKey(
        "fleet.GatewayCommand", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = PlanRequestQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["household", "status"], name="planrequest_active")]

    def __str__(self) -> str:
        return f"{self.program} by {self.done_by:%Y-%m-%d %H:%M}"

    @property
    def saving(self) -> Decimal | None:
        if self.expected_cost is None or self.cost_if_now is None:
            return None
        return self.cost_if_now - self.expected_cost


class PlanningRun(UUIDModel):
    """One fleet-wide re-planning (nightly, after the day-ahead forecasts and prices)."""

    day = models.DateField(unique=True)  # the run for a day is resumed, never doubled
    households_total = models.PositiveIntegerField(default=0)
    households_done = models.PositiveIntegerField(default=0)
    plans_moved = models.PositiveIntegerField(default=0)
    failures = models.PositiveIntegerField(default=0)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-day"]

    def __str__(self) -> str:
        return f"planning {self.day}"

    @property
    def progress_pct(self) -> int:
        if not self.households_total:
            return 100 if self.finished_at else 0
        return round(100 * self.households_done / self.households_total)


# Interruptible loads: the household's standing rules and the day-ahead plan made of them.


class EvChargingRuleQuerySet(HouseholdOwnedQuerySet["EvChargingRule"]):
    def active(self) -> EvChargingRuleQuerySet:
        return self.filter(active=True)


class EvChargingRule(UUIDModel):
    """ "Add this much to the car every night, done by the departure time"."""

    household = models.ForeignKey(
        "households.Household", on_delete=models.CASCADE, related_name="ev_charging_rules"
    )
    device = models.OneToOneField(
        "devices.Device", on_delete=models.CASCADE, related_name="ev_charging_rule",
        limit_choices_to={"kind": "ev_charger"},
    )  # fmt: skip
    departure = models.TimeField(_("departure (local time)"))
    energy_kwh = models.DecimalField(
        _("energy to add per night (kWh)"), max_digits=5, decimal_places=2,
        validators=[MinValueValidator(Decimal(0))],
    )  # fmt: skip
    max_kw = models.DecimalField(
        _("charging power (kW)"), max_digits=5, decimal_places=2, null=True, blank=True,
        validators=[MinValueValidator(Decimal("0.1"))],
        help_text=_("Empty: the charger's rated power."),
    )  # fmt: skip
    efficiency = models.DecimalField(
        _("charging efficiency"), max_digits=3, decimal_places=2, default=Decimal("0.90"),
        validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(Decimal(1))],
    )  # fmt: skip
    active = models.BooleanField(_("active"), default=True)

    objects = EvChargingRuleQuerySet.as_manager()

    class Meta:
        ordering = ["household", "created_at"]

    def __str__(self) -> str:
        return f"{self.device}: {self.energy_kwh} kWh by {self.departure:%H:%M}"

    @property
    def power_kw(self) -> float:
        return float(self.max_kw) if self.max_kw else self.device.rated_power_w / 1000

    def clean(self) -> None:
        _check_rule_device(self, "ev_charger")


def _check_time_ranges(value: Any) -> None:
    """A list of ["HH:MM", "HH:MM"] local time ranges (an end before the start wraps)."""
    message = _('Give ranges as [["22:00", "07:00"], ["12:00", "16:00"]].')
    if not isinstance(value, list) or not value:
        raise ValidationError(message)
    for item in value:
        if not isinstance(item, list | tuple) or len(item) != 2:
            raise ValidationError(message)
        try:
            [time.fromisoformat(str(end)) for end in item]
        except ValueError as error:
            raise ValidationError(message) from error


def _default_windows() -> list[list[str]]:
    return [["22:00", "07:00"]]


class WaterHeaterRuleQuerySet(HouseholdOwnedQuerySet["WaterHeaterRule"]):
    def active(self) -> WaterHeaterRuleQuerySet:
        return self.filter(active=True)


class WaterHeaterRule(UUIDModel):
    """ "Heat this much a day, only in these hours"."""

    household = models.ForeignKey(
        "households.Household", on_delete=models.CASCADE, related_name="water_heater_rules"
    )
    device = models.OneToOneField(
        "devices.Device", on_delete=models.CASCADE, related_name="water_heater_rule",
        limit_choices_to={"kind": "water_heater"},
    )  # fmt: skip
    energy_kwh = models.DecimalField(
        _("energy per day (kWh)"), max_digits=5, decimal_places=2,
        validators=[MinValueValidator(Decimal(0))],
    )  # fmt: skip
    windows = models.JSONField(
        _("allowed hours (local time ranges)"), default=_default_windows,
        validators=[_check_time_ranges],
    )  # fmt: skip
    max_kw = models.DecimalField(
        _("heating power (kW)"), max_digits=5, decimal_places=2, null=True, blank=True,
        validators=[MinValueValidator(Decimal("0.1"))],
        help_text=_("Empty: the heater's rated power."),
    )  # fmt: skip
    active = models.BooleanField(_("active"), default=True)

    objects = WaterHeaterRuleQuerySet.as_manager()

    class Meta:
        ordering = ["household", "created_at"]

    def __str__(self) -> str:
        return f"{self.device}: {self.energy_kwh} kWh a day"

    @property
    def power_kw(self) -> float:
        return float(self.max_kw) if self.max_kw else self.device.rated_power_w / 1000

    def window_times(self) -> list[tuple[time, time]]:
        return [(time.fromisoformat(a), time.fromisoformat(b)) for a, b in self.windows]

    def clean(self) -> None:
        _check_rule_device(self, "water_heater")


class BatteryRuleQuerySet(HouseholdOwnedQuerySet["BatteryRule"]):
    def active(self) -> BatteryRuleQuerySet:
        return self.filter(active=True)


class BatteryRule(UUIDModel):
    """ "Plan the home battery with the tariff": charge when energy is cheap, give it back
    when dear, never below the reserve. Without a rule (or switched off) the battery runs
    in self-consumption, its own default."""

    household = models.ForeignKey(
        "households.Household", on_delete=models.CASCADE, related_name="battery_rules"
    )
    device = models.OneToOneField(
        "devices.Device", on_delete=models.CASCADE, related_name="battery_rule",
        limit_choices_to={"kind": "battery"},
    )  # fmt: skip
    capacity_kwh = models.DecimalField(
        _("usable capacity (kWh)"), max_digits=5, decimal_places=2,
        validators=[MinValueValidator(Decimal("0.1"))],
    )  # fmt: skip
    max_charge_kw = models.DecimalField(
        _("charging power (kW)"), max_digits=5, decimal_places=2, null=True, blank=True,
        validators=[MinValueValidator(Decimal("0.1"))],
        help_text=_("Empty: the battery's rated power."),
    )  # fmt: skip
    max_discharge_kw = models.DecimalField(
        _("discharging power (kW)"), max_digits=5, decimal_places=2, null=True, blank=True,
        validators=[MinValueValidator(Decimal("0.1"))],
        help_text=_("Empty: the battery's rated power."),
    )  # fmt: skip
    charge_efficiency = models.DecimalField(
        _("charging efficiency"), max_digits=3, decimal_places=2, default=Decimal("0.95"),
        validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(Decimal(1))],
    )  # fmt: skip
    discharge_efficiency = models.DecimalField(
        _("discharging efficiency"), max_digits=3, decimal_places=2, default=Decimal("0.95"),
        validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(Decimal(1))],
    )  # fmt: skip
    reserve_pct = models.PositiveSmallIntegerField(
        _("reserve (%)"), default=10, validators=[MaxValueValidator(90)],
        help_text=_("The plan never empties the battery below this charge level."),
    )  # fmt: skip
    active = models.BooleanField(_("active"), default=True)

    objects = BatteryRuleQuerySet.as_manager()

    class Meta:
        ordering = ["household", "created_at"]

    def __str__(self) -> str:
        return f"{self.device}: {self.capacity_kwh} kWh"

    @property
    def charge_kw(self) -> float:
        rated = self.device.rated_power_w / 1000
        return float(self.max_charge_kw) if self.max_charge_kw else rated

    @property
    def discharge_kw(self) -> float:
        rated = self.device.rated_power_w / 1000
        return float(self.max_discharge_kw) if self.max_discharge_kw else rated

    @property
    def reserve_kwh(self) -> float:
        return float(self.capacity_kwh) * self.reserve_pct / 100

    def clean(self) -> None:
        _check_rule_device(self, "battery")


def _check_rule_device(rule: EvChargingRule | WaterHeaterRule | BatteryRule, kind: str) -> None:
    device = rule.device if rule.device_id else None
    if device is None:
        return
    if device.kind != kind:
        raise ValidationError({"device": _("Choose a device of the right kind.")})
    if rule.household_id and device.household_id != rule.household_id:
        raise ValidationError({"device": _("This device is in another household.")})


class DailyPlanStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    INFEASIBLE = "infeasible", _("Not fully possible")  # the nearest plan is kept
    NOT_PLANNED = "not_planned", _("Not planned")  # no prices, no box, nobody to act for


class DailyPlanQuerySet(HouseholdOwnedQuerySet["DailyPlan"]):
    pass


class DailyPlan(UUIDModel):
    """What the planner decided for one interruptible load over one night / day, and the
    box commands that carry it out. Re-planning the same day replaces it."""

    household = models.ForeignKey(
        "households.Household", on_delete=models.CASCADE, related_name="daily_plans"
    )
    day = models.DateField()
    device = models.ForeignKey("devices.Device", on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=12, choices=DailyPlanStatus.choices)
    horizon_start = models.DateTimeField()
    horizon_end = models.DateTimeField()
    # EV: into the car; water heater: drawn; battery: its charge level at the start (the
    # plan ends at least as full)
    target_kwh = models.DecimalField(max_digits=6, decimal_places=3, default=Decimal(0))
    # [[start ISO, end ISO, kW drawn from the house], ...], in time order; a battery's kW
    # is signed: + charging, - discharging into the house
    blocks = models.JSONField(default=list, blank=True)
    # Money in the tariff's currency, VAT excluded: the load's energy as planned, and if it
    # charged / heated at once (the saving is the difference). A battery: what it changes on
    # the bill as planned (negative: it lowers it), and in self-consumption (daily.py).
    expected_cost = models.DecimalField(max_digits=8, decimal_places=4, null=True, blank=True)
    cost_if_now = models.DecimalField(max_digits=8, decimal_places=4, null=True, blank=True)
    reasons = models.JSONField(default=list, blank=True)
    commands = models.ManyToManyField("fleet.GatewayCommand", blank=True, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    objects = DailyPlanQuerySet.as_manager()

    class Meta:
        ordering = ["-day", "device"]
        constraints = [
            models.UniqueConstraint(
                fields=["household", "day", "device"], name="dailyplan_unique_day_device"
            )
        ]

    def __str__(self) -> str:
        return f"{self.device} {self.day}"

    @property
    def saving(self) -> Decimal | None:
        if self.expected_cost is None or self.cost_if_now is None:
            return None
        return self.cost_if_now - self.expected_cost

    @property
    def energy_kwh(self) -> float:
        """Energy drawn from the house by the plan's blocks."""
        total = 0.0
        for start, end, kw in self.blocks:
            hours = (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()
            total += kw * hours / 3600
        return total
