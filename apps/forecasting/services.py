"""Writes for forecasting: issue (or re-issue) a household's PV and load forecasts.

Every service is idempotent: a forecast is keyed by (household, kind, horizon, local day)
and re-issuing replaces it. `now` is the issue time (tests pass it; tasks leave it None).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from django.db import transaction
from django.utils import timezone

from apps.forecasting import load, pv, selectors
from apps.forecasting.models import (
    Forecast,
    ForecastKind,
    Horizon,
    PvClearSkyIndex,
    PvSystem,
)
from apps.households.models import Household

logger = logging.getLogger(__name__)
QUARTER = timedelta(minutes=15)
INDEX_RECENT_DAYS = 46  # the history that teaches the index: the last 46 days, and
INDEX_LAST_YEAR_DAYS = 46  # +-46 days around the target day a year earlier


def _save(
    *, household: Household, kind: str, horizon: str, day: date, now: datetime,
    starts: pd.DatetimeIndex, values: np.ndarray, error: np.ndarray | None = None,
    meta: dict[str, Any],
) -> Forecast:  # fmt: skip
    first = starts[0].to_pydatetime() if len(starts) else now
    forecast, _ = Forecast.objects.update_or_create(
        household=household, kind=kind, horizon=horizon, day=day,
        defaults={
            "issued_at": now, "start": first, "step_minutes": 15,
            "values_wh": [round(float(v)) for v in values],
            "error_wh": [] if error is None else [round(float(v)) for v in error],
            "meta": meta,
        },
    )  # fmt: skip
    return forecast


def _remaining(starts: pd.DatetimeIndex, now: datetime) -> np.ndarray:
    """Mask of the quarters that have not begun by `now`."""
    return np.asarray(starts >= pd.Timestamp(now).tz_convert("UTC"))


# -- PV ----------------------------------------------------------------------------------------


def pv_learn_index(
    *, household: Household, systems: list[PvSystem], month: int, day: date, now: datetime
) -> PvClearSkyIndex:
    """Re-learn and store the household's own clear-sky index for the season around
    `month` from its complete PV quarters (the last weeks, and around `day` a year ago)."""
    zone = ZoneInfo(household.timezone)
    months = pv.season_months(month)
    windows = [
        (day - timedelta(days=INDEX_RECENT_DAYS), day),
        (day - timedelta(days=365 + INDEX_LAST_YEAR_DAYS),
         day - timedelta(days=365 - INDEX_LAST_YEAR_DAYS)),
    ]  # fmt: skip
    parts = []
    for since, until in windows:
        start = pd.Timestamp(datetime.combine(since, datetime.min.time()), tz=zone)
        end = min(pd.Timestamp(datetime.combine(until, datetime.min.time()), tz=zone),
                  pd.Timestamp(now))  # fmt: skip
        if end > start:
            parts.append(
                selectors.pv_measured(
                    household=household, start=start.to_pydatetime(), end=end.to_pydatetime()
                )
            )
    if parts:
        starts = parts[0][0].append([p[0] for p in parts[1:]])
        measured = np.concatenate([p[1] for p in parts])
    else:
        starts, measured = pd.DatetimeIndex([], tz="UTC"), np.zeros(0)
    in_season = np.isin(starts.tz_convert(str(zone)).month, months)
    starts, measured = starts[in_season], measured[in_season]
    modelled = sum(
        (pv.clear_sky_wh(pv.PvSpec.of(s), starts) for s in systems), np.zeros(len(starts))
    )
    first = systems[0]
    stats = pv.learn_index(
        starts, measured, modelled, longitude=first.longitude, kwp=sum(s.kwp for s in systems)
    )
    index, _ = PvClearSkyIndex.objects.update_or_create(
        household=household, month=month,
        defaults={"values": stats.values, "counts": stats.counts, "days": stats.days},
    )  # fmt: skip
    return index


def _pv_index(
    *, household: Household, systems: list[PvSystem], day: date, now: datetime, learn: bool
) -> tuple[np.ndarray, dict[str, Any]]:
    """The blended index for `day`'s season: own (learned now or stored) and neighbours'."""
    stored = None
    if not learn:
        stored = PvClearSkyIndex.objects.filter(household=household, month=day.month).first()
    if stored is None:
        stored = pv_learn_index(
            household=household, systems=systems, month=day.month, day=day, now=now
        )
    own = pv.IndexStats(list(stored.values), list(stored.counts), stored.days)
    first = systems[0]
    neighbours = selectors.neighbour_indexes(
        household=household, latitude=first.latitude, longitude=first.longitude,
        month=day.month,
    )  # fmt: skip
    pooled = pv.pool([(values, counts) for values, counts, _ in neighbours])
    index, weights = pv.blend(own, pooled)
    meta = {
        "own_days": own.days,
        "own_weight_max": round(float(weights.max()), 3),
        "neighbours": len(neighbours),
        "index": [round(float(v), 4) for v in index],
    }
    return index, meta


def forecast_pv_household(
    *, household: Household, day: date, horizon: str = Horizon.DAY_AHEAD,
    now: datetime | None = None,
) -> Forecast | None:  # fmt: skip
    """Issue the household's PV forecast for local `day` (None without a PV system).

    day_ahead: the whole day, clear sky x the learned (pooled) index, re-learning the index.
    intraday: the quarters of `day` not yet begun at `now`, the day-ahead shape scaled by
    today's measured / forecast so far (bounded), with the stored index.
    """
    now = now or timezone.now()
    systems = list(PvSystem.objects.filter(household=household).order_by("created_at", "pk"))
    if not systems:
        return None
    zone = ZoneInfo(household.timezone)
    starts = pv.day_quarters(day, zone)
    specs = [pv.PvSpec.of(s) for s in systems]
    clear = sum((pv.clear_sky_day(spec, day, zone) for spec in specs), np.zeros(len(starts)))
    ac_wh = sum(spec.ac_wh_per_quarter for spec in specs)
    index, meta = _pv_index(
        household=household, systems=systems, day=day, now=now,
        learn=horizon == Horizon.DAY_AHEAD,
    )  # fmt: skip
    values = pv.apply_index(
        clear, starts, index, longitude=specs[0].longitude, ac_wh_per_quarter=ac_wh
    )
    meta["clear_sky_wh"] = round(float(clear.sum()))
    if horizon == Horizon.INTRADAY:
        measured = selectors.pv_measured(
            household=household, start=starts[0].to_pydatetime(), end=now
        )
        forecast_so_far, measured_so_far, _seen = _so_far(starts, values, *measured)
        ratio = pv.intraday_ratio(
            measured_so_far, forecast_so_far, kwp=sum(spec.kwp for spec in specs)
        )
        keep = _remaining(starts, now)
        starts, values = starts[keep], np.clip(values[keep] * ratio, 0, ac_wh)
        meta.update(
            ratio=round(ratio, 4), measured_so_far_wh=round(measured_so_far),
            forecast_so_far_wh=round(forecast_so_far),
        )  # fmt: skip
    return _save(
        household=household, kind=ForecastKind.PV, horizon=horizon, day=day, now=now,
        starts=starts, values=values, meta=meta,
    )  # fmt: skip


def _so_far(starts: Any, values: Any, seen_starts: Any, seen_wh: Any) -> tuple[float, float, int]:
    """Forecast and measured energy over the quarters of today already measured, and how
    many quarters that is (the intraday update scales the rest of the day by their ratio)."""
    position = starts.get_indexer(seen_starts)
    seen = position >= 0
    return float(values[position[seen]].sum()), float(seen_wh[seen].sum()), int(seen.sum())


# -- load --------------------------------------------------------------------------------------


def forecast_load_household(
    *, household: Household, day: date, horizon: str = Horizon.DAY_AHEAD,
    now: datetime | None = None, weeks: int = load.LOAD_WEEKS,
) -> Forecast | None:  # fmt: skip
    """Issue the household's base-load forecast for local `day` from similar days (None
    without any measured history). intraday: the quarters not yet begun, scaled like PV."""
    now = now or timezone.now()
    zone = ZoneInfo(household.timezone)
    starts = pv.day_quarters(day, zone)
    history_start = pv.day_quarters(day - timedelta(weeks=weeks), zone)[0].to_pydatetime()
    history_end = min(starts[0].to_pydatetime(), now)
    hist_starts, hist_wh = selectors.load_measured(
        household=household, start=history_start, end=history_end
    )
    profile = load.similar_days_profile(
        target_day=day, target_starts=starts, zone=zone, country=household.tenant.country,
        history_starts=hist_starts, history_wh=hist_wh, weeks=weeks,
    )  # fmt: skip
    if profile is None:
        return None
    values, error = profile.values_wh, profile.error_wh
    meta: dict[str, Any] = {
        "day_type": profile.day_type,
        "similar_days": len(profile.days_used),
        "fallback_all_days": profile.fallback,
        "expected_mae_wh": round(profile.expected_mae_wh, 1),
    }
    if horizon == Horizon.INTRADAY:
        measured = selectors.load_measured(
            household=household, start=starts[0].to_pydatetime(), end=now
        )
        forecast_so_far, measured_so_far, seen_quarters = _so_far(starts, values, *measured)
        ratio = 1.0
        if forecast_so_far > 0 and seen_quarters >= 4:  # at least an hour seen
            ratio = min(max(measured_so_far / forecast_so_far, pv.INTRADAY_BOUNDS[0]),
                        pv.INTRADAY_BOUNDS[1])  # fmt: skip
        keep = _remaining(starts, now)
        starts, values, error = starts[keep], values[keep] * ratio, error[keep]
        meta.update(ratio=round(ratio, 4), measured_so_far_wh=round(measured_so_far))
    return _save(
        household=household, kind=ForecastKind.LOAD, horizon=horizon, day=day, now=now,
        starts=starts, values=values, error=error, meta=meta,
    )  # fmt: skip


# -- fleet -------------------------------------------------------------------------------------


def local_today(household: Household, now: datetime) -> date:
    return now.astimezone(ZoneInfo(household.timezone)).date()


def forecast_households(
    *, household_ids: Iterable[uuid.UUID | str], horizon: str = Horizon.DAY_AHEAD,
    day: date | None = None, now: datetime | None = None,
) -> int:  # fmt: skip
    """PV and load forecasts of a chunk of households; `day` defaults to each household's
    local tomorrow (day ahead) or today (intraday). One failure never stops the chunk."""
    now = now or timezone.now()
    done = 0
    for household in Household.objects.filter(pk__in=list(household_ids)).select_related("tenant"):
        today = local_today(household, now)
        target = day or (today + timedelta(days=1) if horizon == Horizon.DAY_AHEAD else today)
        try:
            with transaction.atomic():
                forecast_pv_household(household=household, day=target, horizon=horizon, now=now)
                forecast_load_household(household=household, day=target, horizon=horizon, now=now)
            done += 1
        except Exception:
            logger.exception("forecast of household %s for %s failed", household.pk, target)
    return done


def household_id_chunks(*, size: int, pv_only: bool = False) -> Iterable[list[str]]:
    """Every household id in chunks of `size` (keyset pages: stable while rows are added)."""
    households = Household.objects.order_by("pk")
    if pv_only:
        households = households.filter(pv_systems__isnull=False).distinct()
    last = None
    while True:
        page = households if last is None else households.filter(pk__gt=last)
        ids = list(page.values_list("pk", flat=True)[:size])
        if not ids:
            return
        yield [str(i) for i in ids]
        last = ids[-1]
