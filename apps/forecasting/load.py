"""The base-load model: similar days (pure numpy/pandas; no database).

For a target day, the same day type (weekday / Saturday / Sunday or public holiday) over
the last `LOAD_WEEKS` weeks, per local wall-clock quarter, a 20 % trimmed mean (a median
underestimates the energy of a spiky load; a plain mean follows one party night). The
error beside it is the similar days' mean absolute deviation from that estimate per
quarter, and its mean over the day in `meta`. Wall-clock keys make DST days work: the
spring day has no 02:00-03:00 keys, the autumn day reads them twice.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

LOAD_WEEKS = 8
TRIM = 0.2  # share cut at each end before averaging
MIN_SIMILAR_DAYS = 2  # fewer similar days: fall back to every day of the window

WEEKDAY, SATURDAY, SUNDAY_HOLIDAY = "weekday", "saturday", "sunday_holiday"


def easter(year: int) -> date:
    """Gregorian Easter Sunday (the anonymous algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    l = (32 + 2 * e + 2 * i - h - k) % 7  # noqa: E741
    m = (a + 11 * h + 22 * l) // 451
    month = (h + l - 7 * m + 114) // 31
    return date(year, month, (h + l - 7 * m + 114) % 31 + 1)


def _monday(day: date, nth: int) -> date:
    """The nth Monday of day's month (nth = -1: the last)."""
    if nth > 0:
        first = day.replace(day=1)
        return first + timedelta(days=(7 - first.weekday()) % 7 + 7 * (nth - 1))
    following = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    last = following - timedelta(days=1)
    return last - timedelta(days=last.weekday())


@lru_cache(maxsize=64)
def public_holidays(year: int, country: str) -> frozenset[date]:
    """National public holidays of the tenants' countries (BE, FR, GB = England & Wales)."""
    e = easter(year)
    if country == "BE":
        days = [date(year, 1, 1), e + timedelta(1), date(year, 5, 1), e + timedelta(39),
                e + timedelta(50), date(year, 7, 21), date(year, 8, 15), date(year, 11, 1),
                date(year, 11, 11), date(year, 12, 25)]  # fmt: skip
    elif country == "FR":
        days = [date(year, 1, 1), e + timedelta(1), date(year, 5, 1), date(year, 5, 8),
                e + timedelta(39), e + timedelta(50), date(year, 7, 14), date(year, 8, 15),
                date(year, 11, 1), date(year, 11, 11), date(year, 12, 25)]  # fmt: skip
    elif country == "GB":
        days = [e - timedelta(2), e + timedelta(1), _monday(date(year, 5, 1), 1),
                _monday(date(year, 5, 1), -1), _monday(date(year, 8, 1), -1)]  # fmt: skip
        for fixed in (date(year, 1, 1), date(year, 12, 25), date(year, 12, 26)):
            substitute = fixed  # a weekend holiday moves to the next free weekday
            while substitute.weekday() >= 5 or substitute in days:
                substitute += timedelta(1)
            days.append(substitute)
    else:
        days = [date(year, 1, 1), date(year, 12, 25)]
    return frozenset(days)


def day_type(day: date, country: str) -> str:
    if day.weekday() == 6 or day in public_holidays(day.year, country):
        return SUNDAY_HOLIDAY
    return SATURDAY if day.weekday() == 5 else WEEKDAY


def wall_minutes(starts: pd.DatetimeIndex, zone: ZoneInfo) -> tuple[np.ndarray, np.ndarray]:
    """(local date, minute of the local day by the wall clock) of each UTC quarter start."""
    local = starts.tz_convert(str(zone))
    minutes = local.hour.to_numpy() * 60 + local.minute.to_numpy()
    return np.array(local.date), minutes


def trimmed_mean(values: np.ndarray) -> float:
    ordered = np.sort(values)
    cut = int(len(ordered) * TRIM)
    kept = ordered[cut : len(ordered) - cut] if len(ordered) > 2 * cut else ordered
    return float(kept.mean())


@dataclass(frozen=True)
class LoadProfile:
    values_wh: np.ndarray  # per target quarter
    error_wh: np.ndarray  # the similar days' mean absolute deviation per target quarter
    days_used: list[date]
    day_type: str
    fallback: bool  # too few days of the type: every day type used

    @property
    def expected_mae_wh(self) -> float:
        return float(self.error_wh.mean()) if len(self.error_wh) else 0.0


def similar_days_profile(
    *,
    target_day: date,
    target_starts: pd.DatetimeIndex,
    zone: ZoneInfo,
    country: str,
    history_starts: pd.DatetimeIndex,
    history_wh: Iterable[float],
    weeks: int = LOAD_WEEKS,
) -> LoadProfile | None:
    """The target day's quarters from the similar days of the history (None: no history)."""
    if len(history_starts) == 0:
        return None
    days, minutes = wall_minutes(history_starts, zone)
    frame = pd.DataFrame({"day": days, "minute": minutes, "wh": np.asarray(history_wh, float)})
    earliest = target_day - timedelta(weeks=weeks)
    frame = frame[(frame["day"] >= earliest) & (frame["day"] < target_day)]
    if frame.empty:
        return None
    wanted = day_type(target_day, country)
    types = {d: day_type(d, country) for d in frame["day"].unique()}
    same = frame[frame["day"].map(types) == wanted]
    fallback = same["day"].nunique() < MIN_SIMILAR_DAYS
    chosen = frame if fallback else same
    # One value per day and wall-clock minute (the autumn day's repeated hour: its mean).
    grid = chosen.groupby(["minute", "day"])["wh"].mean()
    estimate: dict[int, float] = {}
    spread: dict[int, float] = {}
    for minute, values in grid.groupby(level="minute"):
        array = values.to_numpy()
        estimate[int(minute)] = value = trimmed_mean(array)
        spread[int(minute)] = float(np.abs(array - value).mean())
    _, target_minutes = wall_minutes(target_starts, zone)
    out = pd.Series([estimate.get(int(m), np.nan) for m in target_minutes], dtype=float)
    err = pd.Series([spread.get(int(m), np.nan) for m in target_minutes], dtype=float)
    # A wall-clock quarter never seen (e.g. only DST-day history): from its neighbours.
    out = out.interpolate(limit_direction="both").fillna(0.0)
    err = err.interpolate(limit_direction="both").fillna(0.0)
    return LoadProfile(
        values_wh=out.to_numpy().clip(0, None),
        error_wh=err.to_numpy(),
        days_used=sorted(chosen["day"].unique()),
        day_type=wanted,
        fallback=bool(fallback),
    )
