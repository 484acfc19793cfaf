"""Reads for forecasting: measured PV and base load per quarter, stored forecasts, and
forecast-versus-actual metrics (domain functions: no user, no policy; callers scope)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from apps.devices.models import Device, DeviceKind
from apps.energy.flows import PRODUCER_KINDS
from apps.energy.models import DeviceEnergy, HouseholdEnergy, Resolution
from apps.forecasting import metrics
from apps.forecasting.models import Forecast, Horizon, PvClearSkyIndex, PvSystem
from apps.forecasting.pv import haversine_km
from apps.households.models import Household

QUARTER = timedelta(minutes=15)
# Smart appliances the platform may shift: left out of the base load when controllable.
SCHEDULABLE_KINDS = {DeviceKind.APPLIANCE, DeviceKind.EV_CHARGER, DeviceKind.WATER_HEATER}
POOL_RADIUS_KM = 25.0
POOL_MAX_NEIGHBOURS = 50

Series = tuple[pd.DatetimeIndex, np.ndarray]


def _series(pairs: dict[datetime, float]) -> Series:
    if not pairs:
        return pd.DatetimeIndex([], tz="UTC"), np.zeros(0)
    ordered = sorted(pairs)
    index = pd.DatetimeIndex(ordered).tz_convert("UTC")
    return index, np.array([pairs[s] for s in ordered], dtype=float)


def pv_device_ids(*, household: Household) -> list[uuid.UUID]:
    """The inverters linked to the household's PV systems, else all its PV inverters."""
    linked = PvSystem.objects.filter(household=household, device__isnull=False)
    ids = list(linked.values_list("device_id", flat=True).distinct())
    if ids:
        return [i for i in ids if i is not None]
    return list(
        Device.objects.filter(household=household, kind=DeviceKind.PV_INVERTER).values_list(
            "pk", flat=True
        )
    )


def _complete_device_energy(
    household: Household, devices: list[uuid.UUID], start: datetime, end: datetime
) -> dict[datetime, tuple[int, float]]:
    """Per quarter: (complete rows, summed Wh) over `devices`."""
    out: dict[datetime, tuple[int, float]] = {}
    if not devices:
        return out
    rows = DeviceEnergy.objects.filter(
        household=household, resolution=Resolution.QUARTER, device_id__in=devices,
        complete=True, start__gte=start, start__lt=end,
    ).values_list("start", "energy_wh")  # fmt: skip
    for moment, energy in rows:
        count, total = out.get(moment, (0, 0.0))
        out[moment] = (count + 1, total + energy)
    return out


def pv_measured(
    *, household: Household, start: datetime, end: datetime,
    device_ids: list[uuid.UUID] | None = None,
) -> Series:  # fmt: skip
    """PV production per quarter in [start, end): quarters where every inverter is complete."""
    devices = pv_device_ids(household=household) if device_ids is None else device_ids
    rows = _complete_device_energy(household, devices, start, end)
    return _series({s: wh for s, (n, wh) in rows.items() if n == len(devices)})


def load_measured(
    *, household: Household, start: datetime, end: datetime, exclude_scheduled: bool = True
) -> Series:
    """The base load per quarter in [start, end): the house's consumption (the energy
    flows' formula: import + PV - export + battery discharge - charge, needing a complete
    meter, PV and battery) less the controllable smart appliances the platform may schedule
    (where their rollups are complete; a quarter where one has a gap is left out)."""
    kinds = dict(Device.objects.filter(household=household).values_list("pk", "kind"))
    producers = [pk for pk, kind in kinds.items() if kind in PRODUCER_KINDS]
    scheduled: list[uuid.UUID] = []
    if exclude_scheduled:
        scheduled = list(
            Device.objects.filter(
                household=household, controllable=True, kind__in=SCHEDULABLE_KINDS
            ).values_list("pk", flat=True)
        )
    producer_rows = _complete_device_energy(household, producers, start, end)
    scheduled_rows = _complete_device_energy(household, scheduled, start, end)
    rows = HouseholdEnergy.objects.filter(
        household=household, resolution=Resolution.QUARTER, complete=True,
        start__gte=start, start__lt=end,
    ).values_list(
        "start", "import_wh", "export_wh", "pv_wh", "battery_discharge_wh", "battery_charge_wh"
    )  # fmt: skip
    out: dict[datetime, float] = {}
    for moment, imported, exported, pv_wh, discharge, charge in rows:
        if producers and producer_rows.get(moment, (0, 0))[0] != len(producers):
            continue
        house: float = max(imported + pv_wh - exported + discharge - charge, 0)
        if scheduled:
            count, shifted = scheduled_rows.get(moment, (0, 0.0))
            if count != len(scheduled):
                continue
            house = max(house - shifted, 0)
        out[moment] = house
    return _series(out)


def measured(*, household: Household, kind: str, start: datetime, end: datetime) -> Series:
    if kind == "pv":
        return pv_measured(household=household, start=start, end=end)
    return load_measured(household=household, start=start, end=end)


