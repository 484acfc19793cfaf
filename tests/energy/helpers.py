"""Synthetic readings with known answers, written straight into the raw tables."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from apps.energy import services
from apps.households.models import Household
from apps.telemetry.models import DeviceReading, MeterReading

MINUTE = timedelta(minutes=1)


def meter(
    household: Household,
    start: datetime,
    end: datetime,
    *,
    every: timedelta = MINUTE,
    import_w: Callable[[datetime], float] = lambda t: 1200,
    export_w: Callable[[datetime], float] = lambda t: 0,
    base: tuple[float, float] = (1_000_000, 0),
) -> list[MeterReading]:
    """Readings every `every` in [start, end]; registers integrate the power functions."""
    rows, imported, exported, t = [], base[0], base[1], start
    batch = uuid.uuid4()
    while t <= end:
        rows.append(
            MeterReading(
                household=household, gateway_id=uuid.uuid4(), batch_id=batch, seq=len(rows),
                time=t, meter_id="M1", import_wh={"1": round(imported)},
                export_wh={"1": round(exported)}, import_w=round(import_w(t)),
            )
        )  # fmt: skip
        hours = every.total_seconds() / 3600
        imported, exported = imported + import_w(t) * hours, exported + export_w(t) * hours
        t += every
    return rows


def device(
    device_id: uuid.UUID,
    household: Household,
    start: datetime,
    end: datetime,
    *,
    power_w: Callable[[datetime], int],
    every: timedelta = MINUTE,
) -> list[DeviceReading]:
    rows, t, batch = [], start, uuid.uuid4()
    while t <= end:
        rows.append(
            DeviceReading(
                household=household, device_id=device_id, batch_id=batch, seq=len(rows),
                time=t, power_w=power_w(t),
            )
        )  # fmt: skip
        t += every
    return rows


def store(rows: list, *, roll: Household | None = None) -> None:
    """Write rows like an ingest would and (optionally) run the rollup the batch triggers."""
    meters = [r for r in rows if isinstance(r, MeterReading)]
    devices = [r for r in rows if isinstance(r, DeviceReading)]
    MeterReading.objects.bulk_create(meters)
    DeviceReading.objects.bulk_create(devices)
    if roll is not None and rows:
        times = [r.time for r in rows]
        rollup(roll, min(times), max(times))


def rollup(household: Household, start: datetime, end: datetime) -> int:
    # `now` just after the data: the retention horizon never hides test data.
    return services.energy_rollup_household(
        household=household, start=start, end=end, now=end + timedelta(days=1)
    )
