"""The PV model: pvlib clear sky -> plane of array -> PVWatts DC and inverter, and the
learned clear-sky index that corrects it (pure numpy/pandas; no database).

Clear sky: Ineichen (with pvlib's Linke turbidity climatology) at the quarter's three
5-minute midpoints, transposed to the plane of array (isotropic sky), cell temperature from
the SAPM model with a plain seasonal/daily ambient curve and 1 m/s wind, PVWatts DC
(-0.4 %/K) less the system losses, and the PVWatts inverter capped at its AC limit. Energies
are Wh per 15-minute quarter.

Clear-sky index: measured / modelled energy, per solar hour (UTC shifted by the longitude,
so neither DST nor the time zone's width moves it, and shading by a tree or a chimney keeps
its hour) over the 3-month window around the target month. Per hour, the median of the
day-cells' ratios (robust to snow days, outages and one-off shading), with the number of
cells it rests on.
"""

from __future__ import annotations

import math
import threading
import warnings
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pvlib

QUARTER_H = 0.25
SAMPLE_OFFSETS_MIN = (2.5, 7.5, 12.5)  # midpoints of the quarter's three 5-minute slices
GAMMA_PDC = -0.004  # PVWatts DC temperature coefficient (1/K), crystalline silicon
ETA_INVERTER = 0.96
WIND_MS = 1.0
DEFAULT_INDEX = 0.6  # the prior when nobody nearby has history: ~ NW-Europe yield/clear sky
INDEX_CLIP = (0.0, 1.5)  # a single cell's ratio (a bad kWp entry still learns, bounded)
MIN_CELL_SHARE = 0.05  # a day-cell counts when its modelled energy >= 5 % of kWp x 1 h
POOL_FULL_DAYS = 30  # own history weight reaches 1 after this many day-cells per hour
INTRADAY_BOUNDS = (0.25, 1.75)
INTRADAY_MIN_SHARE = 0.05  # scale only once the forecast so far is >= 5 % of kWp x 1 h

_TEMPERATURE = pvlib.temperature.TEMPERATURE_MODEL_PARAMETERS["sapm"]["close_mount_glass_glass"]


@dataclass(frozen=True)
class PvSpec:
    latitude: float
    longitude: float
    altitude_m: float
    kwp: float
    tilt_deg: float
    azimuth_deg: float
    inverter_ac_kw: float
    losses_pct: float

    @classmethod
    def of(cls, system: Any) -> PvSpec:
        return cls(
            float(system.latitude), float(system.longitude), float(system.altitude_m),
            float(system.kwp), float(system.tilt_deg), float(system.azimuth_deg),
            float(system.inverter_ac_kw), float(system.losses_pct),
        )  # fmt: skip

    @property
    def ac_wh_per_quarter(self) -> float:
        return self.inverter_ac_kw * 1000 * QUARTER_H


# -- clear sky ---------------------------------------------------------------------------------


def ambient_c(times: pd.DatetimeIndex, latitude: float) -> np.ndarray:
    """A plain outdoor temperature: 10 °C mean, +-8 °C by season (warmest mid-July), +-4 °C
    over the day (warmest 15:00 solar-ish). Enough for a 2-5 % temperature effect."""
    doy = times.day_of_year.to_numpy(dtype=float)
    hours = times.hour.to_numpy(dtype=float) + times.minute.to_numpy(dtype=float) / 60
    season = np.sin(2 * np.pi * (doy - 105) / 365) * (1 if latitude >= 0 else -1)
    return 10 + 8 * season + 4 * np.sin(2 * np.pi * (hours - 9) / 24)


