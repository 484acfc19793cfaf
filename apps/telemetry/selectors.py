"""Reads of the raw readings for the platform's own computations (rollups).

Not for display: people see consumption only through the data-access policy selector.
Each function is one query on the primary key's leading columns (owner, time).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from apps.telemetry.models import DeviceReading, IngestedBatch, MeterReading

# time, import_wh {register: Wh}, export_wh {register: Wh}
MeterRow = tuple[datetime, dict[str, int], dict[str, int]]
# device id, time, power_w, energy_wh
DeviceRow = tuple[uuid.UUID, datetime, int, int | None]


def meter_registers_between(
    *, household_id: uuid.UUID, start: datetime, end: datetime
) -> list[MeterRow]:
    """Register readings with start <= time <= end, oldest first."""
    rows = MeterReading.objects.filter(
        household_id=household_id, time__gte=start, time__lte=end
    ).order_by("time", "batch_id", "seq")
    return list(rows.values_list("time", "import_wh", "export_wh"))


def device_powers_between(
    *, device_ids: Iterable[uuid.UUID], start: datetime, end: datetime
) -> list[DeviceRow]:
    """Device readings with start <= time <= end, by device then time."""
    ids = list(device_ids)
    if not ids:
        return []
    rows = DeviceReading.objects.filter(device_id__in=ids, time__gte=start, time__lte=end)
    return list(
        rows.order_by("device_id", "time", "batch_id", "seq").values_list(
            "device_id", "time", "power_w", "energy_wh"
        )
    )


def batch_spans_received_since(*, since: datetime) -> list[dict[str, Any]]:
    """Per accepted batch since `since`: its household and the span of its readings."""
    rows = IngestedBatch.objects.filter(received_at__gte=since, first_time__isnull=False)
    fields = ("gateway__household_id", "first_time", "last_time")
    return [dict(row) for row in rows.values(*fields)]


def device_latest_soc(*, device_id: uuid.UUID, since: datetime) -> tuple[datetime, float] | None:
    """The device's newest reading with a charge level at or after `since`: (time, %)."""
    row = (
        DeviceReading.objects.filter(device_id=device_id, time__gte=since, soc_pct__isnull=False)
        .order_by("-time", "-batch_id", "-seq")
        .values_list("time", "soc_pct")
        .first()
    )
    if row is None or row[1] is None:
        return None
    return row[0], float(row[1])
