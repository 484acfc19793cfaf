"""Tariffs per tenant, versioned by validity dates, and the price series they read.

Prices are per kWh EXCLUDING VAT in the tenant's currency; the cost engine applies
the version's VAT rate. Validity dates (`valid_from`, `valid_until`) are calendar days
in the household's time zone and both ends are inclusive (as suppliers publish them:
"01/02/2025 - 31/07/2025"); `valid_until` empty means open-ended.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from apps.core.models import UUIDModel
from apps.core.permissions import Action, Scope, scope_for

# Prices per kWh keep 8 decimal places: EUR/MWh divided by 1000 needs at least five.


def _tenant_scoped(qs: Any, user: Any, action: Action, tenant_field: str) -> Any:
    """ALL-scope roles get every tenant; others their own tenant.

    Tariffs are tenant-wide, not per household: any role that may VIEW something in its
    tenant may view its tariffs; any other action (importing prices, editing) needs the
    TENANT or ALL scope, so a household owner's per-household grant never reaches them.
    """
    scope = scope_for(user, action)
    if scope is Scope.ALL:
        return qs
    if scope is Scope.TENANT or (scope is Scope.GRANT and action is Action.VIEW):
        return qs.filter(**{tenant_field: user.tenant_id})
    return qs.none()


class TariffKind(models.TextChoices):
    FLAT = "flat", _("Flat")
    TOU = "tou", _("Time of use")
    TEMPO = "tempo", _("Tempo (coloured days)")
    DYNAMIC = "dynamic", _("Dynamic (day-ahead prices)")


class Direction(models.TextChoices):
    IMPORT = "import", _("Import (consumption)")
    EXPORT = "export", _("Export (injection, buy-back)")


class TariffQuerySet(models.QuerySet["Tariff"]):
    def restrict(self, user: Any, action: Action) -> TariffQuerySet:
        return _tenant_scoped(self, user, action, "tenant_id")


class Tariff(UUIDModel):
    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.PROTECT, related_name="tariffs")
    name = models.CharField(_("name"), max_length=120)
    code = models.SlugField(_("code"), max_length=40)
    kind = models.CharField(_("kind"), max_length=10, choices=TariffKind.choices)
    direction = models.CharField(
        _("direction"), max_length=6, choices=Direction.choices, default=Direction.IMPORT
    )
    description = models.TextField(_("description"), blank=True)
    is_default = models.BooleanField(
        _("tenant default"),
        default=False,
        help_text=_("Applies to the tenant's households that have no contract of their own."),
    )

    objects = TariffQuerySet.as_manager()

    class Meta:
        ordering = ["tenant__name", "direction", "name"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "code"], name="tariff_unique_code"),
            models.UniqueConstraint(
                fields=["tenant", "direction"],
                condition=Q(is_default=True),
                name="tariff_one_default_per_direction",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    @property
    def currency(self) -> str:
        return str(self.tenant.currency)


class SeriesKind(models.TextChoices):
    PRICES = "prices", _("Prices")
    TEMPO = "tempo", _("Tempo colour calendar")


class PriceSeriesQuerySet(models.QuerySet["PriceSeries"]):
    def restrict(self, user: Any, action: Action) -> PriceSeriesQuerySet:
        return _tenant_scoped(self, user, action, "tenant_id")


class PriceSeries(UUIDModel):
    """Imported data a tariff reads: day-ahead prices, or a Tempo colour calendar."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    tenant = models.ForeignKey(
        "tenants.Tenant", on_delete=models.PROTECT, related_name="price_series"
    )
    kind = models.CharField(max_length=8, choices=SeriesKind.choices, default=SeriesKind.PRICES)
    currency = models.CharField(max_length=3)
    resolution_minutes = models.PositiveSmallIntegerField(
        _("resolution (minutes)"),
        default=60,
        help_text=_("Length of a point when an imported CSV gives no end column."),
    )
    description = models.CharField(max_length=200, blank=True)

    objects = PriceSeriesQuerySet.as_manager()

    class Meta:
        ordering = ["code"]
        verbose_name_plural = "price series"

    def __str__(self) -> str:
        return self.code