def clear_sky_wh(spec: PvSpec, starts: pd.DatetimeIndex) -> np.ndarray:
    """Clear-sky AC energy (Wh) of each quarter starting at `starts` (UTC)."""
    if len(starts) == 0:
        return np.zeros(0)
    offsets = pd.to_timedelta(np.array(SAMPLE_OFFSETS_MIN), unit="min")
    naive = pd.DatetimeIndex(starts).tz_convert("UTC").tz_localize(None).to_numpy()
    times = pd.DatetimeIndex((naive[:, None] + offsets.to_numpy()[None, :]).ravel()).tz_localize(
        "UTC"
    )
    with _warnings_lock, warnings.catch_warnings():
        # pvlib 0.16 still calls pandas APIs that pandas 3 deprecates
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        site = pvlib.location.Location(
            spec.latitude, spec.longitude, tz="UTC", altitude=spec.altitude_m
        )
        # "ephemeris": ~9x faster than NREL SPA, within 0.4° of it (refraction near the
        # horizon): far below the error of any forecast.
        sun = site.get_solarposition(times, method="ephemeris")
        sky = site.get_clearsky(times, model="ineichen", solar_position=sun)
        poa = pvlib.irradiance.get_total_irradiance(
            spec.tilt_deg, spec.azimuth_deg, sun["apparent_zenith"], sun["azimuth"],
            sky["dni"], sky["ghi"], sky["dhi"],
        )["poa_global"]  # fmt: skip
    poa_w = np.nan_to_num(poa.to_numpy(dtype=float), nan=0.0).clip(0, None)
    cell = pvlib.temperature.sapm_cell(
        poa_w, ambient_c(times, spec.latitude), WIND_MS, **_TEMPERATURE
    )
    dc = pvlib.pvsystem.pvwatts_dc(poa_w, cell, spec.kwp * 1000, GAMMA_PDC)
    dc = np.asarray(dc, dtype=float) * (1 - spec.losses_pct / 100)
    ac_w = spec.inverter_ac_kw * 1000
    ac = pvlib.inverter.pvwatts(dc, ac_w / ETA_INVERTER, ETA_INVERTER)
    ac = np.clip(np.nan_to_num(np.asarray(ac, dtype=float)), 0, ac_w)
    return ac.reshape(-1, len(SAMPLE_OFFSETS_MIN)).mean(axis=1) * QUARTER_H


def day_quarters(day: date, zone: ZoneInfo) -> pd.DatetimeIndex:
    """The UTC starts of a local day's quarters: 96, or 92/100 on DST days."""
    first = datetime.combine(day, time(0), tzinfo=zone)
    following = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
    return pd.date_range(
        pd.Timestamp(first).tz_convert("UTC"),
        pd.Timestamp(following).tz_convert("UTC"),
        freq="15min", inclusive="left",
    )  # fmt: skip


_warnings_lock = threading.RLock()  # catch_warnings is process-wide
_days: OrderedDict[tuple[PvSpec, date, str], np.ndarray] = OrderedDict()
_DAYS_KEPT = 4096
_days_lock = threading.Lock()


def clear_sky_day(spec: PvSpec, day: date, zone: ZoneInfo) -> np.ndarray:
    """A local day's clear-sky Wh per quarter, cached per system and day (read-only)."""
    key = (spec, day, str(zone))
    with _days_lock:
        cached = _days.get(key)
        if cached is not None:
            _days.move_to_end(key)
            return cached
    values = clear_sky_wh(spec, day_quarters(day, zone))
    values.setflags(write=False)
    with _days_lock:
        _days[key] = values
        while len(_days) > _DAYS_KEPT:
            _days.popitem(last=False)
    return values


# -- clear-sky index ---------------------------------------------------------------------------


def solar_hour(starts: pd.DatetimeIndex, longitude: float) -> np.ndarray:
    """The solar hour (0-23) of each quarter's midpoint: UTC + 4 min per degree east."""
    minutes = starts.hour.to_numpy() * 60 + starts.minute.to_numpy() + 7.5 + longitude * 4
    return (np.floor(minutes / 60).astype(int)) % 24


