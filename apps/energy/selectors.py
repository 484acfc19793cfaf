"""Reads of the energy rollups, per household (domain functions: no user, no policy).

The data-access policy wraps these: it decides who may call them at what resolution.
Every period in the range is returned; a period without a stored row comes back as an
unsaved row with complete=False and every quarter counted as a gap, never as zeros
pretending to be measured.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from apps.devices.models import Device
from apps.energy import periods
from apps.energy.flows import Flows, flows_of
from apps.energy.models import DeviceEnergy, HouseholdEnergy, Resolution
from apps.households.models import Household

Period = Literal["day", "week", "month", "year"]


def period_bounds(
    *, household: Household, period: Period, containing: date
) -> tuple[datetime, datetime]:
    """The local calendar period containing `containing`, as UTC instants [start, end)."""
    zone = ZoneInfo(household.timezone)
    if period == "day":
        first, following = containing, containing + timedelta(days=1)
    elif period == "week":  # weeks start on Monday
        first = containing - timedelta(days=containing.weekday())
        following = first + timedelta(days=7)
    elif period == "month":
        first = containing.replace(day=1)
        following = periods.first_of_month(first, 1)
    elif period == "year":
        first, following = date(containing.year, 1, 1), date(containing.year + 1, 1, 1)
    else:
        raise ValueError(f"unknown period {period!r}")
    return periods.local_midnight(first, zone), periods.local_midnight(following, zone)


def household_series(
    *, household: Household, start: datetime, end: datetime, resolution: str
) -> list[HouseholdEnergy]:
    """One row per period of `resolution` overlapping [start, end), oldest first."""
    spans = periods.periods(resolution, start, end, ZoneInfo(household.timezone))
    if not spans:
        return []
    stored = {
        row.start: row
        for row in HouseholdEnergy.objects.filter(
            household=household,
            resolution=resolution,
            start__gte=spans[0][0],
            start__lt=spans[-1][1],
        )
    }
    return [stored.get(s) or _missing_household(household, resolution, s, e) for s, e in spans]


def device_series(
    *, household: Household, start: datetime, end: datetime, resolution: str
) -> list[DeviceEnergy]:
    """One row per device of the household and period, by device then time."""
    spans = periods.periods(resolution, start, end, ZoneInfo(household.timezone))
    if not spans:
        return []
    stored = {
        (row.device_id, row.start): row
        for row in DeviceEnergy.objects.filter(
            household=household,
            resolution=resolution,
            start__gte=spans[0][0],
            start__lt=spans[-1][1],
        )
    }
    device_ids = Device.objects.filter(household=household).order_by("pk").values_list("pk")
    return [
        stored.get((device, s)) or _missing_device(household, device, resolution, s, e)
        for (device,) in device_ids
        for s, e in spans
    ]


def flows_series(
    *, household: Household, start: datetime, end: datetime, resolution: str
) -> list[Flows]:
    zone = ZoneInfo(household.timezone)
    kinds = dict(Device.objects.filter(household=household).values_list("pk", "kind"))
    by_start: dict[datetime, list[tuple[DeviceEnergy, str]]] = {}
    for row in device_series(household=household, start=start, end=end, resolution=resolution):
        by_start.setdefault(row.start, []).append((row, kinds[row.device_id]))
    return [
        flows_of(row, periods.period_end(resolution, row.start, zone), by_start.get(row.start, []))
        for row in household_series(
            household=household, start=start, end=end, resolution=resolution
        )
    ]


def _missing_household(
    household: Household, resolution: str, start: datetime, end: datetime
) -> HouseholdEnergy:
    return HouseholdEnergy(
        household=household,
        resolution=Resolution(resolution),
        start=start,
        complete=False,
        gap_quarters=periods.quarter_count(start, end),
    )


def _missing_device(
    household: Household, device: uuid.UUID, resolution: str, start: datetime, end: datetime
) -> DeviceEnergy:
    return DeviceEnergy(
        household=household,
        device_id=device,
        resolution=Resolution(resolution),
        start=start,
        complete=False,
        gap_quarters=periods.quarter_count(start, end),
    )


def peak_quarter(*, household: Any, start: datetime, end: datetime) -> tuple[datetime, int] | None:
    """The quarter of [start, end) with the highest grid import (its start and average W)."""
    row = (
        HouseholdEnergy.objects.filter(
            household=household,
            resolution=Resolution.QUARTER,
            start__gte=start,
            start__lt=end,
            peak_import_w__gt=0,
        )
        .order_by("-peak_import_w", "start")
        .values_list("start", "peak_import_w")
        .first()
    )
    return (row[0], row[1]) if row else None