def forecast_series(
    *, household_id: uuid.UUID | str, kind: str, start: datetime, end: datetime,
    horizon: str = Horizon.DAY_AHEAD,
) -> list[tuple[datetime, int]]:  # fmt: skip
    """The stored forecast's quarters in [start, end), oldest first (absent days: nothing)."""
    rows = Forecast.objects.filter(
        household_id=household_id, kind=kind, horizon=horizon,
        start__lt=end, start__gte=start - timedelta(days=2),
    ).order_by("start")  # fmt: skip
    return [(s, v) for row in rows for s, v in row.series() if start <= s < end]


def neighbour_indexes(
    *, household: Household, latitude: float, longitude: float, month: int,
    radius_km: float = POOL_RADIUS_KM,
) -> list[tuple[list[float | None], list[int], float]]:  # fmt: skip
    """The stored clear-sky indexes (values, counts, km) of PV households of the same
    tenant within `radius_km`, nearest first."""
    dlat = radius_km / 111.0
    dlon = radius_km / (111.0 * max(np.cos(np.radians(latitude)), 0.01))
    candidates = (
        PvSystem.objects.filter(
            household__tenant_id=household.tenant_id,
            latitude__range=(latitude - dlat, latitude + dlat),
            longitude__range=(longitude - dlon, longitude + dlon),
        )
        .exclude(household=household)
        .values_list("household_id", "latitude", "longitude")
    )
    distance: dict[Any, float] = {}
    for other, lat, lon in candidates:
        km = haversine_km(latitude, longitude, lat, lon)
        if km <= radius_km and km < distance.get(other, float("inf")):
            distance[other] = km
    nearest = sorted(distance, key=distance.__getitem__)[:POOL_MAX_NEIGHBOURS]
    stored = PvClearSkyIndex.objects.filter(household_id__in=nearest, month=month, days__gt=0)
    rows = [(row.values, row.counts, distance[row.household_id]) for row in stored]
    return sorted(rows, key=lambda r: r[2])


def _day_before(moment: datetime, zone: ZoneInfo) -> datetime | None:
    """The same wall-clock quarter of the previous local day (None in a spring-forward gap)."""
    local = moment.astimezone(zone)
    previous = datetime.combine(local.date() - timedelta(days=1), local.time(), tzinfo=zone)
    back = previous.astimezone(ZoneInfo("UTC")).astimezone(zone)
    if back.replace(tzinfo=None) != previous.replace(tzinfo=None):
        return None
    return previous.astimezone(ZoneInfo("UTC"))


def forecast_vs_actual(
    *, household_id: uuid.UUID | str, kind: str, start: datetime, end: datetime,
    horizon: str = Horizon.DAY_AHEAD,
) -> dict[str, Any]:  # fmt: skip
    """The stored forecast against the measured rollups over [start, end).

    series: (start, forecast_wh, actual_wh or None) for each forecast quarter. mae_wh and
    rmse_wh over the quarters with a measurement; persistence (the same wall-clock quarter
    of the previous local day, measured) over the quarters with both measurements, and
    `skill` = 1 - MAE(forecast) / MAE(persistence) on those same quarters (`skill_rmse`
    likewise with RMSE). None where there is nothing to compare.
    """
    household = Household.objects.get(pk=household_id)
    zone = ZoneInfo(household.timezone)
    forecast = forecast_series(
        household_id=household_id, kind=kind, start=start, end=end, horizon=horizon
    )
    starts, values = measured(
        household=household, kind=kind, start=start - timedelta(days=1, hours=2), end=end
    )
    actual = {s.to_pydatetime(): float(v) for s, v in zip(starts, values, strict=True)}
    series = [(s, wh, actual.get(s)) for s, wh in forecast]
    pairs = [(float(f), a) for _, f, a in series if a is not None]
    common_f: list[float] = []
    common_p: list[float] = []
    common_a: list[float] = []
    for moment, f, a in series:
        before = _day_before(moment, zone)
        p = actual.get(before) if before is not None else None
        if a is not None and p is not None:
            common_f.append(float(f))
            common_p.append(p)
            common_a.append(a)
    f_list, a_list = [p[0] for p in pairs], [p[1] for p in pairs]
    mae_common = metrics.mae(common_f, common_a)
    rmse_common = metrics.rmse(common_f, common_a)
    persistence_mae = metrics.mae(common_p, common_a)
    persistence_rmse = metrics.rmse(common_p, common_a)
    return {
        "household_id": household_id,
        "kind": kind,
        "horizon": horizon,
        "series": series,
        "quarters": len(series),
        "measured_quarters": len(pairs),
        "mae_wh": metrics.mae(f_list, a_list),
        "rmse_wh": metrics.rmse(f_list, a_list),
        "bias_wh": (sum(f_list) - sum(a_list)) / len(pairs) if pairs else None,
        "forecast_wh": sum(f_list),
        "actual_wh": sum(a_list),
        "persistence_quarters": len(common_a),
        "persistence_mae_wh": persistence_mae,
        "persistence_rmse_wh": persistence_rmse,
        "skill": metrics.skill(mae_common, persistence_mae),
        "skill_rmse": metrics.skill(rmse_common, persistence_rmse),
    }