def solar_day(starts: pd.DatetimeIndex, longitude: float) -> np.ndarray:
    shifted = starts + pd.to_timedelta(longitude * 4, unit="min")
    return shifted.normalize().to_numpy()


def season_months(month: int) -> tuple[int, int, int]:
    return ((month - 2) % 12 + 1, month, month % 12 + 1)


@dataclass(frozen=True)
class IndexStats:
    values: list[float | None]  # 24 solar hours
    counts: list[int]
    days: int


def learn_index(
    starts: pd.DatetimeIndex,
    measured_wh: np.ndarray,
    modelled_wh: np.ndarray,
    *,
    longitude: float,
    kwp: float,
) -> IndexStats:
    """Median clear-sky index per solar hour from complete quarters (see the module doc)."""
    empty = IndexStats([None] * 24, [0] * 24, 0)
    if len(starts) == 0:
        return empty
    frame = pd.DataFrame(
        {
            "day": solar_day(starts, longitude),
            "hour": solar_hour(starts, longitude),
            "measured": np.asarray(measured_wh, dtype=float),
            "modelled": np.asarray(modelled_wh, dtype=float),
        }
    )
    cells = frame.groupby(["day", "hour"], sort=False)[["measured", "modelled"]].sum()
    cells = cells[cells["modelled"] >= MIN_CELL_SHARE * kwp * 1000]
    if cells.empty:
        return empty
    ratio = (cells["measured"] / cells["modelled"]).clip(*INDEX_CLIP)
    by_hour = ratio.groupby(level="hour")
    medians, counts = by_hour.median(), by_hour.size()
    values: list[float | None] = [None] * 24
    numbers = [0] * 24
    for hour, value in medians.items():
        values[int(hour)] = round(float(value), 4)
        numbers[int(hour)] = int(counts[hour])
    days = int(cells.index.get_level_values("day").nunique())
    return IndexStats(values, numbers, days)


def pool(neighbours: Sequence[tuple[Sequence[float | None], Sequence[int]]]) -> np.ndarray:
    """Neighbours' indexes averaged per hour, weighted by their cell counts (prior if none)."""
    pooled = np.full(24, DEFAULT_INDEX)
    for hour in range(24):
        weight = total = 0.0
        for values, counts in neighbours:
            value = values[hour] if hour < len(values) else None
            count = counts[hour] if hour < len(counts) else 0
            if value is not None and count > 0:
                weight += count
                total += count * value
        if weight:
            pooled[hour] = total / weight
    return pooled


def blend(own: IndexStats, pooled: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per hour: own weight = min(own cells / POOL_FULL_DAYS, 1); returns (index, weights)."""
    index, weights = pooled.astype(float).copy(), np.zeros(24)
    for hour in range(24):
        value = own.values[hour]
        if value is None:
            continue
        weights[hour] = min(own.counts[hour] / POOL_FULL_DAYS, 1.0)
        index[hour] = weights[hour] * value + (1 - weights[hour]) * pooled[hour]
    return index, weights


def apply_index(
    clear_wh: np.ndarray, starts: pd.DatetimeIndex, index: np.ndarray, *, longitude: float,
    ac_wh_per_quarter: float,
) -> np.ndarray:  # fmt: skip
    """The corrected forecast (Wh per quarter), never above the inverter's limit."""
    corrected = clear_wh * index[solar_hour(starts, longitude)]
    return np.clip(corrected, 0, ac_wh_per_quarter)


def intraday_ratio(measured_wh: float, forecast_wh: float, *, kwp: float) -> float:
    """Today's measured / forecast so far, bounded; 1 while too little sun has been seen."""
    if forecast_wh < INTRADAY_MIN_SHARE * kwp * 1000:
        return 1.0
    return float(min(max(measured_wh / forecast_wh, INTRADAY_BOUNDS[0]), INTRADAY_BOUNDS[1]))


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0 * math.asin(min(1.0, math.sqrt(a)))