class PricePoint(models.Model):
    series = models.ForeignKey(PriceSeries, on_delete=models.CASCADE, related_name="points")
    start = models.DateTimeField()  # UTC
    end = models.DateTimeField()
    price_per_kwh = models.DecimalField(max_digits=14, decimal_places=8)

    class Meta:
        ordering = ["series", "start"]
        constraints = [
            models.UniqueConstraint(fields=["series", "start"], name="price_point_unique_start"),
            models.CheckConstraint(condition=Q(end__gt=models.F("start")), name="price_point_end"),
        ]

    def __str__(self) -> str:
        return f"{self.series_id} {self.start:%Y-%m-%d %H:%M} {self.price_per_kwh}"


class TempoColour(models.TextChoices):
    BLUE = "BLUE", _("Blue (BLEU)")
    WHITE = "WHITE", _("White (BLANC)")
    RED = "RED", _("Red (ROUGE)")


class TempoDay(models.Model):
    """The colour of a Tempo day, which runs from 06:00 local to 06:00 the next day."""

    series = models.ForeignKey(PriceSeries, on_delete=models.CASCADE, related_name="tempo_days")
    date = models.DateField()
    colour = models.CharField(max_length=5, choices=TempoColour.choices)

    class Meta:
        ordering = ["series", "date"]
        constraints = [
            models.UniqueConstraint(fields=["series", "date"], name="tempo_day_unique_date")
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.colour}"


def _overlaps(a_from: dt.date, a_until: dt.date | None, b_from: dt.date, b_until: Any) -> bool:
    return (b_until is None or a_from <= b_until) and (a_until is None or b_from <= a_until)


class TariffVersion(UUIDModel):
    tariff = models.ForeignKey(Tariff, on_delete=models.CASCADE, related_name="versions")
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until (inclusive)"), null=True, blank=True)
    standing_charge_per_day = models.DecimalField(
        _("standing charge per day"),
        max_digits=12,
        decimal_places=5,
        default=Decimal(0),
    )
    vat_rate = models.DecimalField(_("VAT rate"), max_digits=5, decimal_places=4)
    flat_price_per_kwh = models.DecimalField(
        _("flat price per kWh"),
        max_digits=14,
        decimal_places=8,
        null=True,
        blank=True,
    )
    export_price_per_kwh = models.DecimalField(
        _("export price per kWh"),
        max_digits=14,
        decimal_places=8,
        null=True,
        blank=True,
        help_text=_("Paid for exported energy when the household has no export tariff."),
    )
    price_series = models.ForeignKey(
        PriceSeries,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="tariff_versions",
        help_text=_("Dynamic: the day-ahead prices. Tempo: the colour calendar."),
    )
    markup_per_kwh = models.DecimalField(
        _("markup per kWh"),
        max_digits=14,
        decimal_places=8,
        default=Decimal(0),
        help_text=_("Dynamic: added to the day-ahead price (negative for injection fees)."),
    )
    capacity_price_per_kw_year = models.DecimalField(
        _("capacity price per kW and year"),
        max_digits=12,
        decimal_places=5,
        null=True,
        blank=True,
        help_text=_("Belgian capacity tariff, on the month's peak 15-minute average power."),
    )
    capacity_minimum_kw = models.DecimalField(
        _("capacity minimum (kW)"), max_digits=6, decimal_places=3, default=Decimal("2.5")
    )

    class Meta:
        ordering = ["tariff", "valid_from"]
        constraints = [
            models.UniqueConstraint(fields=["tariff", "valid_from"], name="tariff_version_unique"),
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gte=models.F("valid_from")),
                name="tariff_version_dates",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.tariff.code} from {self.valid_from}"

    def covers(self, day: dt.date) -> bool:
        return self.valid_from <= day and (self.valid_until is None or day <= self.valid_until)

    def clean(self) -> None:
        if self.valid_until is not None and self.valid_until < self.valid_from:
            raise ValidationError({"valid_until": _("Must not be before the start.")})
        if self.tariff_id is None:
            return
        others = TariffVersion.objects.filter(tariff_id=self.tariff_id).exclude(pk=self.pk)
        for other in others:
            if _overlaps(self.valid_from, self.valid_until, other.valid_from, other.valid_until):
                raise ValidationError(
                    _("Overlaps the version valid from %(date)s.") % {"date": other.valid_from}
                )
        self._clean_kind()

    def _clean_kind(self) -> None:
        kind = self.tariff.kind
        if kind == TariffKind.FLAT and self.flat_price_per_kwh is None:
            raise ValidationError({"flat_price_per_kwh": _("A flat tariff needs a price.")})
        if kind in (TariffKind.DYNAMIC, TariffKind.TEMPO) and self.price_series_id is None:
            raise ValidationError({"price_series": _("This kind of tariff needs a series.")})


