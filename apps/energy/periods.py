"""Quarters, hours, local days and months as UTC instants.

Quarters and hours are aligned in UTC (every zone served has whole-hour offsets); days,
weeks, months and years begin at the household's local midnight, so a day may last 23,
24 or 25 hours (92, 96 or 100 quarters).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

QUARTER = timedelta(minutes=15)
HOUR = timedelta(hours=1)


def floor_to(moment: datetime, step: timedelta) -> datetime:
    seconds = int(step.total_seconds())
    stamp = int(moment.timestamp())
    return datetime.fromtimestamp(stamp - stamp % seconds, tz=UTC)


def ceil_to(moment: datetime, step: timedelta) -> datetime:
    floor = floor_to(moment, step)
    return floor if floor == moment else floor + step


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def local_date(moment: datetime, zone: ZoneInfo) -> date:
    return moment.astimezone(zone).date()


def first_of_month(day: date, months: int = 0) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def quarter_count(start: datetime, end: datetime) -> int:
    return int((end - start) / QUARTER)


def steps(start: datetime, end: datetime, step: timedelta) -> list[datetime]:
    count = int((end - start) / step)
    return [start + step * n for n in range(count)]


def days(start: datetime, end: datetime, zone: ZoneInfo) -> list[tuple[datetime, datetime]]:
    """The local days overlapping [start, end) as (start, end) UTC pairs."""
    day, last = local_date(start, zone), local_date(end - timedelta(microseconds=1), zone)
    out = []
    while day <= last:
        following = day + timedelta(days=1)
        out.append((local_midnight(day, zone), local_midnight(following, zone)))
        day = following
    return out


def months(start: datetime, end: datetime, zone: ZoneInfo) -> list[tuple[datetime, datetime]]:
    """The local months overlapping [start, end) as (start, end) UTC pairs."""
    month = first_of_month(local_date(start, zone))
    last = first_of_month(local_date(end - timedelta(microseconds=1), zone))
    out = []
    while month <= last:
        following = first_of_month(month, 1)
        out.append((local_midnight(month, zone), local_midnight(following, zone)))
        month = following
    return out


def periods(
    resolution: str, start: datetime, end: datetime, zone: ZoneInfo
) -> list[tuple[datetime, datetime]]:
    """Every period of `resolution` overlapping [start, end)."""
    if resolution == "15m":
        first = floor_to(start, QUARTER)
        return [(s, s + QUARTER) for s in steps(first, ceil_to(end, QUARTER), QUARTER)]
    if resolution == "1h":
        first = floor_to(start, HOUR)
        return [(s, s + HOUR) for s in steps(first, ceil_to(end, HOUR), HOUR)]
    if resolution == "1d":
        return days(start, end, zone)
    if resolution == "1mo":
        return months(start, end, zone)
    raise ValueError(f"unknown resolution {resolution!r}")


def period_end(resolution: str, start: datetime, zone: ZoneInfo) -> datetime:
    if resolution == "15m":
        return start + QUARTER
    if resolution == "1h":
        return start + HOUR
    day = local_date(start, zone)
    if resolution == "1d":
        return local_midnight(day + timedelta(days=1), zone)
    if resolution == "1mo":
        return local_midnight(first_of_month(day, 1), zone)
    raise ValueError(f"unknown resolution {resolution!r}")
