"""Rollup fixtures for forecasting: written straight into the energy rollup tables."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd

from apps.devices.models import DeviceKind
from apps.energy.models import DeviceEnergy, HouseholdEnergy, Resolution
from apps.forecasting import pv
from apps.forecasting.models import PvSystem
from tests.factories import DeviceFactory, HouseholdFactory

BRUSSELS = ZoneInfo("Europe/Brussels")


def pv_home(
    *, latitude: float = 50.85, longitude: float = 4.35, kwp: float = 4.0, **household: Any
) -> tuple[Any, Any, PvSystem]:
    home = HouseholdFactory(**household)
    inverter = DeviceFactory(
        household=home, kind=DeviceKind.PV_INVERTER, rated_power_w=4000, controllable=False
    )
    system = PvSystem.objects.create(
        household=home, device=inverter, latitude=latitude, longitude=longitude,
        altitude_m=50, kwp=kwp, tilt_deg=35, azimuth_deg=180, inverter_ac_kw=kwp,
        losses_pct=14,
    )  # fmt: skip
    return home, inverter, system


def quarters(first: date, days: int, zone: ZoneInfo = BRUSSELS) -> pd.DatetimeIndex:
    parts = [pv.day_quarters(first + timedelta(days=n), zone) for n in range(days)]
    return parts[0].append(parts[1:]) if len(parts) > 1 else parts[0]


def pv_rollups(system: PvSystem, first: date, days: int, factor: float) -> None:
    """The inverter produced `factor` x the clear-sky model in every quarter."""
    starts = quarters(first, days)
    clear = pv.clear_sky_wh(pv.PvSpec.of(system), starts)
    DeviceEnergy.objects.bulk_create(
        DeviceEnergy(
            device=system.device,
            household=system.household,
            resolution=Resolution.QUARTER,
            start=s.to_pydatetime(),
            energy_wh=round(factor * c),
            complete=True,
        )
        for s, c in zip(starts, clear, strict=True)
    )


def load_rollups(
    home: Any, first: date, days: int, wh: Callable[[datetime], float], zone: ZoneInfo = BRUSSELS
) -> None:
    """Complete meter quarters importing wh(local start) (no PV: the house = the import)."""
    HouseholdEnergy.objects.bulk_create(
        HouseholdEnergy(
            household=home,
            resolution=Resolution.QUARTER,
            start=s.to_pydatetime(),
            import_wh=round(wh(s.to_pydatetime().astimezone(zone))),
            complete=True,
        )
        for s in quarters(first, days, zone)
    )
