"""The cost engine: what a period cost, for the house and per device, as Decimal.

Each metered quarter hour is priced at its own slot's price (time of use, Tempo colour or
day-ahead price); a quarter with a measurement gap is not priced and is counted instead.
Standing charges run per local day, the Belgian capacity charge on the month's highest
15-minute import (never below the tariff's minimum), pro rata for part of a month. VAT
applies to what the household buys; export revenue is paid without VAT (households are
not VAT-registered). Amounts keep full precision until `rounded()`.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from apps.devices.models import Device
from apps.energy import periods
from apps.energy.flows import PRODUCER_KINDS
from apps.energy.models import DeviceEnergy, HouseholdEnergy
from apps.households.models import Household
from apps.tariffs import selectors as tariffs

CENT = Decimal("0.01")
KWH = Decimal(1000)


def rounded(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass
class QuarterCost:
    start: datetime
    import_cost: Decimal  # excluding VAT
    export_revenue: Decimal


@dataclass
class Cost:
    currency: str
    vat_rate: Decimal
    import_kwh: Decimal = Decimal(0)
    import_cost: Decimal = Decimal(0)  # excluding VAT
    export_kwh: Decimal = Decimal(0)
    export_revenue: Decimal = Decimal(0)
    by_period: dict[str, tuple[Decimal, Decimal]] = field(default_factory=dict)  # kWh, cost
    standing_charge: Decimal = Decimal(0)
    capacity_charge: Decimal = Decimal(0)
    capacity_peak_kw: Decimal | None = None
    gap_quarters: int = 0
    quarters: list[QuarterCost] = field(default_factory=list)
    devices: dict[uuid.UUID, Decimal] = field(default_factory=dict)  # including VAT

    @property
    def vat(self) -> Decimal:
        return (self.import_cost + self.standing_charge + self.capacity_charge) * self.vat_rate

    @property
    def total(self) -> Decimal:
        """What the household pays for the period: purchases with VAT, less export revenue."""
        purchases = self.import_cost + self.standing_charge + self.capacity_charge
        return purchases + self.vat - self.export_revenue


@dataclass(frozen=True)
class Quarter:
    """The figures of one metered quarter the engine needs (read as tuples: fast)."""

    start: datetime
    import_wh: int
    export_wh: int
    peak_import_w: int


def metered_quarters(household: Household, start: datetime, end: datetime) -> list[Quarter]:
    rows = HouseholdEnergy.objects.filter(
        household=household, resolution="15m", start__gte=start, start__lt=end, complete=True
    ).order_by("start")
    fields = ("start", "import_wh", "export_wh", "peak_import_w")
    return [Quarter(*row) for row in rows.values_list(*fields)]


def household_cost(*, household: Household, start: datetime, end: datetime) -> Cost:
    """Raises tariffs.NoTariff / tariffs.MissingPrice rather than guess a price."""
    quarters = metered_quarters(household, start, end)
    price_slots = tariffs.price_slots(household=household, start=start, end=end)
    slots = {s.start: s for s in price_slots}
    cost = Cost(
        currency=household.tenant.currency,
        vat_rate=tariffs.vat_rate(household=household, at=start),
        gap_quarters=len(price_slots) - len(quarters),
    )
    _price_energy(cost, quarters, slots)
    cost.standing_charge = _standing(household, start, end)
    cost.capacity_charge, cost.capacity_peak_kw = _capacity(household, quarters, start, end)
    cost.devices = _device_costs(household, start, end, slots, cost.vat_rate)
    return cost


def _price_energy(cost: Cost, quarters: list[Quarter], slots: dict) -> None:
    by_period: dict[str, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for quarter in quarters:
        slot = slots[quarter.start]
        imported, exported = Decimal(quarter.import_wh) / KWH, Decimal(quarter.export_wh) / KWH
        bought, sold = imported * slot.import_price, exported * slot.export_price
        cost.import_kwh += imported
        cost.import_cost += bought
        cost.export_kwh += exported
        cost.export_revenue += sold
        by_period[slot.period][0] += imported
        by_period[slot.period][1] += bought
        cost.quarters.append(QuarterCost(quarter.start, bought, sold))
    cost.by_period = {name: (kwh, amount) for name, (kwh, amount) in by_period.items()}


def _local_days(household: Household, start: datetime, end: datetime) -> list[date]:
    zone = ZoneInfo(household.timezone)
    first, last = (
        periods.local_date(start, zone),
        periods.local_date(end - timedelta(seconds=1), zone),
    )
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _standing(household: Household, start: datetime, end: datetime) -> Decimal:
    """Per local day; days under one tariff version are asked once (a month: 1-2 lookups)."""
    total, charge, version_until = Decimal(0), Decimal(0), None
    for day in _local_days(household, start, end):
        if version_until is None or day > version_until:
            version = tariffs.tariff_version_at(household=household, at=_noon(household, day))
            charge, version_until = version.standing_charge_per_day, version.valid_until
            version_until = version_until or date.max
        total += charge
    return total


def _noon(household: Household, day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, tzinfo=ZoneInfo(household.timezone))


def _capacity(
    household: Household, quarters: list[Quarter], start: datetime, end: datetime
) -> tuple[Decimal, Decimal | None]:
    """€/kW/year on each month's highest quarter, pro rata for the days of the month inside."""
    zone = ZoneInfo(household.timezone)
    total, peak_kw = Decimal(0), None
    for month_start, month_end in periods.months(start, end, zone):
        terms = tariffs.capacity_terms(
            household=household, month=periods.local_date(month_start, zone)
        )
        if terms is None:
            continue
        price_per_kw_year, minimum_kw = terms
        inside = [q for q in quarters if month_start <= q.start < month_end]
        peak = Decimal(max((q.peak_import_w for q in inside), default=0)) / KWH
        billed_kw = max(peak, minimum_kw)
        share = _share_of_month(month_start, month_end, start, end)
        total += billed_kw * price_per_kw_year / 12 * share
        peak_kw = peak if peak_kw is None else max(peak_kw, peak)
    return total, peak_kw


def _share_of_month(
    month_start: datetime, month_end: datetime, start: datetime, end: datetime
) -> Decimal:
    inside = min(end, month_end) - max(start, month_start)
    return Decimal(inside.total_seconds()) / Decimal((month_end - month_start).total_seconds())


def _device_costs(
    household: Household, start: datetime, end: datetime, slots: dict, vat_rate: Decimal
) -> dict[uuid.UUID, Decimal]:
    """A load's energy at each quarter's import price, VAT included (what it cost to run)."""
    loads = Device.objects.filter(household=household).exclude(kind__in=PRODUCER_KINDS)
    rows = DeviceEnergy.objects.filter(
        household=household, device__in=loads, resolution="15m",
        start__gte=start, start__lt=end, complete=True,
    ).values_list("device_id", "start", "energy_wh")  # fmt: skip
    costs: dict[uuid.UUID, Decimal] = defaultdict(Decimal)
    for device_id, quarter_start, energy_wh in rows:
        price = slots[quarter_start].import_price
        costs[device_id] += Decimal(energy_wh) / KWH * price * (1 + vat_rate)
    return dict(costs)
