"""Realistic power profiles: the BDEW H0 household load (demandlib) and PV output (pvlib).

The heavy libraries (pandas, numpy, pvlib, demandlib) are imported here and only here; the
agent imports this module only when simulated devices or a simulated meter are configured.
Results are kept as plain float arrays, computed once and shared (under a lock) by every
simulated household in the process, so a thousand virtual gateways hold one H0 year.
"""

from __future__ import annotations

import math
import threading
import warnings
from array import array
from collections import OrderedDict
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pvlib
from demandlib import bdew

from gateway_agent.config import LocationConfig
from gateway_agent.simulator.noise import unit

QUARTER_S = 900
SYSTEM_LOSSES = 0.05  # wiring, soiling, mismatch; inverter and temperature are modelled
_lock = threading.Lock()
_h0_years: dict[int, array[float]] = {}
_pv_days: OrderedDict[tuple[Any, ...], array[float]] = OrderedDict()
_PV_DAYS_KEPT = 64


# -- household base load ---------------------------------------------------------------------


def h0_shares(year: int) -> array[float]:
    """The dynamic BDEW H0 profile: each quarter hour's share of the year's energy (sum 1)."""
    with _lock:
        if year not in _h0_years:
            _h0_years[year] = _compute_h0(year)
        return _h0_years[year]


def _compute_h0(year: int) -> array[float]:
    # demandlib 0.2.2 calls warnings.simplefilter("error") for the whole process, and pandas 3
    # then raises its own deprecation warnings inside demandlib: keep the filters as they are.
    original = warnings.simplefilter
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        warnings.simplefilter = _leave_filters_alone
        try:
            profile = bdew.ElecSlp(year).get_profiles("h0_dyn")["h0_dyn"]
        finally:
            warnings.simplefilter = original
    values = profile.to_numpy(dtype=float)
    return array("d", (values / values.sum()).tolist())


def _leave_filters_alone(*args: Any, **kwargs: Any) -> None:
    return None


