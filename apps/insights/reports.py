"""A household's day, week or month report, built on the energy-awareness report.

Every energy and money figure comes from `apps.energy.reports.energy_report` (the same
rollups, flows and cost engine as the energy page and API), so the report reconciles with
them to the Wh and the cent; nothing here reads raw readings. The report adds what the
energy page does not show: the period's peak quarter, its overload episodes, the same
period last year and the savings the scheduler made.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Literal

from apps.energy import selectors as energy_selectors
from apps.energy.costs import rounded
from apps.energy.reports import (
    BAR_RESOLUTION,
    Report,
    Totals,
    energy_report,
    next_day,
    previous_day,
)
from apps.households.models import Household
from apps.insights import selectors
from apps.insights.comparison import Comparison, ComparisonGroups, compare
from apps.live import selectors as live_selectors
from apps.live.models import OverloadEpisode
from apps.scheduling import selectors as scheduling_selectors

ReportPeriodName = Literal["day", "week", "month"]
REPORT_PERIODS: tuple[ReportPeriodName, ...] = ("day", "week", "month")


@dataclass
class DeviceRow:
    name: str
    kind: str
    energy_wh: int | None
    cost: Decimal | None  # rounded to the cent, VAT included
    incomplete: bool


@dataclass
class Figures:
    """A period's headline figures: what the household used and paid."""

    first_day: date
    house_wh: int | None  # measured use; None: no data at all
    import_wh: int
    cost: Decimal | None  # rounded, None without a tariff
    gap_bars: int

    @property
    def has_data(self) -> bool:
        return self.house_wh is not None or self.import_wh > 0


@dataclass
class Peak:
    start: datetime  # the quarter's start (UTC)
    import_w: int  # average import power over the quarter


@dataclass
class Savings:
    """What scheduling saved in the period (tariff currency, VAT excluded)."""

    programmes: int = 0
    programmes_saving: Decimal = Decimal(0)
    daily_plans: int = 0
    daily_plans_saving: Decimal = Decimal(0)

    @property
    def total(self) -> Decimal:
        return rounded(self.programmes_saving + self.daily_plans_saving)


@dataclass
class Habits:
    """The coaching tips taken up by the period's end (worth per year together, tenant
    currency) and the tips still open then."""

    done: int = 0
    done_per_year: Decimal = Decimal(0)
    open: int = 0


@dataclass
class HouseholdReport:
    household: Household
    period: ReportPeriodName
    first_day: date
    last_day: date
    energy: Report  # the energy-awareness report the figures come from
    currency: str
    figures: Figures
    devices: list[DeviceRow]
    peak: Peak | None
    overloads: list[OverloadEpisode]
    previous: Figures | None
    last_year: Figures | None
    savings: Savings
    notes: list[str] = field(default_factory=list)
    habits: Habits = field(default_factory=Habits)
    comparison: Comparison | None = None  # monthly reports only

    @property
    def totals(self) -> Totals:
        return self.energy.totals

    @property
    def cost_error(self) -> str:
        return self.energy.cost_error


def first_day_of(period: ReportPeriodName, day: date) -> date:
    if period == "week":
        return day - timedelta(days=day.weekday())
    if period == "month":
        return day.replace(day=1)
    return day


def same_period_last_year(period: ReportPeriodName, first: date) -> date:
    """The same day, the same ISO week (52 weeks back, the same weekdays) or the same month."""
    if period == "week":
        return first - timedelta(weeks=52)
    try:
        return first.replace(year=first.year - 1)
    except ValueError:  # 29 February
        return first.replace(year=first.year - 1, day=28)


def previous_period(period: ReportPeriodName, day: date) -> date:
    return first_day_of(period, previous_day(period, first_day_of(period, day)))


def _figures(report: Report, first: date) -> Figures:
    cost = rounded(report.cost.total) if report.cost else None
    t = report.totals
    return Figures(first, t.house_wh, t.import_wh, cost, t.gap_bars)


