"""One period's energy for the portal, the API and the CSV: bars, totals, devices, cost.

Day, week, month and year in the household's calendar; bars by hour (day), day (week,
month) or month (year); the same figures for the previous period to compare with.
"""

from __future__ import annotations

import uuid
from bisect import bisect_left
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Literal
from zoneinfo import ZoneInfo

from apps.devices.models import Device
from apps.energy import costs
from apps.energy.flows import PRODUCER_KINDS, Flows
from apps.energy.selectors import flows_series, period_bounds
from apps.households.models import Household
from apps.tariffs.selectors import MissingPrice, NoTariff

Period = Literal["day", "week", "month", "year"]
BAR_RESOLUTION: dict[str, str] = {"day": "1h", "week": "1d", "month": "1d", "year": "1mo"}


@dataclass
class Bar:
    start: datetime
    end: datetime
    flows: Flows
    cost: Decimal | None  # including VAT; None without a tariff


@dataclass
class Totals:
    import_wh: int = 0
    export_wh: int = 0
    pv_wh: int = 0
    self_consumed_wh: int | None = None
    house_wh: int | None = None
    battery_charge_wh: int = 0
    battery_discharge_wh: int = 0
    untracked_wh: int | None = None
    gap_bars: int = 0

    def add(self, flows: Flows) -> None:
        self.import_wh += flows.grid_import_wh
        self.export_wh += flows.grid_export_wh
        self.pv_wh += flows.pv_wh
        self.battery_charge_wh += flows.battery_charge_wh
        self.battery_discharge_wh += flows.battery_discharge_wh
        self.self_consumed_wh = _plus(self.self_consumed_wh, flows.self_consumed_wh)
        self.house_wh = _plus(self.house_wh, _measured_house(flows))
        self.untracked_wh = _plus(self.untracked_wh, flows.untracked_wh)
        self.gap_bars += flows.house_consumption_wh is None  # device gaps show per device

    @property
    def self_sufficiency(self) -> float | None:
        if not self.house_wh:
            return None
        return min(max((self.house_wh - self.import_wh) / self.house_wh, 0.0), 1.0)


def _measured_house(flows: Flows) -> int | None:
    """The house's use over the measured quarters of an interval (the same balance as
    Flows, which leaves it None for an interval with any gap); None if nothing measured."""
    if flows.house_consumption_wh is not None:
        return flows.house_consumption_wh
    if flows.gap_quarters and not (flows.grid_import_wh or flows.pv_wh):
        return None
    balance = (
        flows.grid_import_wh + flows.pv_wh - flows.grid_export_wh
        + flows.battery_discharge_wh - flows.battery_charge_wh
    )  # fmt: skip
    return max(balance, 0)


def _plus(total: int | None, part: int | None) -> int | None:
    """The measured part of a sum: None until some interval was measured. How much is
    missing is told apart (gap_bars), never filled in."""
    if part is None:
        return total
    return part if total is None else total + part


@dataclass
class DeviceLine:
    device: Device
    energy_wh: int | None  # what was measured; None: nothing at all
    cost: Decimal | None
    incomplete: bool = False  # some intervals of the period have no data


@dataclass
class Report:
    household: Household
    period: str
    day: date
    start: datetime
    end: datetime
    resolution: str
    bars: list[Bar]
    totals: Totals
    devices: list[DeviceLine]
    cost: costs.Cost | None
    cost_error: str = ""
    previous: Totals | None = None
    previous_cost: Decimal | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.household.timezone)


def previous_day(period: str, day: date) -> date:
    if period == "day":
        return day - timedelta(days=1)
    if period == "week":
        return day - timedelta(days=7)
    if period == "month":
        return (day.replace(day=1) - timedelta(days=1)).replace(day=1)
    return date(day.year - 1, 1, 1)


def next_day(period: str, day: date) -> date:
    if period == "day":
        return day + timedelta(days=1)
    if period == "week":
        return day + timedelta(days=7)
    if period == "month":
        return (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return date(day.year + 1, 1, 1)


def energy_report(
    *, household: Household, period: Period, day: date, compare: bool = True
) -> Report:
    start, end = period_bounds(household=household, period=period, containing=day)
    resolution = BAR_RESOLUTION[period]
    series = flows_series(household=household, start=start, end=end, resolution=resolution)
    cost, error = _cost(household, start, end)
    starts = [q.start for q in cost.quarters] if cost else []
    bars = [Bar(f.start, f.end, f, _bar_cost(cost, starts, f)) for f in series]
    totals = Totals()
    for bar in bars:
        totals.add(bar.flows)
    report = Report(
        household, period, day, start, end, resolution, bars, totals,
        _device_lines(household, series, cost), cost, error,
    )  # fmt: skip
    if compare:
        before = energy_report(
            household=household, period=period, day=previous_day(period, day), compare=False
        )
        report.previous = before.totals
        report.previous_cost = before.cost.total if before.cost else None
    return report


def _cost(household: Household, start: datetime, end: datetime) -> tuple[costs.Cost | None, str]:
    try:
        return costs.household_cost(household=household, start=start, end=end), ""
    except (NoTariff, MissingPrice) as missing:
        return None, str(missing)


def _bar_cost(cost: costs.Cost | None, starts: list[datetime], flows: Flows) -> Decimal | None:
    """The bar's energy bought less sold, VAT on what was bought (standing charges apart).

    `starts` are the starts of `cost.quarters` (in time order): the bar's quarters are
    found by bisection, not by scanning the period's quarters for every bar.
    """
    if cost is None:
        return None
    first = bisect_left(starts, flows.start)
    inside = cost.quarters[first : bisect_left(starts, flows.end, lo=first)]
    bought = sum((q.import_cost for q in inside), Decimal(0))
    sold = sum((q.export_revenue for q in inside), Decimal(0))
    return bought * (1 + cost.vat_rate) - sold


def _device_lines(
    household: Household, series: list[Flows], cost: costs.Cost | None
) -> list[DeviceLine]:
    """The loads (PV and battery show in the flows), with a gap making the total unknown."""
    lines = []
    loads = Device.objects.filter(household=household).exclude(kind__in=PRODUCER_KINDS)
    for device in loads.order_by("name"):
        gap = any(str(device.pk) in f.gaps for f in series)
        measured = [f.devices[device.pk] for f in series if device.pk in f.devices]
        energy = sum(measured) if measured else None
        device_cost = cost.devices.get(device.pk, Decimal(0)) if cost else None
        lines.append(DeviceLine(device, energy, device_cost, incomplete=gap))
    return lines


def device_ids(report: Report) -> list[uuid.UUID]:
    return [line.device.pk for line in report.devices]