class BaseLoad:
    """The household's load without the simulated devices, scaled to an annual energy.

    BDEW gives the mean power per quarter hour in local time; a deterministic per-minute
    factor in [0.75, 1.25] (mean 1, seeded) adds the flicker of a real home.
    """

    def __init__(self, annual_kwh: float, timezone: str, seed: int) -> None:
        self.annual_wh = annual_kwh * 1000
        self.zone = ZoneInfo(timezone)
        self.seed = seed

    def mean_power_w(self, moment: datetime) -> float:
        local = moment.astimezone(self.zone)
        shares = h0_shares(local.year)
        since_new_year = local.replace(tzinfo=None) - datetime(local.year, 1, 1)
        index = min(int(since_new_year.total_seconds() // QUARTER_S), len(shares) - 1)
        return shares[index] * self.annual_wh * (3600 / QUARTER_S)

    def power_w(self, moment: datetime) -> float:
        minute = int(moment.timestamp() // 60)
        return self.mean_power_w(moment) * (0.75 + 0.5 * unit(self.seed, 1, minute))


# -- PV ----------------------------------------------------------------------------------------


def ambient_c(moment: datetime, latitude: float) -> float:
    """A plain seasonal and daily outdoor temperature (warmest mid-July, 15:00)."""
    day = moment.timetuple().tm_yday
    season = math.sin(2 * math.pi * (day - 105) / 365) * (1 if latitude >= 0 else -1)
    daily = math.sin(2 * math.pi * (moment.hour + moment.minute / 60 - 9) / 24)
    return 10 + 8 * season + 4 * daily


def clear_sky_dc_per_kwp(
    location: LocationConfig, tilt_deg: float, azimuth_deg: float, day: date
) -> array[float]:
    """DC watts per kWp for each minute of a UTC day under a clear sky (pvlib, Ineichen)."""
    key = (location.latitude, location.longitude, location.altitude_m, tilt_deg, azimuth_deg, day)
    with _lock:  # also keeps catch_warnings (process-wide) to one thread at a time
        if key not in _pv_days:
            with warnings.catch_warnings():
                # pvlib 0.16 still calls pandas APIs that pandas 3 deprecates
                warnings.simplefilter("ignore", DeprecationWarning)
                warnings.simplefilter("ignore", FutureWarning)
                _pv_days[key] = _compute_clear_sky_dc(location, tilt_deg, azimuth_deg, day)
            while len(_pv_days) > _PV_DAYS_KEPT:
                _pv_days.popitem(last=False)
        _pv_days.move_to_end(key)
        return _pv_days[key]


def _compute_clear_sky_dc(
    location: LocationConfig, tilt_deg: float, azimuth_deg: float, day: date
) -> array[float]:
    site = pvlib.location.Location(
        location.latitude, location.longitude, tz="UTC", altitude=location.altitude_m
    )
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    times = pd.date_range(start, periods=24 * 60, freq="1min")
    sky = site.get_clearsky(times)
    sun = site.get_solarposition(times)
    poa = pvlib.irradiance.get_total_irradiance(
        tilt_deg,
        azimuth_deg,
        sun["apparent_zenith"],
        sun["azimuth"],
        sky["dni"],
        sky["ghi"],
        sky["dhi"],
    )["poa_global"].fillna(0.0)
    ambient = np.array([ambient_c(t, location.latitude) for t in times.to_pydatetime()])
    cell = pvlib.temperature.sapm_cell(
        poa,
        ambient,
        2.0,
        **pvlib.temperature.TEMPERATURE_MODEL_PARAMETERS["sapm"]["open_rack_glass_polymer"],
    )
    dc = pvlib.pvsystem.pvwatts_dc(poa, cell, 1000.0, -0.004) * (1 - SYSTEM_LOSSES)
    return array("d", np.clip(dc.to_numpy(dtype=float), 0, None).tolist())


class PVOutput:
    """AC output of one PV system: pvlib clear sky, PVWatts inverter, seeded clouds.

    Clouds: each day draws (deterministically from the seed) clear (a quarter of days) or a
    cloudiness in [0.15, 0.85]; each quarter hour then passes 40-100 % of that cloudiness,
    interpolated so that the output moves smoothly.
    """

    def __init__(
        self,
        location: LocationConfig,
        *,
        kwp: float,
        tilt_deg: float,
        azimuth_deg: float,
        inverter_w: float,
        seed: int,
        clear_sky: bool = False,
    ) -> None:
        self.location = location
        self.kwp, self.tilt_deg, self.azimuth_deg = kwp, tilt_deg, azimuth_deg
        self.inverter_w = inverter_w
        self.seed = seed
        self.clear_sky = clear_sky
        self._day: date | None = None
        self._ac: array[float] = array("d")

    def clear_sky_w(self, moment: datetime) -> float:
        moment = moment.astimezone(UTC)
        if moment.date() != self._day:
            self._day, self._ac = moment.date(), self._ac_for(moment.date())
        minute = moment.hour * 60 + moment.minute
        fraction = moment.second / 60 + moment.microsecond / 60e6
        after = self._ac[minute + 1] if minute + 1 < len(self._ac) else self._ac[minute]
        return self._ac[minute] * (1 - fraction) + after * fraction

    def _ac_for(self, day: date) -> array[float]:
        dc_per_kwp = clear_sky_dc_per_kwp(self.location, self.tilt_deg, self.azimuth_deg, day)
        dc = np.frombuffer(dc_per_kwp, dtype=float) * self.kwp
        ac = pvlib.inverter.pvwatts(dc, pdc0=self.inverter_w / 0.96, eta_inv_nom=0.96)
        return array("d", np.clip(np.nan_to_num(ac), 0, None).tolist())

    def power_w(self, moment: datetime) -> float:
        return self.clear_sky_w(moment) * self.cloud_factor(moment)

    def cloud_factor(self, moment: datetime) -> float:
        if self.clear_sky:
            return 1.0
        day_number = moment.astimezone(UTC).toordinal()
        if unit(self.seed, 2, day_number) < 0.25:
            return 1.0
        cloudiness = 0.15 + 0.7 * unit(self.seed, 3, day_number)
        position = moment.timestamp() / QUARTER_S - 0.5
        block = math.floor(position)
        weight = position - block
        depth = (1 - weight) * unit(self.seed, 4, block) + weight * unit(self.seed, 4, block + 1)
        return 1 - cloudiness * (0.4 + 0.6 * depth)


def daily_energy_kwh(power_w: Any, day: date, zone: str = "UTC", step_s: int = 60) -> float:
    """Integrate a power function over one local day (for tests and sanity checks)."""
    start = datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(zone))
    end = start + timedelta(days=1)
    total, moment = 0.0, start
    while moment < end:
        total += power_w(moment) * step_s / 3600
        moment += timedelta(seconds=step_s)
    return total / 1000
