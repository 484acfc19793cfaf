"""PV systems, their learned clear-sky index, and stored PV and load forecasts.

Storage of a forecast's values: one `Forecast` row per household, kind, horizon and local
day, holding the day's quarters as a compact JSON array of integer Wh with its first
quarter's UTC `start` and a fixed 15-minute step, not one `ForecastValue` row per quarter.
Why: the fleet writes 2 kinds x 2 horizons x 96 quarters per household per day; as rows
that is ~400 rows (and index entries) per household per day, hundreds of millions a day at
fleet scale, while the JSON form is 2-4 rows a day, one upsert per re-issue (idempotent
through the unique constraint) and a series for a period is read from the few day rows
that overlap it (`selectors.forecast_series`), expanded in Python. A quarter's time is
`start + i * 15 min` in UTC, so 92- and 100-quarter DST days need nothing special.
Nobody queries "every forecast whose quarter value exceeds x" in SQL, the one thing a
row-per-quarter table would do better.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.core.models import UUIDModel
from apps.households.querysets import HouseholdOwnedQuerySet

STEP = timedelta(minutes=15)


class PvSystemQuerySet(HouseholdOwnedQuerySet["PvSystem"]):
    pass


class PvSystem(UUIDModel):
    """One PV array (a household may have several, e.g. east and west roofs)."""

    household = models.ForeignKey(
        "households.Household", on_delete=models.CASCADE, related_name="pv_systems"
    )
    device = models.ForeignKey(
        "devices.Device", on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+", limit_choices_to={"kind": "pv_inverter"},
        help_text=_("The inverter the box reads; its rollups teach the clear-sky index."),
    )  # fmt: skip
    latitude = models.FloatField(
        _("latitude"), validators=[MinValueValidator(-90), MaxValueValidator(90)]
    )
    longitude = models.FloatField(
        _("longitude"), validators=[MinValueValidator(-180), MaxValueValidator(180)]
    )
    altitude_m = models.FloatField(_("altitude (m)"), default=0)
    kwp = models.FloatField(_("peak power (kWp)"), validators=[MinValueValidator(0.01)])
    tilt_deg = models.FloatField(
        _("tilt (°)"), default=35, validators=[MinValueValidator(0), MaxValueValidator(90)]
    )
    azimuth_deg = models.FloatField(
        _("azimuth (°)"), default=180, help_text=_("Compass bearing: 90 east, 180 south."),
        validators=[MinValueValidator(0), MaxValueValidator(360)],
    )  # fmt: skip
    inverter_ac_kw = models.FloatField(
        _("inverter AC limit (kW)"), validators=[MinValueValidator(0.01)]
    )
    losses_pct = models.FloatField(
        _("system losses (%)"), default=14,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )  # fmt: skip

    objects = PvSystemQuerySet.as_manager()

    class Meta:
        ordering = ["created_at"]
        indexes = [models.Index(fields=["latitude", "longitude"], name="pvsystem_location")]

    def __str__(self) -> str:
        return f"{self.kwp} kWp at {self.latitude:.3f},{self.longitude:.3f}"


class PvIndexQuerySet(HouseholdOwnedQuerySet["PvClearSkyIndex"]):
    pass


class PvClearSkyIndex(models.Model):
    """A household's own clear-sky index for one season, by solar hour (0-23).

    Season = the 3-month window centred on `month`. `values[h]` is the robust (median)
    ratio measured / clear-sky modelled over the hour-h cells of that window, None where no
    cell qualified; `counts[h]` how many day-cells it rests on; `days` the days with any
    qualifying cell. Kept so that neighbours can pool it without reading these rollups.
    """

    household = models.ForeignKey(
        "households.Household", on_delete=models.CASCADE, related_name="+"
    )
    month = models.PositiveSmallIntegerField(
        _("month"), validators=[MinValueValidator(1), MaxValueValidator(12)]
    )
    values = models.JSONField(_("index by solar hour"), default=list)
    counts = models.JSONField(_("cells by solar hour"), default=list)
    days = models.PositiveIntegerField(_("days of history"), default=0)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = PvIndexQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["household", "month"], name="pvindex_unique")
        ]

    def __str__(self) -> str:
        return f"{self.household_id} month {self.month}"


class ForecastKind(models.TextChoices):
    PV = "pv", _("PV production")
    LOAD = "load", _("Base load")


class Horizon(models.TextChoices):
    DAY_AHEAD = "day_ahead", _("Day ahead")
    INTRADAY = "intraday", _("Intraday")


class ForecastQuerySet(HouseholdOwnedQuerySet["Forecast"]):
    pass


class Forecast(UUIDModel):
    """A forecast of one local day's quarters (see the module docstring for the storage)."""

    household = models.ForeignKey(
        "households.Household", on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(_("kind"), max_length=8, choices=ForecastKind.choices)
    horizon = models.CharField(_("horizon"), max_length=12, choices=Horizon.choices)
    day = models.DateField(_("local day"))
    issued_at = models.DateTimeField(_("issued at"))
    start = models.DateTimeField(_("first quarter (UTC)"))
    step_minutes = models.PositiveSmallIntegerField(_("step (minutes)"), default=15)
    values_wh = models.JSONField(_("energy per quarter (Wh)"), default=list)
    # The expected absolute error per quarter (load: the similar days' spread), when known.
    error_wh = models.JSONField(_("expected error per quarter (Wh)"), default=list, blank=True)
    meta = models.JSONField(_("model details"), default=dict, blank=True)

    objects = ForecastQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["household", "kind", "horizon", "day"], name="forecast_unique"
            )
        ]
        indexes = [
            models.Index(fields=["household", "kind", "horizon", "start"], name="forecast_series")
        ]

    def __str__(self) -> str:
        return f"{self.household_id} {self.kind} {self.horizon} {self.day}"

    @property
    def end(self) -> datetime:
        return self.start + timedelta(minutes=self.step_minutes) * len(self.values_wh)

    def series(self) -> list[tuple[datetime, int]]:
        step = timedelta(minutes=self.step_minutes)
        return [(self.start + step * i, int(v)) for i, v in enumerate(self.values_wh)]
