"""What the household asks the planner, and what it planned.

An appliance's programmes carry their power profile per quarter hour (what the MILP plans
with); a plan request is "run this programme, done by then": the planner picks the start,
the box starts it through a command, and the request follows the command's acks.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
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