class DayType(models.TextChoices):
    ALL = "all", _("Every day")
    WEEKDAY = "weekday", _("Monday to Friday")
    WEEKEND = "weekend", _("Saturday and Sunday")
    TEMPO_BLUE = "tempo_blue", _("Tempo blue day")
    TEMPO_WHITE = "tempo_white", _("Tempo white day")
    TEMPO_RED = "tempo_red", _("Tempo red day")


class TouPeriod(models.Model):
    """A window of local time with its price; `end` before `start` wraps past midnight.

    `start == end` means the whole day. Tempo day types pick the colour of the Tempo day
    (06:00 to 06:00), so 22:00-06:00 HC after a red day is still red.
    """

    version = models.ForeignKey(TariffVersion, on_delete=models.CASCADE, related_name="periods")
    name = models.CharField(_("name"), max_length=20)
    day_type = models.CharField(max_length=12, choices=DayType.choices, default=DayType.ALL)
    start = models.TimeField(_("start (local)"))
    end = models.TimeField(_("end (local)"))
    price_per_kwh = models.DecimalField(max_digits=14, decimal_places=8)

    class Meta:
        ordering = ["version", "day_type", "start"]

    def __str__(self) -> str:
        return f"{self.name} {self.day_type} {self.start:%H:%M}-{self.end:%H:%M}"

    def clean(self) -> None:
        for value in (self.start, self.end):
            if value is not None and (value.minute % 15 or value.second or value.microsecond):
                raise ValidationError(_("Periods start and end on a quarter hour."))


class HouseholdTariffQuerySet(models.QuerySet["HouseholdTariff"]):
    def restrict(self, user: Any, action: Action) -> HouseholdTariffQuerySet:
        from apps.households.models import Household

        return self.filter(household__in=Household.objects.restrict(user, action))


class HouseholdTariff(UUIDModel):
    """A household's contract: its import tariff and, optionally, an export tariff."""

    household = models.ForeignKey(
        "households.Household", on_delete=models.CASCADE, related_name="tariff_contracts"
    )
    tariff = models.ForeignKey(Tariff, on_delete=models.PROTECT, related_name="contracts")
    export_tariff = models.ForeignKey(
        Tariff,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="export_contracts",
    )
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until (inclusive)"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = HouseholdTariffQuerySet.as_manager()

    class Meta:
        ordering = ["household", "valid_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["household", "valid_from"], name="household_tariff_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.household_id}: {self.tariff_id} from {self.valid_from}"

    def covers(self, day: dt.date) -> bool:
        return self.valid_from <= day and (self.valid_until is None or day <= self.valid_until)

    def clean(self) -> None:
        if self.valid_until is not None and self.valid_until < self.valid_from:
            raise ValidationError({"valid_until": _("Must not be before the start.")})
        if self.household_id is None or self.tariff_id is None:
            return
        tenant_id = self.household.tenant_id
        if self.tariff.tenant_id != tenant_id or self.tariff.direction != Direction.IMPORT:
            raise ValidationError({"tariff": _("Choose an import tariff of the tenant.")})
        export = self.export_tariff
        if export is not None and (
            export.tenant_id != tenant_id or export.direction != Direction.EXPORT
        ):
            raise ValidationError({"export_tariff": _("Choose an export tariff of the tenant.")})
        others = HouseholdTariff.objects.filter(household_id=self.household_id).exclude(pk=self.pk)
        for other in others:
            if _overlaps(self.valid_from, self.valid_until, other.valid_from, other.valid_until):
                raise ValidationError(
                    _("Overlaps the contract valid from %(date)s.") % {"date": other.valid_from}
                )
