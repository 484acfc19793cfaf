"""What an attacker computes from one view of a home: per 15-minute slot and per day.

Every view (raw minutes, 15-minute, hourly, daily or monthly points, or nothing) is first
laid out as a step function per minute (each point's mean power over its minutes), so one
code path serves every resolution and a coarse view simply carries less: within a daily
point every slot looks the same. No clock features: the slot's time of day is the same
public prior for every role (people sleep at night), so it is left out to measure what
the data itself reveals.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from apps.privacy.lab.households import Household
from apps.privacy.lab.platform import View

SLOT = 15


@dataclass
class Layout:
    """A home's window: slots, their local hour and day."""

    slot_hour: np.ndarray  # local hour (float) of each slot's start
    slot_day: np.ndarray  # index of the local day of each slot
    days: int

    @classmethod
    def of(cls, home: Household) -> Layout:
        slots = home.power_w.size // SLOT
        starts = pd.date_range(home.start, periods=slots, freq=f"{SLOT}min").tz_convert(home.zone)
        hour = np.asarray(starts.hour + starts.minute / 60, float)
        day = np.searchsorted(home.day_offsets, np.arange(slots) * SLOT, side="right") - 1
        return cls(hour, day, len(home.days))


def minutes_of(view: View, home: Household) -> np.ndarray | None:
    """The view as mean power per minute of the window (a step function); None: no data."""
    if view.series is None or view.series.empty:
        return None
    if view.resolution == "1m":
        return np.asarray(view.series.to_numpy(), float)
    size = home.power_w.size
    offsets = ((view.series.index - pd.Timestamp(home.start)).total_seconds() // 60).astype(int)
    bounds = np.clip(np.append(np.asarray(offsets), size), 0, size)
    values = np.asarray(view.series.to_numpy(), float)
    out = np.full(size, np.nan)
    for value, first, last in zip(values, bounds[:-1], bounds[1:], strict=True):
        out[first:last] = value
    return pd.Series(out).ffill().bfill().to_numpy()


def points_of(view: View, home: Household, slots: int) -> np.ndarray | None:
    """Which of the view's points covers each slot, for views coarser than a slot."""
    if view.series is None or view.resolution in ("1m", "15m"):
        return None
    offsets = ((view.series.index - pd.Timestamp(home.start)).total_seconds() // 60).to_numpy()
    return np.searchsorted(offsets, np.arange(slots) * SLOT, side="right") - 1


def _rolling(values: np.ndarray, half: int, how: str) -> np.ndarray:
    series = pd.Series(values).rolling(2 * half + 1, center=True, min_periods=1)
    return np.asarray(getattr(series, how)().to_numpy(), float)


def geoma_changes(minutes: np.ndarray, smoothing: float = 0.3, k: float = 4.0) -> np.ndarray:
    """GeoMA change detection (Roberts 1959): a geometric moving average of the load, and a
    change wherever a minute departs from it by more than k robust deviations.
    pandas' ewm is the geometric moving average; the test on it is a line."""
    average = pd.Series(minutes).ewm(alpha=smoothing, adjust=False).mean().shift(1)
    residual = np.abs(minutes - average.bfill().to_numpy())
    spread = np.median(np.abs(np.diff(minutes))) + 5.0  # W: the meter's own flicker
    return residual > k * spread


def slot_features(
    minutes: np.ndarray | None, slots: int, points: np.ndarray | None = None
) -> pd.DataFrame:
    """Per slot: level, spread and activity relative to the home's quiet level.

    With `points` (a coarse view), each feature is averaged over the slots of its point:
    inside one point the data cannot tell slots apart, and a window reaching across the
    point's edge would only tell how near the slot is to midnight (the clock, not data).
    """
    if minutes is None:
        return pd.DataFrame({"none": np.zeros(slots)})
    grid = minutes[: slots * SLOT].reshape(slots, SLOT)
    mean, std, peak = grid.mean(axis=1), grid.std(axis=1), grid.max(axis=1)
    quiet = np.percentile(mean, 10) + 1.0
    quiet_std = np.percentile(std, 10) + 1.0
    changes = geoma_changes(minutes)[: slots * SLOT].reshape(slots, SLOT).sum(axis=1)
    level = np.log1p(np.maximum(mean - quiet, 0) / quiet)
    spread = np.log1p(np.maximum(std - quiet_std, 0) / quiet_std)
    frame = {
        "level": level,
        "spread": spread,
        "peak": np.log1p(np.maximum(peak - quiet, 0) / quiet),
        "changes": changes.astype(float),
    }
    for half in (2, 4, 8):
        frame[f"level_mean_{half}"] = _rolling(level, half, "mean")
        frame[f"level_std_{half}"] = _rolling(level, half, "std")
        frame[f"spread_max_{half}"] = _rolling(spread, half, "max")
        frame[f"changes_sum_{half}"] = _rolling(frame["changes"], half, "sum")
    previous = pd.Series(level).shift(1).rolling(4, min_periods=1).mean().bfill().to_numpy()
    following = pd.Series(level).shift(-1)[::-1].rolling(4, min_periods=1).mean()[::-1]
    frame["rise"] = level - previous
    frame["fall"] = level - following.ffill().to_numpy()
    table = pd.DataFrame(frame)
    if points is not None:
        table = table.groupby(points).transform("mean")
    return table


def day_features(minutes: np.ndarray | None, home: Household, layout: Layout) -> pd.DataFrame:
    """Per local day: energy against the home's usual day, and how busy the day was."""
    if minutes is None:
        return pd.DataFrame({"none": np.zeros(layout.days)})
    day_means = np.array([minutes[home.day_span(d)].mean() for d in range(layout.days)])
    usual = np.median(day_means)
    slots = slot_features(minutes, layout.slot_day.size)
    rows = []
    for day in range(layout.days):
        inside = slots[layout.slot_day == day]
        above = np.expm1(inside["level"].to_numpy())  # mean above the quiet level, relative
        runs = _longest_runs(above, (3.0, 10.0, 20.0))
        rows.append(
            {
                "energy": np.log((day_means[day] + 1.0) / (usual + 1.0)),
                "active": float((inside["level"] > 0.5).mean()),
                "spread": float(inside["spread"].mean()),
                "changes": float(inside["changes"].sum()),
                "peak": float(inside["peak"].max()),
                "level_std": float(inside["level"].std()),
                **{f"run_{t}": r for t, r in runs.items()},
                **{f"slots_{t}": float((above > t).sum()) for t in (3.0, 10.0, 20.0, 40.0)},
            }
        )
    return pd.DataFrame(rows)


def _longest_runs(values: np.ndarray, thresholds: tuple[float, ...]) -> dict[float, float]:
    out = {}
    for threshold in thresholds:
        longest = current = 0
        for above in values > threshold:
            current = current + 1 if above else 0
            longest = max(longest, current)
        out[threshold] = float(longest)
    return out
