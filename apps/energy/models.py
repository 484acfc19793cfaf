"""Energy rollups: 15-minute, hourly, daily and monthly energy per household and device.

Computed from the raw readings by `services.energy_rollup_household` (idempotent upserts).
Energies are integer Wh. A period's `start` is a UTC instant; days and months begin at the
household's local midnight, so a day holds 92, 96 or 100 quarters. An incomplete period
holds the energy of its measured quarters only: nothing is invented for a gap.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.households.querysets import HouseholdOwnedQuerySet


class Resolution(models.TextChoices):
    QUARTER = "15m", _("15 minutes")
    HOUR = "1h", _("hour")
    DAY = "1d", _("day")
    MONTH = "1mo", _("month")


class HouseholdEnergyQuerySet(HouseholdOwnedQuerySet["HouseholdEnergy"]):
    pass


class HouseholdEnergy(models.Model):
    household = models.ForeignKey(
        "households.Household", on_delete=models.CASCADE, related_name="+"
    )
    resolution = models.CharField(_("resolution"), max_length=4, choices=Resolution.choices)
    start = models.DateTimeField(_("start"))  # UTC
    # From the meter's register deltas (bill-grade); totals and per tariff register.
    import_wh = models.BigIntegerField(_("grid import (Wh)"), default=0)
    export_wh = models.BigIntegerField(_("grid export (Wh)"), default=0)
    import_by_register = models.JSONField(_("import per register (Wh)"), default=dict)
    export_by_register = models.JSONField(_("export per register (Wh)"), default=dict)
    # From the devices the box reads.
    pv_wh = models.BigIntegerField(_("PV production (Wh)"), default=0)
    battery_charge_wh = models.BigIntegerField(_("battery charge (Wh)"), default=0)
    battery_discharge_wh = models.BigIntegerField(_("battery discharge (Wh)"), default=0)
    devices_wh = models.BigIntegerField(_("measured devices (Wh)"), default=0)
    # 15 min: average import power of the quarter; coarser: the highest quarter inside.
    peak_import_w = models.IntegerField(_("peak 15-minute import (W)"), default=0)
    complete = models.BooleanField(_("complete"), default=False)  # every quarter metered
    gap_quarters = models.PositiveIntegerField(_("quarters without meter data"), default=0)

    objects = HouseholdEnergyQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["household", "resolution", "start"], name="householdenergy_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.household_id} {self.resolution} {self.start:%Y-%m-%d %H:%M}"


class DeviceEnergyQuerySet(HouseholdOwnedQuerySet["DeviceEnergy"]):
    pass


class DeviceEnergy(models.Model):
    device = models.ForeignKey("devices.Device", on_delete=models.CASCADE, related_name="+")
    household = models.ForeignKey(
        "households.Household", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    resolution = models.CharField(_("resolution"), max_length=4, choices=Resolution.choices)
    start = models.DateTimeField(_("start"))
    # Consumption for loads, production for PV, net charge (charge - discharge) for batteries.
    energy_wh = models.BigIntegerField(_("energy (Wh)"), default=0)
    charge_wh = models.BigIntegerField(_("charge (Wh)"), default=0)  # batteries only
    discharge_wh = models.BigIntegerField(_("discharge (Wh)"), default=0)
    complete = models.BooleanField(_("complete"), default=False)
    gap_quarters = models.PositiveIntegerField(_("quarters without data"), default=0)

    objects = DeviceEnergyQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["device", "resolution", "start"], name="deviceenergy_unique"
            )
        ]
        indexes = [
            models.Index(fields=["household", "resolution", "start"], name="deviceenergy_household")
        ]

    def __str__(self) -> str:
        return f"{self.device_id} {self.resolution} {self.start:%Y-%m-%d %H:%M}"
