"""Report figures reconcile with the energy-awareness selectors to the Wh and the cent."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from apps.energy.costs import household_cost, rounded
from apps.energy.models import DeviceEnergy, HouseholdEnergy
from apps.energy.reports import energy_report
from apps.insights.reports import report_build, report_csv, same_period_last_year
from tests.conftest import World
from tests.insights.conftest import WEEK

pytestmark = pytest.mark.django_db


def test_the_dst_week_reconciles_with_the_energy_report_and_the_rollups(
    world: World, weeks: dict[str, Any]
) -> None:
    household = world.household
    report = report_build(household=household, period="week", day=WEEK + timedelta(days=3))
    energy = energy_report(household=household, period="week", day=WEEK)
    assert report.first_day == WEEK and report.last_day == date(2026, 10, 25)
    assert report.energy.end - report.energy.start == timedelta(hours=169)  # DST ends

    # Wh: the report is the energy report, and both are the stored rollups.
    assert report.totals == energy.totals
    quarters = HouseholdEnergy.objects.filter(
        household=household, resolution="15m",
        start__gte=energy.start, start__lt=energy.end,
    )  # fmt: skip
    assert quarters.count() == 169 * 4
    assert report.totals.import_wh == sum(q.import_wh for q in quarters)
    readings = {r.time: r.import_wh["1"] for r in weeks["readings"]}
    assert report.totals.import_wh == readings[energy.end] - readings[energy.start]
    assert report.totals.gap_bars == 0
    days = [
        report_build(household=household, period="day", day=WEEK + timedelta(days=n))
        for n in range(7)
    ]
    assert report.totals.import_wh == sum(d.totals.import_wh for d in days)
    plug = weeks["plug"]
    plug_wh = sum(
        DeviceEnergy.objects.filter(
            device=plug, resolution="1d", start__gte=energy.start, start__lt=energy.end
        ).values_list("energy_wh", flat=True)
    )
    pv_wh = sum(
        DeviceEnergy.objects.filter(
            device=weeks["pv"], resolution="1d", start__gte=energy.start, start__lt=energy.end
        ).values_list("energy_wh", flat=True)
    )
    assert report.totals.pv_wh == pv_wh == 7 * 5 * 600  # 600 W from 10:00 to 15:00
    assert report.totals.self_consumed_wh == pv_wh and report.totals.export_wh == 0
    assert report.totals.house_wh == report.totals.import_wh + pv_wh
    (line,) = report.devices  # the loads: PV shows in the flows
    assert line.energy_wh == plug_wh == energy.devices[0].energy_wh > 0

    # Cents: the cost engine over the same instants.
    cost = household_cost(household=household, start=energy.start, end=energy.end)
    assert report.figures.cost == rounded(cost.total) == rounded(energy.cost.total)  # type: ignore[union-attr]
    assert line.cost == rounded(energy.devices[0].cost)  # type: ignore[arg-type]
    assert report.currency == "EUR"

    # The peak quarter is the highest 15-minute import; the previous week has data.
    assert report.peak is not None
    assert report.peak.import_w == max(q.peak_import_w for q in quarters)
    assert report.previous is not None and report.previous.first_day == WEEK - timedelta(7)
    assert report.previous.import_wh == energy.previous.import_wh  # type: ignore[union-attr]
    assert report.previous.cost == rounded(energy.previous_cost)  # type: ignore[arg-type]
    assert report.last_year is None  # no data a year ago: said so, not zero


def test_the_csv_totals_are_the_report_totals(world: World, weeks: dict[str, Any]) -> None:
    report = report_build(household=world.household, period="week", day=WEEK)
    rows = list(csv.reader(io.StringIO(report_csv(report))))
    assert rows[0][:3] == ["row", "kind", "energy_kwh"]
    device_row = rows[1]
    assert Decimal(device_row[2]) * 1000 == report.devices[0].energy_wh
    assert Decimal(device_row[3]) == report.devices[0].cost
    house = next(r for r in rows if r[:2] == ["total", "house"])
    assert Decimal(house[2]) * 1000 == report.totals.house_wh
    assert Decimal(house[3]) == report.figures.cost
    imported = next(r for r in rows if r[:2] == ["total", "grid_import"])
    assert Decimal(imported[2]) * 1000 == report.totals.import_wh


def test_savings_count_done_programmes_and_planned_nights(
    world: World, savings: dict[str, Decimal]
) -> None:
    report = report_build(household=world.household, period="week", day=WEEK)
    assert report.savings.programmes == 1 and report.savings.daily_plans == 1
    assert report.savings.total == rounded(savings["total"]) == Decimal("0.97")
    month = report_build(household=world.household, period="month", day=WEEK)
    assert month.savings.total == Decimal("0.97")
    other_week = report_build(household=world.household, period="week", day=WEEK + timedelta(7))
    assert other_week.savings.total == 0 and not other_week.savings.programmes


def test_a_period_without_data_says_so(world: World) -> None:
    report = report_build(household=world.household, period="month", day=date(2026, 2, 10))
    assert report.figures.house_wh is None and report.previous is None
    assert report.last_year is None and report.peak is None and report.overloads == []


@pytest.mark.parametrize(
    ("period", "first", "expected"),
    [
        ("day", date(2028, 2, 29), date(2027, 2, 28)),
        ("week", date(2026, 10, 19), date(2025, 10, 20)),  # a Monday, ISO week 43 both years
        ("month", date(2026, 10, 1), date(2025, 10, 1)),
    ],
)
def test_same_period_last_year(period: Any, first: date, expected: date) -> None:
    assert same_period_last_year(period, first) == expected
