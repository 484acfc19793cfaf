from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.core.models import UUIDModel
from apps.households.querysets import HouseholdOwnedQuerySet


class DeviceKind(models.TextChoices):
    APPLIANCE = "appliance", _("Appliance")
    SMART_PLUG = "smart_plug", _("Smart plug")
    PV_INVERTER = "pv_inverter", _("PV inverter")
    BATTERY = "battery", _("Battery")
    EV_CHARGER = "ev_charger", _("EV charger")
    HEAT_PUMP = "heat_pump", _("Heat pump")
    WATER_HEATER = "water_heater", _("Water heater")


class DeviceQuerySet(HouseholdOwnedQuerySet["Device"]):
    pass


class Device(UUIDModel):
    household = models.ForeignKey(
        "households.Household", on_delete=models.CASCADE, related_name="devices"
    )
    gateway = models.ForeignKey(
        "fleet.Gateway", on_delete=models.SET_NULL, null=True, blank=True, related_name="devices"
    )
    name = models.CharField(_("name"), max_length=80)
    kind = models.CharField(_("kind"), max_length=16, choices=DeviceKind.choices)
    rated_power_w = models.PositiveIntegerField(_("rated power (W)"))
    controllable = models.BooleanField(_("controllable"), default=False)

    objects = DeviceQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