@dataclass
class ReportBatch:
    """What the reports of one run share (the month's reports of many households): the
    comparison groups, read once each. Use one per run, not across runs."""

    groups: ComparisonGroups = field(default_factory=ComparisonGroups)


def _past_figures(household: Household, period: ReportPeriodName, first: date) -> Figures | None:
    """An earlier period's figures to compare with; None when it has no data (a period
    without a single stored rollup is not priced at all: the usual case a year back)."""
    start, end = energy_selectors.period_bounds(
        household=household, period=period, containing=first
    )
    stored = energy_selectors.household_series(
        household=household, start=start, end=end, resolution=BAR_RESOLUTION[period]
    )
    if not any(row.pk for row in stored):
        return None
    figures = _figures(
        energy_report(household=household, period=period, day=first, compare=False), first
    )
    return figures if figures.has_data else None


def report_build(
    *,
    household: Household,
    period: ReportPeriodName,
    day: date,
    batch: ReportBatch | None = None,
) -> HouseholdReport:
    """The report of the household's `period` containing `day` (its local calendar).
    `batch`: when building many households' reports in one run."""
    if period not in REPORT_PERIODS:
        raise ValueError(f"unknown report period {period!r}")
    first = first_day_of(period, day)
    energy = energy_report(household=household, period=period, day=first, compare=False)
    figures = _figures(energy, first)
    previous = _past_figures(household, period, previous_period(period, first))
    last_year = _past_figures(household, period, same_period_last_year(period, first))
    devices = [
        DeviceRow(
            line.device.name,
            line.device.get_kind_display(),
            line.energy_wh,
            rounded(line.cost) if line.cost is not None else None,
            line.incomplete,
        )
        for line in energy.devices
    ]
    peak = energy_selectors.peak_quarter(household=household, start=energy.start, end=energy.end)
    savings = scheduling_selectors.savings_between(
        household=household, start=energy.start, end=energy.end
    )
    return HouseholdReport(
        household=household,
        period=period,
        first_day=first,
        last_day=next_day(period, first) - timedelta(days=1),
        energy=energy,
        currency=household.tenant.currency,
        figures=figures,
        devices=devices,
        peak=Peak(*peak) if peak else None,
        overloads=live_selectors.overload_episodes_between(
            household=household, start=energy.start, end=energy.end
        ),
        previous=previous,
        last_year=last_year,
        savings=Savings(*savings),
        habits=Habits(*selectors.tip_habits(household=household, at=energy.end)),
        comparison=(
            compare(household, first, batch.groups if batch else None)
            if period == "month"
            else None
        ),
    )


def kwh(wh: int | None) -> Decimal | None:
    return None if wh is None else (Decimal(wh) / 1000).quantize(Decimal("0.001"))


def report_csv(report: HouseholdReport) -> str:
    """One row per device, then the totals (kWh to the Wh, money to the cent)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["row", "kind", "energy_kwh", f"cost_{report.currency.lower()}", "complete"])
    for line in report.devices:
        writer.writerow(
            [line.name, line.kind, _cell(kwh(line.energy_wh)), _cell(line.cost),
             "no" if line.incomplete else "yes"]
        )  # fmt: skip
    t = report.totals
    complete = "no" if t.gap_bars else "yes"
    writer.writerow(
        ["total", "house", _cell(kwh(t.house_wh)), _cell(report.figures.cost), complete]
    )
    writer.writerow(["total", "grid_import", _cell(kwh(t.import_wh)), "", complete])
    writer.writerow(["total", "grid_export", _cell(kwh(t.export_wh)), "", complete])
    writer.writerow(["total", "pv_production", _cell(kwh(t.pv_wh)), "", complete])
    writer.writerow(["total", "pv_self_consumed", _cell(kwh(t.self_consumed_wh)), "", complete])
    writer.writerow(["total", "scheduling_savings", "", _cell(report.savings.total), "yes"])
    return out.getvalue()


def _cell(value: Decimal | None) -> str:
    return "" if value is None else str(value)
